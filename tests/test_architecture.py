"""The shape of the code: dependencies point one way; every flow machine is sound."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from flows.flow import COLLECTING, KNOCKED_OUT, PRIVACY, Flow, q_state
from flows.messages import LANGUAGES, catalogue, placeholders
from tests.conversation import shipped_vacancies

ROOT = Path(__file__).resolve().parents[1]
VACANCIES = shipped_vacancies()


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_flows_knows_nothing_of_telegram_or_the_database():
    forbidden = {"telegram", "sqlmodel", "sqlalchemy", "alembic", "storage", "bot", "psycopg"}
    leaks = {f: sorted(n & forbidden) for f, n in _imports("flows").items() if n & forbidden}
    assert leaks == {}


def test_storage_does_not_import_the_telegram_adapter():
    leaks = {f: sorted(n & {"telegram", "bot"}) for f, n in _imports("storage").items()
             if n & {"telegram", "bot"}}
    assert leaks == {}


@pytest.mark.parametrize("vacancy_id", sorted(VACANCIES))
def test_every_state_of_every_flow_is_reachable(vacancy_id):
    flow = Flow(VACANCIES[vacancy_id])
    assert flow.unreachable_states() == []


@pytest.mark.parametrize("vacancy_id", sorted(VACANCIES))
def test_the_machine_allows_exactly_the_forward_moves_the_engine_computes(vacancy_id):
    flow = Flow(VACANCIES[vacancy_id])
    first = q_state(flow.questions[0])
    assert flow.fire("accept", PRIVACY, first) == first
    for i, q in enumerate(flow.questions):
        state = q_state(q)
        for later in flow.questions[i + 1:]:
            assert flow.fire("answer", state, q_state(later)) == q_state(later)
        assert flow.fire("answer", state, KNOCKED_OUT) == KNOCKED_OUT
        assert flow.fire("answer", state, COLLECTING) == COLLECTING
    # Backwards by 'answer' is illegal: the machine refuses, the engine must never ask it.
    with pytest.raises(Exception, match="cannot move"):
        flow.fire("answer", q_state(flow.questions[-1]), first)


def test_catalogues_have_the_same_keys_and_placeholders():
    nl, en = catalogue("nl"), catalogue("en")
    assert set(nl) == set(en)
    mismatched = {k for k in nl if placeholders(nl[k]) != placeholders(en[k])}
    assert mismatched == set()
    assert LANGUAGES == ("nl", "en")
