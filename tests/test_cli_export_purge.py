"""`main.py export` writes the CSVs and shows undelivered notifications; `purge` erases all."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from bot import sample_files

ROOT = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "UPLOAD_DIR": str(tmp_path / "uploads"), "TELEGRAM_BOT_TOKEN": "",
           "RECRUITER_CHAT_ID": ""}
    return subprocess.run([sys.executable, "main.py", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=60)


def test_export_then_purge(tmp_path):
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(sample_files.pdf())
    lines = ["1", "Noor Claes", "noor@example.be", "ja", "02-11-2026", "nee", *[str(pdf)] * 3]
    chat = _run(tmp_path, "chat", "--user", "noor", "--vacancy", "school-ict-coordinator",
                stdin="\n".join(lines) + "\n")
    assert "is volledig en doorgestuurd" in chat.stdout, chat.stdout + chat.stderr
    assert len(list((tmp_path / "uploads").rglob("*.pdf"))) == 3

    export = _run(tmp_path, "export", "school-ict-coordinator", "--out", str(tmp_path / "out"))
    assert export.returncode == 0, export.stderr
    rows = list(csv.DictReader(io.StringIO(
        (tmp_path / "out" / "school-ict-coordinator.csv").read_text(encoding="utf-8-sig")),
        delimiter=";"))
    assert [(r["name"], r["email"], r["status"], r["record.mention"]) for r in rows] == [
        ("Noor Claes", "noor@example.be", "submitted", "nee")]
    assert "1 recruiter notifications not delivered to a chat" in export.stdout
    assert "Kandidaat: Noor Claes <noor@example.be>" in export.stdout

    purge = _run(tmp_path, "purge", "--candidate", "terminal:noor")
    assert purge.returncode == 0
    assert "1 dossiers, 3 files" in purge.stdout
    assert list((tmp_path / "uploads").rglob("*.pdf")) == []
    again = _run(tmp_path, "export", "school-ict-coordinator", "--out", str(tmp_path / "out"))
    assert "0 dossiers" in again.stdout
    assert "Noor" not in again.stdout
    assert _run(tmp_path, "purge", "--candidate", "terminal:noor").returncode == 1


def test_an_undelivered_question_is_exported_as_asked_and_purged_with_the_candidate(tmp_path):
    lines = ["1", "/vraag Mag ik deeltijds werken?", "1", "Noor Claes"]
    chat = _run(tmp_path, "chat", "--user", "noor", "--vacancy", "school-ict-coordinator",
                stdin="\n".join(lines) + "\n")
    assert "Je vraag is doorgegeven" in chat.stdout, chat.stdout + chat.stderr

    export = _run(tmp_path, "export", "--out", str(tmp_path / "out"))
    assert "1 recruiter notifications not delivered to a chat" in export.stdout
    assert "❓ Vraag van kandidaat #1 — ICT-coördinator" in export.stdout
    assert "“Mag ik deeltijds werken?”" in export.stdout
    assert "Noor" not in export.stdout.split("not delivered to a chat")[1]  # not ticked

    assert _run(tmp_path, "purge", "--candidate", "terminal:noor").returncode == 0
    again = _run(tmp_path, "export", "--out", str(tmp_path / "out"))
    assert "deeltijds" not in again.stdout


def test_export_unknown_vacancy_is_refused(tmp_path):
    proc = _run(tmp_path, "export", "nope")
    assert proc.returncode == 2
    assert "unknown vacancy nope" in proc.stderr


def test_escape_sequences_typed_in_the_terminal_never_reach_storage_or_the_export(tmp_path):
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(sample_files.pdf())
    hostile = "Noor\x1b[2J\x1b]0;pwned\x07 Cl\u202eaes\u200b"
    lines = ["1", hostile, "noor@example.be", "ja", "02-11-2026", "nee", *[str(pdf)] * 3]
    chat = _run(tmp_path, "chat", "--user", "noor", "--vacancy", "school-ict-coordinator",
                stdin="\n".join(lines) + "\n")
    assert "is volledig en doorgestuurd" in chat.stdout, chat.stdout + chat.stderr
    export = _run(tmp_path, "export", "school-ict-coordinator", "--out", str(tmp_path / "out"))
    assert export.returncode == 0, export.stderr
    assert "Kandidaat: Noor Claes <noor@example.be>" in export.stdout
    csv_text = (tmp_path / "out" / "school-ict-coordinator.csv").read_text(encoding="utf-8-sig")
    for output in (export.stdout, csv_text):
        assert "\x1b" not in output and "\u202e" not in output and "\x07" not in output
        assert "pwned" not in output


def test_inbox_reports_quarantined_updates_without_their_content(tmp_path):
    from storage.database import make_engine, migrate
    from storage.inbox import Received, SqlInbox

    db = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate(db)
    inbox = SqlInbox(db)
    secret = {"update_id": 77, "message": {"from": {"id": 5, "first_name": "Lena Peeters"},
                                           "chat": "not an object", "text": "lena@example.be"}}
    inbox.receive([Received(77, "u:5", secret), Received(78, "u:6", {"update_id": 78})])
    [first, _] = inbox.claim("test", timedelta(seconds=30))
    inbox.quarantine(first.id, "ValidationError")
    db.dispose()

    report = _run(tmp_path, "inbox")
    assert report.returncode == 0, report.stderr
    assert "1 pending, 1 quarantined" in report.stdout
    assert "update 77" in report.stdout and "ValidationError" in report.stdout
    assert "Lena" not in report.stdout and "lena@example.be" not in report.stdout
