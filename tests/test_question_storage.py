"""storage/: candidates' questions to the recruiters and the answers, on SQLite and PostgreSQL.

Questions are personal data: they belong to one dossier, only their candidate's unit of work
sees them, and they go when the dossier goes (a purge, the retention) or when the candidate
withdraws (`erase_questions`), their answers with them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from flows.ports import AnswerRecord, CandidateRecord, DossierRecord, QuestionRecord
from storage.dossier_repository import QuestionRef, SqlDossierStore, SqlUnitOfWork
from storage.tables import answer_table, question_table

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(engine: Engine) -> SqlDossierStore:
    return SqlDossierStore(engine, clock=lambda: T0)


def _start(uow: SqlUnitOfWork, vacancy_id: str = "vacancy-a") -> DossierRecord:
    candidate = uow.candidate() or uow.add_candidate(CandidateRecord(
        id=None, channel="telegram", external_id=uow._external_id, chat_id=uow._external_id,
        language="nl", created_at=T0))
    assert candidate.id is not None
    return uow.dossier_for(vacancy_id) or uow.add_dossier(DossierRecord(
        id=None, candidate_id=candidate.id, vacancy_id=vacancy_id, state="q:candidate.name",
        status="draft", answers={}, language="nl", consented_at=T0, privacy_version="1",
        created_at=T0, updated_at=T0))


def _question(dossier_id: int, text: str = "Wat is het loon?", status: str = "draft") -> QuestionRecord:
    return QuestionRecord(id=None, dossier_id=dossier_id, status=status, text=text,
                          step="q:candidate.name", created_at=T0)


def _count(engine: Engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_question_is_drafted_asked_mapped_to_its_message_and_answered(store: SqlDossierStore):
    with store.unit_of_work("telegram", "42") as uow:
        dossier = _start(uow)
        assert dossier.id is not None
        draft = uow.add_question(_question(dossier.id, "Wat is het loon eigenlijk?"))
        assert draft.id is not None
        assert uow.draft_question(dossier.id) == draft
    with store.unit_of_work("telegram", "42") as uow:
        loaded = uow.question(draft.id)
        assert loaded == draft and loaded is not None
        loaded.status, loaded.include_answers = "asked", True
        loaded.asked_at = T0 + timedelta(minutes=1)
        uow.save_question(loaded)
        assert uow.draft_question(dossier.id) is None  # asked: no longer a draft

    # The sender records where the recruiters' copy landed; a reply there finds its candidate.
    assert store.question_for_message(-100, 5555) is None
    store.record_question_message(draft.id, -100, 5555)
    assert store.question_for_message(-100, 5555) == QuestionRef(draft.id, dossier.id,
                                                                 "telegram", "42")
    assert store.question_for_message(-101, 5555) is None  # another chat, the same id
    found = store.question_with_dossier(draft.id)
    assert found is not None
    question, its_dossier = found
    assert (question.status, question.include_answers, question.recruiter_message_id) == (
        "asked", True, 5555)
    assert question.asked_at == T0 + timedelta(minutes=1) and question.asked_at.tzinfo is UTC
    assert its_dossier.id == dossier.id

    with store.unit_of_work("telegram", "42") as uow:
        first = uow.add_answer(AnswerRecord(None, draft.id, "Schaal 9.", T0, answered_by="999"))
        second = uow.add_answer(AnswerRecord(None, draft.id, "En het uurtarief bepaal je zelf.",
                                             T0 + timedelta(minutes=2), answered_by="998"))
    [(stored, answers)] = store.questions(dossier.id)
    assert stored.text == "Wat is het loon eigenlijk?"
    assert answers == [first, second]
    assert answers[0].answered_at.tzinfo is UTC


def test_only_the_candidates_own_unit_of_work_sees_their_questions(store: SqlDossierStore):
    with store.unit_of_work("telegram", "1") as uow:
        mine = _start(uow)
        assert mine.id is not None
        question = uow.add_question(_question(mine.id))
        assert question.id is not None
    with store.unit_of_work("telegram", "2") as uow:
        _start(uow)
        assert uow.question(question.id) is None
        assert uow.draft_question(mine.id) is None
        with pytest.raises(ValueError, match="not this candidate"):
            uow.add_question(_question(mine.id))
        with pytest.raises(ValueError, match="not this candidate"):
            uow.save_question(replace(question, text="overwritten"))
        with pytest.raises(ValueError, match="not this candidate"):
            uow.add_answer(AnswerRecord(None, question.id, "leak", T0))
        uow.delete_question(question.id)  # not theirs: nothing happens
        assert uow.erase_questions(mine.id) == 0
    [(kept, answers)] = store.questions(mine.id)
    assert kept.text == "Wat is het loon?" and answers == []


def test_withdrawal_erases_questions_and_answers_and_counts_the_asked_ones(
        store: SqlDossierStore, engine: Engine):
    with store.unit_of_work("telegram", "42") as uow:
        dossier = _start(uow)
        other = _start(uow, "vacancy-b")
        assert dossier.id is not None and other.id is not None
        asked = uow.add_question(_question(dossier.id, status="asked"))
        uow.add_question(_question(dossier.id, "Nog een?"))  # a draft
        kept = uow.add_question(_question(other.id, status="asked"))
        assert asked.id is not None and kept.id is not None
        uow.add_answer(AnswerRecord(None, asked.id, "Ja.", T0))
        uow.add_answer(AnswerRecord(None, kept.id, "Nee.", T0))
    with store.unit_of_work("telegram", "42") as uow:
        assert uow.erase_questions(dossier.id) == 1
        assert uow.erase_questions(dossier.id) == 0
    assert store.questions(dossier.id) == []
    assert [q.id for q, _ in store.questions(other.id)] == [kept.id]
    assert _count(engine, question_table) == 1
    assert _count(engine, answer_table) == 1


@pytest.mark.parametrize("how", ["dossier", "candidate"])
def test_deleting_the_dossier_or_candidate_deletes_questions_and_answers(
        store: SqlDossierStore, engine: Engine, how: str):
    with store.unit_of_work("telegram", "42") as uow:
        dossier = _start(uow)
        assert dossier.id is not None
        question = uow.add_question(_question(dossier.id, status="asked"))
        assert question.id is not None
        uow.add_answer(AnswerRecord(None, question.id, "Ja.", T0))
    store.record_question_message(question.id, -100, 77)
    with store.unit_of_work("telegram", "42") as uow:
        if how == "dossier":
            uow.delete_dossier(dossier.id)
        else:
            uow.delete_candidate(dossier.candidate_id)
    assert _count(engine, question_table) == 0
    assert _count(engine, answer_table) == 0
    assert store.question_for_message(-100, 77) is None
    assert store.question_with_dossier(question.id) is None


def test_awaiting_question_is_kept_on_the_dossier(store: SqlDossierStore):
    with store.unit_of_work("telegram", "42") as uow:
        dossier = _start(uow)
        assert dossier.awaiting_question is False
        dossier.awaiting_question = True
        uow.save_dossier(dossier)
    with store.unit_of_work("telegram", "42") as uow:
        loaded = uow.dossier(dossier.id)  # type: ignore[arg-type]
        assert loaded is not None and loaded.awaiting_question is True
