"""Reminders before a deadline and expiry at it, driven from the database.

A periodic job (and one run at start-up) asks the engine to sweep the unfinished dossiers that
have something due: those of a vacancy that closed, and those still without a reminder whose
day has come (storage/sweep_queries.py selects them in SQL, a batch at a time, so the job costs
what is due, not the size of the table). The reminder is queued in the outbox in the same
transaction that records it was sent, so a restart neither loses nor repeats it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from flows.engine import Engine
from flows.events import Sender
from storage.dossier_repository import SqlDossierStore
from storage.sweep_queries import BATCH, due_for_sweep

log = logging.getLogger(__name__)
# A run stops after this long and the next one goes on where it left: a deadline that expires
# tens of thousands of drafts at once never makes one run outlast the job's interval.
TIME_BUDGET = 45.0


class Reminders:
    def __init__(self, engine: Engine, store: SqlDossierStore, days: tuple[int, ...],
                 batch: int = BATCH, budget: float = TIME_BUDGET) -> None:
        self.engine = engine
        self.store = store
        self.days = days
        self.batch = batch
        self.budget = budget

    async def sweep(self) -> int:
        """Remind or expire every unfinished dossier that is due; return how many were told."""
        told = 0
        after = 0
        stop_at = time.monotonic() + self.budget
        vacancies = list(self.engine.vacancies.values())
        while time.monotonic() < stop_at:
            rows = await asyncio.to_thread(due_for_sweep, self.store.engine, vacancies,
                                           self.engine.clock(), self.days, after, self.batch)
            for row in rows:
                sender = Sender("telegram", row.external_id, row.chat_id or row.external_id)
                try:
                    replies = await asyncio.to_thread(self.engine.sweep, sender, row.dossier_id,
                                                      self.days, True)
                except Exception as exc:  # one dossier must not stop the others
                    log.error("sweep of dossier %s failed: %s", row.dossier_id,
                              type(exc).__name__)
                    continue
                told += bool(replies)
            if len(rows) < self.batch:
                break
            after = rows[-1].dossier_id
        else:
            log.info("reminder sweep: time budget used, %s told; the next run goes on", told)
        return told
