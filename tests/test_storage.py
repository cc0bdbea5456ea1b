"""storage/: migrations, the dossier repository (SQLite and PostgreSQL) and the file store."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from flows.ports import (
    CandidateRecord,
    ConcurrentUpdate,
    DocumentRecord,
    DossierRecord,
    StoredFile,
)
from storage.database import alembic_config, make_engine, migrate
from storage.dossier_repository import PendingMessage, SqlDossierStore, SqlUnitOfWork
from storage.file_store import LocalFileStore, UnsafePath, sniff_suffix
from storage.outbox import SqlOutbox
from storage.tables import (
    audit_table,
    candidate_table,
    document_table,
    dossier_table,
    metadata,
    outbox_table,
)
from tests.db_fixtures import sqlite_url

BRUSSELS = ZoneInfo("Europe/Brussels")
T0 = datetime(2025, 3, 14, 9, 30, 15, 123456, tzinfo=UTC)
TABLES = {"candidate", "dossier", "document", "outbox", "audit", "applied_event", "inbox",
          "job_lease", "group_notice", "candidate_question", "question_answer",
          "subject_key", "recruiter_message", "decision", "funnel_count",
          "dashboard_link", "dashboard_session"}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def empty_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_database_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_database_url)
    migrate(engine)  # a copy of a migrated database: finds the schema current
    yield engine
    engine.dispose()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def store(engine: Engine, clock: Clock) -> SqlDossierStore:
    return SqlDossierStore(engine, clock=clock)


def _candidate(external_id: str = "42") -> CandidateRecord:
    return CandidateRecord(
        id=None,
        channel="telegram",
        external_id=external_id,
        chat_id="chat-" + external_id,
        language="nl",
        created_at=T0,
    )


def _dossier(candidate_id: int, vacancy_id: str = "vacancy-a", **changes: object) -> DossierRecord:
    dossier = DossierRecord(
        id=None,
        candidate_id=candidate_id,
        vacancy_id=vacancy_id,
        state="q:diploma.level",
        status="draft",
        answers={},
        language="nl",
        consented_at=T0,
        privacy_version="2025-01",
        created_at=T0,
        updated_at=T0,
    )
    return replace(dossier, **changes)


def _document(dossier_id: int, kind: str = "cv", name: str = "cv.pdf") -> DocumentRecord:
    return DocumentRecord(
        id=None,
        dossier_id=dossier_id,
        kind=kind,
        original_name=name,
        stored_path=f"2025/03/{kind}-{dossier_id}-{name}",
        size=1234,
        sha256="ab" * 32,
        media_type="application/pdf",
        uploaded_at=T0,
    )


def _start(uow: SqlUnitOfWork, vacancy_id: str = "vacancy-a") -> DossierRecord:
    """The candidate's dossier for the vacancy, creating candidate and dossier when missing."""
    candidate = uow.candidate() or uow.add_candidate(_candidate(uow._external_id))
    assert candidate.id is not None
    return uow.dossier_for(vacancy_id) or uow.add_dossier(_dossier(candidate.id, vacancy_id))


