"""Send the outbox to Telegram: every message once, in order per chat, retried until it goes.

A row is a reply to a candidate (texts and buttons, written by the engine with the answer),
or a recruiter notification (rendered here at send time from the dossier: a summary, then
each document; or a candidate's question, whose message id is recorded so that a recruiter's
reply to it finds the question). Its parts go one by one and the progress is saved after each, so a retry, a
crash or a second worker resumes after the last part that went out instead of repeating it.

Failures: 429 waits exactly the `retry_after` Telegram names; a network error or a timeout is
retried with backoff (Telegram has no way to ask whether a timed-out message arrived, so the
timeouts are long enough that a slow Telegram answers before they expire); a blocked bot or a
vanished chat closes the row, so later messages to that chat are not held up behind it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, Message
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.rendering import keyboard, message_parts, split_text
from bot.work_pool import keep_busy
from flows.dossier_summary import question_notice, summary
from flows.engine import QUESTION_NOTICE
from flows.messages import Msg, render
from flows.ports import FileStore
from flows.replies import locale_of
from flows.text_cleaning import display_name
from flows.vacancy import Vacancy
from storage.dossier_repository import SqlDossierStore
from storage.outbox import RECRUITERS, OutboxItem, SqlOutbox

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(minutes=30)


def retry_after(exc: RetryAfter) -> timedelta:
    """How long Telegram asked us to wait (an int or a timedelta, by library version)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the int form is deprecated, the timedelta opt-in
        value = exc.retry_after
    return value if isinstance(value, timedelta) else timedelta(seconds=float(value))


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=5 * 2 ** min(attempts, 10)), MAX_BACKOFF)


