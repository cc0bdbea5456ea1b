"""The funnel at a glance: its figures from known applications, `/stats` through the real bot
(a PNG and two lines whose numbers are the database's), and `main.py stats` in the terminal."""

from __future__ import annotations

import base64
import os
import re
import struct
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bot import sample_files
from bot.stats_chart import funnel_photo
from flows.flow import Flow
from flows.funnel import funnel, summary_lines
from flows.ports import DossierRecord
from storage.dossier_repository import SqlDossierStore
from storage.funnel_queries import funnel_of
from tests.bot_harness import CANDIDATE, OTHER, RECRUITER, RECRUITER_CHAT, Clock, catalogue, running_bot

ROOT = Path(__file__).resolve().parents[1]
NIEUWPOORT = "nieuwpoort-systeembeheerder-ict"
VERA = "vera-projectcoordinator"
BRUSSELS = ZoneInfo("Europe/Brussels")
NIEUWPOORT_OPEN = datetime(2025, 7, 15, 10, 0, tzinfo=BRUSSELS)
STRANGER = 113


def record(n: int, status: str, state: str, verdict: dict | None = None) -> DossierRecord:
    at = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    return DossierRecord(id=n, candidate_id=n, vacancy_id=NIEUWPOORT, state=state, status=status,
                         answers={}, language="nl", consented_at=at, privacy_version="x",
                         created_at=at, updated_at=at, verdict=verdict)


def test_the_figures_from_known_applications():
    flow = Flow(catalogue()[NIEUWPOORT])
    dossiers = [
        record(1, "ineligible", "knocked_out", {"status": "not_eligible", "failed": ["diploma"],
                                                "knocked_by": "diploma.level"}),
        record(2, "ineligible", "knocked_out", {"status": "not_eligible", "failed": ["diploma"]}),
        record(3, "ineligible", "knocked_out", {"status": "not_eligible", "failed": [],
                                                "knocked_by": "civil_rights"}),
        record(4, "draft", "q:diploma.level"),
        record(5, "draft", "q:diploma.level"),
        record(6, "draft", "q:candidate.email"),
        record(7, "expired", "expired", {"status": "eligible"}),  # left while collecting
        record(8, "expired", "expired"),  # left at the e-mail question
        record(9, "withdrawn", "withdrawn"),  # withdrew halfway: stopped there too
        record(10, "collecting", "collecting", {"status": "conditional"}),
        record(11, "submitted", "submitted", {"status": "eligible"}),
        record(12, "submitted", "submitted", {"status": "uncertain"}),
        record(13, "submitted", "submitted", {"status": "review"}),
        # another vacancy's application is not counted
        DossierRecord(**{**record(14, "submitted", "submitted").__dict__, "vacancy_id": VERA}),
    ]
    left = {7: "collecting", 8: "q:candidate.email", 9: "q:candidate.email"}
    f = funnel(flow, dossiers, 20, left)
    assert (f.started, f.accepted, f.excluded, f.eligible, f.conditional, f.to_check,
            f.submitted, f.expired, f.withdrawn, f.in_progress) == (20, 13, 3, 2, 1, 2, 3, 2, 1, 3)
    assert f.excluded_by[0] == ("diploma", 2)
    assert f.stops == (("candidate.email", 3), ("diploma.level", 2))
    first, second = summary_lines(flow, f, "nl")
    assert first.startswith("📊 Systeembeheerder ICT: gestart 20 · privacy aanvaard 13 · "
                            "uitgesloten 3 (vraag 3 · Diploma: 2; ")
    assert second == ("in aanmerking 2 · onder voorwaarden 1 · na te vragen 2 · ingediend 3 · "
                      "verlopen 2 · ingetrokken 1 · nog bezig 3 · "
                      "de meesten stoppen bij vraag 2 · Over jou (3)")
    english = summary_lines(flow, f, "en")[1]
    assert english.endswith("most stop at question 2 · About you (3)")


