"""Deliver the outbox to the recruiters' chat: each notification once, retried until it goes.

A notification is a summary message followed by each document. Progress is saved after every
part, so a retry (after a Telegram error or a crash) resumes where it stopped instead of
sending the summary twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import Bot
from telegram.error import RetryAfter, TelegramError

from bot.rendering import split_text
from flows.dossier_summary import summary
from flows.messages import Msg, render
from flows.ports import FileStore
from flows.vacancy import Vacancy
from storage.dossier_repository import SqlDossierStore

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(minutes=30)


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=5 * 2 ** min(attempts, 10)), MAX_BACKOFF)


class OutboxSender:
    def __init__(self, store: SqlDossierStore, files: FileStore, vacancies: dict[str, Vacancy],
                 chat_id: int | None, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.files = files
        self.vacancies = vacancies
        self.chat_id = chat_id
        self.clock = clock
        self._lock = asyncio.Lock()

    async def deliver(self, bot: Bot) -> int:
        """Send what is due; return how many notifications were completed."""
        if self.chat_id is None:
            return 0  # kept in the outbox; `main.py export` shows them
        async with self._lock:  # one sender at a time within this process
            done = 0
            pending = await asyncio.to_thread(self.store.pending_outbox, self.clock(), 20)
            for message in pending:
                try:
                    await self._send(bot, message.id, message.kind, message.dossier_id,
                                     dict(message.payload or {}))
                except RetryAfter as exc:
                    retry = self.clock() + timedelta(seconds=float(exc.retry_after) + 1)
                    await asyncio.to_thread(self.store.mark_outbox_failed, message.id,
                                            self.clock(), "RetryAfter", retry)
                    break
                except (TelegramError, OSError, LookupError) as exc:
                    log.warning("outbox %s failed: %s", message.id, type(exc).__name__)
                    retry = self.clock() + backoff(message.attempts)
                    await asyncio.to_thread(self.store.mark_outbox_failed, message.id,
                                            self.clock(), type(exc).__name__, retry)
                    continue
                await asyncio.to_thread(self.store.mark_outbox_sent, message.id, self.clock())
                done += 1
            return done

    async def _send(self, bot: Bot, outbox_id: int, kind: str, dossier_id: int | None,
                    payload: dict) -> None:
        assert self.chat_id is not None
        found = await asyncio.to_thread(self.store.get_dossier, dossier_id) if dossier_id else None
        if found is None:
            return  # the dossier was deleted: nothing left to tell
        dossier, _candidate, documents = found
        vacancy = self.vacancies.get(dossier.vacancy_id)
        if vacancy is None:
            # A retired vacancy file: keep the notification pending (export shows it).
            raise LookupError("vacancy file missing")
        if kind == "dossier_withdrawn":
            await bot.send_message(self.chat_id, render(Msg("rec.withdrawn", {
                "id": dossier.id, "title": vacancy.title}), "nl"))
            return
        if dossier.status != "submitted":
            return  # withdrawn before we got to it: its data are gone
        parts_sent = int(payload.get("parts_sent", 0))
        chunks = split_text(summary(vacancy, dossier, documents, "nl"))
        parts: list[tuple[str, object]] = [("text", c) for c in chunks]
        parts += [("document", d) for d in documents]
        for index in range(parts_sent, len(parts)):
            kind_of_part, part = parts[index]
            if kind_of_part == "text":
                await bot.send_message(self.chat_id, str(part))
            else:
                doc = part
                with self.files.path(doc.stored_path).open("rb") as fh:  # type: ignore[attr-defined]
                    await bot.send_document(
                        self.chat_id, document=fh, filename=doc.original_name,  # type: ignore[attr-defined]
                        caption=f"#{dossier.id} · {doc.kind}")  # type: ignore[attr-defined]
            payload["parts_sent"] = index + 1
            await asyncio.to_thread(self.store.update_outbox_payload, outbox_id, payload)
