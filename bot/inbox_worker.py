"""Handle the inbox: each stored update once, in order per user, through the Application.

An update the library cannot parse is quarantined (kept for the operator, counted, logged
without its content) and its sender, when there is one, is asked to send it again — the bot
carries on with everyone else. A handler that fails on something passing (a database lock, a
network error while downloading) is retried with backoff, the candidate told once that their
message arrived; one that keeps failing is given up and the candidate shown where they are.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import NetworkError
from telegram.ext import Application, CallbackContext

from bot import metrics
from bot.db_calls import RunDb
from bot.work_pool import LocalFirst, keep_busy
from flows.engine import Engine
from flows.events import Inbound, Sender
from flows.messages import Msg, normalise_language, render
from storage import handoff
from storage.database import is_transient
from storage.inbox import InboxItem, Received, SqlInbox
from storage.outbox import OutboxItem, SqlOutbox

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
RETRY_DELAYS = (1, 2, 5, 10, 20)  # seconds after attempt 1, 2, ...: about 40 s in all
SHARED_CHATS = ("group", "supergroup", "channel")


def _actor(raw: dict[str, Any]) -> dict[str, Any]:
    """The update's payload object (message, callback_query, ...), whatever its type."""
    for key, value in raw.items():
        if key != "update_id" and isinstance(value, dict):
            return value
    return {}


def _user(raw: dict[str, Any]) -> dict[str, Any] | None:
    actor = _actor(raw)
    user = actor.get("from") or actor.get("user")
    return user if isinstance(user, dict) else None


def received(raw: dict[str, Any]) -> Received | None:
    """The inbox row for a raw update; None when it has no update id (nothing to store)."""
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    chat = _actor(raw).get("chat")
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    if isinstance(chat_id, int) and chat.get("type") in SHARED_CHATS:
        # In order per group or channel: nothing there touches a candidate's application, and
        # the row keeps no trace of who wrote.
        return Received(update_id, f"c:{chat_id}", raw)
    user = _user(raw)
    if user is not None and isinstance(user.get("id"), int):
        return Received(update_id, f"u:{user['id']}", raw)
    if isinstance(chat_id, int):
        return Received(update_id, f"c:{chat_id}", raw)
    return Received(update_id, f"x:{update_id}", raw)


def private_chat(raw: dict[str, Any]) -> tuple[str, str] | None:
    """(chat id, language) of the private chat an unreadable update came from, if any."""
    user = _user(raw)
    if user is None or not isinstance(user.get("id"), int):
        return None
    actor = _actor(raw)
    chat = actor.get("chat") or (actor.get("message") or {}).get("chat")
    if not isinstance(chat, dict) or chat.get("id") != user["id"]:
        return None  # not a private chat: nobody to answer there
    return str(user["id"]), normalise_language(user.get("language_code"))


def transient(error: BaseException) -> bool:
    return is_transient(error) or isinstance(error, NetworkError)


