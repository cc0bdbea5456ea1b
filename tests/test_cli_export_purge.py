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
    assert [(r["Naam"], r["E-mailadres"], r["Status"], r["Ongunstige vermelding op het uittreksel"])
            for r in rows] == [("Noor Claes", "noor@example.be", "ingediend", "Nee")]
    assert "1 recruiter notifications not delivered to a chat" in export.stdout
    assert "Kandidaat: Noor Claes <noor@example.be>" in export.stdout
    # Stored sealed with Noor's key; the export holds readable copies, for the service only.
    assert not any(p.read_bytes().startswith(b"%PDF") for p in (tmp_path / "uploads").rglob("*.pdf"))
    copies = sorted((tmp_path / "out" / "files").iterdir())
    assert len(copies) == 3 and all(p.read_bytes() == pdf.read_bytes() for p in copies)
    assert {p.stat().st_mode & 0o777 for p in copies} == {0o600}
    assert all(f"file: {p}" in export.stdout for p in copies)

    purge = _run(tmp_path, "purge", "--candidate", "terminal:noor")
    assert purge.returncode == 0
    assert "1 dossiers, 3 files" in purge.stdout
    assert list((tmp_path / "uploads").rglob("*.pdf")) == []
    again = _run(tmp_path, "export", "school-ict-coordinator", "--out", str(tmp_path / "out"))
    assert "0 dossiers" in again.stdout
    assert "Noor" not in again.stdout
    assert _run(tmp_path, "purge", "--candidate", "terminal:noor").returncode == 1


def test_purge_dry_run_lists_what_would_go_and_why_and_deletes_nothing(tmp_path):
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(sample_files.pdf())
    # A complete application today (the school keeps it 12 months: our setting) ...
    lines = ["1", "Noor Claes", "noor@example.be", "ja", "02-11-2026", "nee", *[str(pdf)] * 3]
    chat = _run(tmp_path, "chat", "--user", "noor", "--vacancy", "school-ict-coordinator",
                stdin="\n".join(lines) + "\n")
    assert "is volledig en doorgestuurd" in chat.stdout, chat.stdout + chat.stderr
    # ... and a draft for Nieuwpoort in July 2025, never submitted: its procedure is over.
    chat = _run(tmp_path, "chat", "--user", "eva", "--vacancy", "nieuwpoort-systeembeheerder-ict",
                "--now", "2025-07-15T10:00+02:00", stdin="1\nEva Vandamme\n")
    assert "e-mailadres" in chat.stdout, chat.stdout + chat.stderr

    dry = _run(tmp_path, "purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0].startswith("would purge dossier 2 (candidate 2)  "
                               "nieuwpoort-systeembeheerder-ict  draft  kept until 2025-09-16  "
                               "0 files — draft, never submitted; the procedure ended 2025-09-16")
    assert lines[1:] == [
        "would remove candidate 2: no dossier left",
        "dry run: 1 dossiers (0 files) and 1 candidates would be purged; nothing was deleted"]
    assert _run(tmp_path, "purge", "--expired", "--dry-run").stdout == dry.stdout

    # Looking ahead: past the school's twelve months the complete application goes too.
    ahead = _run(tmp_path, "purge", "--dry-run", "--now", "2028-01-01T00:00+01:00").stdout
    [school] = [line for line in ahead.splitlines() if "school-ict-coordinator" in line]
    assert school.startswith("would purge dossier 1 (candidate 1)  school-ict-coordinator  "
                             "submitted  kept until 2027-")
    assert "3 files — submitted; the retention of 12 months after the application" in school
    assert "our setting, not in the vacancy text" in school
    assert ahead.splitlines()[-1] == ("dry run: 2 dossiers (3 files) and 2 candidates would be "
                                      "purged; nothing was deleted")
    for output in (dry.stdout, ahead):  # ids, vacancies, dates: nothing personal
        assert "Noor" not in output and "Eva" not in output and "@example" not in output
        assert "noor" not in output and "eva" not in output and "doc.pdf" not in output
    assert len(list((tmp_path / "uploads").rglob("*.pdf"))) == 3  # nothing was deleted
    export = _run(tmp_path, "export", "--out", str(tmp_path / "out")).stdout
    assert "nieuwpoort-systeembeheerder-ict.csv: 1 dossiers" in export

    refused = _run(tmp_path, "purge", "--expired", "--now", "2028-01-01T00:00+01:00")
    assert refused.returncode == 2 and "--now only with --dry-run" in refused.stderr
    both = _run(tmp_path, "purge", "--candidate", "terminal:noor", "--dry-run")
    assert both.returncode == 2 and "give one or the other" in both.stderr

    purge = _run(tmp_path, "purge", "--expired")
    assert purge.stdout.strip() == ("purged 1 dossiers past their retention, 0 files, "
                                    "1 candidates with no dossier left")
    assert _run(tmp_path, "purge", "--dry-run").stdout.splitlines() == [
        "dry run: 0 dossiers (0 files) and 0 candidates would be purged; nothing was deleted"]
    assert len(list((tmp_path / "uploads").rglob("*.pdf"))) == 3


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
