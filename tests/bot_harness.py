"""Drive the real python-telegram-bot Application against the fake Bot API, like a script.

    async def test_apply(bot):
        await bot.send(111, "/start school-ict-coordinator")
        await bot.press(111, "Akkoord")
        await bot.send(111, "Jan Peeters")
        assert "Vraag 2 van" in bot.last(111)

`BotHarness` builds Settings (temporary SQLite file and upload folder, recruiter chat -100,
recruiter user 999), a movable clock, the engine (`main.build_engine`) and the Application
(`bot.telegram_app.build_application`) talking to a `FakeTelegram` through `FakeBotApi`. Updates
are real `Update` objects fed to `app.process_update` (python-telegram-bot's own test seam).
`await bot.restart()` shuts the Application down and builds a new engine and Application on the
same database, upload folder and fake Telegram: what a process restart looks like.

Every request the bot makes that the fake Telegram rejects (a 4xx/5xx answer) is recorded in
`bot.rejections`; every exception that reached the Application's error handlers in
`bot.errors`. Steps fail at once on an unexpected handler error unless told it is expected.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from telegram.error import NetworkError
from telegram.ext import CallbackContext

from bot import sample_files
from bot.fake_bot_api import FakeBotApi, FakeTelegram, Sent
from bot.runtime import Runtime
from bot.telegram_app import BotParts, build_application
from flows.engine import Engine
from flows.ports import DocumentRecord, DossierRecord
from flows.vacancy import Vacancy
from main import build_engine
from settings import Settings
from storage.dossier_repository import PendingMessage, SqlDossierStore
from tests.conversation import shipped_vacancies
from tests.db_fixtures import migrated_sqlite

ROOT = Path(__file__).resolve().parents[1]
BRUSSELS = ZoneInfo("Europe/Brussels")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TODAY = datetime(2026, 11, 22, 12, 0, tzinfo=BRUSSELS)  # the project's "today"
RECRUITER_CHAT = -100
RECRUITER = 999
CANDIDATE = 111
OTHER = 112
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=BRUSSELS)

PDF = sample_files.pdf()
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
JPEG = sample_files.jpeg()

def catalogue() -> dict[str, Vacancy]:
    """The shipped vacancies, loaded once per session (they are frozen)."""
    return shipped_vacancies()


class Clock:
    """A clock the test moves by hand; the product reads it as `lambda: clock.now`."""

    def __init__(self, now: datetime = TODAY) -> None:
        self.now = now

    def set(self, now: datetime) -> Clock:
        assert now.tzinfo is not None
        self.now = now
        return self

    def advance(self, **delta: float) -> Clock:
        self.now = self.now + timedelta(**delta)
        return self


class RecordingBotApi(FakeBotApi):
    """`FakeBotApi` that remembers every rejected request and can fail like a broken network."""

    def __init__(self, telegram: FakeTelegram) -> None:
        super().__init__(telegram)
        self.rejections: list[tuple[str, int, str]] = []
        self.network_failures: dict[str, list[tuple[int | None, Exception]]] = {}

    def fail_network(self, method: str, error: Exception | None = None,
                     chat_id: int | None = None) -> None:
        """The next call of `method` (to `chat_id` only, when given) fails in the network."""
        self.network_failures.setdefault(method, []).append((chat_id, error or NetworkError(
            "httpx.ConnectError: All connection attempts failed")))

    async def do_request(self, url: str, method: str, request_data: Any = None,
                         read_timeout: Any = None, write_timeout: Any = None,
                         connect_timeout: Any = None, pool_timeout: Any = None) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        queued = self.network_failures.get(api_method, [])
        chat = (request_data.json_parameters.get("chat_id") if request_data is not None
                else None)
        for index, (target, error) in enumerate(queued):
            if target is None or str(target) == str(chat):
                del queued[index]
                self.telegram.calls.append((api_method, {"network_failure": True}))
                raise error
        code, body = await super().do_request(url, method, request_data, read_timeout,
                                              write_timeout, connect_timeout, pool_timeout)
        if code >= 400:
            description = json.loads(body).get("description", "") if body[:1] == b"{" else ""
            self.rejections.append((api_method, code, description))
        return code, body


class StepError(AssertionError):
    pass


@dataclass
class BotHarness:
    root: Path
    clock: Clock = field(default_factory=Clock)
    tg: FakeTelegram = field(default_factory=FakeTelegram)
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    # The dashboard's public address (its path is where BotParts.dashboard is mounted).
    dashboard_url: str | None = None

    def __post_init__(self) -> None:
        self.api = RecordingBotApi(self.tg)
        self.errors: list[BaseException] = []
        self.engine: Engine | None = None
        self.parts: BotParts | None = None
        self.generation = 0  # how many Applications were built (restarts + 1)
        self.wall_offset = timedelta(0)  # leases and retries run on the wall clock, plus this

    def wall_clock(self) -> datetime:
        return datetime.now(UTC) + self.wall_offset

    def advance_wall(self, seconds: float) -> None:
        """Move the clock of leases and retries (not the product's): a retry falls due."""
        self.wall_offset += timedelta(seconds=seconds)

    # ------------------------------------------------------------------ lifecycle

    @property
    def settings(self) -> Settings:
        values: dict[str, Any] = {
            "telegram_bot_token": self.tg.token,
            "database_url": f"sqlite:///{self.root / 'intake.sqlite3'}",
            "upload_dir": self.root / "uploads",
            "recruiter_chat_id": RECRUITER_CHAT,
            "recruiter_user_ids": str(RECRUITER),
            **({"dashboard_url": self.dashboard_url} if self.dashboard_url else {}),
            **self.settings_overrides,
        }
        return Settings(_env_file=None, **values)

    async def open(self) -> BotHarness:
        settings = self.settings
        if "database_url" not in self.settings_overrides:
            # The harness's own SQLite file starts as a copy of a migrated one (migrating each
            # test's new file costs more than the test); build_engine's migrate() finds it current.
            database = self.root / "intake.sqlite3"
            if self.root.is_dir() and not database.exists():
                migrated_sqlite(database)
        vacancies = catalogue()
        clock = self.clock
        self.engine = build_engine(settings, vacancies, lambda: clock.now)
        self.parts = build_application(settings, self.engine, self.store, self.engine.files,
                                       vacancies, lambda: clock.now, request=self.api,
                                       lease_clock=self.wall_clock)

        async def remember(update: object, context: CallbackContext) -> None:
            if context.error is not None:
                self.errors.append(context.error)

        self.parts.app.add_error_handler(remember)
        await self.parts.app.initialize()
        self.generation += 1
        return self

    async def close(self) -> None:
        if self.parts is not None:
            app = self.parts.app
            if app.running:
                await app.stop()
            await app.shutdown()
            self.parts = None
        if self.engine is not None:
            self.store._engine.dispose()
            self.engine = None

    async def restart(self) -> BotHarness:
        """The process stops and a new one starts on the same database and upload folder."""
        await self.close()
        return await self.open()

    @property
    def app(self) -> Any:
        assert self.parts is not None, "the harness is not open"
        return self.parts.app

    @property
    def store(self) -> SqlDossierStore:
        assert self.engine is not None, "the harness is not open"
        return self.engine.store  # type: ignore[return-value]

    @property
    def rejections(self) -> list[tuple[str, int, str]]:
        return self.api.rejections

    def context(self) -> CallbackContext:
        return CallbackContext(self.app)

    # ------------------------------------------------------------------ users

    def add_users(self) -> None:
        self.tg.add_user(CANDIDATE, "Jan", "nl")
        self.tg.add_user(OTHER, "Els", "nl")
        self.tg.add_user(RECRUITER, "Rita", "nl")
        self.tg.add_group(RECRUITER_CHAT)

    # ------------------------------------------------------------------ steps

    async def process(self, payload: dict[str, Any], expect_error: bool = False) -> list[Sent]:
        """Feed one update; return every message sent (to anyone) while handling it."""
        before = len(self.tg.sent)
        errors = len(self.errors)
        await self.runtime.receive([payload])
        await self.runtime.drain()
        new_errors = self.errors[errors:]
        if new_errors and not expect_error:
            raise StepError(f"the update failed in a handler: {new_errors!r}") from new_errors[0]
        return self.tg.sent[before:]

    async def send(self, user: int, text: str, expect_error: bool = False) -> list[Sent]:
        return await self.process(self.tg.text_update(user, text), expect_error)

    async def send_in_group(self, user: int, chat_id: int, text: str) -> list[Sent]:
        """`user` types `text` in the group `chat_id` (added with tg.add_group)."""
        chat = {k: v for k, v in self.tg.chats[chat_id].items() if k != "user"}
        message: dict[str, Any] = {
            "message_id": 10_000 + len(self.tg.sent), "date": int(time.time()), "chat": chat,
            "from": self.tg.chats[user]["user"], "text": text}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}]
        return await self.process(self.queue({"message": message}))

    def queue(self, payload: dict[str, Any]) -> dict[str, Any]:
        """An update made by hand, numbered by the fake Telegram like all others."""
        return self.tg._queue(payload)

    async def edit(self, user: int, sent_update: dict[str, Any], new_text: str) -> list[Sent]:
        """`user` edits the text message of `sent_update` (an update made by tg.text_update)."""
        message = {**sent_update["message"], "text": new_text, "edit_date": int(time.time())}
        assert message["from"]["id"] == user
        return await self.process(self.queue({"edited_message": message}))

    def find_button(self, user: int, label: str) -> tuple[Sent, str]:
        """The newest message to `user` with a button labelled `label` (or containing it, in
        any case: a script may name an answer as the vacancy writes it, "mbo niveau 4", for the
        button "Mbo niveau 4")."""
        offered: list[str] = []
        for message in reversed(self.tg.messages_to(user)):
            buttons = [b for row in message.buttons for b in row]
            offered += [b["text"] for b in buttons]
            for match in (lambda t: t == label, lambda t: label in t,
                          lambda t: label.lower() in t.lower()):
                hit = next((b for b in buttons if match(b["text"])), None)
                if hit is not None:
                    return message, hit["callback_data"]
        raise StepError(f"no button {label!r} in the messages to {user}; buttons offered: "
                        f"{offered}; last message: {self.last(user)!r}")

    def snapshot(self, user: int, label: str) -> Sent:
        """A copy of the newest message carrying `label`, as the user's screen keeps it."""
        return copy.deepcopy(self.find_button(user, label)[0])

    async def press(self, user: int, label: str, message: Sent | None = None,
                    expect_error: bool = False) -> list[Sent]:
        """Press the button `label` (exact label first, else the first containing it)."""
        if message is None:
            message, data = self.find_button(user, label)
        else:
            buttons = [b for row in message.buttons for b in row]
            hit = (next((b for b in buttons if b["text"] == label), None)
                   or next((b for b in buttons if label in b["text"]), None)
                   or next((b for b in buttons if label.lower() in b["text"].lower()), None))
            if hit is None:
                raise StepError(f"no button {label!r} on that message; offered "
                                f"{[b['text'] for b in buttons]}")
            data = hit["callback_data"]
        return await self.process(self.tg.press_update(user, message, data), expect_error)

    async def press_data(self, user: int, message: Sent, data: str) -> list[Sent]:
        return await self.process(self.tg.press_update(user, message, data))

    async def upload(self, user: int, name: str, data: bytes = PDF,
                     mime: str | None = "application/pdf",
                     declared_size: int | None = None) -> list[Sent]:
        return await self.process(self.tg.document_update(user, name, data, mime, declared_size))

    async def photo(self, user: int, data: bytes = JPEG) -> list[Sent]:
        return await self.process(self.tg.photo_update(user, data))

    @property
    def runtime(self) -> Runtime:
        assert self.parts is not None, "the harness is not open"
        return self.parts.runtime

    async def deliver(self) -> int:
        """Send what is due in the outbox; return how many recruiter notifications went out."""
        before = self.notifications_sent()
        await self.runtime.drain()
        return self.notifications_sent() - before

    def notifications_sent(self) -> int:
        with self.store.engine.connect() as connection:
            return connection.execute(text(
                "SELECT count(*) FROM outbox WHERE chat_key = 'recruiters' AND sent_at IS NOT NULL"
                " AND (last_error IS NULL OR last_error NOT LIKE 'dropped%')")).scalar_one()

    async def sweep(self) -> int:
        assert self.parts is not None
        told = await self.parts.reminders.sweep()
        await self.runtime.drain()
        return told

    # ------------------------------------------------------------------ reading

    def last(self, user: int) -> str:
        messages = self.tg.messages_to(user)
        return (messages[-1].text or "") if messages else ""

    def texts(self, chat_id: int) -> list[str]:
        return [m.text or "" for m in self.tg.messages_to(chat_id)]

    def dossiers_of(self, user_id: int) -> list[DossierRecord]:
        out = []
        for d in self.store.list_dossiers():
            found = self.store.get_dossier(d.id)  # type: ignore[arg-type]
            if found and found[1].external_id == str(user_id):
                out.append(found[0])
        return out

    def dossier(self, user_id: int) -> DossierRecord:
        """The user's active dossier (or their only one)."""
        mine = self.dossiers_of(user_id)
        if not mine:
            raise StepError(f"user {user_id} has no dossier")
        found = self.store.get_dossier(mine[0].id)  # type: ignore[arg-type]
        assert found is not None
        active = found[1].active_dossier_id
        if active is not None:
            return next(d for d in mine if d.id == active)
        if len(mine) != 1:
            raise StepError(f"user {user_id}: no active dossier and {len(mine)} dossiers")
        return mine[0]

    def documents(self, user_id: int) -> list[DocumentRecord]:
        found = self.store.get_dossier(self.dossier(user_id).id)  # type: ignore[arg-type]
        assert found is not None
        return found[2]

    def outbox(self) -> list[PendingMessage]:
        """Every unsent outbox row, due or not."""
        return self.store.pending_outbox(FAR_FUTURE, 1000)

    def stored_files(self) -> list[Path]:
        folder = self.root / "uploads"
        return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []

    def current_question(self, user_id: int) -> Any:
        assert self.engine is not None
        d = self.dossier(user_id)
        return self.engine.flows[d.vacancy_id].question_at(d.state)

    async def answer_all(self, user: int, script: dict[str, str], stop_at: str | None = None) -> None:
        """Answer every question the bot asks from `script` (question id -> button label or
        typed text), through Telegram, until no question is pending (or `stop_at` is asked)."""
        for _ in range(200):
            question = self.current_question(user)
            if question is None or question.id == stop_at:
                return
            if question.id not in script:
                raise StepError(f"the script has no answer for {question.id!r}; bot said: "
                                f"{self.last(user)!r}")
            if question.kind in ("yes_no", "choice"):
                await self.press(user, script[question.id])
            else:
                await self.send(user, script[question.id])
        raise StepError("more than 200 questions")


@asynccontextmanager
async def running_bot(root: Path, clock: Clock | None = None,
                      **settings_overrides: Any) -> AsyncIterator[BotHarness]:
    """An open harness (default clock 2026-11-22 12:00 Brussels) with users 111 (Jan),
    112 (Els), recruiter 999 (Rita) and the recruiters' group -100; closed afterwards."""
    harness = BotHarness(root, clock or Clock(), settings_overrides=settings_overrides)
    harness.add_users()
    await harness.open()
    try:
        yield harness
    finally:
        await harness.close()
