"""Personal data at rest are sealed with a key per person, and erasing the person deletes the
key: the values are then in no table, and neither the SQLite file nor PostgreSQL's relation
files hold them in clear (or the key that opened them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from flows.ports import CandidateRecord, DocumentRecord, DossierRecord, QuestionRecord
from storage.crypto import KeyGone, Keyring, MasterKeyError, new_master_key
from storage.database import make_engine, migrate
from storage.dossier_repository import SqlDossierStore
from storage.file_store import LocalFileStore
from storage.inbox import Received, SqlInbox
from storage.subject_keys import rewrap_all
from storage.tables import metadata, subject_key_table

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NAME, EMAIL, ANSWER = "Zoltar Quispelaere", "zoltar.q@voorbeeld.be", "Brandweerschool Quux"
FILE_NAME, QUESTION = "Quispelaere_diploma.pdf", "Mag ik Quuxbereid een dag later beginnen?"
VALUES = (NAME, EMAIL, ANSWER, FILE_NAME, QUESTION)


def _fill(store: SqlDossierStore, files: LocalFileStore, tmp_path: Path,
          external_id: str = "777") -> tuple[int, str]:
    """A candidate with a dossier, a sealed file, a question and a queued reply."""
    source = tmp_path / FILE_NAME
    source.write_bytes(b"%PDF-1.4 " + NAME.encode() + b" diploma")
    with store.unit_of_work("telegram", external_id) as uow:
        candidate = uow.add_candidate(CandidateRecord(None, "telegram", external_id,
                                                      external_id, "nl", T0))
        assert candidate.id is not None
        dossier = uow.add_dossier(DossierRecord(
            None, candidate.id, "vacancy-a", "collecting", "collecting",
            {"identity.name": NAME, "identity.email": EMAIL, "diploma.school": ANSWER},
            "nl", T0, "v1", T0, T0, verdict={"status": "eligible", "note": ANSWER}))
        assert dossier.id is not None
        stored = files.put(source, uow.sealer())
        uow.add_document(DocumentRecord(None, dossier.id, "diploma", FILE_NAME,
                                        stored.stored_path, stored.size, stored.sha256,
                                        "application/pdf", T0))
        uow.add_question(QuestionRecord(None, dossier.id, "asked", QUESTION, "collecting", T0))
        uow.add_outbox("message", None, {"messages": [{"text": f"Dag {NAME}"}]},
                       chat_key=external_id)
        uow.audit(dossier.id, "answered", {"question": "identity.name"})
    source.unlink()
    return dossier.id, stored.stored_path


def _table_text(engine: Engine) -> str:
    """Every value of every table, as text (what a SELECT * of the whole database shows)."""
    chunks: list[str] = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                chunks.append(repr(tuple(row)))
    return "\n".join(chunks)


def _raw_files(engine: Engine, database_url: str) -> bytes:
    """The database's bytes as they lie on disk."""
    if engine.dialect.name == "sqlite":
        path = Path(database_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    out = []
    with engine.connect() as connection:
        connection.execute(text("CHECKPOINT"))  # the pages on disk, not only in shared buffers
        for table in metadata.sorted_tables:
            path = connection.execute(text("SELECT pg_relation_filepath(:t)"),
                                      {"t": table.name}).scalar_one()
            out.append(connection.execute(text("SELECT pg_read_binary_file(:p)"),
                                          {"p": path}).scalar_one())
    return b"".join(bytes(chunk) for chunk in out)


def test_personal_values_are_stored_sealed_and_read_back_plain(engine: Engine, tmp_path: Path):
    store = SqlDossierStore(engine, clock=lambda: T0)
    files = LocalFileStore(tmp_path / "uploads")
    dossier_id, stored_path = _fill(store, files, tmp_path)

    everything = _table_text(engine)
    for value in VALUES:
        assert value not in everything, f"{value!r} is stored in clear"
    assert NAME.encode() not in files.path(stored_path).read_bytes(), "the file is not sealed"

    found = store.get_dossier(dossier_id)
    assert found is not None
    dossier, _candidate, documents = found
    assert dossier.answers["identity.name"] == NAME and dossier.verdict["note"] == ANSWER
    assert documents[0].original_name == FILE_NAME
    opened = store.open_document(documents[0].id)
    assert opened is not None
    assert NAME.encode() in files.read(stored_path, opened[1])
    assert store.questions(dossier_id)[0][0].text == QUESTION
    with store.unit_of_work("telegram", "777") as uow:
        assert uow.dossier(dossier_id).answers["identity.email"] == EMAIL


def test_erasure_leaves_nothing_readable_in_tables_or_database_files(
        engine: Engine, database_url: str, tmp_path: Path):
    store = SqlDossierStore(engine, clock=lambda: T0)
    files = LocalFileStore(tmp_path / "uploads")
    _fill(store, files, tmp_path)
    other_id, _ = _fill(store, files, tmp_path, external_id="888")
    with engine.connect() as connection:
        wrapped = {row.subject: bytes(row.wrapped)
                   for row in connection.execute(select(subject_key_table))}
    mine = store.keyring.subject("telegram", "777")

    with store.unit_of_work("telegram", "777") as uow:
        erasure = uow.erase_candidate()
    for path in erasure.stored_paths:
        files.delete(path)

    assert [d[1:] for d in erasure.dossiers] == [("vacancy-a", "collecting")]
    with store.unit_of_work("telegram", "777") as uow:
        assert uow.candidate() is None and uow.dossiers() == []
    with engine.connect() as connection:
        keys = set(connection.execute(select(subject_key_table.c.subject)).scalars())
    assert mine not in keys and len(keys) == 1, "the erased person's key is still there"
    # The other candidate is untouched.
    assert store.get_dossier(other_id)[0].answers["identity.name"] == NAME

    if engine.dialect.name == "postgresql":
        # Dead tuples of the key table are pruned by the vacuum after the erasure; a VACUUM
        # FULL (the daily job) rewrites the file, so its bytes are gone from disk.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM FULL subject_key"))
    raw = _raw_files(engine, database_url)
    for value in VALUES:
        assert value.encode() not in raw, f"{value!r} lies in clear in the database files"
    assert wrapped[mine] not in raw, "the erased wrapped key is still in the database files"
    assert wrapped[store.keyring.subject("telegram", "888")] in raw  # the check can see keys


def test_an_update_waiting_during_the_erasure_stays_readable(engine: Engine, tmp_path: Path):
    store = SqlDossierStore(engine, clock=lambda: T0)
    inbox = SqlInbox(engine, keyring=store.keyring)
    _fill(store, LocalFileStore(tmp_path / "uploads"), tmp_path)
    waiting = {"update_id": 5, "message": {"message_id": 1, "date": 1, "text": "opnieuw",
                                           "chat": {"id": 777, "type": "private"},
                                           "from": {"id": 777, "is_bot": False,
                                                    "first_name": "Z"}}}
    inbox.receive([Received(5, "u:777", waiting)])

    with store.unit_of_work("telegram", "777") as uow:
        uow.erase_candidate()

    items = inbox.claim("w", timedelta(seconds=30))
    assert [item.raw for item in items] == [waiting]


def test_master_key_rotation_rewraps_and_the_old_key_can_then_go(engine: Engine, tmp_path: Path):
    old, new = new_master_key(), new_master_key()
    store = SqlDossierStore(engine, clock=lambda: T0, keyring=Keyring.from_text(old))
    dossier_id, _ = _fill(store, LocalFileStore(tmp_path / "uploads"), tmp_path)

    rotating = Keyring.from_text(f"{new},{old}")
    with engine.begin() as connection:
        assert rewrap_all(connection, rotating) == 1
        assert rewrap_all(connection, rotating) == 0
    # Once re-wrapped, the new master key alone opens everything: the old one can go.
    after = SqlDossierStore(engine, clock=lambda: T0, keyring=Keyring.from_text(new))
    assert after.get_dossier(dossier_id)[0].answers["identity.name"] == NAME
    with pytest.raises(MasterKeyError):
        SqlDossierStore(engine, keyring=Keyring.from_text(new_master_key())).get_dossier(dossier_id)


def test_a_sealed_value_does_not_open_with_another_persons_key():
    keyring = Keyring.from_text(new_master_key())
    _, _, mine = keyring.new_key("a")
    _, _, theirs = keyring.new_key("b")
    with pytest.raises(KeyGone):
        theirs.open_text(mine.seal_text(NAME))
    assert keyring.pseudonym("777") == keyring.pseudonym("777") != keyring.pseudonym("778")
    assert "777" not in keyring.pseudonym("777")


def test_keys_nothing_uses_any_more_are_forgotten(engine: Engine, tmp_path: Path):
    store = SqlDossierStore(engine, clock=lambda: T0)
    inbox = SqlInbox(engine, keyring=store.keyring)
    _fill(store, LocalFileStore(tmp_path / "uploads"), tmp_path)
    # Someone who wrote once and never accepted the notice: their update is handled.
    inbox.receive([Received(9, "u:999", {"update_id": 9, "message": {"text": "hallo"}})])
    [item] = inbox.claim("w", timedelta(seconds=30))
    inbox.done(item.id)
    # Someone whose update still waits keeps their key.
    inbox.receive([Received(10, "u:555", {"update_id": 10, "message": {"text": "dag"}})])

    assert store.forget_unused_keys(datetime.now(UTC) + timedelta(minutes=1)) == 1
    with engine.connect() as connection:
        left = set(connection.execute(select(subject_key_table.c.subject)).scalars())
    assert left == {store.keyring.subject("telegram", "777"), store.keyring.subject("telegram", "555")}
    assert store.forget_unused_keys(datetime.now(UTC) - timedelta(days=1)) == 0  # only old ones


def test_an_update_arriving_during_an_erasure_is_never_sealed_with_the_erased_key(
        postgres_url: str, tmp_path: Path):
    """PostgreSQL: the inbox holds the key it seals with (FOR SHARE), so a receive that
    overlaps an erasure waits for it and then seals with a fresh key: the update stays
    readable (before, it was sealed with the key being deleted and lost)."""
    import threading
    import time

    # A lock timeout far beyond the watcher's deadline: on a busy machine the receive must
    # still be waiting (not given up after the default 5 s) when the watcher looks.
    engine = make_engine(postgres_url, lock_timeout=60)
    migrate(engine)
    store = SqlDossierStore(engine, clock=lambda: T0)
    inbox = SqlInbox(engine, keyring=store.keyring)
    _fill(store, LocalFileStore(tmp_path / "uploads"), tmp_path)
    update = {"update_id": 2, "message": {"message_id": 2, "date": 1, "text": "ben ik er nog?",
                                          "chat": {"id": 777, "type": "private"},
                                          "from": {"id": 777, "is_bot": False,
                                                   "first_name": "Z"}}}
    received = threading.Thread(target=inbox.receive, args=([Received(2, "u:777", update)],))
    with store.unit_of_work("telegram", "777") as uow:
        uow.erase_candidate()
        received.start()
        # Until the erasure commits, the receive waits on the key row (no fixed sleep: look).
        deadline = time.monotonic() + 30
        with engine.connect() as watcher:
            while True:
                waiting = watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")).scalar_one()
                # pg_stat_activity is read once per transaction: end it to look again afresh
                # (in one transaction a first look before the receive blocked saw 0 forever).
                watcher.rollback()
                if waiting:
                    break
                assert time.monotonic() < deadline, "the receive did not wait for the erasure"
    received.join(30)
    [item] = inbox.claim("w", timedelta(seconds=30))
    assert item.raw == update
    engine.dispose()


def test_the_export_holds_every_table_about_the_person_opened(engine: Engine, tmp_path: Path):
    store = SqlDossierStore(engine, clock=lambda: T0)
    inbox = SqlInbox(engine, keyring=store.keyring)
    _fill(store, LocalFileStore(tmp_path / "uploads"), tmp_path)
    inbox.receive([Received(3, "u:777", {"update_id": 3, "message": {"text": "hoi"}})])
    with store.unit_of_work("telegram", "777") as uow:
        data = uow.export_data()
    assert data["candidate"]["external_id"] == "777"
    [application] = data["applications"]
    assert application["answers"]["identity.name"] == NAME
    assert application["verdict"]["note"] == ANSWER
    assert [d["original_name"] for d in application["documents"]] == [FILE_NAME]
    assert [q["text"] for q in application["questions"]] == [QUESTION]
    assert [a["event"] for a in application["audit"]] == ["answered"]
    assert application["decisions"] == []
    assert [m["payload"]["messages"][0]["text"] for m in data["messages"]] == [f"Dag {NAME}"]
    assert [u["update_id"] for u in data["updates_received"]] == [3]
    assert "stored_path" not in application["documents"][0]  # where on our disk: not theirs