def test_nobody_yet():
    flow = Flow(catalogue()[VERA])
    f = funnel(flow, [], 0, {})
    assert f.stop is None and f.accepted == 0
    assert summary_lines(flow, f, "nl")[1].endswith("niemand bleef bij een vraag staan")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def figures_in(caption: str) -> dict[str, int]:
    return {label: int(n) for label, n in re.findall(
        r"(gestart|privacy aanvaard|uitgesloten|in aanmerking|onder voorwaarden|na te vragen|"
        r"ingediend|verlopen|ingetrokken|nog bezig) (\d+)", caption)}


def database_figures(store, vacancy_id: str) -> dict[str, int]:
    """The same figures, counted straight from the tables."""
    with store.engine.connect() as connection:
        statuses = dict(connection.execute(text(
            "SELECT status, count(*) FROM dossier WHERE vacancy_id = :v GROUP BY status"),
            {"v": vacancy_id}).all())
        shown = connection.execute(text(
            "SELECT coalesce(sum(n), 0) FROM funnel_count WHERE vacancy_id = :v"),
            {"v": vacancy_id}).scalar_one()
    verdicts = [d.verdict["status"] for d in store.list_dossiers(vacancy_id, None)
                if d.status in ("collecting", "submitted") and d.verdict]
    return {"gestart": shown, "privacy aanvaard": sum(statuses.values()),
            "uitgesloten": statuses.get("ineligible", 0),
            "in aanmerking": verdicts.count("eligible"),
            "onder voorwaarden": verdicts.count("conditional"),
            "na te vragen": verdicts.count("uncertain") + verdicts.count("review"),
            "ingediend": statuses.get("submitted", 0), "verlopen": statuses.get("expired", 0),
            "ingetrokken": statuses.get("withdrawn", 0), "nog bezig": statuses.get("draft", 0)}


async def test_stats_answers_a_recruiter_with_a_png_and_the_database_figures(tmp_path):
    async with running_bot(tmp_path, Clock(NIEUWPOORT_OPEN)) as bot:
        bot.tg.add_user(STRANGER, "Stan", "nl")
        # Jan is excluded on the diploma, Els stops at the diploma question, Stan only looks.
        for user in (CANDIDATE, OTHER, STRANGER):
            await bot.send(user, f"/start {NIEUWPOORT}")
        for user, name in ((CANDIDATE, "Jan Peeters"), (OTHER, "Els Claes")):
            await bot.press(user, "Akkoord")
            await bot.send(user, name)
            await bot.send(user, f"{name.split()[0].lower()}@example.be")
        await bot.press(CANDIDATE, "Secundair onderwijs")
        assert "voldoe je helaas niet" in bot.last(CANDIDATE)

        sent = await bot.send(RECRUITER, f"/stats {NIEUWPOORT}")
        [photo] = [m for m in sent if m.chat_id == RECRUITER]
        assert photo.document is not None and photo.document["photo"] is True
        data = photo.document["data"]
        width, height = png_size(data)
        assert (width, height) == (800, 480) and len(data) > 5_000
        caption = photo.document["caption"]
        assert caption.startswith("📊 Systeembeheerder ICT: gestart 3 · privacy aanvaard 2 · "
                                  "uitgesloten 1 (vraag 3 · Diploma: 1)")
        assert caption.endswith("de meesten stoppen bij vraag 3 · Diploma (1)")
        assert figures_in(caption) == database_figures(bot.store, NIEUWPOORT)
        assert "Jan" not in caption and "Els" not in caption

        # Without a vacancy: one picture per vacancy someone opened (only Nieuwpoort here).
        sent = await bot.send(RECRUITER, "/stats")
        assert [m.document["file_name"] for m in sent if m.document] == [f"stats-{NIEUWPOORT}.png"]
        # In the recruiters' group too; a wrong argument gets the usage.
        sent = await bot.send_in_group(RECRUITER, RECRUITER_CHAT, f"/stats {NIEUWPOORT}")
        assert [m.chat_id for m in sent if m.document] == [RECRUITER_CHAT]
        [usage] = await bot.send(RECRUITER, "/stats nope")
        assert usage.text is not None and usage.text.startswith("Gebruik: /stats [vacature-id].")
        # A candidate learns nothing.
        [refused] = await bot.send(OTHER, f"/stats {NIEUWPOORT}")
        assert refused.document is None and "alleen voor recruiters" in (refused.text or "")


