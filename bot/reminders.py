"""Reminders before a deadline and expiry at it, driven from the database.

A periodic job (and one run at start-up) asks the engine to sweep every unfinished dossier;
what was sent is recorded on the dossier, so a restart neither loses nor repeats a reminder.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.candidate_handlers import send_replies
from flows.engine import Engine
from flows.events import Sender
from storage.dossier_repository import SqlDossierStore

log = logging.getLogger(__name__)
EVENT_MEMORY = timedelta(hours=48)  # Telegram re-delivers an unconfirmed update within a day


class Reminders:
    def __init__(self, engine: Engine, store: SqlDossierStore, days: tuple[int, ...]) -> None:
        self.engine = engine
        self.store = store
        self.days = days

    async def sweep(self, context: ContextTypes.DEFAULT_TYPE) -> int:
        sent = 0
        await asyncio.to_thread(self.store.prune_events, self.engine.clock() - EVENT_MEMORY)
        unfinished = await asyncio.to_thread(self.store.unfinished_dossiers)
        for dossier, candidate in unfinished:
            if (candidate.channel != "telegram" or dossier.id is None
                    or dossier.vacancy_id not in self.engine.vacancies):
                continue  # a vacancy file retired by the operator: nothing to remind or expire
            sender = Sender("telegram", candidate.external_id, candidate.chat_id)
            try:
                replies = await asyncio.to_thread(self.engine.sweep, sender, dossier.id, self.days)
            except Exception as exc:  # one dossier must not stop the others
                log.error("sweep of dossier %s failed: %s", dossier.id, type(exc).__name__)
                continue
            if not replies:
                continue
            try:
                await send_replies(context, candidate.chat_id or candidate.external_id, replies)
                sent += 1
            except TelegramError as exc:
                # Recorded as sent already: a reminder is at most once, never twice.
                log.warning("reminder for dossier %s not delivered: %s", dossier.id,
                            type(exc).__name__)
        return sent
