"""Regressions found in review: each test failed before its fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import sample_files
from flows.engine import Engine
from flows.events import Inbound, Sender, Upload
from flows.ports import DossierRecord
from flows.retention import keep_until
from tests.conversation import shipped_vacancies
from tests.memory_store import MemoryFileStore, MemoryStore

ROOT = Path(__file__).resolve().parents[1]
VACANCIES = shipped_vacancies()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now


def _engine(tmp_path: Path, clock: Clock) -> tuple[Engine, MemoryStore]:
    store = MemoryStore()
    return Engine(VACANCIES, store, MemoryFileStore(tmp_path / "f"), lambda: clock.now), store


def _to_documents(engine: Engine, me: Sender, vacancy: str = "vera-projectcoordinator") -> None:
    privacy = engine.handle(me, Inbound.start(vacancy))[-1]
    engine.handle(me, Inbound.press(privacy.choices[0].token))
    for text in ("Lena Peeters", "lena@example.be", "Master", "nee", "ja"):
        engine.handle(me, Inbound.say(text))


def test_a_refused_replacement_still_names_the_document_being_replaced(tmp_path):
    engine, store = _engine(tmp_path, Clock(datetime(2026, 11, 22, 10, tzinfo=UTC)))
    me = Sender("telegram", "1")
    _to_documents(engine, me)
    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(sample_files.pdf())
    reply = engine.handle(me, Inbound.send_file(Upload("cv.pdf", "application/pdf", 9, pdf)))[-1]
    replace_cv = next(c.token for c, label in zip(reply.choices, reply.labels(), strict=True)
                      if label == "Cv vervangen")
    engine.handle(me, Inbound.press(replace_cv))
    exe = tmp_path / "x.exe"
    exe.write_bytes(b"MZ")
    refused = engine.handle(me, Inbound.send_file(Upload("x.exe", None, 2, exe)))[-1].text()
    assert "kan ik niet aannemen als cv" in refused
    assert "Stuur nu je cv" in refused  # not "Stuur nu je motivatiebrief"
    engine.handle(me, Inbound.send_file(Upload("nieuw-cv.pdf", "application/pdf", 9, pdf)))
    kinds = sorted((d.kind, d.original_name) for d in store.data.documents.values())
    assert kinds == [("cv", "nieuw-cv.pdf")]


def test_an_old_confirmation_never_acts_on_a_re_application(tmp_path):
    engine, store = _engine(tmp_path, Clock(datetime(2026, 11, 22, 10, tzinfo=UTC)))
    me = Sender("telegram", "2")
    _to_documents(engine, me)
    first = engine.handle(me, Inbound.do("withdraw"))[-1].choices[0].token
    second = engine.handle(me, Inbound.do("withdraw"))[-1].choices[0].token
    engine.handle(me, Inbound.press(first))
    _to_documents(engine, me)  # applies again: the same dossier row
    reply = engine.handle(me, Inbound.press(second))
    assert "hoort bij een ander of ouder bericht" in reply[0].text()
    dossier = next(iter(store.data.dossiers.values()))
    assert dossier.status == "collecting" and dossier.answers


def test_back_after_the_matrix_shortcut_undoes_it_in_one_step(tmp_path):
    engine, store = _engine(tmp_path, Clock(datetime(2025, 7, 1, 10, tzinfo=UTC)))
    me = Sender("telegram", "3")
    privacy = engine.handle(me, Inbound.start("nieuwpoort-systeembeheerder-ict"))[-1]
    engine.handle(me, Inbound.press(privacy.choices[0].token))
    reply = None
    for text in ("Jan Peeters", "jan@example.be", "5", "nee", "ja", "ja", "ja", "01-06-2025",
                 "nee", "3", "5"):
        reply = engine.handle(me, Inbound.say(text))[-1]
    assert reply is not None and reply.question_id == "matrix.active_directory_dns_dhcp.level"
    rest = next(c.token for c, label in zip(reply.choices, reply.labels(), strict=True)
                if label.startswith("Rest van de lijst"))
    assert engine.handle(me, Inbound.press(rest))[-1].question_id == "matrix.extra"
    back = engine.handle(me, Inbound.do("back"))[-1]
    assert back.question_id == "matrix.active_directory_dns_dhcp.level"
    answers = next(iter(store.data.dossiers.values())).answers
    assert "matrix.sentinelone.level" not in answers  # the shortcut's answers are undone
    assert answers["matrix.windows_os_10_11_server_2022.level"] == "operational"  # not others


def test_a_file_sent_before_the_deadline_passes_the_check_before_download(tmp_path):
    clock = Clock(datetime(2026, 7, 1, 10, tzinfo=UTC))
    engine, _ = _engine(tmp_path, clock)
    me = Sender("telegram", "4")
    privacy = engine.handle(me, Inbound.start("hardenberg-medewerker-intern-service-punt"))[-1]
    engine.handle(me, Inbound.press(privacy.choices[0].token))
    for text in ("Daan Bakker", "daan@example.nl", "5", "nee", "6", "ja", "ja", "ja", "ja", "2",
                 "4"):
        engine.handle(me, Inbound.say(text))
    deadline = datetime(2026, 7, 14, 7, 0, tzinfo=UTC)  # 09:00 Amsterdam
    clock.now = deadline + timedelta(seconds=5)
    upload = Upload("cv.pdf", "application/pdf", 9)
    assert engine.check_upload(me, upload, sent_at=deadline - timedelta(seconds=10)) == []
    assert "afgesloten" in engine.check_upload(me, upload, sent_at=deadline)[0].text()


def _dossier(status: str, created: datetime, consented: datetime) -> DossierRecord:
    return DossierRecord(id=1, candidate_id=1, vacancy_id="x", state=status, status=status,
                         answers={}, language="nl", consented_at=consented,
                         privacy_version="x", created_at=created, updated_at=consented)


def test_retention_counts_from_the_latest_application():
    vera = VACANCIES["vera-projectcoordinator"]  # no reserve: one year
    dossier = _dossier("collecting", datetime(2026, 1, 10, tzinfo=UTC),
                       datetime(2027, 1, 5, tzinfo=UTC))
    assert keep_until(vera, dossier) == datetime(2028, 1, 5, tzinfo=UTC)


def test_only_submitted_dossiers_are_kept_for_the_reserve():
    nieuwpoort = VACANCIES["nieuwpoort-systeembeheerder-ict"]  # reserve two years
    moment = datetime(2025, 7, 1, tzinfo=UTC)
    submitted = keep_until(nieuwpoort, _dossier("submitted", moment, moment))
    ineligible = keep_until(nieuwpoort, _dossier("ineligible", moment, moment))
    assert (submitted.year, submitted.month, submitted.day) == (2027, 9, 16)
    assert (ineligible.year, ineligible.month, ineligible.day) == (2025, 9, 16)