def test_no_picture_without_anyone_and_the_chart_in_english(engine):
    store = SqlDossierStore(engine)
    vera = catalogue()[VERA]
    assert funnel_photo(store, vera, "nl", skip_empty=True) is None
    part = funnel_photo(store, vera, "en")
    assert part is not None and part["caption"].startswith("📊 Project")
    assert png_size(base64.b64decode(part["photo_data"])) == (800, 480)


def _run(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "UPLOAD_DIR": str(tmp_path / "uploads"), "TELEGRAM_BOT_TOKEN": "",
           "RECRUITER_CHAT_ID": ""}
    return subprocess.run([sys.executable, "main.py", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=60)


def test_main_stats_prints_the_same_figures(tmp_path):
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(sample_files.pdf())
    lines = ["1", "Noor Claes", "noor@example.be", "ja", "02-11-2026", "nee", *[str(pdf)] * 3]
    chat = _run(tmp_path, "chat", "--user", "noor", "--vacancy", "school-ict-coordinator",
                stdin="\n".join(lines) + "\n")
    assert "is volledig en doorgestuurd" in chat.stdout, chat.stdout + chat.stderr
    chat = _run(tmp_path, "chat", "--user", "eva", "--vacancy", "school-ict-coordinator",
                stdin="1\nEva Vandamme\n")
    assert chat.returncode == 0, chat.stderr

    stats = _run(tmp_path, "stats", "school-ict-coordinator", "--png", str(tmp_path / "png"))
    assert stats.returncode == 0, stats.stderr
    out = stats.stdout.splitlines()
    assert out[0] == "ICT-coördinator (school-ict-coordinator)"
    table = {line[:38].strip(): int(line[38:]) for line in out[1:10]}
    assert table == {"Gestart (privacyverklaring getoond)": 2, "Privacyverklaring aanvaard": 2,
                     "Uitgesloten": 0, "In aanmerking": 1, "Onder voorwaarden": 0,
                     "Na te vragen": 0, "Ingediend": 1, "Verlopen": 0, "Ingetrokken": 0}
    assert out[10].startswith("  📊 ICT-coördinator: gestart 2 · privacy aanvaard 2 · uitgesloten 0")
    assert out[11].endswith("nog bezig 1 · de meesten stoppen bij vraag 2 · Over jou (1)")
    assert "Noor" not in stats.stdout and "Eva" not in stats.stdout
    png = (tmp_path / "png" / "stats-school-ict-coordinator.png").read_bytes()
    assert png_size(png) == (800, 480) and len(png) > 5_000

    unknown = _run(tmp_path, "stats", "nope")
    assert unknown.returncode == 2 and "unknown vacancy nope" in unknown.stderr


def test_the_counter_holds_no_one(engine):
    """The only trace of someone who has not accepted: a number per vacancy and day."""
    day = date(2025, 7, 15)
    store = SqlDossierStore(engine)
    for who in ("1", "2", "1"):
        with store.unit_of_work("telegram", who) as uow:
            uow.count_notice_shown(NIEUWPOORT, day)
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM funnel_count")).mappings().all()
    assert [{**r, "day": str(r["day"])} for r in rows] == [
        {"vacancy_id": NIEUWPOORT, "day": day.isoformat(), "event": "notice_shown", "n": 3}]
    assert funnel_of(store, Flow(catalogue()[NIEUWPOORT])).started == 3
