"""Delete what we no longer keep: dossiers past the privacy notice's retention, files no row owns.

`plan_purge` says what would go and why (`purge --dry-run` prints it); `purge_expired` deletes
exactly that, each dossier read again under its candidate's lock first. Neither says anything
personal: ids, a vacancy, a status, dates.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flows.ports import DossierRecord, FileStore
from flows.retention import Kept, kept
from flows.vacancy import Vacancy
from storage.dossier_repository import SqlDossierStore
from storage.file_store import LocalFileStore

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


def plan_purge(store: SqlDossierStore, vacancies: dict[str, Vacancy],
               now: datetime) -> PurgePlan:
    """What `purge_expired` would delete at `now`, and why. Reads only."""
    everything = store.list_dossiers(None, None)
    expired: list[Expired] = []
    for dossier in everything:
        vacancy = vacancies.get(dossier.vacancy_id)
        if vacancy is None or dossier.id is None:
            continue
        how = kept(vacancy, dossier)
        if now < how.until:
            continue
        found = store.get_dossier(dossier.id)
        files = len(found[2]) if found is not None else 0
        expired.append(Expired(dossier.id, dossier.candidate_id, dossier.vacancy_id,
                               dossier.status, how, files))
    held = Counter(d.candidate_id for d in everything)
    going = Counter(e.candidate_id for e in expired)
    candidates = tuple(c for c in going if going[c] == held[c])
    retired = sum(1 for d in everything if d.vacancy_id not in vacancies)
    return PurgePlan(tuple(expired), candidates, retired)


def _still_expired(dossier: DossierRecord | None, vacancies: dict[str, Vacancy],
                   now: datetime) -> bool:
    vacancy = vacancies.get(dossier.vacancy_id) if dossier is not None else None
    return dossier is not None and vacancy is not None and now >= kept(vacancy, dossier).until


def purge_expired(store: SqlDossierStore, files: FileStore, vacancies: dict[str, Vacancy],
                  now: datetime) -> Purged:
    """Delete every dossier of the plan (rows and files), and a candidate with their last one.

    Each dossier is read again under its candidate's lock: one re-applied for since the plan
    was made (a withdrawn application reuses its row) is kept.
    """
    dossiers = files_deleted = candidates = 0
    for item in plan_purge(store, vacancies, now).dossiers:
        found = store.get_dossier(item.dossier_id)
        if found is None:
            continue
        candidate = found[1]
        with store.unit_of_work(candidate.channel, candidate.external_id) as uow:
            if not _still_expired(uow.dossier(item.dossier_id), vacancies, now):
                continue
            # Its copies in the recruiters' chat are years old by now: the bot cannot delete
            # them; forget the records so nothing points at the deleted dossier.
            uow.take_back_messages(item.dossier_id)
            paths = uow.delete_dossier(item.dossier_id)
            uow.audit(item.dossier_id, "retention_purge",
                      {"vacancy": item.vacancy_id, "rule": item.kept.rule})
            last = not uow.dossiers()
            if last:
                # With their last dossier goes everything else of theirs, their key included.
                paths += uow.erase_candidate().stored_paths
        for path in paths:
            files.delete(path)
        dossiers += 1
        files_deleted += len(paths)
        candidates += last
    return Purged(dossiers, files_deleted, candidates)


def sweep_orphan_files(store: SqlDossierStore, files: LocalFileStore,
                       older_than: timedelta = ORPHAN_AGE) -> int:
    """Delete files no document row owns: written by a transaction that then rolled back or
    died, or a download a crash interrupted. Only older ones, so a file whose transaction is
    still running (in this or another process) is left alone."""
    owned = store.document_paths()
    removed = 0
    for stored_path in files.stored_paths(older_than):
        if stored_path not in owned:
            files.delete(stored_path)
            removed += 1
    return removed
