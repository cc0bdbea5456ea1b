"""The committed flow diagrams (docs/flows) are those of the vacancies as they are now."""

from __future__ import annotations

from pathlib import Path

import pytest

import main
from flows.diagram import document, mermaid
from flows.flow import Flow
from tests.conversation import shipped_vacancies

ROOT = Path(__file__).resolve().parents[1]
VACANCIES = shipped_vacancies()


@pytest.mark.parametrize("vacancy_id", sorted(VACANCIES))
def test_the_committed_diagram_is_current(vacancy_id):
    committed = ROOT / "docs" / "flows" / f"{vacancy_id}.md"
    assert committed.read_text(encoding="utf-8") == document(Flow(VACANCIES[vacancy_id])), (
        "stale: run `python main.py diagram` and commit docs/flows")


def test_the_diagram_shows_follow_ups_and_knock_outs():
    text = mermaid(Flow(VACANCIES["nieuwpoort-systeembeheerder-ict"]))
    assert '-.->|"language.dutch_education = nee"| q_language_certificate' in text
    assert "q_civil_rights -->|niet voldaan| knocked_out" in text
    assert "knowledge matrix: 19 × level, years when known" in text
    assert "collecting -->|deadline| expired" in text
    assert "expired" not in mermaid(Flow(VACANCIES["vera-projectcoordinator"]))  # no deadline


def test_diagram_check_fails_on_a_stale_folder(tmp_path, capsys):
    assert main.main(["diagram", "--out", str(tmp_path)]) == 0
    assert main.main(["diagram", "--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "vera-projectcoordinator.md").write_text("old", encoding="utf-8")
    assert main.main(["diagram", "--out", str(tmp_path), "--check"]) == 1
    assert "vera-projectcoordinator.md" in capsys.readouterr().err
