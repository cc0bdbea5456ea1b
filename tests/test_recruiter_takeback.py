"""Taking back what the recruiters' chat holds about a dossier, and reducing an extract (issue 11).

- `storage/recruiter_messages.py` on SQLite and PostgreSQL: what is recorded, what `take_back`
  returns and forgets, `reduce_document` once;
- the fake Bot API deletes like Telegram: only the bot's own messages, for 48 hours;
- the recruiters' summary and CSV show a reduced extract as deleted after delivery, facts kept;
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from bot.fake_bot_api import FakeTelegram
from bot.fake_bot_api import TelegramError as Refused
from flows.dossier_summary import csv_export, reduced_after_delivery, summary
from flows.ports import DocumentRecord, DossierRecord
from storage import recruiter_messages
from storage.database import make_engine, migrate
from storage.dossier_repository import write_transaction
from storage.tables import (
    candidate_table,
    document_table,
    dossier_table,
    recruiter_message_table,
)
from tests.bot_harness import catalogue

T0 = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
CHAT = -100
SCHOOL = "school-ict-coordinator"
HARDENBERG = "hardenberg-medewerker-intern-service-punt"


# ---------------------------------------------------------------- storage


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def add_dossier(engine: Engine, external_id: str = "1") -> int:
    with write_transaction(engine) as connection:
        candidate = connection.execute(insert(candidate_table).values(
            channel="telegram", external_id=external_id, chat_id=external_id, language="nl",
            created_at=T0).returning(candidate_table.c.id)).scalar_one()
        return connection.execute(insert(dossier_table).values(
            candidate_id=candidate, vacancy_id="school-ict-coordinator", state="submitted",
            status="submitted", answers={}, language="nl", consented_at=T0,
            privacy_version="1", created_at=T0, updated_at=T0,
            reminders_sent=[]).returning(dossier_table.c.id)).scalar_one()


def recorded(engine: Engine) -> list[tuple[int, int, int]]:
    r = recruiter_message_table.c
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(r.dossier_id, r.chat_id, r.message_id).order_by(r.id))]


def test_take_back_returns_the_recent_messages_counts_the_older_and_forgets_both(engine: Engine):
    first, second = add_dossier(engine, "1"), add_dossier(engine, "2")
    now = T0 + timedelta(hours=60)
    for message_id, hours_before in ((11, 59), (12, 47.5), (13, 46.5), (14, 1)):
        recruiter_messages.record(engine, first, CHAT, message_id,
                                  now - timedelta(hours=hours_before))
    recruiter_messages.record(engine, second, CHAT, 21, now - timedelta(hours=1))
    # A message id beyond 32 bits (supergroups number high) comes back as it went in.
    recruiter_messages.record(engine, first, -1001234567890, 2**40, now - timedelta(minutes=5))

    with write_transaction(engine) as connection:
        recent, older = recruiter_messages.take_back(connection, [first], now)
    # Under 47 hours (48 less a margin: the delete happens a little later), oldest first.
    assert recent == [(CHAT, 13), (CHAT, 14), (-1001234567890, 2**40)]
    assert older == 2
    assert recorded(engine) == [(second, CHAT, 21)]  # the other dossier's stays

    with write_transaction(engine) as connection:
        assert recruiter_messages.take_back(connection, [first], now) == ([], 0)
        assert recruiter_messages.take_back(connection, [], now) == ([], 0)


def test_take_back_is_part_of_the_callers_transaction(engine: Engine):
    dossier = add_dossier(engine)
    recruiter_messages.record(engine, dossier, CHAT, 5, T0)

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), write_transaction(engine) as connection:
        assert recruiter_messages.take_back(connection, [dossier], T0) == ([(CHAT, 5)], 0)
        raise Rollback
    assert recorded(engine) == [(dossier, CHAT, 5)]  # an erasure rolled back forgets nothing


def test_reduce_document_drops_the_path_once_and_keeps_the_facts(engine: Engine):
    dossier = add_dossier(engine)
    with write_transaction(engine) as connection:
        document = connection.execute(insert(document_table).values(
            dossier_id=dossier, kind="record_extract", original_name="uittreksel.pdf",
            stored_path="2026/11/abc.pdf", size=2048, sha256="f" * 64,
            media_type="application/pdf", uploaded_at=T0).returning(document_table.c.id)
        ).scalar_one()
    later = T0 + timedelta(minutes=3)

    assert recruiter_messages.reduce_document(engine, document, later) == "2026/11/abc.pdf"
    assert recruiter_messages.reduce_document(engine, document, later + timedelta(hours=1)) is None
    assert recruiter_messages.reduce_document(engine, 4242, later) is None

    f = document_table.c
    with engine.connect() as connection:
        row = connection.execute(select(document_table).where(f.id == document)).mappings().one()
    assert (row["kind"], row["original_name"], row["size"], row["sha256"], row["stored_path"]) == (
        "record_extract", "uittreksel.pdf", 2048, "f" * 64, "")
    deleted_at = row["file_deleted_at"]
    assert (deleted_at if deleted_at.tzinfo else deleted_at.replace(tzinfo=UTC)) == later


# ---------------------------------------------------------------- the fake Bot API


class Seconds:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_fake_telegram_deletes_the_bots_own_messages_for_48_hours_only():
    clock = Seconds()
    tg = FakeTelegram(clock=clock)
    tg.add_group(CHAT)
    old = tg.call("sendMessage", {"chat_id": CHAT, "text": "old"})["message_id"]
    clock.now += 47 * 3600
    first, second, third = (tg.call("sendMessage", {"chat_id": CHAT, "text": t})["message_id"]
                            for t in ("a", "b", "c"))
    clock.now += 3600  # `old` is 48 hours old now

    with pytest.raises(Refused, match="message can't be deleted"):
        tg.call("deleteMessage", {"chat_id": CHAT, "message_id": old})
    assert tg.call("deleteMessage", {"chat_id": CHAT, "message_id": first}) is True
    with pytest.raises(Refused, match="message to delete not found"):
        tg.call("deleteMessage", {"chat_id": CHAT, "message_id": first})  # gone already
    with pytest.raises(Refused, match="message to edit not found"):
        tg.call("editMessageText", {"chat_id": CHAT, "message_id": first, "text": "x"})

    # A batch deletes what it may and skips the rest (as the form-encoded JSON list too)...
    assert tg.call("deleteMessages", {"chat_id": CHAT,
                                      "message_ids": f"[{old}, {first}, {second}, 999]"}) is True
    # ... and is refused when it may delete none of them.
    with pytest.raises(Refused, match="message can't be deleted"):
        tg.call("deleteMessages", {"chat_id": CHAT, "message_ids": [old, first, second]})
    with pytest.raises(Refused, match="1-100"):
        tg.call("deleteMessages", {"chat_id": CHAT, "message_ids": list(range(1, 102))})

    assert tg.deleted == [(CHAT, first), (CHAT, second)]
    assert [m.text for m in tg.visible_in(CHAT)] == ["old", "c"]
    assert [m.text for m in tg.messages_to(CHAT)] == ["old", "a", "b", "c"]  # the history
    assert third not in {m for _, m in tg.deleted}


# ---------------------------------------------------------------- what recruiters read


def school_dossier(documents_deleted_at: datetime | None) -> tuple[Any, DossierRecord,
                                                                   list[DocumentRecord]]:
    vacancy = catalogue()[SCHOOL]
    dossier = DossierRecord(
        id=12, candidate_id=1, vacancy_id=SCHOOL, state="submitted", status="submitted",
        answers={"candidate.name": "Jan Peeters", "candidate.email": "jan@example.be",
                 "record.has_extract": True, "record.issued_on": "2026-10-01",
                 "record.mention": False},
        language="nl", consented_at=T0, privacy_version="1", created_at=T0, updated_at=T0,
        submitted_at=T0)
    documents = [
        DocumentRecord(id=1, dossier_id=12, kind="cv", original_name="cv.pdf",
                       stored_path="2026/11/a.pdf", size=4096, sha256="a" * 64,
                       media_type="application/pdf", uploaded_at=T0),
        DocumentRecord(id=2, dossier_id=12, kind="record_extract",
                       original_name="uittreksel.pdf",
                       stored_path="" if documents_deleted_at else "2026/11/b.pdf",
                       size=3072, sha256="b" * 64, media_type="application/pdf",
                       uploaded_at=T0, file_deleted_at=documents_deleted_at),
    ]
    return vacancy, dossier, documents


def test_the_extract_is_the_criminal_record_rules_document():
    assert reduced_after_delivery(catalogue()[SCHOOL]) == {"record_extract"}
    # Hardenberg asks for a VOG only later, with no document of its own: nothing to reduce.
    assert reduced_after_delivery(catalogue()[HARDENBERG]) == frozenset()


def test_a_reduced_extract_reads_as_deleted_after_delivery_and_its_facts_stay():
    # 23:30 UTC is the next day in Brussels: the date is the vacancy's.
    vacancy, dossier, documents = school_dossier(datetime(2026, 11, 22, 23, 30, tzinfo=UTC))
    text = summary(vacancy, dossier, documents)
    assert "• cv: cv.pdf (4 kB)\n" in text
    assert ("uittreksel.pdf (3 kB), bestand verwijderd na levering op 23-11-2026") in text
    assert "Datum van het uittreksel → 01-10-2026" in text  # the facts: answers stay

    rows = list(csv.DictReader(io.StringIO(csv_export(vacancy, [(dossier, None, documents)])
                                           .decode("utf-8-sig")), delimiter=";"))
    assert rows[0]["documents"] == (
        "cv,record_extract (bestand verwijderd na levering op 23-11-2026)")
    assert (rows[0]["record.has_extract"], rows[0]["record.issued_on"],
            rows[0]["record.mention"]) == ("ja", "2026-10-01", "nee")

    vacancy, dossier, documents = school_dossier(None)  # not yet delivered
    assert "verwijderd" not in summary(vacancy, dossier, documents)
    assert "verwijderd" not in csv_export(vacancy, [(dossier, None, documents)]).decode()
