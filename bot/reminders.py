"""Reminders before a deadline and expiry at it, driven from the database.

A periodic job (and one run at start-up) asks the engine to sweep every unfinished dossier.
The reminder is queued in the outbox in the same transaction that records it was sent, so a
restart neither loses nor repeats it.
"""

from __future__ import annotations

import asyncio
import logging

from flows.engine import Engine
from flows.events import Sender
from storage.dossier_repository import SqlDossierStore

log = logging.getLogger(__name__)


class Reminders:
    def __init__(self, engine: Engine, store: SqlDossierStore, days: tuple[int, ...]) -> None:
        self.engine = engine
        self.store = store
        self.days = days

    async def sweep(self) -> int:
        """Remind or expire every unfinished dossier that is due; return how many were told."""
        told = 0
        unfinished = await asyncio.to_thread(self.store.unfinished_dossiers)
        for dossier, candidate in unfinished:
            if (candidate.channel != "telegram" or dossier.id is None
                    or dossier.vacancy_id not in self.engine.vacancies):
                continue  # a vacancy file retired by the operator: nothing to remind or expire
            sender = Sender("telegram", candidate.external_id,
                            candidate.chat_id or candidate.external_id)
            try:
                replies = await asyncio.to_thread(self.engine.sweep, sender, dossier.id,
                                                  self.days, True)
            except Exception as exc:  # one dossier must not stop the others
                log.error("sweep of dossier %s failed: %s", dossier.id, type(exc).__name__)
                continue
            told += bool(replies)
        return told
