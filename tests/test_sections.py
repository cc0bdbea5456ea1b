"""The progress line: a total fixed at the start, follow-ups inside their question's number."""

from __future__ import annotations

from itertools import pairwise

import pytest

from flows.flow import Flow
from flows.messages import LANGUAGES, render
from flows.questions import next_question
from flows.replies import progress
from tests.conversation import shipped_vacancies

VACANCIES = shipped_vacancies()


def _paths(flow: Flow, limit: int = 400) -> list[list[str]]:
    """Question sequences through the flow for a spread of answers (each option once)."""
    paths: list[list[str]] = []
    todo: list[dict] = [{}]
    while todo and len(paths) < limit:
        answers = todo.pop()
        q = next_question(flow.questions, answers)
        if q is None:
            paths.append(list(answers))
            continue
        values = q.option_values() or ({"number": 3, "date": "2026-01-01"}.get(q.kind, "x"),)
        values = tuple(values)
        # Branch only on questions that have follow-ups; otherwise take the first value.
        branching = any(f.ask_if is not None and f.ask_if.question == q.id for f in flow.questions)
        for value in (values if branching else values[:1]):
            todo.append({**answers, q.id: value})
    return paths


@pytest.mark.parametrize("vacancy_id", sorted(VACANCIES))
def test_the_total_never_changes_and_numbers_never_skip(vacancy_id):
    flow = Flow(VACANCIES[vacancy_id])
    totals = {place.total for place in flow.places.values()}
    assert len(totals) == 1  # fixed before the first answer, whatever is answered
    (total,) = totals
    paths = _paths(flow)
    assert len(paths) > 1
    for path in paths:
        numbers = [flow.places[qid].n for qid in path]
        assert numbers[0] == 1 and numbers[-1] == total
        assert all(b - a in (0, 1) for a, b in pairwise(numbers)), (path, numbers)


def test_a_follow_up_shares_its_questions_number_and_says_its_section():
    flow = Flow(VACANCIES["nieuwpoort-systeembeheerder-ict"])
    level, foreign = flow.places["diploma.level"], flow.places["diploma.foreign"]
    assert (foreign.n, foreign.total) == (level.n, level.total)
    texts = {lang: render(progress(foreign), lang) for lang in LANGUAGES}
    assert texts == {"nl": f"Vraag {level.n} van {level.total} · Diploma",
                     "en": f"Question {level.n} of {level.total} · Diploma"}
    assert flow.places["record.issued_on"].section == "record"
    assert flow.places["candidate.email"].section == "you"
