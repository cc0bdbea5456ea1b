"""Retention: dossiers are deleted (rows and files) when the privacy notice says they go."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import sample_files
from flows.engine import Engine
from flows.events import Inbound, Sender, Upload
from flows.ports import DossierRecord
from flows.retention import keep_until
from flows.vacancy_loader import load_catalogue
from storage.database import make_engine, migrate
from storage.dossier_repository import SqlDossierStore
from storage.file_store import LocalFileStore
from storage.retention import purge_expired

ROOT = Path(__file__).resolve().parents[1]
VACANCIES = load_catalogue(ROOT / "vacancies")


def _dossier(vacancy_id: str, created: datetime) -> DossierRecord:
    return DossierRecord(id=1, candidate_id=1, vacancy_id=vacancy_id, state="submitted",
                         status="submitted", answers={}, language="nl", consented_at=created,
                         privacy_version="x", created_at=created, updated_at=created)


def test_with_a_reserve_kept_until_the_reserve_ends_after_the_last_selection_step():
    vacancy = VACANCIES["nieuwpoort-systeembeheerder-ict"]  # reserve two years; tests 16/9/2025
    until = keep_until(vacancy, _dossier(vacancy.id, datetime(2025, 7, 1, tzinfo=UTC)))
    assert until == datetime(2027, 9, 16, 23, 59, tzinfo=ZoneInfo("Europe/Brussels"))


def test_without_a_reserve_at_most_one_year():
    vacancy = VACANCIES["vera-projectcoordinator"]
    created = datetime(2026, 2, 28, 10, tzinfo=UTC)
    assert keep_until(vacancy, _dossier(vacancy.id, created)) == datetime(2027, 2, 28, 10, tzinfo=UTC)


def test_purge_expired_deletes_rows_and_files_and_keeps_the_rest(database_url, tmp_path):
    clock = [datetime(2026, 11, 22, 10, tzinfo=UTC)]
    db = make_engine(database_url)
    migrate(db)
    store = SqlDossierStore(db, clock=lambda: clock[0])
    files = LocalFileStore(tmp_path / "files")
    engine = Engine(VACANCIES, store, files, lambda: clock[0])
    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(sample_files.pdf())

    def apply(user: str) -> None:
        me = Sender("terminal", user)
        privacy = engine.handle(me, Inbound.start("vera-projectcoordinator"))[-1]
        engine.handle(me, Inbound.press(privacy.choices[0].token))
        for text in ("Lena Peeters", "lena@example.be", "Master", "nee", "ja"):
            engine.handle(me, Inbound.say(text))
        engine.handle(me, Inbound.send_file(Upload("cv.pdf", "application/pdf", 9, pdf)))

    apply("early")
    clock[0] = datetime(2027, 3, 1, 10, tzinfo=UTC)
    apply("late")
    assert len(list((tmp_path / "files").rglob("*.pdf"))) == 2

    assert purge_expired(store, files, VACANCIES, datetime(2027, 11, 22, 9, tzinfo=UTC)) == (0, 0)
    assert purge_expired(store, files, VACANCIES, datetime(2027, 11, 22, 11, tzinfo=UTC)) == (1, 1)
    left = store.list_dossiers(None, None)
    assert [d.answers["candidate.email"] for d in left] == ["lena@example.be"]
    assert len(list((tmp_path / "files").rglob("*.pdf"))) == 1
    with store.unit_of_work("terminal", "early") as uow:
        assert uow.candidate() is None  # nothing of them is left
    db.dispose()
