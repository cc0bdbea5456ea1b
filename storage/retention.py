"""Delete what we no longer keep: dossiers past the privacy notice's retention, files no row owns.

`plan_purge` says what would go and why (`purge --dry-run` prints it); `purge_expired` deletes
exactly that, each dossier read again under its candidate's lock first. Both read only the
dossiers whose retention may have ended, a batch at a time (storage/sweep_queries.py). Neither says anything
personal: ids, a vacancy, a status, dates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from flows.ports import DossierRecord, FileStore
from flows.retention import Kept, kept
from flows.vacancy import Vacancy
from storage.dossier_repository import SqlDossierStore
from storage.file_store import LocalFileStore
from storage.sweep_queries import (
    BATCH,
    RetentionRow,
    batches,
    document_counts,
    dossier_counts,
    maybe_expired,
    owned_paths,
    retired_count,
)

ORPHAN_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class Expired:
    """A dossier past its retention, as the operator may see it."""

    dossier_id: int
    candidate_id: int
    vacancy_id: str
    status: str
    kept: Kept
    files: int

    @property
    def reason(self) -> str:
        return self.kept.reason(self.status)

    def line(self) -> str:
        return (f"dossier {self.dossier_id} (candidate {self.candidate_id})  {self.vacancy_id}  "
                f"{self.status}  kept until {self.kept.until:%Y-%m-%d}  {self.files} files "
                f"— {self.reason}")


@dataclass(frozen=True)
class PurgePlan:
    dossiers: tuple[Expired, ...]
    # Candidates every one of whose dossiers goes: nothing is left to keep them for.
    candidates: tuple[int, ...]
    # Dossiers of a vacancy file that was retired: their retention cannot be computed, so they
    # are kept (`purge --candidate` removes one on request).
    retired: int


@dataclass(frozen=True)
class Purged:
    dossiers: int
    files: int
    candidates: int


def expired_batches(store: SqlDossierStore, vacancies: dict[str, Vacancy], now: datetime,
                    limit: int = BATCH) -> Iterator[list[tuple[RetentionRow, Kept]]]:
    """The dossiers past their retention at `now`, a bounded batch at a time: the SQL bound
    per vacancy (storage/sweep_queries.py), then the notice's exact rule on each row."""
    for rows in batches(maybe_expired, store.engine, vacancies.values(), now, limit=limit):
        batch = [(row, how) for row in rows
                 if now >= (how := kept(vacancies[row.vacancy_id], row)).until]
        if batch:
            yield batch


def plan_purge(store: SqlDossierStore, vacancies: dict[str, Vacancy],
               now: datetime) -> PurgePlan:
    """What `purge_expired` would delete at `now`, and why. Reads only (the operator's list:
    it holds the expired ones, never the whole table)."""
    expired: list[Expired] = []
    going: Counter[int] = Counter()
    for batch in expired_batches(store, vacancies, now):
        files = document_counts(store.engine, [row.dossier_id for row, _ in batch])
        for row, how in batch:
            expired.append(Expired(row.dossier_id, row.candidate_id, row.vacancy_id,
                                   row.status, how, files.get(row.dossier_id, 0)))
            going[row.candidate_id] += 1
    held = dossier_counts(store.engine, list(going))
    candidates = tuple(c for c in going if going[c] == held.get(c))
    return PurgePlan(tuple(expired), candidates, retired_count(store.engine, vacancies))


def _still_expired(dossier: DossierRecord | None, vacancies: dict[str, Vacancy],
                   now: datetime) -> bool:
    vacancy = vacancies.get(dossier.vacancy_id) if dossier is not None else None
    return dossier is not None and vacancy is not None and now >= kept(vacancy, dossier).until


def purge_expired(store: SqlDossierStore, files: FileStore, vacancies: dict[str, Vacancy],
                  now: datetime, limit: int = BATCH) -> Purged:
    """Delete every dossier past its retention (rows and files), and a candidate with their
    last one; a batch at a time, so memory stays bounded however many there are.

    Each dossier is read again under its candidate's lock: one re-applied for since the batch
    was read (a withdrawn application reuses its row) is kept.
    """
    dossiers = files_deleted = candidates = 0
    for batch in expired_batches(store, vacancies, now, limit):
        for row, how in batch:
            # Compacted once at the end: a WAL checkpoint per erased candidate made a purge of
            # thousands take minutes.
            with store.unit_of_work(row.channel, row.external_id, compact=False) as uow:
                if not _still_expired(uow.dossier(row.dossier_id), vacancies, now):
                    continue
                # Its copies in the recruiters' chat are years old by now: the bot cannot
                # delete them; forget the records so nothing points at the deleted dossier.
                uow.take_back_messages(row.dossier_id)
                paths = uow.delete_dossier(row.dossier_id)
                uow.audit(row.dossier_id, "retention_purge",
                          {"vacancy": row.vacancy_id, "rule": how.rule})
                last = not uow.dossiers()
                if last:
                    # With their last dossier goes everything else of theirs, their key too.
                    paths += uow.erase_candidate().stored_paths
            for path in paths:
                files.delete(path)
            dossiers += 1
            files_deleted += len(paths)
            candidates += last
    if candidates:
        store.after_erasure()
    return Purged(dossiers, files_deleted, candidates)


def sweep_orphan_files(store: SqlDossierStore, files: LocalFileStore,
                       older_than: timedelta = ORPHAN_AGE) -> int:
    """Delete files no document row owns: written by a transaction that then rolled back or
    died, or a download a crash interrupted. Only older ones, so a file whose transaction is
    still running (in this or another process) is left alone."""
    removed = 0
    # The files on disk in chunks, each checked against the rows by one indexed query: never
    # every path of the table in memory.
    paths = files.stored_paths(older_than)
    while chunk := list(islice(paths, BATCH)):
        owned = owned_paths(store.engine, chunk)
        for stored_path in chunk:
            if stored_path not in owned:
                files.delete(stored_path)
                removed += 1
    return removed
