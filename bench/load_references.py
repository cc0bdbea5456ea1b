"""What this bot is measured against, built from python-telegram-bot and plain SQL:

- `EchoBot`: a bare concurrent bot that answers every update, nothing stored (the latency run).
- `FloorBot`: the floor — a bare handler that loads and saves one row per user and replies.
- `DurableFloorBot`: the durable floor — the writes this design needs, in plain SQL.

Every reference replies once per update with "<n>|..." where n counts the user's updates, so
the driver can check order. A press carries its label as data (they have no buttons of their
own to find).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bench.load_api import TOKEN, InstantApi
from bench.load_sql import PlainSql

DOSSIER_TABLE = ("CREATE TABLE IF NOT EXISTS floor_dossier (user_id BIGINT PRIMARY KEY, "
                 "n INTEGER NOT NULL, answers TEXT NOT NULL)")
LOAD = "SELECT n, answers FROM floor_dossier WHERE user_id = %s"
SAVE = ("INSERT INTO floor_dossier (user_id, n, answers) VALUES (%s, %s, %s) ON CONFLICT "
        "(user_id) DO UPDATE SET n = excluded.n, answers = excluded.answers")


def what_was_said(update: Update) -> str:
    if update.callback_query is not None:
        return update.callback_query.data or ""
    message = update.effective_message
    if message is not None and (message.document or message.photo):
        return "[file]"
    return (message.text if message is not None else None) or ""


def application(api: InstantApi, handler: Any) -> Application:
    """A bare Application: updates handled concurrently, as many a PTB bot is deployed."""
    app = (ApplicationBuilder().token(TOKEN).request(api).updater(None).job_queue(None)
           .concurrent_updates(True).build())
    app.add_handler(TypeHandler(Update, handler))
    return app


class QueuedBot:
    """A python-telegram-bot Application fed through its update queue, as its Updater would."""

    app: Application | None = None

    async def serve(self, app: Application) -> None:
        self.app = app
        await app.initialize()
        await app.start()

    async def submit(self, raw: dict[str, Any]) -> None:
        assert self.app is not None
        await self.app.update_queue.put(Update.de_json(raw, self.app.bot))

    async def stop(self) -> None:
        assert self.app is not None
        await self.app.stop()
        await self.app.shutdown()


class EchoBot(QueuedBot):
    """Replies to every update; remembers only a counter in memory."""

    def __init__(self) -> None:
        self.seen: dict[int, int] = {}

    async def reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        assert user is not None
        n = self.seen[user.id] = self.seen.get(user.id, 0) + 1
        await context.bot.send_message(user.id, f"{n}|{what_was_said(update)[:50] or 'ok'}")

    async def start(self, api: InstantApi) -> None:
        await self.serve(application(api, self.reply))


class FloorBot(EchoBot):
    """Per update: load the user's row, add the answer, save it (one transaction), reply."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.database_url = database_url
        self.db: PlainSql | None = None

    def save_answer(self, connection: Any, user: int, said: str) -> int:
        assert self.db is not None
        row = self.db.execute(connection, LOAD, user).fetchone()
        n, answers = (row[0], json.loads(row[1])) if row else (0, [])
        answers.append(said[:200])
        self.db.execute(connection, SAVE, user, n + 1, json.dumps(answers))
        return n + 1

    async def reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        assert user is not None and self.db is not None
        said = what_was_said(update)
        n = await self.db.run(lambda c: self.save_answer(c, user.id, said))
        await context.bot.send_message(user.id, f"{n}|ok")

    async def start(self, api: InstantApi) -> None:
        self.db = PlainSql(self.database_url)
        self.db.script([DOSSIER_TABLE])
        await super().start(api)

    async def stop(self) -> None:
        await super().stop()
        assert self.db is not None
        self.db.close()


