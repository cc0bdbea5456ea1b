"""The terminal chat: a whole application by piped input, quitting and resuming, closed vacancies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import sample_files

ROOT = Path(__file__).resolve().parents[1]


def _chat(tmp_path: Path, lines: list[str], *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.sqlite3'}",
           "UPLOAD_DIR": str(tmp_path / "uploads"), "TELEGRAM_BOT_TOKEN": "",
           "VACANCIES_DIR": str(ROOT / "vacancies")}
    proc = subprocess.run([sys.executable, "main.py", "chat", "--user", "tester", *args],
                          input="\n".join(lines) + "\n", capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout


@pytest.fixture
def pdf(tmp_path: Path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(sample_files.pdf())
    return str(path)


SCRIPTS = {
    # accept privacy, name, e-mail, then the vacancy's questions; documents as file paths
    "sint-pieters-leeuw-projectmedewerker-samenleven": ["1", "Lena Peeters", "lena@example.be",
                                                        "5", "2", "1"],
    "vera-projectcoordinator": ["1", "Lena Peeters", "lena@example.be", "Master", "nee", "ja"],
    "school-ict-coordinator": ["1", "Lena Peeters", "lena@example.be", "ja", "03-11-2026", "nee"],
}


@pytest.mark.parametrize("vacancy_id", sorted(SCRIPTS))
def test_complete_application_by_piped_input(tmp_path, pdf, vacancy_id):
    out = _chat(tmp_path, [*SCRIPTS[vacancy_id], pdf, pdf, pdf], "--vacancy", vacancy_id)
    assert "Privacy" in out
    assert "✅ Volgens je antwoorden voldoe je aan" in out
    assert "📄 Documenten voor een volledige kandidatuur" in out
    assert "is volledig en doorgestuurd" in out
    stored = list((tmp_path / "uploads").rglob("*.pdf"))
    assert len(stored) == 3
    assert all(p.name != "document.pdf" for p in stored)  # generated names, not the sender's


def test_quit_and_pick_up_where_you_were(tmp_path, pdf):
    vacancy = "vera-projectcoordinator"
    first = _chat(tmp_path, ["1", "Lena Peeters", "lena@example.be", "/quit"], "--vacancy", vacancy)
    assert "Tot later" in first
    second = _chat(tmp_path, ["/status"])
    assert "Welkom terug" in second
    assert "Wat is je hoogste behaalde diploma?" in second.split("Welkom terug", 1)[1]
    third = _chat(tmp_path, ["Master", "nee", "ja", pdf, pdf, pdf])
    assert "is volledig en doorgestuurd" in third


def test_closed_vacancy_says_since_when(tmp_path):
    out = _chat(tmp_path, [], "--vacancy", "hardenberg-medewerker-intern-service-punt")
    assert "is afgesloten" in out
    assert "dinsdag 14 juli 2026, 09:00 (Nederlandse tijd)" in out
    assert "Privacy" not in out


def test_closed_vacancy_can_be_tried_as_it_was_while_open(tmp_path):
    out = _chat(tmp_path, ["1", "Piet de Vries", "piet@example.nl", "mbo niveau 3"],
                "--vacancy", "hardenberg-medewerker-intern-service-punt",
                "--now", "2026-07-01T10:00+02:00")
    assert "Volgens je antwoorden voldoe je helaas niet aan" in out
    assert "minimaal mbo-4 niveau" in out  # the seed quote behind the rule


def test_english(tmp_path):
    out = _chat(tmp_path, ["1", "Lena Peeters"], "--vacancy", "vera-projectcoordinator",
                "--lang", "en")
    assert "We store nothing until you agree below." in out
    assert "Which e-mail address can we reach you at?" in out


def test_run_without_token_starts_the_terminal_chat_via_make_target_command(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
           "UPLOAD_DIR": str(tmp_path / "u"), "TELEGRAM_BOT_TOKEN": ""}
    proc = subprocess.run([sys.executable, "main.py"], input="", capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)
    assert proc.returncode == 0
    assert "terminal chat" in proc.stderr
    assert "Welkom" in proc.stdout


def test_a_question_to_the_recruiters_from_the_terminal(tmp_path):
    out = _chat(tmp_path, ["1", "/vraag Is er een proefperiode?", "1", "Lena Peeters"],
                "--vacancy", "vera-projectcoordinator")
    assert "❓ Dit stuur ik naar de recruiters:\n“Is er een proefperiode?”" in out
    assert "✅ Je vraag is doorgegeven aan de recruiters." in out
    assert "Vraag 2 van" in out  # the name was taken after it, not the command