class InboxWorker:
    def __init__(self, app: Application, inbox: SqlInbox, outbox: SqlOutbox, engine: Engine,
                 owner: str, lease: timedelta, concurrency: int = 32,
                 on_handled: Callable[[], None] = lambda: None,
                 on_replies: Callable[[list[OutboxItem]], None] = lambda items: None,
                 run_db: RunDb = asyncio.to_thread) -> None:
        self.app = app
        self.run_db = run_db  # bot/db_calls.py: inline on SQLite
        self.inbox = inbox
        self.outbox = outbox
        self.engine = engine
        self.owner = owner
        self.lease = lease
        self.concurrency = concurrency
        self.on_handled = on_handled
        # Replies the update's own transaction leased to this process: the sender's to deliver.
        self.on_replies = on_replies
        # Rows leased to this process when they arrived (storage.inbox.receive_and_take).
        self.local: LocalFirst[InboxItem] = LocalFirst(self._claim_stored)
        self._errors: dict[int, BaseException] = {}
        app.add_error_handler(self._remember_error)

    async def _remember_error(self, update: object, context: CallbackContext) -> None:
        if isinstance(update, Update) and context.error is not None:
            self._errors[update.update_id] = context.error

    async def _claim_stored(self, limit: int) -> list[InboxItem]:
        return await self.run_db(self.inbox.claim, self.owner, self.lease, limit)

    async def claim(self, limit: int) -> list[InboxItem]:
        return await self.local.claim(limit)

    def hand(self, items: list[InboxItem]) -> None:
        """Rows this process received and leased: handled before any claim query."""
        self.local.add(items)

    async def run_once(self) -> int:
        """Claim what may be handled now and handle it; return how many rows were claimed."""
        items = await self.claim(self.concurrency)
        if items:
            await asyncio.gather(*(self.handle(item) for item in items))
        return len(items)

    async def run(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        await keep_busy("inbox", self.claim, self.handle, stop, wake, self.concurrency)

    async def handle(self, item: InboxItem) -> None:
        try:
            await self._handle(item)
        except Exception as exc:  # never let one row stop the worker
            log.error("inbox %s: %s", item.update_id, type(exc).__name__)
            metrics.error("inbox", type(exc).__name__)
        finally:
            self.on_handled()

    async def _handle(self, item: InboxItem) -> None:
        raw = item.raw or {}
        try:
            update = Update.de_json(raw, self.app.bot)
            if update is None:
                raise ValueError("empty update")
        except Exception as exc:
            await self.quarantine(item, raw, exc)
            return
        self._errors.pop(update.update_id, None)
        settled = handoff.Handoff(item.id, self.owner, self.inbox.now, self.lease)
        token = handoff.current.set(settled)  # this task's context only: each row has its own
        try:
            await self.app.process_update(update)
        finally:
            handoff.current.reset(token)
            if settled.outbox:  # committed: a rolled-back turn took its rows off the list
                at = self.inbox.now()
                self.on_replies([OutboxItem(row_id, kind, chat, dossier, payload, 0, at)
                                 for row_id, kind, chat, dossier, payload in settled.outbox])
        error = self._errors.pop(update.update_id, None)
        if settled.inbox_done:
            # Applied and marked done in one commit: whatever failed after it (a courtesy
            # message, say) cannot be fixed by handling the update again.
            if error is not None:
                log.warning("update %s: %s after it was applied", item.update_id,
                            type(error).__name__)
            metrics.handled("done")
            return
        if error is None:
            await self.run_db(self.inbox.done, item.id)
            metrics.handled("done")
            return
        name = type(error).__name__
        if transient(error) and item.attempts < MAX_ATTEMPTS:
            delay = RETRY_DELAYS[min(item.attempts, len(RETRY_DELAYS)) - 1]
            log.warning("update %s: %s, retry %s in %s s", item.update_id, name, item.attempts,
                        delay)
            if item.attempts == 1:
                await self.notify(raw, "busy.wait")
            await self.run_db(self.inbox.retry, item.id, timedelta(seconds=delay), name)
            metrics.handled("retried", name)
            return
        log.error("update %s failed for good: %s", item.update_id, name)
        await self.give_up(update)
        await self.run_db(self.inbox.done, item.id, "failed", name)
        metrics.handled("failed", name)

    async def quarantine(self, item: InboxItem, raw: dict[str, Any], exc: Exception) -> None:
        # Type and id only: the update's content is personal data.
        log.warning("update %s quarantined: cannot parse it (%s)", item.update_id,
                    type(exc).__name__)
        notice = None
        chat = private_chat(raw)
        if chat is not None:
            notice = (chat[0], [{"text": render(Msg("inbox.unreadable"), chat[1]),
                                 "choices": []}])
        await self.run_db(self.inbox.quarantine, item.id, type(exc).__name__, notice)
        metrics.handled("quarantined", type(exc).__name__)

    async def notify(self, raw: dict[str, Any], key: str) -> None:
        chat = private_chat(raw)
        if chat is None:
            return
        try:
            await asyncio.to_thread(self.outbox.queue, chat[0], [
                {"text": render(Msg(key), chat[1]), "choices": []}], self.engine.clock())
        except Exception as exc:  # the notice is a courtesy; the retry is what matters
            log.warning("notice not queued: %s", type(exc).__name__)

    async def give_up(self, update: Update) -> None:
        """Show the candidate where they are, so nothing they repeat lands on a question they
        have not seen."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or chat.id != user.id:
            return
        sender = Sender("telegram", str(user.id), chat_id=str(chat.id),
                        language_code=user.language_code)
        try:
            await self.run_db(self.engine.handle, sender,
                                    Inbound.failed().numbered(update.update_id), True)
        except Exception as exc:
            log.warning("could not tell update %s where the candidate is: %s",
                        update.update_id, type(exc).__name__)