class DurableFloorBot(FloorBot):
    """The durable path in plain SQL, with the bot's six commits per update:

    1. the update inserted into the inbox (committed before it counts as received);
    2. claimed (the oldest pending row of each user with nothing of theirs in flight);
    3. one transaction: the dossier row loaded and saved, the reply inserted into the outbox;
    4. the inbox row marked done;
    5. the outbox row claimed; the reply sent;
    6. the outbox row marked sent.

    Updates go through the same python-telegram-bot Application (`process_update`)."""

    INBOX = ("CREATE TABLE IF NOT EXISTS load_inbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
             "user_key BIGINT NOT NULL, raw TEXT NOT NULL, status VARCHAR(16) NOT NULL)")
    INBOX_INDEX = "CREATE INDEX IF NOT EXISTS load_inbox_user ON load_inbox (user_key, status)"
    # Without it every claim scans every row ever received: the floor would slow down as the
    # run goes on (the bot's inbox has its own indexes for the same reason).
    PENDING_INDEX = "CREATE INDEX IF NOT EXISTS load_inbox_pending ON load_inbox (status, id)"
    OUTBOX = ("CREATE TABLE IF NOT EXISTS load_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
              "chat_id BIGINT NOT NULL, text TEXT NOT NULL, status VARCHAR(16) NOT NULL)")
    RECEIVE = "INSERT INTO load_inbox (user_key, raw, status) VALUES (%s, %s, 'pending')"
    CLAIM = ("UPDATE load_inbox SET status = 'claimed' WHERE id IN (SELECT i.id FROM load_inbox i "
             "WHERE i.status = 'pending' AND NOT EXISTS (SELECT 1 FROM load_inbox p WHERE "
             "p.user_key = i.user_key AND p.id < i.id AND p.status != 'done') ORDER BY i.id "
             "LIMIT %s{lock}) RETURNING id, raw")
    QUEUE = "INSERT INTO load_outbox (chat_id, text, status) VALUES (%s, %s, 'pending') RETURNING id"
    DONE = "UPDATE load_inbox SET status = 'done' WHERE id = %s"
    TAKE = "UPDATE load_outbox SET status = 'claimed' WHERE id = %s AND status = 'pending' RETURNING text"
    SENT = "UPDATE load_outbox SET status = 'sent' WHERE id = %s"
    CONCURRENCY = 32  # as the bot's inbox worker

    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self.looping: asyncio.Task[None] | None = None
        self.outbox_ids: dict[int, int] = {}

    async def reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        assert user is not None and self.db is not None
        said = what_was_said(update)

        def answer(connection: Any) -> int:
            assert self.db is not None
            n = self.save_answer(connection, user.id, said)
            return int(self.db.execute(connection, self.QUEUE, user.id, f"{n}|ok").fetchone()[0])

        self.outbox_ids[update.update_id] = await self.db.run(answer)

    async def handle(self, row_id: int, raw: str) -> None:
        assert self.app is not None and self.db is not None
        db = self.db
        update = Update.de_json(json.loads(raw), self.app.bot)
        await self.app.process_update(update)
        await db.run(lambda c: db.execute(c, self.DONE, row_id))
        outbox_id = self.outbox_ids.pop(update.update_id)
        taken = await db.run(lambda c: db.execute(c, self.TAKE, outbox_id).fetchone())
        if taken is not None:
            await self.app.bot.send_message(update.effective_user.id, taken[0])  # type: ignore[union-attr]
            await db.run(lambda c: db.execute(c, self.SENT, outbox_id))
        self.wake.set()

    async def work(self) -> None:
        assert self.db is not None
        db = self.db
        claim = self.CLAIM.format(lock="" if db.sqlite else " FOR UPDATE SKIP LOCKED")
        inflight: set[asyncio.Task[None]] = set()
        while not self.stopping.is_set():
            # Finished pieces out and the wake-up cleared before claiming, with no await in
            # between: a piece that finishes later sets it again, none is missed.
            inflight = {t for t in inflight if not t.done()}
            free = self.CONCURRENCY - len(inflight)
            self.wake.clear()
            rows = (await db.run(lambda c, n=free: db.execute(c, claim, n).fetchall())) if free else []
            inflight |= {asyncio.create_task(self.handle(r[0], r[1])) for r in rows}
            if not rows:
                await self.wake.wait()
        await asyncio.gather(*inflight)

    async def start(self, api: InstantApi) -> None:
        await super().start(api)
        assert self.db is not None
        self.db.script([self.INBOX, self.INBOX_INDEX, self.PENDING_INDEX, self.OUTBOX])
        self.looping = asyncio.create_task(self.work())

    async def submit(self, raw: dict[str, Any]) -> None:
        assert self.db is not None
        db = self.db
        user = (raw.get("message") or raw.get("callback_query") or {})["from"]["id"]
        text = json.dumps(raw)
        await db.run(lambda c: db.execute(c, self.RECEIVE, user, text))
        self.wake.set()

    async def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        assert self.looping is not None
        await self.looping
        await super().stop()
