"""Several real `python main.py run` processes in webhook mode on one database, behind a test
load balancer, against the fake Bot API over HTTP.

    server = FakeBotServer(IndexedTelegram())       # messages indexed per chat, waiters woken
    processes = start_processes(server, url, folder, ports, RECRUITERS)   # all at once
    balancer = Balancer(processes)                  # round robin; every n-th post duplicated
    balancer.post(update)                           # 200 = stored in the shared inbox
    wait_reply(server, user, before, "Hoe heet je?", seconds)
    stop_processes(processes)                       # SIGTERM, SIGKILL after a timeout

Nothing here sleeps to wait: a reply is awaited on the fake server's condition, which
`IndexedTelegram` notifies on every Bot API call.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.fake_bot_api import FakeTelegram, Sent
from bot.fake_bot_server import FakeBotServer
from bot.webhook_server import SECRET_HEADER

ROOT = Path(__file__).resolve().parents[1]
SECRET = "cluster-webhook-secret_42"
HOOK_PATH = "tg"


class IndexedTelegram(FakeTelegram):
    """The fake Telegram, with what was sent indexed per chat (`messages_to` scans every
    message ever sent: too slow for thousands of messages and dozens of waiting threads),
    and a hook called after every Bot API call (the server calls under its lock)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.by_chat: dict[int, list[Sent]] = defaultdict(list)
        self.after_call: Callable[[], None] = lambda: None

    def call(self, method: str, params: dict[str, Any],
             files: dict[str, tuple[str, bytes]] | None = None) -> Any:
        before = len(self.sent)
        try:
            return super().call(method, params, files)
        finally:
            for sent in self.sent[before:]:
                self.by_chat[sent.chat_id].append(sent)
            self.after_call()


def indexed_server() -> FakeBotServer:
    server = FakeBotServer(IndexedTelegram())
    telegram = server.telegram
    assert isinstance(telegram, IndexedTelegram)
    telegram.after_call = server.lock.notify_all  # called inside `with server.lock`
    return server


def texts(messages: list[Sent]) -> str:
    return "\n".join(m.text or "" for m in messages)


def wait_reply(server: FakeBotServer, user: int, before: int, expect: str,
               seconds: float) -> list[Sent]:
    """The messages to `user` after the first `before`, once one of them says `expect`."""
    tg = server.telegram
    assert isinstance(tg, IndexedTelegram)
    with server.lock:
        arrived = server.lock.wait_for(lambda: expect in texts(tg.by_chat[user][before:]),
                                       timeout=seconds)
        new = list(tg.by_chat[user][before:])
    if not arrived:
        raise AssertionError(f"no reply to {user} saying {expect!r} within {seconds} s; "
                             f"got {[m.text for m in new]}")
    return new


def wait_until(condition: Callable[[], bool], what: str, seconds: float,
               server: FakeBotServer | None = None) -> None:
    """Wait for a condition (bounded). With `server`, re-check on each Bot API call (and at
    least every 0.2 s, for conditions on the database); without, poll every 20 ms."""
    deadline = time.monotonic() + seconds
    while not condition():
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        if server is not None:
            with server.lock:
                server.lock.wait(min(left, 0.2))
        else:
            time.sleep(min(left, 0.02))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class BotProcess:
    name: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]
    posts: int = 0  # webhook posts this process answered 200

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def hook_url(self) -> str:
        return f"{self.base_url}/{HOOK_PATH}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n"
                                 f"{self.log()[-3000:]}")
        try:
            response = httpx.get(f"{self.base_url}/healthz", timeout=2)
        except httpx.TransportError:
            return False
        return response.status_code == 200 and response.json().get("ok") is True


def bot_env(server: FakeBotServer, database_url: str, upload_dir: Path, port: int,
            recruiters: int, **extra: str) -> dict[str, str]:
    return {**os.environ,
            "TELEGRAM_BOT_TOKEN": server.telegram.token,
            "TELEGRAM_API_BASE_URL": server.api_base_url,
            "TELEGRAM_FILE_BASE_URL": server.file_base_url,
            "DATABASE_URL": database_url,
            "UPLOAD_DIR": str(upload_dir),
            "RECRUITER_CHAT_ID": str(recruiters), "RECRUITER_USER_IDS": "999",
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/{HOOK_PATH}", "WEBHOOK_SECRET": SECRET,
            "PORT": str(port), "LISTEN_ADDRESS": "127.0.0.1", "LOG_LEVEL": "WARNING",
            "INTAKE_FAILPOINTS": "", **extra}