def _count(engine: Engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


# --------------------------------------------------------------------------- migrations


def test_migrate_creates_the_schema_and_a_second_run_is_a_no_op(empty_engine: Engine):
    assert set(inspect(empty_engine).get_table_names()) == set()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()

    migrate(empty_engine)
    with empty_engine.connect() as connection:
        first = MigrationContext.configure(connection).get_current_revision()
    tables = set(inspect(empty_engine).get_table_names())

    migrate(empty_engine)
    with empty_engine.connect() as connection:
        second = MigrationContext.configure(connection).get_current_revision()

    assert first == second == head == "0013"
    assert tables == TABLES | {"alembic_version"}
    assert set(inspect(empty_engine).get_table_names()) == tables


def test_an_existing_database_upgrades_and_keeps_its_rows(empty_engine: Engine):
    from alembic import command

    config = alembic_config()
    with empty_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")  # a database as the first release left it
        connection.execute(text(
            "INSERT INTO candidate (channel, external_id, language, created_at) "
            "VALUES ('telegram', '42', 'nl', '2026-11-01 10:00:00+00')"))
    migrate(empty_engine)
    assert "applied_event" in inspect(empty_engine).get_table_names()
    with empty_engine.connect() as connection:
        rows = connection.execute(text("SELECT channel, external_id FROM candidate")).all()
        revision = MigrationContext.configure(connection).get_current_revision()
    assert [tuple(r) for r in rows] == [("telegram", "42")]
    assert revision == ScriptDirectory.from_config(config).get_current_head()


def test_a_database_from_every_earlier_revision_upgrades_to_the_models(empty_engine: Engine):
    """Revisions are never rewritten: a database left at any revision reaches the head."""
    from alembic import command
    from alembic.autogenerate import compare_metadata

    config = alembic_config()
    revisions = [s.revision for s in ScriptDirectory.from_config(config).walk_revisions()]
    for revision in reversed(revisions):
        with empty_engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    with empty_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")  # back to where an intermediate release left it
    migrate(empty_engine)
    with empty_engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert diff == []


def test_migrated_schema_matches_the_sqlmodel_tables(engine: Engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_migrate_on_sqlite_leaves_foreign_keys_on(tmp_path: Path):
    engine = make_engine(sqlite_url(tmp_path))
    try:
        migrate(engine)  # switches them off while it runs, on the pooled connection it uses
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- the engine factory


def test_sqlite_engine_settings_and_parent_folder(tmp_path: Path):
    database = tmp_path / "nested" / "deeper" / "intake.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 30000
        assert database.exists()
    finally:
        engine.dispose()


def test_sqlite_in_memory_can_be_migrated():
    engine = make_engine("sqlite://")
    try:
        migrate(engine)
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["postgresql://u@db.example/intake", "postgres://u@db.example/x"])
def test_postgresql_urls_use_psycopg_3(url: str):
    engine = make_engine(url)
    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()


# --------------------------------------------------------------------------- round trips


def test_round_trip_through_the_unit_of_work(store: SqlDossierStore, clock: Clock):
    created = datetime(2025, 3, 14, 10, 30, 15, 654321, tzinfo=BRUSSELS)  # 09:30:15 UTC
    answers = {
        "birth_date": "1990-05-01",
        "diploma.level": "bachelor",
        "experience.years": 3,
        "score": 7.5,
        "driving_licence": True,
        "languages": ["nl", "en"],
        "nested": {"a": None, "b": [1, 2]},
        "naam": "Zoë Dupont-Šimić",
    }
    with store.unit_of_work("telegram", "42") as uow:
        assert uow.candidate() is None
        candidate = uow.add_candidate(replace(_candidate(), created_at=created))
        assert candidate.id is not None
        dossier = uow.add_dossier(
            _dossier(
                candidate.id,
                answers=answers,
                verdict={"outcome": "eligible", "rules": ["diploma"]},
                consented_at=created,
                submitted_at=created + timedelta(days=2),
                awaiting_document="cv",
                reminders_sent=["deadline-3d"],
                status="collecting",
            )
        )
        assert dossier.id is not None
        bare = uow.add_dossier(_dossier(candidate.id, "vacancy-b"))
        candidate.active_dossier_id = dossier.id
        uow.save_candidate(candidate)
        document = uow.add_document(_document(dossier.id))
        assert document.id is not None
        uow.add_outbox("dossier_submitted", dossier.id, {"dossier_id": dossier.id})
        uow.audit(dossier.id, "answered", {"question": "diploma.level", "state": "collecting"})

    with store.unit_of_work("telegram", "42") as uow:
        loaded_candidate = uow.candidate()
        loaded = uow.dossier(dossier.id)
        loaded_bare = uow.dossier_for("vacancy-b")
        assert [d.id for d in uow.dossiers()] == [dossier.id, bare.id]
        assert uow.documents(dossier.id) == [document]

    assert loaded_candidate == candidate
    assert loaded == dossier
    assert loaded is not None and loaded_bare is not None and loaded_candidate is not None
    assert loaded.answers == answers
    assert loaded_bare.verdict is None and loaded_bare.submitted_at is None
    assert loaded_bare.reminders_sent == [] and loaded_bare.version == 0
    for moment in (
        loaded_candidate.created_at,
        loaded.consented_at,
        loaded.created_at,
        loaded.updated_at,
        loaded.submitted_at,
    ):
        assert moment is not None and moment.tzinfo is UTC
    assert loaded.consented_at == created
    assert loaded.consented_at.hour == 9 and loaded.consented_at.microsecond == 654321

    # A missing verdict is SQL NULL, not JSON null.
    with store._engine.connect() as connection:
        nulls = connection.execute(
            select(func.count()).select_from(dossier_table).where(dossier_table.c.verdict.is_(None))
        ).scalar_one()
    assert nulls == 1

    found = store.get_dossier(dossier.id)
    assert found == (dossier, candidate, [document])
    assert store.get_dossier(10_000) is None
    assert [d.id for d in store.list_dossiers()] == [dossier.id, bare.id]
    assert [d.id for d in store.list_dossiers(vacancy_id="vacancy-b")] == [bare.id]
    assert [d.id for d in store.list_dossiers(status="collecting")] == [dossier.id]
    assert store.list_dossiers("vacancy-a", "draft") == []

    assert store.pending_outbox(clock.now) == [
        PendingMessage(1, "dossier_submitted", dossier.id, {"dossier_id": dossier.id}, 0)
    ]
    [entry] = store.audit_trail(dossier.id)
    assert (entry.event, entry.detail, entry.at) == (
        "answered",
        {"question": "diploma.level", "state": "collecting"},
        T0,
    )
    assert entry.at.tzinfo is UTC


def test_save_dossier_writes_and_bumps_the_version(store: SqlDossierStore):
    with store.unit_of_work("telegram", "42") as uow:
        dossier = _start(uow)
        dossier.answers["birth_date"] = "1990-05-01"
        dossier.state = "q:experience"
        dossier.updated_at = T0 + timedelta(minutes=1)
        uow.save_dossier(dossier)
        assert dossier.version == 1
    with store.unit_of_work("telegram", "42") as uow:
        assert uow.dossier_for("vacancy-a") == dossier


def test_naive_datetimes_are_refused(store: SqlDossierStore):
    with pytest.raises(ValueError, match="naive"), store.unit_of_work("telegram", "42") as uow:
        uow.add_candidate(replace(_candidate(), created_at=datetime(2025, 1, 1, 12, 0)))


def test_audit_detail_takes_ids_and_states_not_nested_data(store: SqlDossierStore):
    with store.unit_of_work("telegram", "42") as uow:
        dossier = _start(uow)
        uow.audit(dossier.id, "documents_missing", {"kinds": ["cv", "diploma"], "n": 2})
        with pytest.raises(ValueError, match="ids and states"):
            uow.audit(dossier.id, "answered", {"answers": {"birth_date": "1990-05-01"}})


# --------------------------------------------------------------------------- integrity


def test_one_dossier_per_candidate_and_vacancy(store: SqlDossierStore, engine: Engine):
    with pytest.raises(IntegrityError), store.unit_of_work("telegram", "42") as uow:
        dossier = _start(uow)
        uow.add_dossier(_dossier(dossier.candidate_id, "vacancy-a"))
    # The failed unit of work took everything it did with it.
    assert _count(engine, candidate_table) == 0
    assert _count(engine, dossier_table) == 0


def test_a_stale_dossier_cannot_overwrite_a_newer_one(store: SqlDossierStore):
    with store.unit_of_work("telegram", "42") as uow:
        first_copy = _start(uow)
    assert first_copy.id is not None
    # A second reader (say a reminder job) loads the same version outside the lock.
    found = store.get_dossier(first_copy.id)
    assert found is not None
    second_copy = found[0]

    with store.unit_of_work("telegram", "42") as uow:
        second_copy.reminders_sent.append("deadline-3d")
        uow.save_dossier(second_copy)
    with pytest.raises(ConcurrentUpdate), store.unit_of_work("telegram", "42") as uow:
        first_copy.answers["diploma.level"] = "master"
        uow.save_dossier(first_copy)

    with store.unit_of_work("telegram", "42") as uow:
        current = uow.dossier(first_copy.id)
    assert current is not None
    assert current.version == 1
    assert current.reminders_sent == ["deadline-3d"]
    assert current.answers == {}


def test_an_exception_rolls_back_everything(store: SqlDossierStore, engine: Engine):
    with pytest.raises(RuntimeError, match="boom"), store.unit_of_work("telegram", "42") as uow:
        dossier = _start(uow)
        assert dossier.id is not None
        uow.add_document(_document(dossier.id))
        uow.add_outbox("dossier_submitted", dossier.id, {"dossier_id": dossier.id})
        uow.audit(dossier.id, "started", {"vacancy": "vacancy-a"})
        raise RuntimeError("boom")
    for table in (candidate_table, dossier_table, document_table, outbox_table, audit_table):
        assert _count(engine, table) == 0, table.name


def test_delete_dossier_cascades_documents_and_returns_their_paths(
    store: SqlDossierStore, engine: Engine
):
    with store.unit_of_work("telegram", "42") as uow:
        dossier = _start(uow)
        other = _start(uow, "vacancy-b")
        assert dossier.id is not None and other.id is not None
        cv = uow.add_document(_document(dossier.id, "cv"))
        diploma = uow.add_document(_document(dossier.id, "diploma", "diploma.jpg"))
        kept = uow.add_document(_document(other.id, "cv"))
        candidate = uow.candidate()
        assert candidate is not None
        candidate.active_dossier_id = dossier.id
        uow.save_candidate(candidate)
        uow.add_outbox("dossier_submitted", dossier.id, {"dossier_id": dossier.id})
        uow.audit(dossier.id, "submitted", {"status": "submitted"})

    with store.unit_of_work("telegram", "42") as uow:
        paths = uow.delete_dossier(dossier.id)
        assert uow.dossier(dossier.id) is None
        assert uow.documents(dossier.id) == []
        assert uow.documents(other.id) == [kept]
        candidate = uow.candidate()
        assert candidate is not None and candidate.active_dossier_id is None
        assert uow.delete_dossier(dossier.id) == []

    assert sorted(paths) == sorted([cv.stored_path, diploma.stored_path])
    assert _count(engine, document_table) == 1
    # The notification outlives the dossier but finds nothing to send; the audit trail stays.
    [pending] = store.pending_outbox(T0)
    assert pending.dossier_id == dossier.id and store.get_dossier(dossier.id) is None
    assert [entry.event for entry in store.audit_trail(dossier.id)] == ["submitted"]


def test_remove_documents_of_one_kind(store: SqlDossierStore):
    with store.unit_of_work("telegram", "42") as uow:
        dossier = _start(uow)
        assert dossier.id is not None
        old = uow.add_document(_document(dossier.id, "cv", "old.pdf"))
        diploma = uow.add_document(_document(dossier.id, "diploma", "diploma.pdf"))
        assert uow.remove_documents(dossier.id, "cv") == [old.stored_path]
        assert uow.remove_documents(dossier.id, "cv") == []
        assert uow.documents(dossier.id) == [diploma]


def test_delete_candidate_cascades_dossiers_and_documents(store: SqlDossierStore, engine: Engine):
    with store.unit_of_work("telegram", "42") as uow:
        dossier = _start(uow)
        assert dossier.id is not None
        uow.add_document(_document(dossier.id))
        uow.audit(dossier.id, "started", {})
    with store.unit_of_work("telegram", "42") as uow:
        uow.delete_candidate(dossier.candidate_id)
        assert uow.candidate() is None
    assert _count(engine, dossier_table) == 0
    assert _count(engine, document_table) == 0
    assert _count(engine, audit_table) == 1


def test_a_unit_of_work_only_sees_its_own_candidate(store: SqlDossierStore):
    with store.unit_of_work("telegram", "1") as uow:
        mine = _start(uow)
        assert mine.id is not None
        uow.add_document(_document(mine.id))
    with store.unit_of_work("telegram", "2") as uow:
        theirs = _start(uow)
        assert uow.dossier(mine.id) is None
        assert uow.documents(mine.id) == []
        assert uow.remove_documents(mine.id, "cv") == []
        assert uow.delete_dossier(mine.id) == []
        assert [d.id for d in uow.dossiers()] == [theirs.id]
        with pytest.raises(ValueError, match="another candidate"):
            uow.save_dossier(mine)
        with pytest.raises(ValueError, match="not this candidate"):
            uow.add_document(_document(mine.id))
        with pytest.raises(ValueError, match="another candidate"):
            uow.add_candidate(_candidate("1"))
    found = store.get_dossier(mine.id)
    assert found is not None and len(found[2]) == 1


# --------------------------------------------------------------------------- serialisation


def test_one_candidates_events_are_serialised(store: SqlDossierStore):
    """Two threads each increment a counter in the answers 50 times, starting before the
    candidate exists; without the candidate lock, updates would be lost or conflict."""
    rounds = 50
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            for _ in range(rounds):
                with store.unit_of_work("telegram", "42") as uow:
                    dossier = _start(uow)
                    dossier.answers["counter"] = dossier.answers.get("counter", 0) + 1
                    uow.save_dossier(dossier)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with store.unit_of_work("telegram", "42") as uow:
        dossier = uow.dossier_for("vacancy-a")
        assert len(uow.dossiers()) == 1
    assert dossier is not None
    assert dossier.answers["counter"] == 2 * rounds
    assert dossier.version == 2 * rounds


# --------------------------------------------------------------------------- the outbox


def test_outbox_due_failed_and_sent(store: SqlDossierStore, clock: Clock):
    with store.unit_of_work("telegram", "42") as uow:
        dossier = _start(uow)
        uow.add_outbox("dossier_submitted", dossier.id, {"dossier_id": dossier.id})
        clock.now = T0 + timedelta(seconds=1)
        uow.add_outbox("reminder", None, {"n": 2})

    assert store.pending_outbox(T0 - timedelta(seconds=1)) == []
    first, second = store.pending_outbox(T0 + timedelta(seconds=5))
    assert (first.kind, second.kind) == ("dossier_submitted", "reminder")
    outbox_id, kind, dossier_id, payload, attempts = first
    assert (kind, dossier_id, payload, attempts) == (
        "dossier_submitted",
        dossier.id,
        {"dossier_id": dossier.id},
        0,
    )
    assert store.pending_outbox(T0 + timedelta(seconds=5), limit=1) == [first]

    retry = T0 + timedelta(minutes=5)
    outbox = SqlOutbox(store.engine)
    outbox.failed(outbox_id, "429 Too Many Requests", retry)
    assert store.pending_outbox(T0 + timedelta(minutes=1)) == [second]
    due = store.pending_outbox(retry)
    assert [(m.id, m.attempts) for m in due] == [(second.id, 0), (outbox_id, 1)]

    outbox.sent(outbox_id, retry)
    assert store.pending_outbox(retry) == [second]
    with store._engine.connect() as connection:
        row = connection.execute(
            select(outbox_table).where(outbox_table.c.id == outbox_id)
        ).one()
    assert row.attempts == 1
    assert row.last_error is None


# --------------------------------------------------------------------------- the file store


@pytest.fixture
def files(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "uploads", clock=lambda: T0)


def test_put_copies_under_a_generated_name_with_digest_and_size(files: LocalFileStore, tmp_path):
    content = b"%PDF-1.7\n" + os.urandom(2_500_000)  # several copy chunks
    source = tmp_path / "Jan Janssens - CV (final).pdf"
    source.write_bytes(content)

    stored = files.put(source)

    assert isinstance(stored, StoredFile)
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    folder, name = stored.stored_path.rsplit("/", 1)
    assert folder == "2025/03"
    assert name.endswith(".pdf") and len(name) == 32 + len(".pdf")
    assert "Jan" not in stored.stored_path and "CV" not in stored.stored_path
    assert files.path(stored.stored_path).read_bytes() == content
    assert source.exists()
    assert [p.name for p in files.path(stored.stored_path).parent.iterdir()] == [name]
    assert files.put(source).stored_path != stored.stored_path


@pytest.mark.parametrize(
    ("content", "declared", "suffix"),
    [
        (b"%PDF-1.4 ...", ".exe", ".pdf"),
        (b"\x89PNG\r\n\x1a\n....", ".jpg", ".png"),
        (b"\xff\xd8\xff\xe0....", "", ".jpg"),
        (b"PK\x03\x04....", ".DOCX", ".docx"),
        (b"PK\x03\x04....", ".sh", ".zip"),
        (b"\x00\x00\x00\x18ftypheic....", ".heic", ".heic"),
        (b"#!/bin/sh\nrm -rf /", ".pdf", ".bin"),
        (b"", ".pdf", ".bin"),
    ],
)
def test_the_stored_suffix_comes_from_the_content(
    files: LocalFileStore, tmp_path: Path, content: bytes, declared: str, suffix: str
):
    assert sniff_suffix(content, declared) == suffix
    source = tmp_path / f"upload{declared}"
    source.write_bytes(content)
    assert files.put(source).stored_path.endswith(suffix)


@pytest.mark.parametrize(
    "stored_path",
    [
        "",
        "../secret.txt",
        "2025/../../secret.txt",
        "/etc/passwd",
        "2025//03/x.pdf",
        "./2025/x.pdf",
        "..\\secret.txt",
        "C:/Windows/win.ini",
        "2025/03/x.pdf\x00.png",
    ],
)
def test_paths_outside_the_root_are_refused(files: LocalFileStore, stored_path: str):
    with pytest.raises(UnsafePath):
        files.path(stored_path)
    with pytest.raises(UnsafePath):
        files.delete(stored_path)


def test_a_symlink_out_of_the_root_is_refused(files: LocalFileStore, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    files.root.mkdir(parents=True)
    (files.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePath):
        files.delete("link/secret.txt")
    assert (outside / "secret.txt").exists()


def test_delete_removes_the_file_and_tolerates_a_missing_one(files: LocalFileStore, tmp_path):
    source = tmp_path / "cv.pdf"
    source.write_bytes(b"%PDF-1.4 hello")
    stored = files.put(source)
    assert files.path(stored.stored_path).exists()
    files.delete(stored.stored_path)
    assert not files.path(stored.stored_path).exists()
    files.delete(stored.stored_path)


def test_a_failed_copy_leaves_no_partial_file(files: LocalFileStore, tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        files.put(tmp_path / "missing.pdf")
    assert list(files.root.rglob("*")) == [files.root / "2025", files.root / "2025" / "03"]


def test_sqlite_never_reuses_ids_after_every_migration(tmp_path: Path):
    """A later migration that rebuilds a table must keep AUTOINCREMENT (0009): else an erased
    dossier's id goes to the next one, and old buttons with it."""
    engine = make_engine(sqlite_url(tmp_path))
    migrate(engine)
    with engine.connect() as connection:
        for table in ("candidate", "dossier", "document", "candidate_question",
                      "question_answer"):
            sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"),
                                     {"t": table}).scalar_one()
            assert "AUTOINCREMENT" in sql, f"{table} may reuse ids"
    engine.dispose()
