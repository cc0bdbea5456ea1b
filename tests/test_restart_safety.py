"""Stop after any question, continue on a new engine: the dossier ends exactly the same.

The conversation is recorded once (answers chosen by question id), then replayed, cut at every
point, with a fresh Engine and a fresh store on the same database for the second half. Runs on
SQLite and on the real PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import sample_files
from flows.engine import Engine
from flows.events import Inbound, Reply, Sender, Upload
from storage.database import make_engine, migrate
from storage.dossier_repository import SqlDossierStore
from storage.file_store import LocalFileStore
from tests.conversation import shipped_vacancies

ROOT = Path(__file__).resolve().parents[1]
VACANCIES = shipped_vacancies()

# What a candidate answers, by question id (a button label's option value or typed text).
ANSWERS: dict[str, Any] = {
    "candidate.name": "Amira El Idrissi",
    "candidate.email": "amira@example.org",
    "diploma.level": "5",  # typed option number: BE master, NL mbo-4
    "diploma.foreign": "nee",
    "language.dutch_education": "nee",
    "language.certificate": "ja",
    "customer_contact.years": "6,5",
    "multidisciplinary": "ja",
    "government_ict": "ja",
    "score.education_field": "ja",
    "score.process_improvement": "nee",
    "score.topdesk": "2",
    "score.municipal_customer_contact": "4",
    "record.has_extract": "ja",
    "record.issued_on": "01-06-2026",
    "record.mention": "nee",
}
CASES = [
    ("hardenberg-medewerker-intern-service-punt", datetime(2026, 7, 1, 10, tzinfo=UTC)),
    ("sint-pieters-leeuw-projectmedewerker-samenleven", datetime(2026, 11, 22, 10, tzinfo=UTC)),
    ("school-ict-coordinator", datetime(2026, 11, 22, 10, tzinfo=UTC)),
]


def _engine(url: str, files: Path, now: datetime, fresh: bool = False) -> Engine:
    db = make_engine(url)
    if fresh:
        migrate(db)  # a restarted process would find the schema current: no need per cut
    return Engine(VACANCIES, SqlDossierStore(db, clock=lambda: now), LocalFileStore(files),
                  lambda: now)


def _next_event(replies: list[Reply], pdf: Path) -> Inbound | None:
    last = replies[-1]
    if last.meta.get("privacy"):
        return Inbound.press(last.choices[0].token)
    if last.question_id:
        return Inbound.say(ANSWERS[last.question_id])
    if last.expects == "document":
        return Inbound.send_file(Upload(f"{last.document}.pdf", "application/pdf",
                                        pdf.stat().st_size, pdf))
    return None


def _record(engine: Engine, sender: Sender, vacancy_id: str, pdf: Path) -> list[Inbound]:
    events = [Inbound.start(vacancy_id)]
    replies = engine.handle(sender, events[0])
    while (event := _next_event(replies, pdf)) is not None:
        events.append(event)
        replies = engine.handle(sender, event)
        assert len(events) < 80, "the conversation does not end"
    assert replies[-1].meta.get("submitted") == vacancy_id
    return events


def _snapshot(engine: Engine, sender: Sender) -> dict[str, Any]:
    store = engine.store
    with store.unit_of_work(sender.channel, sender.external_id) as uow:
        candidate = uow.candidate()
        assert candidate is not None and candidate.active_dossier_id is not None
        dossier = uow.dossier(candidate.active_dossier_id)
        assert dossier is not None
        documents = uow.documents(dossier.id)
    return {
        "state": dossier.state, "status": dossier.status, "answers": dossier.answers,
        "verdict": dossier.verdict, "version": dossier.version,
        "submitted_at": dossier.submitted_at,
        "documents": sorted((d.kind, d.original_name, d.sha256, d.size) for d in documents),
    }


@pytest.mark.parametrize(("vacancy_id", "now"), CASES, ids=[c[0].split("-")[0] for c in CASES])
def test_restart_after_any_step_gives_the_same_dossier(migrated_database_url, tmp_path, vacancy_id,
                                                       now):
    database_url = migrated_database_url
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(sample_files.pdf())
    files = tmp_path / "files"
    first = _engine(database_url, files, now, fresh=True)
    reference_sender = Sender("terminal", "reference")
    events = _record(first, reference_sender, vacancy_id, pdf)
    expected = _snapshot(first, reference_sender)
    assert expected["status"] == "submitted"

    for cut in range(1, len(events)):
        sender = Sender("terminal", f"cut-{cut}")
        before = _engine(database_url, files, now)
        for event in events[:cut]:
            before.handle(sender, event)
        before.store._engine.dispose()  # the process stops
        after = _engine(database_url, files, now)  # a new process on the same database
        for event in events[cut:]:
            after.handle(sender, event)
        assert _snapshot(after, sender) == expected, f"differs when stopped after step {cut}"


def test_an_acknowledged_answer_survives_a_crash_before_the_next_event(migrated_database_url,
                                                                      tmp_path):
    database_url = migrated_database_url
    now = datetime(2026, 11, 22, 10, tzinfo=UTC)
    engine = _engine(database_url, tmp_path / "files", now, fresh=True)
    sender = Sender("terminal", "crash")
    privacy = engine.handle(sender, Inbound.start("vera-projectcoordinator"))[-1]
    engine.handle(sender, Inbound.press(privacy.choices[0].token))
    reply = engine.handle(sender, Inbound.say("Jonas De Smet"))[-1]
    assert reply.question_id == "candidate.email"  # acknowledged: the next question is asked
    engine.store._engine.dispose()
    fresh = _engine(database_url, tmp_path / "files", now)
    resumed = fresh.handle(sender, Inbound.start())
    assert resumed[-1].question_id == "candidate.email"
    assert _answers(fresh, sender)["candidate.name"] == "Jonas De Smet"


def _answers(engine: Engine, sender: Sender) -> dict[str, Any]:
    with engine.store.unit_of_work(sender.channel, sender.external_id) as uow:
        candidate = uow.candidate()
        assert candidate is not None and candidate.active_dossier_id is not None
        dossier = uow.dossier(candidate.active_dossier_id)
        assert dossier is not None
        return dossier.answers
