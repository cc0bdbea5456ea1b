"""Run the real `python main.py run` process (polling) against the fake Bot API over HTTP.

    with running_harness(tmp_path, users=(111, 222)) as h:
        h.start()                                   # waits until it polls
        h.send(111, "/start ...", "Privacy")        # as user 111, until a reply says this
        h.start(INTAKE_FAILPOINTS="received")       # more processes, extra environment
        ...

Every process writes its own log (bot-<n>.log in tmp_path); when the block ends every process
still running is stopped with SIGINT and no log may contain a Traceback. The harness reads the
bot's database directly (SQLite file by default, or any DATABASE_URL, e.g. PostgreSQL).
All waits are bounded and poll a condition; none is a fixed sleep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bot import sample_files
from bot.fake_bot_api import FakeTelegram, Sent
from bot.fake_bot_server import FakeBotServer

ROOT = Path(__file__).resolve().parents[1]
RECRUITERS = -100200
RECRUITER_USER = 999
VACANCY = "vera-projectcoordinator"
PDF = sample_files.pdf("end-to-end")


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    """Wait for a condition the bot process must bring about (bounded; not a fixed sleep)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def texts(messages: list[Sent]) -> str:
    return "\n".join(m.text or "" for m in messages)


class BotProcess:
    """One `main.py run` process and its log."""

    def __init__(self, popen: subprocess.Popen[bytes], log: Path) -> None:
        self.popen = popen
        self.log = log

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean-up, as a power cut or the OOM killer."""
        if self.running:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def interrupt(self) -> None:
        if self.running:
            self.popen.send_signal(signal.SIGINT)

    def wait(self, seconds: float = 20) -> int:
        try:
            return self.popen.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the bot process did not exit within {seconds} s") from None


class Harness:
    def __init__(self, server: FakeBotServer, tmp: Path, database_url: str | None = None) -> None:
        self.server = server
        self.tg: FakeTelegram = server.telegram
        self.tmp = tmp
        self.database_url = database_url or f"sqlite:///{tmp / 'e2e.sqlite3'}"
        self.db = create_engine(self.database_url, poolclass=NullPool)
        self.processes: list[BotProcess] = []

    # ------------------------------------------------------------------ processes

    @property
    def process(self) -> BotProcess:
        """The process started last."""
        assert self.processes, "no process started"
        return self.processes[-1]

    def start(self, wait_polling: bool = True, **env: str) -> BotProcess:
        """Start one more bot process (extra environment in `env`); unless told otherwise,
        wait until it has called getUpdates."""
        environment = {**os.environ,
                       "TELEGRAM_BOT_TOKEN": self.tg.token,
                       "TELEGRAM_API_BASE_URL": self.server.api_base_url,
                       "TELEGRAM_FILE_BASE_URL": self.server.file_base_url,
                       "DATABASE_URL": self.database_url,
                       "UPLOAD_DIR": str(self.tmp / "uploads"),
                       "RECRUITER_CHAT_ID": str(RECRUITERS),
                       "RECRUITER_USER_IDS": str(RECRUITER_USER),
                       "WEBHOOK_URL": "", "LOG_LEVEL": "WARNING", "INTAKE_FAILPOINTS": "",
                       **env}
        log = self.tmp / f"bot-{len(self.processes) + 1}.log"
        polls_before = self.server.polls
        with log.open("wb") as out:
            popen = subprocess.Popen([sys.executable, "main.py", "run"], cwd=ROOT,
                                     env=environment, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=out)
        process = BotProcess(popen, log)
        self.processes.append(process)
        if wait_polling:
            wait_for(lambda: self.server.polls > polls_before or not process.running,
                     "the bot to start polling", seconds=60)
            assert process.running, process.log_text()
        return process

    def wait_polls(self, count: int, seconds: float = 30) -> None:
        """Wait until `count` more getUpdates requests have arrived (from any process): with
        nothing to deliver, each after a whole long poll."""
        target = self.server.polls + count
        wait_for(lambda: self.server.polls >= target, f"{count} more getUpdates", seconds)

    def kill(self) -> None:
        """SIGKILL the process started last."""
        self.process.kill()

    def stop(self) -> None:
        """SIGINT every process still running (together: each may be in a long poll) and wait."""
        running = [p for p in self.processes if p.running]
        for process in running:
            process.interrupt()
        for process in running:
            try:
                process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait(timeout=10)

    def logs(self) -> list[str]:
        return [p.log_text() for p in self.processes]

    # ------------------------------------------------------------------ the database

    def query(self, sql: str, **params: Any) -> list[Any]:
        with self.db.connect() as connection:
            return list(connection.execute(text(sql), params))

    def settled(self) -> bool:
        """Every stored update handled and every queued message recorded as sent."""
        inbox = self.query("SELECT count(*) FROM inbox WHERE status = 'pending'")[0][0]
        outbox = self.query("SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0][0]
        return inbox == 0 and outbox == 0

    def wait_settled(self, seconds: float = 20) -> None:
        wait_for(self.settled, "every update handled and every message sent", seconds)

    # ------------------------------------------------------------------ users

    def post(self, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Make an update (a FakeTelegram update builder) without waiting for an answer."""
        with self.server.lock:
            update = make()
            self.server.lock.notify_all()
        return update

    def _act(self, user: int, make: Callable[[], object], expect: str) -> list[Sent]:
        """Do something as `user` and wait until the bot's reply says `expect`."""
        before = len(self.tg.messages_to(user))
        with self.server.lock:
            make()
            self.server.lock.notify_all()
        wait_for(lambda: expect in texts(self.tg.messages_to(user)[before:]),
                 f"a reply to {user} saying {expect!r}")
        return self.tg.messages_to(user)[before:]

    def send(self, user: int, text: str, expect: str) -> list[Sent]:
        return self._act(user, lambda: self.tg.text_update(user, text), expect)

    def press(self, user: int, label: str, expect: str) -> list[Sent]:
        for message in reversed(self.tg.messages_to(user)):
            for row in message.buttons:
                for button in row:
                    if label in button["text"]:
                        data = button["callback_data"]
                        return self._act(
                            user, lambda m=message, d=data: self.tg.press_update(user, m, d), expect)
        raise AssertionError(f"no button {label!r}")

    def upload(self, user: int, name: str, expect: str) -> list[Sent]:
        return self._act(user, lambda: self.tg.document_update(user, name, PDF, "application/pdf"),
                         expect)


@contextmanager
def running_harness(tmp: Path, users: Iterable[int] = (111, 222),
                    database_url: str | None = None,
                    max_poll_seconds: float | None = None) -> Iterator[Harness]:
    """A fake Telegram with these users, the recruiter and the recruiters' group, served over
    HTTP; every bot process stopped at the end and every log checked for a Traceback."""
    tg = FakeTelegram()
    for user in (*users, RECRUITER_USER):
        tg.add_user(user)
    tg.add_group(RECRUITERS)
    server = (FakeBotServer(tg) if max_poll_seconds is None
              else FakeBotServer(tg, max_poll_seconds=max_poll_seconds))
    with server:
        h = Harness(server, tmp, database_url)
        try:
            yield h
        finally:
            h.stop()
            h.db.dispose()
            for process in h.processes:
                log = process.log_text()
                assert "Traceback" not in log, f"{process.log.name}:\n{log}"
