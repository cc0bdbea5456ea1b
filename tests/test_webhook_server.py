"""The webhook server: secret before body, bounded bodies, nothing personal in the log, 200 only once
stored; a real uvicorn server in the test's loop; and flat memory under large unauthenticated posts."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import webhook_server
from bot.webhook_server import SECRET_HEADER, build_status_app, build_webhook_app, serve
from tests import webhook_memory_server

SECRET = "s3cret-Token_1"
MAX_BODY = 10_000
AUTH = {SECRET_HEADER: SECRET}
PERSONAL = "Lena Peeters"
UPDATE = {"update_id": 42, "message": {"text": f"Ik ben {PERSONAL}", "from": {"first_name": "Lena"}}}
ROOT = Path(__file__).resolve().parent.parent


class Inbox:
    def __init__(self, fail: BaseException | None = None) -> None:
        self.updates: list[dict[str, Any]] = []
        self.fail = fail

    async def receive(self, update: dict[str, Any]) -> None:
        if self.fail is not None:
            raise self.fail
        self.updates.append(update)


async def healthy() -> dict[str, Any]:
    return {"ok": True, "inbox": 3}


def make_app(inbox: Inbox, path: str = "telegram/hook", health: Any = healthy) -> Any:
    return build_webhook_app(path=path, secret=SECRET, receive=inbox.receive, health=health,
                             max_body=MAX_BODY)


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot", timeout=10)


class CountingBody:
    """A streamed request body that counts how much of it the server pulled."""

    def __init__(self, total: int, chunk: int = 1000) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    async def __aiter__(self) -> Any:
        block = b"x" * self.chunk
        while self.sent < self.total:
            self.sent += self.chunk
            yield block


async def test_valid_update_is_received_then_answered_200() -> None:
    inbox = Inbox()
    async with client(make_app(inbox)) as http:
        response = await http.post("/telegram/hook", json=UPDATE, headers=AUTH)
    assert response.status_code == 200 and len(response.content) < 10
    assert inbox.updates == [UPDATE]


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"},
                                     {SECRET_HEADER: "é".encode("latin-1") * 4}, {SECRET_HEADER: ""}])
async def test_wrong_or_missing_secret_is_403_without_reading_the_body(headers: dict[str, Any]) -> None:
    inbox, body = Inbox(), CountingBody(5 * MAX_BODY)
    async with client(make_app(inbox)) as http:
        response = await http.post("/telegram/hook", content=body, headers=headers)
    assert response.status_code == 403
    assert body.sent == 0 and inbox.updates == []


async def test_oversize_content_length_is_413_without_reading_the_body() -> None:
    inbox, body = Inbox(), CountingBody(MAX_BODY + 1)
    async with client(make_app(inbox)) as http:
        response = await http.post("/telegram/hook", content=body,
                                   headers={**AUTH, "Content-Length": str(MAX_BODY + 1)})
    assert response.status_code == 413
    assert body.sent == 0 and inbox.updates == []


async def test_chunked_body_is_abandoned_with_413_once_over_the_limit() -> None:
    inbox, body = Inbox(), CountingBody(100 * MAX_BODY)
    async with client(make_app(inbox)) as http:
        response = await http.post("/telegram/hook", content=body, headers=AUTH)
    assert "content-length" not in response.request.headers
    assert response.status_code == 413 and inbox.updates == []
    assert body.sent <= MAX_BODY + 2 * body.chunk


async def test_body_of_exactly_the_limit_is_accepted() -> None:
    inbox = Inbox()
    raw = json.dumps(UPDATE).encode()
    raw += b" " * (MAX_BODY - len(raw))
    async with client(make_app(inbox)) as http:
        response = await http.post("/telegram/hook", content=raw, headers=AUTH)
    assert response.status_code == 200 and inbox.updates == [UPDATE]


@pytest.mark.parametrize("raw", [
    f'{{"update_id": 1, "message": {{"text": "{PERSONAL}"'.encode(),  # truncated JSON
    json.dumps({"message": {"text": PERSONAL}}).encode(),  # no update_id
    json.dumps({"update_id": "7", "text": PERSONAL}).encode(),  # update_id not an integer
    json.dumps({"update_id": True, "text": PERSONAL}).encode(),
    json.dumps([{"update_id": 1, "text": PERSONAL}]).encode(),  # not an object
    PERSONAL.encode("utf-16"),  # not UTF-8
    b"[" * 5000 + PERSONAL.encode(),  # nested deeper than the JSON parser recurses
])
async def test_malformed_update_is_400_and_logged_without_content(
        raw: bytes, caplog: pytest.LogCaptureFixture) -> None:
    inbox = Inbox()
    caplog.set_level(logging.DEBUG)
    async with client(make_app(inbox)) as http:
        response = await http.post("/telegram/hook", content=raw, headers=AUTH)
    assert response.status_code == 400 and inbox.updates == []
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and str(len(raw)) in warnings[0].getMessage()
    for part in ("Lena", "Peeters", "text", "update_id", SECRET):
        assert part not in caplog.text


async def test_receive_failing_is_503_and_logs_the_type_only(caplog: pytest.LogCaptureFixture) -> None:
    inbox = Inbox(fail=RuntimeError(f"database is locked while storing {PERSONAL}"))
    caplog.set_level(logging.DEBUG)
    async with client(make_app(inbox)) as http:
        response = await http.post("/telegram/hook", json=UPDATE, headers=AUTH)
    assert response.status_code == 503
    assert "RuntimeError" in caplog.text
    assert "Lena" not in caplog.text and "locked" not in caplog.text


async def test_healthz() -> None:
    async def broken() -> dict[str, Any]:
        raise ConnectionError(f"database down while reading {PERSONAL}")

    async with client(make_app(Inbox())) as http:
        response = await http.get("/healthz")
    assert response.status_code == 200 and response.json() == {"ok": True, "inbox": 3}
    async with client(make_app(Inbox(), health=broken)) as http:
        response = await http.get("/healthz")
    # A short reason: the type, never the message (which may carry anything).
    assert response.status_code == 503
    assert response.json() == {"ok": False,
                               "reason": "the database did not answer (ConnectionError)"}


async def test_healthz_answers_503_when_the_database_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook_server, "HEALTH_TIMEOUT", 0.05)

    async def stuck() -> dict[str, Any]:
        await asyncio.sleep(10)
        return {"ok": True}

    async with client(make_app(Inbox(), health=stuck)) as http:
        response = await http.get("/healthz")
    assert response.status_code == 503 and "did not answer within" in response.json()["reason"]


async def exposition() -> str:
    return "# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n"


async def test_metrics_beside_the_webhook_and_in_the_status_app() -> None:
    webhook = build_webhook_app(path="telegram/hook", secret=SECRET, receive=Inbox().receive,
                                health=healthy, max_body=MAX_BODY, metrics=exposition)
    for app in (webhook, build_status_app(health=healthy, metrics=exposition)):
        async with client(app) as http:
            response = await http.get("/metrics")
            assert response.status_code == 200 and response.text.endswith("x_total 1\n")
            assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
            assert (await http.get("/healthz")).json() == {"ok": True, "inbox": 3}
            assert (await http.post("/telegram/hook", json=UPDATE, headers=AUTH)).status_code == (
                200 if app is webhook else 404)
    # Without a metrics callable there is no /metrics.
    async with client(make_app(Inbox())) as http:
        assert (await http.get("/metrics")).status_code == 404


@pytest.mark.parametrize("path", ["healthz", "/metrics", "metrics/"])
def test_refuses_a_webhook_path_that_is_a_status_path(path: str) -> None:
    with pytest.raises(ValueError, match="taken"):
        build_webhook_app(path=path, secret=SECRET, receive=Inbox().receive, health=healthy,
                          max_body=MAX_BODY)


async def test_routing_404_and_405() -> None:
    inbox = Inbox()
    async with client(make_app(inbox)) as http:
        assert (await http.get("/telegram/hook", headers=AUTH)).status_code == 405
        assert (await http.post("/telegram/hook/", json=UPDATE, headers=AUTH)).status_code == 404
        assert (await http.post("/telegram", json=UPDATE, headers=AUTH)).status_code == 404
        assert (await http.post("/", json=UPDATE, headers=AUTH)).status_code == 404
        assert (await http.post("/healthz", json=UPDATE, headers=AUTH)).status_code == 405
    assert inbox.updates == []


async def test_empty_path_means_root() -> None:
    inbox = Inbox()
    async with client(make_app(inbox, path="")) as http:
        assert (await http.post("/", json=UPDATE, headers=AUTH)).status_code == 200
    assert inbox.updates == [UPDATE]


def test_refuses_an_empty_secret() -> None:
    with pytest.raises(ValueError):
        build_webhook_app(path="hook", secret="", receive=Inbox().receive, health=healthy, max_body=1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_real_server_serves_and_stops() -> None:
    inbox, stop, ready = Inbox(), asyncio.Event(), asyncio.Event()
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    port = free_port()
    task = asyncio.create_task(serve(make_app(inbox), host="127.0.0.1", port=port, stop=stop, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        # The caller owns the signals: uvicorn must not have replaced the handlers.
        assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            response = await http.post("/telegram/hook", json=UPDATE, headers=AUTH)
            assert response.status_code == 200 and inbox.updates == [UPDATE]
            assert (await http.get("/healthz")).json() == {"ok": True, "inbox": 3}
        stop.set()
        await asyncio.wait_for(task, 10)
    finally:
        task.cancel()
    async with httpx.AsyncClient(timeout=5) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/healthz")


async def test_stop_before_startup_returns() -> None:
    stop = asyncio.Event()
    stop.set()
    await asyncio.wait_for(serve(make_app(Inbox()), host="127.0.0.1", port=free_port(), stop=stop), 10)
    # Set while starting: the task may already be inside uvicorn's startup.
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(make_app(Inbox()), host="127.0.0.1", port=0, stop=stop, ready=ready))
    await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_busy_port_raises_oserror() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"127.0.0.1:{port}"):
            await asyncio.wait_for(serve(make_app(Inbox()), host="127.0.0.1", port=port,
                                         stop=asyncio.Event()), 10)


async def test_cancelling_serve_closes_the_listener() -> None:
    ready, port = asyncio.Event(), free_port()
    task = asyncio.create_task(serve(make_app(Inbox()), host="127.0.0.1", port=port,
                                     stop=asyncio.Event(), ready=ready))
    await asyncio.wait_for(ready.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


POST_SIZE = 50 * 1024 * 1024


async def big_body() -> Any:
    block = bytes(1024 * 1024)  # one block, sent 50 times: the test itself holds 1 MiB
    for _ in range(POST_SIZE // len(block)):
        yield block


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
async def test_large_unauthenticated_posts_do_not_grow_memory() -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.webhook_memory_server", str(port), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/telegram/hook"
    auth = {SECRET_HEADER: webhook_memory_server.SECRET}
    try:
        assert process.stdout is not None
        assert (await asyncio.wait_for(process.stdout.readline(), 30)).strip() == b"ready"
        async with httpx.AsyncClient(timeout=20) as http:
            # Warm up (imports, first-request allocations) before the baseline.
            assert (await http.post(base, json=UPDATE, headers=auth)).status_code == 200
            assert (await http.post(base, json=UPDATE, headers={SECRET_HEADER: "no"})).status_code == 403
            before = rss_kib(process.pid)

            async def attack(with_length: bool) -> None:
                headers = {SECRET_HEADER: "wrong"}
                if with_length:
                    headers["Content-Length"] = str(POST_SIZE)
                started = time.monotonic()
                try:
                    response = await http.post(base, content=big_body(), headers=headers)
                except httpx.TimeoutException:
                    raise
                except httpx.TransportError:
                    pass  # the server answered and closed while we were still sending: a reset
                else:
                    assert response.status_code == 403
                assert time.monotonic() - started < 20

            for with_length in (True, False):
                await asyncio.wait_for(asyncio.gather(*(attack(with_length) for _ in range(8))), 60)
            grown_mib = (rss_kib(process.pid) - before) / 1024
            assert grown_mib < 20, f"server RSS grew by {grown_mib:.1f} MiB"
            # And it still serves Telegram.
            response = await http.post(base, json=UPDATE, headers=auth)
            assert response.status_code == 200
    finally:
        if process.returncode is None:
            process.kill()
        await asyncio.wait_for(process.wait(), 30)
