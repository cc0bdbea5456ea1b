"""A re-delivered event (same Telegram update_id, after a crash) is applied once, answered once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.engine import Engine
from flows.events import Inbound, Sender
from storage.database import make_engine, migrate
from storage.dossier_repository import SqlDossierStore
from storage.file_store import LocalFileStore
from tests.conversation import shipped_vacancies

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)


@pytest.fixture
def engine(migrated_database_url: str, tmp_path: Path) -> Engine:
    db = make_engine(migrated_database_url)
    migrate(db)
    return Engine(shipped_vacancies(), SqlDossierStore(db, clock=lambda: NOW),
                  LocalFileStore(tmp_path), lambda: NOW)


def test_redelivered_update_is_not_applied_twice(engine):
    me = Sender("telegram", "77")
    privacy = engine.handle(me, Inbound.start("school-ict-coordinator").numbered(1))[-1]
    engine.handle(me, Inbound.press(privacy.choices[0].token).numbered(2))
    engine.handle(me, Inbound.say("Noor Claes").numbered(3))
    engine.handle(me, Inbound.say("noor@example.be").numbered(4))
    first = engine.handle(me, Inbound.say("ja").numbered(5))  # has an extract: asks the date
    assert first[-1].question_id == "record.issued_on"

    again = engine.handle(me, Inbound.say("ja").numbered(5))  # Telegram sends update 5 again
    assert again == []
    with engine.store.unit_of_work("telegram", "77") as uow:
        candidate = uow.candidate()
        assert candidate is not None
        dossier = uow.dossier(candidate.active_dossier_id)
    assert dossier is not None and dossier.state == "q:record.issued_on"
    assert "record.issued_on" not in dossier.answers

    nxt = engine.handle(me, Inbound.say("02-11-2026").numbered(6))
    assert nxt[-1].question_id == "record.mention"


def test_events_before_consent_store_nothing_even_with_ids(engine):
    me = Sender("telegram", "78")
    engine.handle(me, Inbound.start("vera-projectcoordinator").numbered(10))
    engine.handle(me, Inbound.say("Mijn naam is Bart").numbered(11))
    with engine.store.unit_of_work("telegram", "78") as uow:
        assert uow.candidate() is None


def test_updates_out_of_order_are_each_applied_once(engine):
    """Several webhook connections may deliver 9 before 8: both count, neither twice."""
    me = Sender("telegram", "79")
    privacy = engine.handle(me, Inbound.start("vera-projectcoordinator").numbered(5))[-1]
    engine.handle(me, Inbound.press(privacy.choices[0].token).numbered(6))
    engine.handle(me, Inbound.say("Lena Peeters").numbered(7))
    late = engine.handle(me, Inbound.say("lena@example.be").numbered(9))
    assert late[-1].question_id == "diploma.level"
    early = engine.handle(me, Inbound.do("status").numbered(8))  # older id, arriving later
    assert early != []  # applied, not mistaken for a re-delivery
    assert engine.handle(me, Inbound.say("lena@example.be").numbered(9)) == []
    assert engine.handle(me, Inbound.press(privacy.choices[0].token).numbered(6)) == []


def test_old_event_ids_are_forgotten_after_two_days(engine):
    me = Sender("telegram", "80")
    privacy = engine.handle(me, Inbound.start("vera-projectcoordinator").numbered(1))[-1]
    engine.handle(me, Inbound.press(privacy.choices[0].token).numbered(2))
    assert engine.store.prune_events(NOW) == 0
    assert engine.store.prune_events(NOW + timedelta(days=2)) == 1
    # After a quiet week Telegram numbers updates at random: an old id is a new update again.
    assert engine.handle(me, Inbound.do("status").numbered(2)) != []
