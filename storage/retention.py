"""Delete what we no longer keep: dossiers past the privacy notice's retention, files no row owns."""

from __future__ import annotations

from datetime import datetime, timedelta

from flows.ports import FileStore
from flows.retention import keep_until
from flows.vacancy import Vacancy
from storage.dossier_repository import SqlDossierStore
from storage.file_store import LocalFileStore

ORPHAN_AGE = timedelta(hours=1)


def purge_expired(store: SqlDossierStore, files: FileStore, vacancies: dict[str, Vacancy],
                  now: datetime) -> tuple[int, int]:
    """Delete every dossier past its retention; return (dossiers, files) deleted.

    A dossier of a vacancy file that was retired is kept (its retention cannot be computed);
    `purge --candidate` removes it on request.
    """
    dossiers = files_deleted = 0
    for dossier in store.list_dossiers(None, None):
        vacancy = vacancies.get(dossier.vacancy_id)
        if vacancy is None or dossier.id is None or now < keep_until(vacancy, dossier):
            continue
        found = store.get_dossier(dossier.id)
        if found is None:
            continue
        candidate = found[1]
        with store.unit_of_work(candidate.channel, candidate.external_id) as uow:
            paths = uow.delete_dossier(dossier.id)
            uow.audit(dossier.id, "retention_purge", {"vacancy": dossier.vacancy_id})
            if not uow.dossiers():
                uow.delete_candidate(candidate.id)  # type: ignore[arg-type]
        for path in paths:
            files.delete(path)
        dossiers += 1
        files_deleted += len(paths)
    return dossiers, files_deleted


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
