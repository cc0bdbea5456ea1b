"""Short on a phone: compact replies after uploads, one tap for the rest of the matrix, dates as
people write them — and the engine never reads the system clock."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot import sample_files
from flows.answers import parse_text
from flows.engine import Engine
from flows.events import Inbound, Sender, Upload
from flows.questions import compile_questions
from tests.conversation import shipped_vacancies
from tests.memory_store import MemoryFileStore, MemoryStore

ROOT = Path(__file__).resolve().parents[1]
VACANCIES = shipped_vacancies()


def _engine(tmp_path: Path, now: datetime) -> tuple[Engine, MemoryStore]:
    store = MemoryStore()
    return Engine(VACANCIES, store, MemoryFileStore(tmp_path / "f"), lambda: now), store


def test_after_an_upload_only_what_is_left_and_what_to_send(tmp_path):
    engine, _ = _engine(tmp_path, datetime(2026, 11, 22, 10, tzinfo=UTC))
    me = Sender("telegram", "1")
    privacy = engine.handle(me, Inbound.start("vera-projectcoordinator"))[-1]
    engine.handle(me, Inbound.press(privacy.choices[0].token))
    replies = []
    for text in ("Lena Peeters", "lena@example.be", "Master", "nee", "ja"):
        replies = engine.handle(me, Inbound.say(text))
    assert "📄 Documenten voor een volledige kandidatuur" in replies[-1].text()  # once, in full
    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(sample_files.pdf())
    [reply] = engine.handle(me, Inbound.send_file(Upload("cv.pdf", "application/pdf", 9, pdf)))
    text = reply.text()
    assert "📄 Documenten voor een volledige kandidatuur" not in text
    assert "Ontvangen: cv (cv.pdf)." in text
    assert "Nog 2 documenten te gaan: motivatiebrief, kopie van je diploma." in text
    assert "Stuur nu je motivatiebrief als bestand" in text
    # Buttons in sentence case, though they start with a document label ("cv", "kopie ...").
    assert reply.labels() == ["Cv vervangen", "Kopie van je diploma opladen"]
    assert len(text) < 400


def test_one_tap_answers_the_rest_of_the_knowledge_matrix(tmp_path):
    engine, store = _engine(tmp_path, datetime(2025, 7, 1, 10, tzinfo=UTC))
    me = Sender("telegram", "2")
    privacy = engine.handle(me, Inbound.start("nieuwpoort-systeembeheerder-ict"))[-1]
    engine.handle(me, Inbound.press(privacy.choices[0].token))
    reply = None
    for text in ("Jan Peeters", "jan@example.be", "5", "nee", "ja", "ja", "ja", "01-06-2025",
                 "nee", "3", "5"):  # ... then Windows: operational, 5 years
        reply = engine.handle(me, Inbound.say(text))[-1]
    assert reply is not None and "Active Directory" in reply.text()
    rest = next(c for c, label in zip(reply.choices, reply.labels(), strict=True)
                if label == "Rest van de lijst: Geen kennis")
    after = engine.handle(me, Inbound.press(rest.token))[-1]
    assert after.question_id == "matrix.extra"  # all 18 other technologies answered at once
    answers = next(iter(store.data.dossiers.values())).answers
    levels = {k: v for k, v in answers.items() if k.startswith("matrix.") and k.endswith(".level")}
    assert len(levels) == 19
    assert levels["matrix.windows_os_10_11_server_2022.level"] == "operational"
    assert answers["matrix.windows_os_10_11_server_2022.years"] == 5
    assert sum(v == "none" for v in levels.values()) == 18
    assert not any(k.endswith(".years") and k != "matrix.windows_os_10_11_server_2022.years"
                   for k in answers)


DATE_QUESTION = next(q for q in compile_questions(VACANCIES["school-ict-coordinator"])
                     if q.id == "record.issued_on")


@pytest.mark.parametrize(("typed", "expected"), [
    ("2 november 2026", "2026-11-02"), ("15 mrt. 2025", "2025-03-15"),
    ("3 May 2026", "2026-05-03"), ("1 okt 2026", "2026-10-01"), ("02-11-2026", "2026-11-02"),
])
def test_dates_as_people_write_them(typed, expected):
    parsed = parse_text(DATE_QUESTION, typed, date(2026, 11, 22))
    assert (parsed.ok, parsed.value) == (True, expected)


@pytest.mark.parametrize("typed", ["31 februari 2026", "2 novembre 2026", "november 2026", "2026"])
def test_impossible_or_unknown_dates_are_re_asked(typed):
    parsed = parse_text(DATE_QUESTION, typed, date(2026, 11, 22))
    assert not parsed.ok and parsed.problem is not None


def test_the_engine_never_reads_the_system_clock():
    reads = re.compile(r"datetime\.now\(|datetime\.utcnow\(|date\.today\(|time\.time\(")
    offenders = [f"{p.name}:{n}" for p in (ROOT / "flows").glob("*.py")
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if reads.search(line)]
    assert offenders == []


def test_what_the_vacancy_file_says_reaches_the_candidate(tmp_path):
    engine, _ = _engine(tmp_path, datetime(2025, 7, 1, 10, tzinfo=UTC))
    me = Sender("telegram", "3")
    privacy = engine.handle(me, Inbound.start("nieuwpoort-systeembeheerder-ict"))[-1]
    engine.handle(me, Inbound.press(privacy.choices[0].token))
    for text in ("Jan Peeters", "jan@example.be"):
        engine.handle(me, Inbound.say(text))
    knocked = engine.handle(me, Inbound.say("Secundair onderwijs"))[-1].text()
    # The accepted equivalent, in the vacancy's own words, with the way to use it.
    assert "Ook aanvaard: diploma van het hoger onderwijs van één cyclus" in knocked
    engine.handle(me, Inbound.do("back"))
    replies = []
    for text in ("5", "nee", "ja", "ja", "ja", "01-06-2025", "nee"):
        replies = engine.handle(me, Inbound.say(text))
    rest = next(c.token for c, label in zip(replies[-1].choices, replies[-1].labels(),
                                            strict=True) if label.startswith("Rest van de lijst"))
    replies = engine.handle(me, Inbound.press(rest))
    replies = engine.handle(me, Inbound.say("Overslaan"))
    about = next(c.token for c, label in zip(replies[0].choices, replies[0].labels(), strict=True)
                 if label == "Over de vacature")
    info = "\n\n".join(r.text() for r in engine.handle(me, Inbound.press(about)))
    assert "• Contract: Contract van onbepaalde duur" in info
    assert "• Loon: B1-B3" in info
    assert "• Vragen: personeelsdienst@nieuwpoort.be" in info
    pdf = tmp_path / "d.pdf"
    pdf.write_bytes(sample_files.pdf())
    for _ in range(4):
        replies = engine.handle(me, Inbound.send_file(Upload("d.pdf", "application/pdf", 9, pdf)))
    done = replies[-1].text()
    # The official application runs via the city's website: never "ingediend" here.
    assert "is volledig en doorgestuurd naar de recruiters die deze bot beheren" in done
    assert "nog geen officiële kandidatuur" in done and "www.nieuwpoort.be/jobs" in done
    assert "ingediend" not in done
    assert "geslaagd met: 50% van het totaal" in done  # the pass marks of the selection steps


@pytest.mark.parametrize(("typed", "value"), [
    ("ja", True), ("Ja!", True), ("ok", True), ("Akkoord", True), ("yes", True), ("oké", True),
    ("nee", False), ("No", False), ("niet akkoord", False), ("misschien", None)])
def test_yes_and_no_as_people_type_them(typed, value):
    from flows.answers import yes_or_no
    assert yes_or_no(typed) is value


def test_a_choice_re_ask_names_what_works_and_no_number_the_buttons_do_not_show(tmp_path):
    engine, _store = _engine(tmp_path, datetime(2025, 7, 1, 10, tzinfo=UTC))
    me = Sender("telegram", "3")
    privacy = engine.handle(me, Inbound.start("nieuwpoort-systeembeheerder-ict"))[-1]
    engine.handle(me, Inbound.press(privacy.choices[0].token))
    for text in ("Jan Peeters", "jan@example.be"):
        engine.handle(me, Inbound.say(text))
    reask = engine.handle(me, Inbound.say("doctoraat"))[-1].text()
    assert "typ je antwoord of het begin ervan (bijvoorbeeld “Master”)" in reask
    assert "nummer" not in reask
    # The start of a label works like its button.
    assert "buitenland" in engine.handle(me, Inbound.say("mast"))[-1].text()


def test_typed_consent_says_how_to_agree_and_stores_nothing(tmp_path):
    engine, store = _engine(tmp_path, datetime(2025, 7, 1, 10, tzinfo=UTC))
    me = Sender("telegram", "4")
    engine.handle(me, Inbound.start("nieuwpoort-systeembeheerder-ict"))
    replies = engine.handle(me, Inbound.say("Akkoord"))
    assert ("Tik op ‘Akkoord, verder’ onder de privacyverklaring, of antwoord op dat bericht"
            in replies[0].text())
    assert "Kies de vacature opnieuw" in replies[1].text()
    assert store.data.candidates == {} and store.data.dossiers == {}


@pytest.mark.parametrize(("typed", "value"), [
    ("ja hoor", True), ("jazeker", True), ("nee hoor", False), ("zeker niet", False)])
def test_yes_and_no_the_way_people_say_them_in_flanders_and_the_netherlands(typed, value):
    from flows.answers import yes_or_no
    assert yes_or_no(typed) is value


@pytest.mark.parametrize(("text", "question"), [
    ("weet ik niet", False), ("heb ik niet", False), ("kan ik niet zeggen", False),
    ("kan ik deeltijds werken", True), ("Wat is het loon eigenlijk", True)])
def test_a_negated_statement_is_an_answer_not_a_question_for_the_recruiters(text, question):
    from flows.question_detection import looks_like_question
    assert looks_like_question(text) is question