class OutboxSender:
    def __init__(self, outbox: SqlOutbox, store: SqlDossierStore, files: FileStore,
                 vacancies: dict[str, Vacancy], recruiter_chat: int | None,
                 clock: Callable[[], datetime], owner: str, lease: timedelta,
                 timeout: float = 30.0) -> None:
        self.outbox = outbox
        self.store = store
        self.files = files
        self.vacancies = vacancies
        self.recruiter_chat = recruiter_chat
        self.clock = clock
        self.owner = owner
        self.lease = lease
        self.timeout = timeout

    async def claim(self, limit: int) -> list[OutboxItem]:
        # Without a recruiters' chat, notifications wait in the outbox (`main.py export`).
        skip = (RECRUITERS,) if self.recruiter_chat is None else ()
        return await asyncio.to_thread(self.outbox.claim, self.owner, self.clock(), self.lease,
                                       limit, skip)

    async def run_once(self, bot: Bot, limit: int = 64) -> int:
        """Claim what is due (one row per chat) and send it; return how many rows were claimed."""
        items = await self.claim(limit)
        if items:
            await asyncio.gather(*(self.deliver(bot, item) for item in items))
        return len(items)

    async def run(self, bot: Bot, stop: asyncio.Event, wake: asyncio.Event,
                  concurrency: int = 64) -> None:
        async def deliver(item: OutboxItem) -> None:
            try:
                await self.deliver(bot, item)
            except Exception as exc:  # never let one message stop the sender
                log.error("outbox %s: %s", item.id, type(exc).__name__)
            finally:
                wake.set()  # the chat's next message may be due now

        await keep_busy("outbox", self.claim, deliver, stop, wake, concurrency)

    async def deliver(self, bot: Bot, item: OutboxItem) -> None:
        try:
            parts = await asyncio.to_thread(self.parts_of, item)
        except LookupError as exc:  # a retired vacancy file: keep it pending (export shows it)
            await asyncio.to_thread(self.outbox.failed, item.id, type(exc).__name__,
                                    self.clock() + backoff(item.attempts))
            return
        # A numeric id as an int: python-telegram-bot's rate limiter takes a string for a
        # channel or group and would hold a candidate's chat to 20 messages a minute.
        chat = self.recruiter_chat if item.chat_key == RECRUITERS else int(item.chat_key)
        payload = dict(item.payload)
        done = int(payload.get("parts_sent", 0))
        try:
            for index in range(done, len(parts)):
                sent = await self.send_part(bot, chat, parts[index])
                if item.kind == QUESTION_NOTICE and index == 0 and sent is not None:
                    # A recruiter answers by replying to this message: remember which it is.
                    await asyncio.to_thread(self.store.record_question_message,
                                            int(item.payload["question_id"]), sent.chat_id,
                                            sent.message_id)
                if index < len(parts) - 1:
                    payload["parts_sent"] = index + 1
                    await asyncio.to_thread(self.outbox.progress, item.id, payload)
        except RetryAfter as exc:
            await asyncio.to_thread(self.outbox.failed, item.id, "RetryAfter",
                                    self.clock() + retry_after(exc))
            return
        except (Forbidden, BadRequest) as exc:
            # The user blocked the bot, the chat is gone, or Telegram refuses this message for
            # good: retrying cannot help, and later messages to the chat must not wait for it.
            log.warning("outbox %s dropped: %s", item.id, type(exc).__name__)
            await asyncio.to_thread(self.outbox.dropped, item.id, self.clock(), type(exc).__name__)
            return
        except (TelegramError, OSError) as exc:
            log.warning("outbox %s failed: %s", item.id, type(exc).__name__)
            await asyncio.to_thread(self.outbox.failed, item.id, type(exc).__name__,
                                    self.clock() + backoff(item.attempts))
            return
        # Delivered: what was said to a candidate need not be kept; notifications keep ids.
        keep = {} if item.kind == "message" else {"dossier_id": item.dossier_id}
        await asyncio.to_thread(self.outbox.sent, item.id, self.clock(), keep)

    def parts_of(self, item: OutboxItem) -> list[dict[str, Any]]:
        if item.kind == "message":
            return message_parts(item.payload.get("messages", []))
        if item.kind == QUESTION_NOTICE:
            return self.question_parts(int(item.payload["question_id"]))
        found = self.store.get_dossier(item.dossier_id) if item.dossier_id else None
        if found is None:
            return []  # the dossier was deleted: nothing left to tell
        dossier, _candidate, documents = found
        vacancy = self.vacancies.get(dossier.vacancy_id)
        if vacancy is None:
            raise LookupError("vacancy file missing")
        if item.kind == "dossier_withdrawn":
            withdrawn = Msg("rec.withdrawn", {"id": dossier.id, "title": vacancy.title})
            return [{"text": render(withdrawn, locale_of(vacancy, "nl"))}]
        if dossier.status != "submitted":
            return []  # withdrawn before we got to it: its data are gone
        parts: list[dict[str, Any]] = [{"text": chunk} for chunk in
                             split_text(summary(vacancy, dossier, documents, "nl"))]
        parts += [{"document_id": doc.id, "caption": f"#{dossier.id} · {doc.kind}"}
                  for doc in documents]
        return parts

    def question_parts(self, question_id: int) -> list[dict[str, Any]]:
        """A candidate's question for the recruiters' chat, rendered from what is stored now:
        nothing once it is erased (a withdrawal, a purge)."""
        found = self.store.question_with_dossier(question_id)
        if found is None:
            return []
        question, dossier = found
        vacancy = self.vacancies.get(dossier.vacancy_id)
        if vacancy is None:
            raise LookupError("vacancy file missing")
        return [{"text": chunk} for chunk in split_text(question_notice(vacancy, dossier, question))]

    async def send_part(self, bot: Bot, chat: int | None, part: dict[str, Any]) -> Message | None:
        timeouts = {"read_timeout": self.timeout, "write_timeout": self.timeout,
                    "connect_timeout": self.timeout, "pool_timeout": self.timeout}
        if "text" in part:
            return await bot.send_message(chat, part["text"],
                                          reply_markup=keyboard(part.get("choices") or [],
                                                                part.get("links")),
                                          message_thread_id=part.get("thread_id"), **timeouts)
        if "document_id" in part:
            doc = await asyncio.to_thread(self.store.get_document, part["document_id"])
            if doc is None:
                return None  # deleted meanwhile (withdrawn, erased): nothing to send
            try:
                data = await asyncio.to_thread(self.files.path(doc.stored_path).read_bytes)
            except FileNotFoundError:  # erased from disk meanwhile: retrying cannot help
                log.warning("document %s has no file; not sent", doc.id)
                return None
            return await bot.send_document(chat, document=data,
                                           filename=display_name(doc.original_name),
                                           caption=part.get("caption"), **timeouts)
        if "file_data" in part:
            return await bot.send_document(chat, document=base64.b64decode(part["file_data"]),
                                           filename=part["file_name"],
                                           caption=part.get("caption"), **timeouts)
        return None
