"""This bot under load: the real Application (`bot.telegram_app.build_application`), the real
database (migrated by `main.build_engine`), and the production durable path — updates stored
by `Runtime.receive`, handled by the inbox worker, delivered by the outbox sender — with
`InstantApi` as Telegram. The periodic jobs (reminders, retention, housekeeping) are left out:
they run once a minute or rarer and would only add noise.

Frozen clocks: each vacancy is applied to at the moment its script gives (while it is open),
so the product's clock reads a ContextVar that the inbox worker's task for an update sets from
the update's sender. Outside a handled update (the outbox sender choosing what is due) it reads
the latest of those moments, so every reply is due.
"""

from __future__ import annotations

import asyncio
import base64
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.load_api import TOKEN, InstantApi
from bench.load_driver import RECRUITERS, Driver, Expected, application_of, normalised, user_id
from bench.load_scripts import Application
from bot.telegram_app import DB_THREADS, BotParts, build_application
from flows.vacancy_loader import load_catalogue
from main import build_engine
from settings import ROOT, Settings
from storage.inbox import InboxItem

# A throw-away key for throw-away data: every process of one run must share it.
MASTER_KEY = base64.b64encode(b"intake load benchmark key 32 by!").decode()
FROZEN: ContextVar[datetime] = ContextVar("frozen_now")


def settings_for(database_url: str, root: Path, max_rate: int) -> Settings:
    return Settings(_env_file=None, telegram_bot_token=TOKEN, database_url=database_url,
                    upload_dir=root / "uploads", recruiter_chat_id=RECRUITERS,
                    telegram_max_rate=max_rate, master_key=MASTER_KEY)


class BotSystem:
    def __init__(self, database_url: str, root: Path, applications: list[Application],
                 rate_limit: bool = False) -> None:
        self.applications = applications
        self.settings = settings_for(database_url, root, 30 if rate_limit else 0)
        self.latest = max(a.now for a in applications)
        self.parts: BotParts | None = None
        self.serving: asyncio.Task[None] | None = None

    def now(self) -> datetime:
        return FROZEN.get(self.latest)

    def build(self, api: InstantApi) -> BotParts:
        vacancies = load_catalogue(ROOT / "vacancies")
        engine = build_engine(self.settings, vacancies, self.now)
        parts = build_application(self.settings, engine, engine.store, engine.files,  # type: ignore[arg-type]
                                  vacancies, self.now, request=api,
                                  rate_limit=bool(self.settings.telegram_max_rate))
        parts.runtime.jobs = []
        worker = parts.runtime.worker
        handle = worker.handle

        async def frozen_handle(item: InboxItem) -> None:
            # Runs in its own task (work_pool.keep_busy), so the moment stays with this update.
            if item.key.startswith("u:"):
                FROZEN.set(application_of(int(item.key[2:]), self.applications).now)
            await handle(item)

        worker.handle = frozen_handle  # type: ignore[method-assign]
        self.parts = parts
        return parts

    async def start(self, api: InstantApi) -> None:
        """As `main.py run` serves: the Application started, the runtime's loops running."""
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(DB_THREADS, thread_name_prefix="db"))
        parts = self.build(api)
        await parts.app.initialize()
        await parts.app.start()
        self.serving = asyncio.create_task(parts.runtime.serve(lambda stop: stop.wait()))

    async def submit(self, raw: dict[str, Any]) -> None:
        assert self.parts is not None
        await self.parts.runtime.receive([raw])

    async def stop(self) -> None:
        assert self.parts is not None and self.serving is not None
        self.parts.runtime.stop.set()
        await self.serving
        await self.parts.app.stop()
        await self.parts.app.shutdown()
        self.parts.runtime.db_engine.dispose()

    def counts(self) -> dict[str, Any]:
        """What the database holds at the end: dossiers per status, messages still unsent
        (to candidates, to the recruiters), recruiter notifications delivered, inbox rows."""
        assert self.parts is not None
        with self.parts.runtime.db_engine.connect() as connection:
            def scalar(sql: str) -> int:
                return int(connection.execute(text(sql)).scalar_one())

            statuses = dict(connection.execute(text(
                "SELECT status, count(*) FROM dossier GROUP BY status")).all())
            return {
                "dossiers": {str(k): int(v) for k, v in statuses.items()},
                "notifications_sent": scalar(
                    "SELECT count(*) FROM outbox WHERE chat_key = 'recruiters' AND kind != "
                    "'message' AND sent_at IS NOT NULL"),
                "unsent_to_candidates": scalar(
                    "SELECT count(*) FROM outbox WHERE chat_key != 'recruiters' AND sent_at IS NULL"),
                "unsent_to_recruiters": scalar(
                    "SELECT count(*) FROM outbox WHERE chat_key = 'recruiters' AND sent_at IS NULL"),
                "inbox_not_done": scalar("SELECT count(*) FROM inbox WHERE status != 'done'"),
            }

    async def settle(self, recruiters_too: bool = True) -> None:
        """Until the outbox has nothing left to send (the candidates' last replies arrived
        before; the recruiters' notifications may still be on their way)."""
        while True:
            counts = await asyncio.to_thread(self.counts)
            if counts["unsent_to_candidates"] == 0 and counts["inbox_not_done"] == 0 and (
                    not recruiters_too or counts["unsent_to_recruiters"] == 0):
                return
            await asyncio.sleep(0.05)


async def calibrate(applications: list[Application], root: Path) -> dict[str, Expected]:
    """One candidate per vacancy, one update at a time (stored, handled, sent: `drain`): how
    many messages each step's replies are, and their texts, for the load run to expect."""
    transcripts: dict[int, list[str]] = {}
    system = BotSystem(f"sqlite:///{root / 'calibration.sqlite3'}", root, applications)
    # The same candidates and updates as the load run; what they expect is what is measured.
    driver = Driver(applications, len(applications), lambda a: Expected.one_reply_each(
        len(a.steps)))

    def sent(chat_id: int, text_: str, buttons: list[tuple[str, str]], message_id: int) -> None:
        transcripts.setdefault(chat_id, []).append(text_)
        driver.on_sent(chat_id, text_, buttons, message_id)

    parts = system.build(InstantApi(sent, driver.files))
    expected: dict[str, Expected] = {}
    async with parts.app:
        for index, application in enumerate(applications):
            candidate = driver.candidates[index]
            assert candidate.user == user_id(index)
            counts = []
            for number in range(len(application.steps)):
                before = len(transcripts.get(candidate.user, []))
                token = FROZEN.set(application.now)
                await parts.runtime.receive([driver.update(candidate, number)])
                await parts.runtime.drain()
                FROZEN.reset(token)
                counts.append(len(transcripts.get(candidate.user, [])) - before)
            expected[application.vacancy] = Expected(
                counts, [normalised(t) for t in transcripts.get(candidate.user, [])])
        final = system.counts()
    parts.runtime.db_engine.dispose()
    if final["dossiers"].get("submitted") != len(applications):
        raise RuntimeError(f"a scripted application did not complete: {final['dossiers']}")
    return expected