def start_processes(server: FakeBotServer, database_url: str, folder: Path, count: int,
                    recruiters: int, **extra: str) -> list[BotProcess]:
    """Start `count` processes at the same moment (no waiting between the spawns)."""
    upload_dir = folder / "uploads"
    upload_dir.mkdir(exist_ok=True)
    processes: list[BotProcess] = []
    for index in range(count):
        name = "AB"[index] if count <= 2 else str(index)
        port = free_port()
        log_path = folder / f"bot-{name}.log"
        with log_path.open("wb") as log:  # the child keeps its own descriptor
            process = subprocess.Popen(
                [sys.executable, "main.py", "run"], cwd=ROOT, stdin=subprocess.DEVNULL,
                stdout=log, stderr=log,
                env=bot_env(server, database_url, upload_dir, port, recruiters, **extra))
        processes.append(BotProcess(name, port, log_path, process))
    return processes


def wait_healthy(processes: list[BotProcess], seconds: float) -> None:
    pending = list(processes)

    def all_up() -> bool:
        pending[:] = [p for p in pending if not p.healthy()]
        return not pending

    try:
        wait_until(all_up, "GET /healthz to answer", seconds)
    except AssertionError as exc:
        logs = "\n".join(f"--- {p.name}:\n{p.log()[-3000:]}" for p in pending)
        raise AssertionError(f"{exc}: {[p.name for p in pending]} not up\n{logs}") from None


def stop_processes(processes: list[BotProcess], seconds: float = 15) -> None:
    """SIGTERM all, then wait for each; SIGKILL what has not stopped in `seconds`."""
    for p in processes:
        if p.process.poll() is None:
            p.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + seconds
    for p in processes:
        try:
            p.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.process.kill()
            p.process.wait(timeout=10)


@dataclass
class Balancer:
    """Posts each update to one process: the next in turn, or the one named by `turn` (a
    candidate's consecutive updates alternate between processes that way). Every
    `duplicate_every`-th update is also posted, at the same moment, to the next process
    (Telegram retrying a webhook it thinks failed)."""

    processes: list[BotProcess]
    duplicate_every: int = 10
    timeout: float = 30.0
    client: httpx.Client = field(init=False)
    posted: int = 0  # updates (a duplicated one counts once)
    duplicated: int = 0
    _turn: itertools.count[int] = field(init=False, default_factory=itertools.count)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _duplicates: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(timeout=self.timeout,
                                   limits=httpx.Limits(max_connections=200,
                                                       max_keepalive_connections=100))
        self._duplicates = ThreadPoolExecutor(max_workers=16, thread_name_prefix="duplicate")

    def close(self) -> None:
        self._duplicates.shutdown(wait=True)
        self.client.close()

    def _post_to(self, target: BotProcess, update: dict[str, Any]) -> None:
        response = self.client.post(target.hook_url, json=update,
                                    headers={SECRET_HEADER: SECRET})
        assert response.status_code == 200, (target.name, response.status_code, response.text)
        with self._lock:
            target.posts += 1

    def post(self, update: dict[str, Any], turn: int | None = None) -> None:
        """Answered 200 (stored) by the process(es) it went to, or AssertionError."""
        with self._lock:
            count = next(self._turn)
            self.posted += 1
            duplicate = self.duplicate_every > 0 and count % self.duplicate_every == 0
            self.duplicated += duplicate
        index = count if turn is None else turn
        target = self.processes[index % len(self.processes)]
        if not duplicate:
            self._post_to(target, update)
            return
        other = self.processes[(index + 1) % len(self.processes)]
        again = self._duplicates.submit(self._post_to, other, update)
        try:
            self._post_to(target, update)
        finally:
            again.result(timeout=self.timeout + 5)
