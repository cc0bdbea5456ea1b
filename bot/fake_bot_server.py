"""The fake Telegram Bot API over HTTP on 127.0.0.1, for end-to-end runs of the real process.

It serves the same `FakeTelegram` state as the in-process fake: getUpdates long polling, the
send/edit/answer methods, getFile and file downloads, with Telegram's refusals. Point the bot at
it with TELEGRAM_API_BASE_URL=http://127.0.0.1:<port>/bot and
TELEGRAM_FILE_BASE_URL=http://127.0.0.1:<port>/file/bot.

Like Telegram, it keeps an update until a getUpdates asks for a higher offset (so an update a
process received but never confirmed comes again), and a getUpdates that arrives while another
one is waiting ends the older one with 409 Conflict (two instances polling one token). It
counts getUpdates requests (`polls`) and those conflicts (`conflicts`), so a test can tell a
bot that waits from one that spins.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.fake_bot_api import FakeTelegram, TelegramError

MAX_POLL_SECONDS = 5.0
CONFLICT = ("Conflict: terminated by other getUpdates request; make sure that only one bot "
            "instance is running")


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any],
                                                        dict[str, tuple[str, bytes]]]:
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename is not None:
                files[str(name)] = (filename, payload)
            else:
                params[str(name)] = payload.decode("utf-8")
        return params, files
    if content_type.startswith("application/json"):
        return (json.loads(body) if body else {}), {}
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), {}


class FakeBotServer:
    """Serve a FakeTelegram on a free port of 127.0.0.1 in a background thread."""

    def __init__(self, telegram: FakeTelegram | None = None,
                 max_poll_seconds: float = MAX_POLL_SECONDS) -> None:
        self.telegram = telegram or FakeTelegram()
        self.lock = threading.Condition()
        self.requests = 0
        self.max_poll_seconds = max_poll_seconds  # a long poll answers "nothing" after this
        self.polls = 0  # getUpdates requests that arrived, answered or not
        self.conflicts = 0  # getUpdates requests ended by a newer one (409)
        self._poll_generation = 0  # which getUpdates is the newest
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: tests read the state, not the access log

            def _reply(self, code: int, body: bytes, content_type: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._handle(b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._handle(self.rfile.read(length))

            def _handle(self, body: bytes) -> None:
                code, payload, content_type = server.dispatch(
                    unquote(urlsplit(self.path).path), self.headers.get("Content-Type", ""), body)
                self._reply(code, payload, content_type)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def __enter__(self) -> FakeBotServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def changed(self) -> None:
        """Call after adding updates from another thread: wakes a waiting getUpdates."""
        with self.lock:
            self.lock.notify_all()

    def push_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update with any content (the next update id is added), as Telegram would
        deliver it — also one python-telegram-bot cannot parse."""
        with self.lock:
            update = self.telegram._queue(payload)
            self.lock.notify_all()
        return update

    def redeliver(self, update: dict[str, Any]) -> None:
        """Deliver an update again, unchanged (Telegram does when it was not confirmed)."""
        with self.lock:
            self.telegram.updates.append(update)
            self.telegram.updates.sort(key=lambda u: u["update_id"])
            self.lock.notify_all()

    def dispatch(self, path: str, content_type: str, body: bytes) -> tuple[int, bytes, str]:
        tg = self.telegram
        if path.startswith("/file/bot"):
            rest = path.removeprefix("/file/bot")
            token, _, file_path = rest.partition("/")
            if token != tg.token:
                return 401, b"Unauthorized", "text/plain"
            with self.lock:
                try:
                    return 200, tg.download(file_path), "application/octet-stream"
                except TelegramError:
                    return 404, b"Not Found", "text/plain"
        if not path.startswith("/bot"):
            return 404, b"Not Found", "text/plain"
        token, _, method = path.removeprefix("/bot").partition("/")
        if token != tg.token:
            return _error(TelegramError(401, "Unauthorized"))
        params, files = _parse_body(content_type, body)
        with self.lock:
            self.requests += 1
            if method == "getUpdates":
                self.polls += 1
                self._poll_generation += 1
                mine = self._poll_generation
                self.lock.notify_all()  # an older getUpdates still waiting is ended (409)
                offset = int(params.get("offset") or 0)
                if offset:  # the offset confirms what came before it, at once
                    tg.updates = [u for u in tg.updates if u["update_id"] >= offset]
                deadline = time.monotonic() + min(float(params.get("timeout") or 0),
                                                  self.max_poll_seconds)
                while not [u for u in tg.updates if u["update_id"] >= offset]:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self.lock.wait(left)
                    if self._poll_generation != mine:
                        self.conflicts += 1
                        return _error(TelegramError(409, CONFLICT))
            try:
                result = tg.call(method, params, files)
            except TelegramError as exc:
                return _error(exc)
        return 200, json.dumps({"ok": True, "result": result}).encode(), "application/json"


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a bot process killed mid-request: nobody is listening for the answer
        super().handle_error(request, client_address)


def _error(exc: TelegramError) -> tuple[int, bytes, str]:
    body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
    if exc.retry_after is not None:
        body["parameters"] = {"retry_after": exc.retry_after}
    return exc.code, json.dumps(body).encode(), "application/json"
