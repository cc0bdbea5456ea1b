"""Send the outbox to Telegram: every message once, in order per chat, retried until it goes.

A row is a reply to a candidate (texts and buttons, written by the engine with the answer),
or a recruiter notification (rendered here at send time from the dossier: a summary, then
each document; or a candidate's question, whose message id is recorded so that a recruiter's
reply to it finds the question). Its parts go one by one and the progress is saved after each, so a retry, a
crash or a second worker resumes after the last part that went out instead of repeating it.

Every message put in the recruiters' chat about a dossier is remembered
(`storage/recruiter_messages.py`). When the dossier is withdrawn or its candidate erased, the
row ("dossier_withdrawn", "candidate_erased") carries those the bot may still delete (Telegram
allows 48 hours): the sender deletes them first, batch by batch with its progress saved, then
tells the recruiters how many it deleted and how many they must delete themselves — by dossier
number and vacancy, never a person. A criminal-record extract's file is deleted as soon as the
recruiters' chat has it (data reduction); the dossier keeps the facts.

Failures: 429 waits exactly the `retry_after` Telegram names; a network error or a timeout is
retried with backoff (Telegram has no way to ask whether a timed-out message arrived, so the
timeouts are long enough that a slow Telegram answers before they expire); a blocked bot or a
vanished chat closes the row, so later messages to that chat are not held up behind it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import warnings
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from telegram import Bot, Message
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import metrics, raw_calls
from bot.dashboard_links import dossier_button
from bot.db_calls import RunDb
from bot.rendering import keyboard_rows, message_parts, split_text
from bot.work_pool import LocalFirst, keep_busy
from flows.decisions import decision_choices
from flows.dossier_summary import (
    document_caption,
    erased_notice,
    file_deleted,
    file_deleted_text,
    question_notice,
    recruiter_locale,
    reduced_after_delivery,
    summary,
    withdrawn_notice,
)
from flows.engine import QUESTION_NOTICE
from flows.messages import render
from flows.ports import DocumentRecord, DossierRecord, FileStore
from flows.text_cleaning import display_name
from flows.vacancy import Vacancy
from storage import recruiter_messages
from storage.dossier_repository import SqlDossierStore
from storage.outbox import RECRUITERS, OutboxItem, SqlOutbox

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(minutes=30)
# Rows that take the recruiters' chat messages about a dossier back before saying so.
TAKE_BACK = ("dossier_withdrawn", "candidate_erased")
MAX_DELETE_BATCH = 100  # message ids per deleteMessages call (Telegram's limit)


class Delivered(NamedTuple):
    """What the sender needs of a message Telegram took."""

    chat_id: int
    message_id: int
    document: bool  # it carries a file


def delivered(message: Message) -> Delivered:
    return Delivered(message.chat_id, message.message_id, message.document is not None)


class ErasedMeanwhile(Exception):
    """A part went out for a row an erasure has deleted meanwhile."""


def retry_after(exc: RetryAfter) -> timedelta:
    """How long Telegram asked us to wait (an int or a timedelta, by library version)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the int form is deprecated, the timedelta opt-in
        value = exc.retry_after
    return value if isinstance(value, timedelta) else timedelta(seconds=float(value))


def decision_buttons(dossier: DossierRecord, locale: str) -> list[list[str]]:
    """Invite, decline, ask for a document, reviewed: [token, label] pairs naming the
    dossier's decision version (none once it is declined)."""
    assert dossier.id is not None
    return [[choice.token, render(choice.label, locale)] for choice in
            decision_choices(dossier.id, dossier.decision_version, dossier.decision)]


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=5 * 2 ** min(attempts, 10)), MAX_BACKOFF)


class OutboxSender:
    def __init__(self, outbox: SqlOutbox, store: SqlDossierStore, files: FileStore,
                 vacancies: dict[str, Vacancy], recruiter_chat: int | None,
                 clock: Callable[[], datetime], owner: str, lease: timedelta,
                 timeout: float = 30.0, recruiter_language: str = "nl",
                 run_db: RunDb = asyncio.to_thread, dashboard_url: str | None = None) -> None:
        self.outbox = outbox
        self.dashboard_url = dashboard_url  # DASHBOARD_URL: a notification links its dossier
        self.run_db = run_db  # bot/db_calls.py: inline on SQLite
        # What the recruiters' chat reads (RECRUITER_LANGUAGE): "nl", as the employer's
        # country says it, or "en".
        self.recruiter_language = recruiter_language
        self.store = store
        self.files = files
        self.vacancies = vacancies
        self.recruiter_chat = recruiter_chat
        self.clock = clock
        self.owner = owner
        self.lease = lease
        self.timeout = timeout
        # Replies leased to this process in the transaction that wrote them (storage/handoff.py).
        self.local: LocalFirst[OutboxItem] = LocalFirst(self._claim_stored)

    async def _claim_stored(self, limit: int) -> list[OutboxItem]:
        # Without a recruiters' chat, notifications wait in the outbox (`main.py export`).
        skip = (RECRUITERS,) if self.recruiter_chat is None else ()
        return await self.run_db(self.outbox.claim, self.owner, self.clock(), self.lease,
                                       limit, skip)

    async def claim(self, limit: int) -> list[OutboxItem]:
        return await self.local.claim(limit)

    def hand(self, items: list[OutboxItem]) -> None:
        """Rows already leased to this process: delivered before any claim query."""
        self.local.add(items)

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
                metrics.error("outbox", type(exc).__name__)
            finally:
                wake.set()  # the chat's next message may be due now

        await keep_busy("outbox", self.claim, deliver, stop, wake, concurrency)

    async def deliver(self, bot: Bot, item: OutboxItem) -> None:
        payload = dict(item.payload)
        if item.kind in TAKE_BACK and not await self.attempt(
                item, self.take_back(bot, item.id, payload)):
            return
        try:
            # A reply's parts are in the row; others are rendered from the database.
            parts = (self.parts_of(item, payload) if item.kind == "message" else
                     await asyncio.to_thread(self.parts_of, item, payload))
        except LookupError as exc:  # a retired vacancy file: keep it pending (export shows it)
            await self.run_db(self.outbox.failed, item.id, type(exc).__name__,
                                    self.clock() + backoff(item.attempts))
            return
        try:
            if not await self.attempt(item, self.send_parts(bot, item, parts, payload)):
                return
        except ErasedMeanwhile:
            log.info("outbox %s: its dossier was erased while it went out; taken back", item.id)
            return  # the row went with the erasure
        # Delivered: what was said to a candidate need not be kept; notifications keep ids.
        keep = {} if item.kind == "message" else {"dossier_id": item.dossier_id}
        await self.run_db(self.outbox.sent, item.id, self.clock(), keep)
        metrics.delivered(item, self.clock())

    async def attempt(self, item: OutboxItem, work: Coroutine[Any, Any, None]) -> bool:
        """Run one step of a row's delivery; on a failure, record it on the row (retry later,
        or close it for good) and return False."""
        try:
            await work
        except RetryAfter as exc:
            metrics.error("outbox", "RetryAfter")
            await self.run_db(self.outbox.failed, item.id, "RetryAfter",
                                    self.clock() + retry_after(exc))
            return False
        except (Forbidden, BadRequest) as exc:
            # The user blocked the bot, the chat is gone, or Telegram refuses this message for
            # good: retrying cannot help, and later messages to the chat must not wait for it.
            log.warning("outbox %s dropped: %s", item.id, type(exc).__name__)
            metrics.error("outbox", type(exc).__name__)
            await self.run_db(self.outbox.dropped, item.id, self.clock(), type(exc).__name__)
            return False
        except (TelegramError, OSError) as exc:
            log.warning("outbox %s failed: %s", item.id, type(exc).__name__)
            metrics.error("outbox", type(exc).__name__)
            await self.run_db(self.outbox.failed, item.id, type(exc).__name__,
                                    self.clock() + backoff(item.attempts))
            return False
        return True

    async def send_parts(self, bot: Bot, item: OutboxItem, parts: list[dict[str, Any]],
                         payload: dict[str, Any]) -> None:
        # A numeric id as an int: python-telegram-bot's rate limiter takes a string for a
        # channel or group and would hold a candidate's chat to 20 messages a minute.
        chat = self.recruiter_chat if item.chat_key == RECRUITERS else int(item.chat_key)
        done = int(payload.get("parts_sent", 0))
        for index in range(done, len(parts)):
            sent = await self.send_part(bot, chat, parts[index])
            if sent is not None:
                try:
                    await self.run_db(self.after_sending, item, index, parts[index], sent)
                except ErasedMeanwhile:
                    # The dossier was erased while this went out: take it back, send no more.
                    with contextlib.suppress(TelegramError):
                        await bot.delete_message(sent.chat_id, sent.message_id,
                                                 **self.timeouts())
                    raise
            if index < len(parts) - 1:
                payload["parts_sent"] = index + 1
                await self.run_db(self.outbox.progress, item.id, payload)

    def after_sending(self, item: OutboxItem, index: int, part: dict[str, Any],
                      sent: Delivered) -> None:
        """Right after Telegram took a part (before the progress is saved): remember where a
        question landed, remember what the recruiters' chat holds about a dossier, and delete
        a criminal-record extract's file now that the recruiters have it."""
        if item.kind == QUESTION_NOTICE and index == 0:
            # A recruiter answers by replying to this message: remember which it is.
            self.store.record_question_message(int(item.payload["question_id"]), sent.chat_id,
                                               sent.message_id)
        dossier_id = part.get("dossier_id")
        if dossier_id is not None and not recruiter_messages.record(
                self.store.engine, int(dossier_id), sent.chat_id, sent.message_id,
                self.clock(), outbox_id=item.id):
            raise ErasedMeanwhile(sent)
        if part.get("reduce") and sent.document:
            path = recruiter_messages.reduce_document(self.store.engine,
                                                      int(part["document_id"]), self.clock())
            if path:
                self.files.delete(path)
                log.info("document %s: file deleted after delivery", part["document_id"])

    async def take_back(self, bot: Bot, item_id: int, payload: dict[str, Any]) -> None:
        """Delete the recruiters' chat messages the row lists, up to 100 per call, the progress
        saved around each call. Telegram refusing (too old, gone, not allowed) is counted as
        not deleted; a refusal on a call that may already have been carried out before (an
        attempt cut short by a crash or a timeout) means it was."""
        targets = [(int(chat), int(message)) for chat, message in payload.get("delete", [])]
        start = int(payload.get("deleted_upto", 0))
        while start < len(targets):
            chat = targets[start][0]
            end = start
            while (end < len(targets) and targets[end][0] == chat
                   and end - start < MAX_DELETE_BATCH):
                end += 1
            again = payload.get("deleting") == start
            payload["deleting"] = start
            await self.run_db(self.outbox.progress, item_id, payload)
            try:
                await bot.delete_messages(chat, [m for _, m in targets[start:end]],
                                          **self.timeouts())
            except RetryAfter:
                del payload["deleting"]  # refused before anything was done
                await self.run_db(self.outbox.progress, item_id, payload)
                raise
            except (BadRequest, Forbidden) as exc:
                if not again:
                    payload["refused"] = int(payload.get("refused", 0)) + end - start
                log.info("outbox %s: %s of %s messages not deleted (%s)", item_id,
                         0 if again else end - start, end - start, type(exc).__name__)
            del payload["deleting"]
            payload["deleted_upto"] = start = end
            await self.run_db(self.outbox.progress, item_id, payload)

    def parts_of(self, item: OutboxItem, payload: dict[str, Any]) -> list[dict[str, Any]]:
        if item.kind == "message":
            return message_parts(item.payload.get("messages", []))
        if item.kind == QUESTION_NOTICE:
            return self.question_parts(int(item.payload["question_id"]))
        if item.kind in TAKE_BACK:
            return self.take_back_parts(item, payload)
        found = self.store.get_dossier(item.dossier_id) if item.dossier_id else None
        if found is None:
            return []  # the dossier was deleted: nothing left to tell
        dossier, _candidate, documents = found
        vacancy = self.vacancies.get(dossier.vacancy_id)
        if vacancy is None:
            raise LookupError("vacancy file missing")
        if dossier.status != "submitted":
            return []  # withdrawn before we got to it: its data are gone
        reduce = reduced_after_delivery(vacancy)
        lang = self.recruiter_language
        parts: list[dict[str, Any]] = [{"text": chunk, "dossier_id": dossier.id} for chunk in
                                       split_text(summary(vacancy, dossier, documents, lang))]
        # The recruiters decide from here: the buttons go on the last text part.
        parts[-1]["choices"] = decision_buttons(dossier, recruiter_locale(vacancy, lang))
        if self.dashboard_url and self.recruiter_chat is not None:
            parts[-1]["links"] = [dossier_button(self.dashboard_url, dossier.id,
                                                 self.recruiter_chat,
                                                 recruiter_locale(vacancy, lang))]
        # "#12 · Lena Peeters · diploma (kopie)": whose document, and which.
        name = dossier.answers.get("candidate.name")
        parts += [{"document_id": doc.id, "dossier_id": dossier.id, "reduce": doc.kind in reduce,
                   "caption": document_caption(vacancy, dossier.id, name, doc.kind,
                                               recruiter_locale(vacancy, lang))}
                  for doc in documents]
        return parts

    def take_back_parts(self, item: OutboxItem, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """What the recruiters are told once the messages are taken back: the dossiers by
        number and vacancy (from the row: an erased dossier has no row left), and the count of
        messages deleted and of those they must delete themselves. A vacancy file retired
        meanwhile does not hold this up: the vacancy id stands in for its title."""
        refused = int(payload.get("refused", 0))
        deleted = len(payload.get("delete", [])) - refused
        older = int(payload.get("older", 0)) + refused
        if item.kind == "candidate_erased":
            dossiers = [(int(d[0]), str(d[1])) for d in payload.get("dossiers", [])]
            if not dossiers:
                return []
            known = [self.vacancies[v] for _, v in dossiers if v in self.vacancies]
            lang = (recruiter_locale(known[0], self.recruiter_language) if known
                    else self.recruiter_language)
            titles = [(i, self.vacancies[v].title if v in self.vacancies else v)
                      for i, v in dossiers]
            return [{"text": chunk} for chunk in
                    split_text(erased_notice(titles, deleted, older, lang))]
        dossier_id = int(payload.get("dossier_id") or item.dossier_id or 0)
        vacancy_id = payload.get("vacancy_id")
        if vacancy_id is None:
            found = self.store.get_dossier(dossier_id) if dossier_id else None
            vacancy_id = found[0].vacancy_id if found is not None else None
        vacancy = self.vacancies.get(vacancy_id) if vacancy_id else None
        lang = (recruiter_locale(vacancy, self.recruiter_language) if vacancy
                else self.recruiter_language)
        title = vacancy.title if vacancy else (vacancy_id or "?")
        return [{"text": withdrawn_notice(dossier_id, title, deleted, older, lang)}]

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
        return [{"text": chunk, "dossier_id": dossier.id}
                for chunk in split_text(question_notice(vacancy, dossier, question,
                                                        self.recruiter_language))]

    def timeouts(self) -> dict[str, float]:
        return {"read_timeout": self.timeout, "write_timeout": self.timeout,
                "connect_timeout": self.timeout, "pool_timeout": self.timeout}

    async def send_part(self, bot: Bot, chat: int | None, part: dict[str, Any]) -> Delivered | None:
        timeouts = self.timeouts()
        if "text" in part:
            return await self.send_text(bot, chat, part["text"], part.get("choices") or [],
                                        part.get("links"), part.get("thread_id"),
                                        no_preview=bool(part.get("no_preview")))
        if "document_id" in part:
            found = await self.run_db(self.store.open_document, part["document_id"])
            if found is None:
                return None  # deleted meanwhile (withdrawn, erased): nothing to send
            doc, sealer = found
            if file_deleted(doc):
                if part.get("reduce"):
                    return None  # this very notification delivered it before a crash
                # Its file went once the recruiters had it: say so, keep the facts.
                return await self.send_text(bot, chat, await asyncio.to_thread(
                    self.file_deleted_line, doc, part.get("caption")))
            try:
                data = await asyncio.to_thread(self.files.read, doc.stored_path, sealer)
            except FileNotFoundError:  # erased from disk meanwhile: retrying cannot help
                log.warning("document %s has no file; not sent", doc.id)
                return None
            return delivered(await bot.send_document(
                chat, document=data, filename=display_name(doc.original_name),
                caption=part.get("caption"), **timeouts))
        if "file_data" in part:
            return delivered(await bot.send_document(
                chat, document=base64.b64decode(part["file_data"]), filename=part["file_name"],
                caption=part.get("caption"), **timeouts))
        if "photo_data" in part:  # a picture drawn for the recruiters (the /stats chart)
            return delivered(await bot.send_photo(
                chat, photo=base64.b64decode(part["photo_data"]), filename=part.get("file_name"),
                caption=part.get("caption"), **timeouts))
        return None

    async def send_text(self, bot: Bot, chat: int | None, text: str,
                        choices: list[list[str]] | None = None, links: list[list[str]] | None = None,
                        thread_id: int | None = None, no_preview: bool = False) -> Delivered:
        """sendMessage with the answer left as JSON (bot/raw_calls.py): only its ids are
        needed. `no_preview`: Telegram shows no preview of a link in the text (its preview
        fetcher would open a sign-in link)."""
        params: dict[str, Any] = {"chat_id": chat, "text": text}
        rows = keyboard_rows(choices or [], links)
        if rows:
            params["reply_markup"] = {"inline_keyboard": rows}
        if thread_id is not None:
            params["message_thread_id"] = thread_id
        if no_preview:
            params["link_preview_options"] = {"is_disabled": True}
        sent = await raw_calls.call(bot, "sendMessage", params, **self.timeouts())
        return Delivered(int(sent["chat"]["id"]), int(sent["message_id"]), False)

    def file_deleted_line(self, doc: DocumentRecord, caption: str | None) -> str:
        """ "#12 · Lena Peeters · uittreksel uit het strafregister: bestand verwijderd na
        levering op 22-11-2026" """
        found = self.store.get_dossier(doc.dossier_id)
        vacancy = self.vacancies.get(found[0].vacancy_id) if found is not None else None
        lang = (recruiter_locale(vacancy, self.recruiter_language) if vacancy
                else self.recruiter_language)
        text = render(file_deleted_text(vacancy, doc), lang)
        return f"{caption}: {text}" if caption else text
