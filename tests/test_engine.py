"""The conversation engine, driven like a chat: every shipped vacancy, start to submission.

Each test is a short script (tests/conversation.py): start with the deep link, press buttons,
type answers, upload files, and check what the bot says and what it stored. The clock is frozen
and moved by hand; Nieuwpoort (deadline 1 Aug 2025) and Hardenberg (14 Jul 2026 09:00) are
closed on the real today (22 Nov 2026), so their conversations run while they were open.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from pydantic import BaseModel

from flows import replies as R
from flows.eligibility import Outcome, Status, Verdict, evaluate
from flows.engine import reminder_at
from flows.events import COMMANDS, UNUSABLE, Inbound, Upload
from flows.flow import Flow, status_of
from flows.messages import LANGUAGES, Msg, catalogue, forms, placeholders, render
from flows.questions import compile_questions, slug
from flows.vacancy import Assumption, DiplomaRule, KnowledgeMatrixRule, Provenance, Text, Vacancy
from tests.conversation import (
    AMSTERDAM,
    BRUSSELS,
    PDF,
    TODAY,
    Chat,
    Clock,
    make_engine,
)
from tests.conversation import shipped_vacancies as vacancies
from tests.test_catalogue_variants import dutch_in

HARDENBERG = "hardenberg-medewerker-intern-service-punt"
NIEUWPOORT = "nieuwpoort-systeembeheerder-ict"
SPL = "sint-pieters-leeuw-projectmedewerker-samenleven"
VERA = "vera-projectcoordinator"
SCHOOL = "school-ict-coordinator"

IDENTITY = {"candidate.name": "Alice Peeters", "candidate.email": "alice@example.org"}
MB = 1024 * 1024


def nieuwpoort_matrix(known: str = "Windows OS (10/11, Server 2022)") -> dict[str, str]:
    """'Geen kennis' for every technology but one, which gets a level and years."""
    script: dict[str, str] = {}
    rule = next(r for r in vacancies()[NIEUWPOORT].requirements if r.id == "matrix")
    for group in rule.groups:
        for item in group.items:
            base = f"matrix.{slug(item)}"
            script[f"{base}.level"] = "Operationele kennis" if item == known else "Geen kennis"
            script[f"{base}.years"] = "4"
    script["matrix.extra"] = "Ansible en Proxmox"
    return script


NO_STEPS = "De vacaturetekst noemt geen selectiestappen."


def application(vacancy_id: str) -> str:
    """The candidate's application as people call it where the vacancy is (flows.messages)."""
    return "sollicitatie" if vacancies()[vacancy_id].country == "NL" else "kandidatuur"


@dataclass(frozen=True)
class Spec:
    id: str
    title: str
    open_at: datetime  # an instant at which the vacancy takes applications
    script: dict[str, str]  # question id -> button label, or text to type
    verdict: str
    deadline: str  # as the checklist shows it
    documents: tuple[str, ...]  # required on the happy path
    steps: tuple[str, ...]  # what the confirmation lists
    submitted: str  # the confirmation's first line
    stored: dict[str, object] = field(default_factory=dict)  # some answers as stored


def no_call(title: str, employer: str) -> str:
    """What a job description (no call for applications) says when the file is complete."""
    return (f"📨 Je dossier voor {title} is volledig en doorgestuurd naar de recruiters die deze"
            f" bot beheren. Let op: dat is nog geen kandidatuur bij {employer}. De"
            " functiebeschrijving zegt niet of, hoe en tot wanneer je kan solliciteren: vraag dat"
            f" zelf na bij {employer}.")


SPECS = {
    "hardenberg": Spec(
        HARDENBERG, "Medewerker Intern Service Punt",
        datetime(2026, 7, 1, 10, 0, tzinfo=UTC),  # 12:00 in Hardenberg
        {**IDENTITY, "diploma.level": "hbo", "diploma.foreign": "Nee", "diploma.equivalence": "Ja",
         "customer_contact.years": "6", "multidisciplinary": "Ja", "government_ict": "Ja",
         "score.education_field": "Ja", "score.process_improvement": "Nee",
         "score.topdesk": "1,5", "score.municipal_customer_contact": "4 jaar"},
        "✅ Volgens je antwoorden voldoe je aan de voorwaarden voor Medewerker Intern Service Punt.",
        "⏰ Uiterste datum: dinsdag 14 juli 2026, 09:00 (Nederlandse tijd) — nog 12 dagen en 21 uur",
        ("cv", "dba_explanation"),
        ("• Stap 1: beoordeling cv's op de knock-outcriteria",
         "• Stap 3: de gemeente vergelijkt de cv's; wie uitgenodigd wordt, krijgt bericht: 16 juli 2026",
         "• Stap 4: selectiegesprek: 20 juli 2026"),
        # Hardenberg takes applications via Flextender: the bot forwards, it does not apply.
        "📨 Je dossier voor Medewerker Intern Service Punt is volledig en doorgestuurd naar"
        " de recruiters die deze bot beheren. Let op: dat is nog geen officiële sollicitatie."
        " Solliciteer ook via je Flextender-account (reageren op aanvraag 30954) — uiterste"
        " datum: dinsdag 14 juli 2026, 09:00 (Nederlandse tijd).",
        {"diploma.level": "hbo", "diploma.foreign": False, "customer_contact.years": 6,
         "score.topdesk": 1.5, "score.municipal_customer_contact": 4},
    ),
    "nieuwpoort": Spec(
        NIEUWPOORT, "Systeembeheerder ICT",
        datetime(2025, 7, 1, 10, 0, tzinfo=UTC),  # 12:00 in Nieuwpoort
        {**IDENTITY, "diploma.level": "Bachelor", "diploma.foreign": "Nee",
         "diploma.equivalence": "Ja",
         "language.dutch_education": "Ja", "language.certificate": "Ja", "civil_rights": "Ja",
         "record.has_extract": "Ja", "record.issued_on": "15-06-2025", "record.mention": "Nee",
         **nieuwpoort_matrix()},
        "✅ Volgens je antwoorden voldoe je aan de voorwaarden voor Systeembeheerder ICT.",
        "⏰ Uiterste datum: vrijdag 1 augustus 2025 (de hele dag) — nog 31 dagen en 12 uur",
        ("cv", "motivation", "diploma_copy", "record_extract"),
        ("• Schriftelijke proef: 16 september 2025 (onder voorbehoud)",
         "• Mondelinge proef: 16 september 2025 (onder voorbehoud)",
         "• Assessment (datum onder voorbehoud)"),
        "📨 Je dossier voor Systeembeheerder ICT is volledig en doorgestuurd naar de recruiters"
        " die deze bot beheren. Let op: dat is nog geen officiële kandidatuur. Solliciteer ook"
        " via de website van de stad, www.nieuwpoort.be/jobs — uiterste datum: vrijdag 1"
        " augustus 2025 (de hele dag).",
        {"diploma.level": "bachelor", "record.issued_on": "2025-06-15",
         "matrix.windows_os_10_11_server_2022.level": "operational",
         "matrix.windows_os_10_11_server_2022.years": 4, "matrix.sentinelone.level": "none",
         "matrix.extra": "Ansible en Proxmox"},
    ),
    "spl": Spec(
        SPL, "Projectmedewerker Samenleven en integratie", TODAY,
        {**IDENTITY, "diploma.level": "Bachelor", "diploma.foreign": "Nee",
         "diploma.equivalence": "Ja", "language.dutch_education": "Ja",
         "language.certificate": "Ja"},
        # The job description states no condition: what is met is met on our assumptions.
        "✅ Volgens je antwoorden voldoe je aan wat wij als voorwaarden aannemen voor"
        " Projectmedewerker Samenleven en integratie; de vacaturetekst stelt er zelf geen.",
        "De vacaturetekst vermeldt geen uiterste datum; vraag het na bij Lokaal bestuur"
        " Sint-Pieters-Leeuw.",
        ("cv", "motivation", "diploma_copy"),
        ("• Schriftelijke proef (gevalstudie en competentieproef) (datum nog niet bekend)",
         "• Mondelinge proef (datum nog niet bekend)"),
        no_call("Projectmedewerker Samenleven en integratie", "Lokaal bestuur Sint-Pieters-Leeuw"),
        {"diploma.level": "bachelor", "language.dutch_education": True},
    ),
    "vera": Spec(
        VERA, "Projectcoördinator", TODAY,
        {**IDENTITY, "diploma.level": "Master", "diploma.foreign": "Nee",
         "diploma.equivalence": "Ja", "language.dutch_education": "Ja",
         "language.certificate": "Ja"},
        "✅ Volgens je antwoorden voldoe je aan wat wij als voorwaarden aannemen voor"
        " Projectcoördinator; de vacaturetekst stelt er zelf geen.",
        "De vacaturetekst vermeldt geen uiterste datum; vraag het na bij VERA.",
        ("cv", "motivation", "diploma_copy"),
        (NO_STEPS,),
        no_call("Projectcoördinator", "VERA"),
        {"diploma.level": "master"},
    ),
    "school": Spec(
        SCHOOL, "ICT-coördinator", TODAY,
        {**IDENTITY, "record.has_extract": "Ja", "record.issued_on": "02-11-2026",
         "record.mention": "Nee"},
        "✅ Volgens je antwoorden voldoe je aan wat wij als voorwaarden aannemen voor"
        " ICT-coördinator; de vacaturetekst stelt er zelf geen.",
        # The template names no school: never "ask School (naam niet ingevuld)".
        "De vacaturetekst vermeldt geen uiterste datum; vraag het na bij de school die de"
        " vacature bekendmaakte.",
        ("cv", "motivation", "record_extract"),
        (NO_STEPS,),
        no_call("ICT-coördinator", "de school die de vacature bekendmaakte"),
        {"record.issued_on": "2026-11-02", "record.mention": False},
    ),
}
ALL = sorted(SPECS)


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def clock() -> Clock:
    return Clock(TODAY)


@pytest.fixture
def engine(tmp_path: Path, clock: Clock):
    return make_engine(tmp_path, clock)


def applicant(engine, clock: Clock, spec: Spec, user: str = "alice", lang: str = "nl") -> Chat:
    """A candidate who opened the deep link and accepted the privacy notice."""
    clock.set(spec.open_at)
    chat = Chat(engine, user, lang=lang, script_lang="nl" if lang != "nl" else None)
    chat.start(spec.id)
    chat.press("I agree" if lang == "en" else "Akkoord")
    return chat


def upload_all(chat: Chat) -> list[str]:
    """Upload whatever the checklist asks for next, until it asks for nothing."""
    sent: list[str] = []
    for _ in range(10):
        reply = chat.last[-1]
        if reply.expects != "document" or reply.document is None:
            break
        sent.append(reply.document)
        chat.upload(f"{reply.document}.pdf")
    return sent


def stored(chat: Chat) -> dict[str, int]:
    data = chat.data
    return {"candidates": len(data.candidates), "dossiers": len(data.dossiers),
            "documents": len(data.documents), "outbox": len(data.outbox),
            "audit": len(data.audit)}


NOTHING = {"candidates": 0, "dossiers": 0, "documents": 0, "outbox": 0, "audit": 0}


# ---------------------------------------------------------------- happy paths


@pytest.mark.parametrize("name", ALL)
def test_happy_path_from_deep_link_to_submission(name, engine, clock):
    spec = SPECS[name]
    clock.set(spec.open_at)
    chat = Chat(engine, "alice")

    chat.start(spec.id).expect(f"🔒 Privacy — {spec.title}", "We bewaren niets tot je hieronder akkoord gaat")
    assert chat.labels == ["Akkoord, verder", "Niet akkoord", "Meer over privacy"]
    assert stored(chat) == NOTHING

    chat.press("Akkoord").expect("Bedankt. We beginnen.", "Vraag 1 van", "Hoe heet je?")
    dossier = chat.dossier()
    assert (dossier.state, dossier.status) == ("q:candidate.name", "draft")
    assert dossier.consented_at == clock.now

    chat.answer_all(spec.script)
    chat.expect(spec.verdict, f"📄 Documenten voor een volledige {application(spec.id)}:",
                spec.deadline, "Stuur nu je")
    dossier = chat.dossier()
    assert (dossier.state, dossier.status) == ("collecting", "collecting")
    assert dossier.verdict["status"] == "eligible"
    assert dossier.verdict["documents"] == list(spec.documents)
    for qid, value in spec.stored.items():
        assert dossier.answers[qid] == value, qid
    assert {k: dossier.answers[k] for k in IDENTITY} == IDENTITY

    # Progress: "Vraag n van N" with N fixed from the first question on; n goes up by one at
    # every question asked of everyone, a follow-up keeps its question's number; none twice.
    asked = chat.asked()
    numbers = [progress[0] for _, progress in asked]
    assert {progress[1] for _, progress in asked} == {numbers[-1]}
    assert numbers[0] == 1 and all(b - a in (0, 1) for a, b in pairwise(numbers))
    assert len({qid for qid, _ in asked}) == len(asked)

    assert upload_all(chat) == list(spec.documents)
    chat.expect(spec.submitted, *spec.steps)
    dossier = chat.dossier()
    assert (dossier.state, dossier.status) == ("submitted", "submitted")
    assert dossier.submitted_at == clock.now
    assert chat.data.outbox == [{"kind": "dossier_submitted", "dossier_id": dossier.id,
                                 "payload": {"dossier_id": dossier.id}}]
    assert sorted(d.kind for d in chat.documents()) == sorted(spec.documents)
    assert len(chat.files_on_disk()) == len(spec.documents)

    # After submission: nothing more is taken, nothing changes, no second outbox row.
    chat.say("nog iets").expect("Je dossier is al volledig en doorgestuurd.")
    chat.upload("extra.pdf").expect("ik bewaar geen extra documenten")
    chat.do("back").expect("antwoorden aanpassen kan niet meer")
    chat.do("restart").expect("Opnieuw beginnen kan nu niet meer.")
    assert chat.dossier().state == "submitted"
    assert len(chat.documents()) == len(spec.documents)
    assert len(chat.data.outbox) == 1


def test_hardenberg_verdict_names_rules_sources_score_and_notes(engine, clock):
    chat = applicant(engine, clock, SPECS["hardenberg"])
    chat.answer_all(SPECS["hardenberg"].script)
    # The verdict itself is short: the outcome and the total; the rest is one tap away.
    chat.expect("Indicatieve score op de selectiecriteria: 50 van 100 punten.",
                "bestand: pdf; max. 10 MB", "minimaal 2 referenties",
                "⬜ onderbouwing van de wijze van uitvoering (Wet DBA)").expect_not("Bron:")
    about = chat.token("Over de vacature")
    chat.press("Waarom?").expect(
        "✅ Diploma: hbo (bachelor) voldoet (vereist: mbo niveau 4).",
        "Bron: “1. Aantoonbare afgeronde opleiding op minimaal mbo-4 niveau;”",
        "✅ Ervaring: 6 jaar werkervaring in een dienstverlenende klantcontactfunctie",
        # There is no employer: the municipality is the client of an assignment.
        "ℹ️ Verklaring Omtrent het Gedrag (VOG): de opdrachtgever (gemeente Hardenberg) vraagt"
        " dit later in de procedure.",
        # 20 (ICT education) + 0 (no process examples) + 15 (1.5 y TOPdesk) + 15 (4 y municipal)
        "Indicatieve score op de selectiecriteria: 50 van 100 punten.\n"
        "  • Opleiding ICT of Facility Management: 20 van 20\n"
        "  • Procesverbetering (2 voorbeelden): 0 van 20\n"
        "  • Ervaring met TOPdesk: 15 van 30\n"
        "  • Klantcontact bij een gemeente: 15 van 30\n"
        "    Aanname: Deze score rekenen wij uit op basis van je eigen antwoorden; Flextender"
        " beoordeelt je cv zelf.",
    )
    chat.press_token(about).expect(
        "Hybride werken is niet mogelijk",
        "• Bij een gelijke score beslist het uurtarief.",
        "• Vragen kun je stellen tot woensdag 8 juli 2026, 09.00 uur",
        "• Later vraagt de opdrachtgever een VOG, een geheimhoudingsverklaring",
    )


def test_nieuwpoort_matrix_asks_every_technology_of_the_seed_with_years_only_when_known(engine, clock):
    spec = SPECS["nieuwpoort"]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script, stop_at=["matrix.windows_os_10_11_server_2022.level"])
    chat.expect("Microsoft Technologieën – Windows OS (10/11, Server 2022): hoeveel kennis heb je?")
    assert chat.labels == ["Geen kennis", "Conceptuele kennis", "Operationele kennis",
                           "Implementatiekennis", "Designkennis", "Rest van de lijst: Geen kennis"]
    chat.press("Operationele kennis").expect(
        "Windows OS (10/11, Server 2022): hoeveel jaar ervaring heb je ermee?")
    chat.say("4").expect("Microsoft Technologieën – Active Directory, DNS, DHCP")
    chat.answer_all(spec.script, stop_at=["matrix.extra"])
    asked = [qid for qid, _ in chat.asked() if qid.startswith("matrix.")]
    levels = [q for q in asked if q.endswith(".level")]
    # The brochure's matrix: 19 technologies in 5 groups (Microsoft 6, virtualisation 3,
    # networking 3, security 3, other 4), each with a level; years only for the known one.
    assert len(levels) == 19
    assert [q for q in asked if q.endswith(".years")] == ["matrix.windows_os_10_11_server_2022.years"]
    chat.expect("Wil je nog iets toevoegen aan de kennismatrix")
    assert "Overslaan" in chat.labels
    chat.press("Overslaan")
    assert chat.dossier().answers["matrix.extra"] == ""
    assert chat.dossier().state == "collecting"


# ---------------------------------------------------------------- knock-outs


@dataclass(frozen=True)
class KnockOut:
    vacancy: str
    question: str
    bad: str
    good: str
    reason: str
    quote: str  # the start of the seed sentence shown after "Bron:"


KNOCK_OUTS = [
    KnockOut("hardenberg", "diploma.level", "mbo niveau 3", "mbo niveau 4",
             "❌ Diploma: deze vacature vraagt minstens mbo niveau 4; jij gaf mbo niveau 3 op.",
             "1. Aantoonbare afgeronde opleiding op minimaal mbo-4 niveau;"),
    KnockOut("hardenberg", "customer_contact.years", "4", "5",
             "❌ Ervaring: deze vacature vraagt minimaal 5 jaar werkervaring in een "
             "dienstverlenende klantcontactfunctie",
             "2. Minimaal 5 jaar aantoonbare werkervaring in een dienstverlenende"),
    KnockOut("hardenberg", "multidisciplinary", "Nee", "Ja",
             "❌ “Heb je aantoonbare werkervaring in multidisciplinaire teams",
             "3. Aantoonbare werkervaring met het werken in multidisciplinaire teams"),
    KnockOut("hardenberg", "government_ict", "Nee", "Ja",
             "❌ “Heb je aantoonbare werkervaring in het complexe",
             "4. Aantoonbare werkervaring binnen het complexe en veranderende ICT-landschap"),
    KnockOut("nieuwpoort", "diploma.level", "Secundair onderwijs", "Bachelor",
             "❌ Diploma: deze vacature vraagt minstens Bachelor of hoger onderwijs van één cyclus;"
             " jij gaf Secundair onderwijs op.",
             "In het bezit zijn van ofwel een bachelordiploma"),
    KnockOut("nieuwpoort", "civil_rights", "Nee", "Ja",
             "❌ “Geniet je de burgerlijke en politieke rechten?” — jij antwoordde Nee; "
             "deze vacature vereist Ja.",
             "De burgerlijke en politieke rechten genieten;"),
    KnockOut("nieuwpoort", "diploma.level", "Geen diploma", "Master",
             "❌ Diploma: deze vacature vraagt minstens Bachelor of hoger onderwijs van één cyclus;"
             " jij gaf Geen diploma op.",
             "In het bezit zijn van ofwel een bachelordiploma"),
    KnockOut("hardenberg", "diploma.level", "Geen diploma", "hbo (bachelor)",
             "❌ Diploma: deze vacature vraagt minstens mbo niveau 4; jij gaf Geen diploma op.",
             "1. Aantoonbare afgeronde opleiding op minimaal mbo-4 niveau;"),
]
# Only a rule the seed states may knock anyone out (SPL's and VERA's diplomas are assumed).
assert all(next(r for r in vacancies()[SPECS[k.vacancy].id].requirements
                if r.id == k.question.split(".")[0]).stated for k in KNOCK_OUTS)


@pytest.mark.parametrize("ko", KNOCK_OUTS, ids=lambda k: f"{k.vacancy}-{k.question}-{k.bad}")
def test_knock_out_stops_early_says_why_and_back_lets_a_better_answer_continue(ko, engine, clock):
    spec = SPECS[ko.vacancy]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script, stop_at=[ko.question])
    chat.answer(ko.bad)

    chat.expect(f"❌ Volgens je antwoorden voldoe je helaas niet aan deze voorwaarde voor {spec.title}:",
                ko.reason,
                f"Bron: “{ko.quote}", "Vergist? Pas je antwoord aan.")
    chat.expect_not("Aanname:", "❓")  # a stated rule without an assumed detail
    assert chat.labels == ["Antwoord aanpassen", "Opnieuw beginnen", "Andere vacatures"]
    dossier = chat.dossier()
    assert (dossier.state, dossier.status) == ("knocked_out", "ineligible")
    assert dossier.verdict["status"] == "not_eligible"
    assert dossier.verdict["failed"] == [ko.question.split(".")[0]]
    # Stopped early: the question after the failing one was never asked.
    order = [q.id for q in engine.flows[spec.id].questions]
    later = set(order[order.index(ko.question) + 1:])
    assert not later & set(dossier.answers)

    # Typing or uploading while knocked out changes nothing.
    chat.say("Ja").expect(
        "Volgens je antwoorden voldoe je niet aan een voorwaarde van deze vacature.", ko.reason)
    chat.upload("cv.pdf").expect("ik bewaar geen documenten")
    assert chat.documents() == [] and chat.files_on_disk() == set()
    assert chat.dossier().answers == dossier.answers

    chat.press("Antwoord aanpassen").expect_question(ko.question)
    chat.expect(f"Je huidige antwoord: {ko.bad}")
    chat.answer(ko.good)
    assert chat.dossier().state != "knocked_out"
    chat.answer_all(spec.script)
    chat.expect("Volgens je antwoorden voldoe je aan de voorwaarden voor")
    assert chat.dossier().state == "collecting"


@pytest.mark.parametrize("how", ["button", "command"])
@pytest.mark.parametrize("name, question, bad, later", [
    # Knocked out on the diploma after the foreign question (same rule) was answered: the
    # failing rule's last answered question is 'foreign', but the diploma knocked them out.
    ("nieuwpoort", "diploma.level", "Secundair onderwijs", "language.dutch_education"),
    ("hardenberg", "diploma.level", "mbo niveau 3", "customer_contact.years"),
    ("nieuwpoort", "civil_rights", "Nee", "record.has_extract"),
])
def test_change_answer_after_a_knock_out_returns_to_the_question_that_knocked_out(
        name, question, bad, later, how, engine, clock):
    spec = SPECS[name]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script, stop_at=[later])
    for _ in range(20):  # /back until the question, later answers stay stored
        if chat.question_id == question:
            break
        chat.do("back")
    chat.expect_question(question)
    chat.answer(bad).expect("Volgens je antwoorden voldoe je helaas niet aan")
    dossier = chat.dossier()
    assert (dossier.state, dossier.status) == ("knocked_out", "ineligible")
    assert dossier.verdict["knocked_by"] == question
    if how == "button":
        chat.press("Antwoord aanpassen")
    else:
        chat.do("back")
    chat.expect_question(question).expect(f"Je huidige antwoord: {bad}")
    assert chat.dossier().state == f"q:{question}"
    chat.answer(spec.script[question])
    assert chat.dossier().state not in ("knocked_out", f"q:{question}")
    chat.answer_all(spec.script)
    chat.expect("Volgens je antwoorden voldoe je aan de voorwaarden voor")
    assert chat.dossier().state == "collecting"


def test_restart_from_a_knock_out_keeps_name_and_email(engine, clock):
    chat = applicant(engine, clock, SPECS["nieuwpoort"])  # its seed states the diploma
    chat.answer_all(SPECS["nieuwpoort"].script, stop_at=["diploma.level"]).press("Geen diploma")
    chat.expect("Volgens je antwoorden voldoe je helaas niet aan")
    assert chat.dossier().state == "knocked_out"
    chat.press("Opnieuw beginnen").expect("Opnieuw beginnen?").press("Ja, begin opnieuw")
    chat.expect("We beginnen opnieuw.").expect_question("diploma.level")
    assert chat.dossier().answers == IDENTITY


# ---------------------------------------------------------------- an assumed rule not met


UNCERTAIN_HEAD = {
    "nl": ("❓ Of je in aanmerking komt voor {title}, kunnen we niet zeggen",
           "vraag het na bij {employer} en rond je dossier gewoon af."),
    "en": ("❓ Whether you qualify for {title}, we cannot say",
           "check with {employer} and complete your file all the same."),
}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name, level", [
    # Neither seed states a diploma: the minimum (bachelor, master) is our assumption.
    ("spl", "Secundair onderwijs"),  # just below the assumed bachelor
    ("spl", "Geen diploma"),
    ("vera", "Bachelor"),  # just below the assumed master
    ("vera", "Lager secundair onderwijs"),
])
def test_an_assumed_diploma_minimum_does_not_knock_out_and_the_dossier_goes_in(
        name, level, lang, engine, clock):
    spec = SPECS[name]
    vacancy = vacancies()[spec.id]
    diploma = next(r for r in vacancy.requirements if r.id == "diploma")
    assert not diploma.stated
    chat = applicant(engine, clock, spec, lang=lang)
    chat.answer_all({**spec.script, "diploma.level": level})

    verdict = chat.last[0].text()
    head, advice = UNCERTAIN_HEAD[lang]
    assert verdict.startswith(head.format(title=vacancy.title.get(lang)))
    assert advice.format(employer=vacancy.ask_whom.get(lang)) in verdict
    assumption, source = {"nl": ("    Aanname: ", "Bron:"),
                          "en": ("    Assumption: ", "Source")}[lang]
    # The rule's own sentence, once; no seed quote, for the seed does not state it.
    sentence = f"{assumption}{getattr(diploma.assumption, lang)}"
    assert verdict.count(sentence) == 1, verdict
    assert source not in verdict
    if lang == "en":
        assert "Aanname" not in chat.text and "Misschien" not in chat.text
    assert "❓ Diplom" in verdict  # the reason is marked as uncertain, not as failed
    assert "❌" not in chat.text
    chat.expect("Documenten voor een volledige kandidatuur:" if lang == "nl"
                else "Documents for a complete application:")
    chat.expect_not("Volgens je antwoorden voldoe je helaas niet aan", "unfortunately not eligible")
    assert "Antwoord aanpassen" not in chat.labels and "Change my answer" not in chat.labels

    dossier = chat.dossier()
    assert (dossier.state, dossier.status) == ("collecting", "collecting")
    assert dossier.verdict["status"] == "uncertain"
    assert dossier.verdict["failed"] == []
    assert dossier.verdict["uncertain"] == ["diploma"]
    # Not stopped early: every later question was asked.
    assert {"language.dutch_education"} <= set(dossier.answers)

    assert upload_all(chat) == list(dossier.verdict["documents"])
    dossier = chat.dossier()
    assert (dossier.state, dossier.status) == ("submitted", "submitted")
    assert dossier.verdict["status"] == "uncertain"  # the recruiters see what to check
    assert chat.data.outbox == [{"kind": "dossier_submitted", "dossier_id": dossier.id,
                                 "payload": {"dossier_id": dossier.id}}]


def test_back_to_the_assumed_minimum_makes_the_uncertain_verdict_eligible(engine, clock):
    spec = SPECS["vera"]
    chat = applicant(engine, clock, spec)
    chat.answer_all({**spec.script, "diploma.level": "Bachelor"})
    chat.expect("❓ Of je in aanmerking komt voor Projectcoördinator, kunnen we niet zeggen",
                # its own wording: an assumption, not "deze vacature vraagt"
                "❓ Diploma: wij gaan uit van minstens Master; jij gaf Bachelor of hoger onderwijs"
                " van één cyclus op.").expect_not("deze vacature vraagt")
    for _ in range(10):
        if chat.question_id == "diploma.level":
            break
        chat.do("back")
    chat.expect_question("diploma.level").expect(
        "Je huidige antwoord: Bachelor of hoger onderwijs van één cyclus")
    chat.press("Master")
    chat.answer_all(spec.script)
    chat.expect("✅ Volgens je antwoorden voldoe je aan wat wij als voorwaarden aannemen voor"
                " Projectcoördinator;"
                ).expect_not("❓")
    assert chat.dossier().verdict["status"] == "eligible"
    assert chat.dossier().verdict["uncertain"] == []


# ---------------------------------------------------------------- conditional paths


@dataclass(frozen=True)
class Condition:
    vacancy: str
    answers: dict[str, str]
    reason: str
    rule: str
    document: str | None
    label: str | None
    not_asked: str | None = None  # a document label the checklist must not ask for
    dropped: str | None = None  # a happy-path document these answers no longer require
    heading: str = "conditional"  # which verdict heading (see HEADINGS)


NIEUWPOORT_EXPLANATION = "schriftelijke toelichting bij de ongunstige vermelding"
SCHOOL_EXPLANATION = "schriftelijke toelichting bij de vermelding op je uittreksel"
# Not a condition the candidate can meet: whether the conduct fits the job, the employer judges.
MENTION_EXPLAINED = ("Strafregister: er staat een ongunstige vermelding op je uittreksel. Of je"
                     " gedrag past bij de functie, beoordeelt {employer} zelf; je schriftelijke"
                     " toelichting helpt daarbij.")
MENTION_UNEXPLAINED = ("Strafregister: er staat een ongunstige vermelding op je uittreksel, zonder"
                       " schriftelijke toelichting. Of je gedrag past bij de functie, beoordeelt"
                       " {employer} zelf.")
# While the file is open, the checklist (never the verdict, nor the recruiters) offers /back.
EXPLAIN_HINT = "Wil je toch een schriftelijke toelichting bij de vermelding toevoegen?"
SCHOOL_EMPLOYER = "de school die de vacature bekendmaakte"


def mention(text: str, vacancy: str) -> str:
    """The ⚖️ line as a vacancy says it: the school's whole extract rule is our assumption."""
    employer = SCHOOL_EMPLOYER if vacancy == "school" else "Stad en OCMW Nieuwpoort"
    mark = "⚖️ (onze aanname) " if vacancy == "school" else "⚖️ "
    return mark + text.format(employer=employer)
HEADINGS = {
    "conditional": "als je het volgende nog in orde brengt:",
    # Every condition is of a rule the seed does not state: never said as firm.
    "assumed": "Wat hieronder volgt, staat niet in de vacaturetekst; wij gaan ervan uit dat",
    "review": "; één punt beoordeelt",
}
ASSUMED = "⚠️ (onze aanname) "

FOREIGN = [
    ("hardenberg", "diploma_valuation", "diplomawaardering van je buitenlandse diploma"),
    ("nieuwpoort", "equivalence_statement", "gelijkwaardigheidsattest van je buitenlandse diploma"),
    ("spl", "equivalence_statement", "gelijkwaardigheidsattest van je buitenlandse diploma"),
    ("vera", "equivalence_statement", "gelijkwaardigheidsattest van je buitenlandse diploma"),
]


def language_mark(vacancy: str) -> str:
    # Nieuwpoort's brochure states the language law; the other two are our assumption.
    return "⚠️ " if vacancy == "nieuwpoort" else ASSUMED


CONDITIONS = [
    # A foreign diploma with its equivalence document: they hand it in. No seed names that
    # proof: every foreign-diploma condition is our assumption.
    # Hardenberg's are said in Dutch of the Netherlands ("lever je ... aan", "kun je").
    *(Condition(v, {"diploma.foreign": "Ja", "diploma.equivalence": "Ja"},
                f"{ASSUMED}Buitenlands diploma: lever je {label} aan." if v == "hardenberg" else
                f"{ASSUMED}Buitenlands diploma: bezorg je {label}.", "diploma", doc, label,
                heading="assumed")
      for v, doc, label in FOREIGN),
    # Not yet: a condition (obtain it), nothing to upload; they can submit without it.
    *(Condition(v, {"diploma.foreign": "Ja", "diploma.equivalence": "Nee"},
                f"{ASSUMED}Buitenlands diploma: je hebt nog een {label} nodig. Vraag het zo snel"
                " mogelijk aan; " + ("je kunt je dossier al afronden en het later aanleveren."
                                     if v == "hardenberg" else
                                     "je kan je dossier al afronden en het later bezorgen."),
                "diploma", None, None, not_asked=label, heading="assumed")
      for v, _, label in FOREIGN),
    *(Condition(v, {"language.dutch_education": "Nee", "language.certificate": "Ja"},
                f"{language_mark(v)}Kennis van het Nederlands: bezorg je taalattest Nederlands.",
                "language", "language_certificate", "taalattest Nederlands",
                heading="conditional" if v == "nieuwpoort" else "assumed")
      for v in ("nieuwpoort", "spl", "vera")),
    # No certificate yet: a condition (obtain one), but nothing to upload; they can submit.
    *(Condition(v, {"language.dutch_education": "Nee", "language.certificate": "Nee"},
                f"{language_mark(v)}Kennis van het Nederlands: je hebt nog een taalattest"
                " Nederlands nodig. Vraag het zo snel mogelijk aan.", "language",
                None, None, not_asked="taalattest Nederlands",
                heading="conditional" if v == "nieuwpoort" else "assumed")
      for v in ("nieuwpoort", "spl", "vera")),
    # An unfavourable mention: the candidate chooses whether to add a written explanation.
    Condition("nieuwpoort", {"record.mention": "Ja", "record.explain": "Ja"},
              mention(MENTION_EXPLAINED, "nieuwpoort"), "record", "record_explanation",
              NIEUWPOORT_EXPLANATION, heading="review"),
    Condition("school", {"record.mention": "Ja", "record.explain": "Ja"},
              mention(MENTION_EXPLAINED, "school"), "record", "record_explanation", SCHOOL_EXPLANATION,
              heading="review"),
    Condition("nieuwpoort", {"record.mention": "Ja", "record.explain": "Nee"},
              mention(MENTION_UNEXPLAINED, "nieuwpoort"), "record", None, None,
              not_asked=NIEUWPOORT_EXPLANATION, heading="review"),
    Condition("school", {"record.mention": "Ja", "record.explain": "Nee"},
              mention(MENTION_UNEXPLAINED, "school"), "record", None, None, not_asked=SCHOOL_EXPLANATION,
              heading="review"),
    # The brochure lists the extract in a complete application: the file waits for it, and
    # the extract, once sent, is asked its date.
    Condition("nieuwpoort", {"record.has_extract": "Nee"},
              "⚠️ uittreksel uit het strafregister: vraag het aan bij je gemeente; het mag hoogstens"
              " 3 maanden oud zijn.", "record", None, None),
    # The school's extract is our assumption: without one the dossier goes in without it.
    Condition("school", {"record.has_extract": "Nee"},
              f"{ASSUMED}uittreksel uit het strafregister model 2 (art. 596, tweede lid, Wetboek"
              " van strafvordering): vraag het aan bij je gemeente; het mag hoogstens 3 maanden"
              " oud zijn.", "record",
              None, None, not_asked="uittreksel uit het strafregister (model 596.2)",
              dropped="record_extract", heading="assumed"),
]


@pytest.mark.parametrize("cond", CONDITIONS,
                         ids=lambda c: f"{c.vacancy}-{'-'.join(f'{k}={v}' for k, v in c.answers.items())}")
def test_conditional_answers_give_a_conditional_verdict_and_their_document(cond, engine, clock):
    spec = SPECS[cond.vacancy]
    chat = applicant(engine, clock, spec)
    chat.answer_all({**spec.script, **cond.answers})
    chat.expect(f"Volgens je antwoorden voldoe je aan de voorwaarden voor {spec.title}",
                HEADINGS[cond.heading], cond.reason)
    verdict = chat.dossier().verdict
    if cond.heading == "review":
        assert verdict["status"] == "review" and verdict["review"] == [cond.rule]
    else:
        assert verdict["status"] == "conditional"
        assert cond.rule in verdict["conditions"]
        assert (cond.rule in verdict["assumed_conditions"]) == (cond.heading == "assumed")
    expected = [d for d in spec.documents if d != cond.dropped]
    if cond.document:
        chat.expect(f"⬜ {cond.label}")
        assert set(verdict["documents"]) == {*expected, cond.document}
    else:
        assert verdict["documents"] == expected
    if cond.not_asked:
        chat.expect_not(f"⬜ {cond.not_asked}", f"{cond.not_asked} opladen",
                        f"{cond.not_asked} uploaden")
    # Either way the candidate can complete the application with exactly those documents.
    asked = {qid for qid, _ in chat.asked()}
    sent = upload_all(chat)
    if cond.answers.get("record.has_extract") == "Nee":
        assert not asked & {"record.issued_on", "record.mention", "record.explain"}
    if "record_extract" in verdict["documents"] and cond.answers.get("record.has_extract") == "Nee":
        # "I have none", then an extract arrives: it is a new one — its date decides.
        chat.expect("Een nieuw uittreksel: we vragen opnieuw wanneer het uitgereikt werd", "Op welke datum")
        assert chat.dossier().status == "draft"
        chat.answer(spec.script["record.issued_on"]).answer("Nee")
        sent += upload_all(chat)
    assert sorted(sent) == sorted(verdict["documents"])
    assert chat.dossier().status == "submitted"
    assert sorted(d.kind for d in chat.documents()) == sorted(verdict["documents"])
    if "record.explain" in cond.answers:
        assert "record.explain" in {qid for qid, _ in chat.asked()}


def test_the_explanation_question_is_asked_only_after_a_mention(engine, clock):
    spec = SPECS["school"]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script, stop_at=["record.mention"])
    chat.press("Ja").expect_question("record.explain").expect(
        "Vraag 3 van 3 · Strafregister",
        "Je mag daarover een schriftelijke toelichting toevoegen. Wil je dat doen?")
    assert chat.labels == ["Ja", "Nee"]
    dossier = chat.dossier()
    assert (dossier.state, dossier.status) == ("q:record.explain", "draft")
    # Until they choose, the record rule is pending: no condition, no explanation document yet.
    assert dossier.verdict["status"] == "incomplete"
    assert dossier.verdict["conditions"] == []
    assert "record_explanation" not in dossier.verdict["documents"]
    # Without a mention the question is not asked: the happy path goes straight to documents.
    other = applicant(engine, clock, spec, user="bert")
    other.answer_all(spec.script)
    assert "record.explain" not in {qid for qid, _ in other.asked()}
    assert other.dossier().state == "collecting"


def test_choosing_to_explain_after_all_adds_the_explanation_document(engine, clock):
    """The 'no explanation' reason points to /back: going back and saying yes asks for it."""
    spec = SPECS["school"]
    chat = applicant(engine, clock, spec)
    chat.answer_all({**spec.script, "record.mention": "Ja", "record.explain": "Nee"})
    chat.expect(mention(MENTION_UNEXPLAINED, "school"), EXPLAIN_HINT).expect_not(
        f"⬜ {SCHOOL_EXPLANATION}")
    chat.do("back").expect_question("record.explain").expect("Je huidige antwoord: Nee")
    chat.press("Ja").expect(mention(MENTION_EXPLAINED, "school"), f"⬜ {SCHOOL_EXPLANATION}")
    assert chat.dossier().verdict["documents"] == ["cv", "motivation", "record_extract",
                                                   "record_explanation"]
    assert upload_all(chat) == ["cv", "motivation", "record_extract", "record_explanation"]
    assert chat.dossier().status == "submitted"


@pytest.mark.parametrize("name, too_old, just_valid, expires, model", [
    ("nieuwpoort", "31-03-2025", "01-04-2025", "02-07-2025", "uittreksel uit het strafregister"),
    ("school", "21-08-2026", "22-08-2026", "23-11-2026",
     "uittreksel uit het strafregister model 2 (art. 596, tweede lid, Wetboek van strafvordering)"),
])
def test_extract_older_than_three_months_is_too_old(
        name, too_old, just_valid, expires, model, tmp_path, clock):
    spec = SPECS[name]  # Nieuwpoort on 1 July 2025; the school on 22 November 2026
    chat = applicant(make_engine(tmp_path / "old", clock), clock, spec)
    chat.answer_all({**spec.script, "record.issued_on": too_old})
    # The brochure states the rule; the school's rule is wholly our assumption.
    mark = "⚠️ " if name == "nieuwpoort" else "⚠️ (onze aanname) "
    chat.expect("⚠️ Volgens je antwoorden voldoe je aan de voorwaarden",
                f"{mark}{model}: uitgereikt op {too_old}, dus te oud (het mag hoogstens 3 maanden"
                f" oud zijn). Vraag een nieuw aan: het moet uitgereikt zijn op of na {just_valid}.")
    assert "record" in chat.dossier().verdict["conditions"]

    chat = applicant(make_engine(tmp_path / "valid", clock), clock, spec)
    chat.answer_all({**spec.script, "record.issued_on": just_valid})
    # Valid today, but too old from the next day on (before Nieuwpoort's deadline; the
    # school names none): the candidate is told, as information, not as a condition.
    ours = "" if name == "nieuwpoort" else "(onze aanname) "
    # Time-critical, so in the short verdict itself; what is in order is behind "Waarom?".
    chat.expect(f"ℹ️ {ours}Je uittreksel is te oud vanaf {expires}: solliciteer vóór die dag, of"
                " vraag een nieuw aan.").expect_not("dus te oud")
    chat.press("Waarom?").expect(f"✅ {ours}{model}: in orde, volgens de datum die je opgaf.")
    assert chat.dossier().verdict["status"] == "eligible"


def test_an_extract_too_old_by_a_stated_rule_never_completes_the_file(engine, clock):
    """Nieuwpoort: the extract the candidate called too old does not complete the dossier; the
    one they send is asked its date, and only a recent one completes it."""
    spec = SPECS["nieuwpoort"]
    chat = applicant(engine, clock, spec)
    chat.answer_all({**spec.script, "record.issued_on": "31-03-2025"})
    chat.expect("• uitgereikt op of na 01-04-2025")
    sent = upload_all(chat)
    assert sent[-1] == "record_extract"
    # The extract arrived: its date is asked, the dossier is not complete on the old answer.
    chat.expect("📥 Ontvangen: uittreksel uit het strafregister", "Een nieuw uittreksel: we vragen opnieuw",
                "Op welke datum").expect_not("is volledig")
    assert chat.dossier().status == "draft"
    assert "record.issued_on" not in chat.dossier().answers
    # Still the old one: the file stays open and asks for a recent extract.
    # A new extract may read differently: whether it shows a mention is asked again too.
    chat.answer("31-03-2025").expect_question("record.mention")
    chat.press("Nee").expect("dus te oud", "Stuur nu je uittreksel uit het strafregister",
                             "• uitgereikt op of na 01-04-2025").expect_not("is volledig")
    assert chat.dossier().status == "collecting"
    # A new extract, dated recently: complete.
    chat.upload("nieuw-uittreksel.pdf").expect("Op welke datum")
    chat.answer("25-06-2025").expect("Staat er een ongunstige vermelding op?")
    chat.press("Nee").expect("✅ Volgens je antwoorden voldoe je aan de voorwaarden", "is volledig")
    chat.press("Waarom?").expect("uittreksel uit het strafregister: in orde")
    assert chat.dossier().status == "submitted"
    kinds = sorted(d.kind for d in chat.documents())
    assert kinds.count("record_extract") == 1  # the new file replaced the old one


def test_the_schools_assumed_extract_rule_never_holds_a_file_back(engine, clock):
    spec = SPECS["school"]
    chat = applicant(engine, clock, spec)
    chat.answer_all({**spec.script, "record.issued_on": "21-08-2026"})
    chat.expect("⚠️ (onze aanname) uittreksel").expect_not("uitgereikt op of na 22-08")
    upload_all(chat)
    assert chat.dossier().status == "submitted"  # a condition on our assumption, not a wall


def test_changing_a_branching_answer_skips_its_follow_ups(engine, clock):
    """Back to 'do you have an extract?', answer No: date, mention and explanation no longer
    count (no 'too old', no mention, no explanation document)."""
    spec = SPECS["nieuwpoort"]
    chat = applicant(engine, clock, spec)
    chat.answer_all({**spec.script, "record.issued_on": "01-01-2025", "record.mention": "Ja",
                     "record.explain": "Ja"},
                    stop_at=["matrix.windows_os_10_11_server_2022.level"])
    chat.do("back").expect_question("record.explain").expect("Je huidige antwoord: Ja")
    chat.do("back").expect_question("record.mention").expect("Je huidige antwoord: Ja")
    # A date answer is shown as the candidate typed it (dd-mm-yyyy), not as stored.
    chat.do("back").expect_question("record.issued_on").expect("Je huidige antwoord: 01-01-2025")
    chat.expect_not("2025-01-01")
    assert chat.dossier().answers["record.issued_on"] == "2025-01-01"
    chat.do("back").expect_question("record.has_extract").expect("Je huidige antwoord: Ja")
    chat.press("Nee").expect_question("matrix.windows_os_10_11_server_2022.level")
    chat.answer_all(spec.script)
    chat.expect("vraag het aan bij je gemeente").expect_not(
        "te oud", "Strafregister: er staat een ongunstige vermelding", "⬜ schriftelijke toelichting")
    assert "record_explanation" not in chat.dossier().verdict["documents"]


# ---------------------------------------------------------------- back, restart, status, help


def test_back_shows_the_current_answer_and_stops_at_the_first_question(engine, clock):
    chat = applicant(engine, clock, SPECS["vera"])
    chat.say("Alice Peeters").say("alice@example.org").press("Master")
    # A follow-up keeps the number of the question it follows: the total never grows.
    chat.expect_question("diploma.foreign").expect("Vraag 3 van 4 · Diploma")

    chat.do("back").expect_question("diploma.level")
    chat.expect("Je huidige antwoord: Master", "Vraag 3 van 4 · Diploma",
                "Wat is je hoogste behaalde diploma?")
    chat.do("back").expect_question("candidate.email").expect("Je huidige antwoord: alice@example.org")
    chat.do("back").expect_question("candidate.name").expect("Je huidige antwoord: Alice Peeters")
    chat.do("back").expect("Dit is de eerste vraag.").expect_question("candidate.name")
    # Going back erased nothing.
    assert chat.dossier().answers == {**IDENTITY, "diploma.level": "master"}

    # A corrected name is stored; answered questions are then skipped, not asked again.
    chat.say("Alice Janssens").expect_question("diploma.foreign")
    assert chat.dossier().answers["candidate.name"] == "Alice Janssens"


def test_back_from_the_checklist_returns_to_the_last_question(engine, clock):
    spec = SPECS["school"]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script)
    chat.do("back").expect_question("record.mention").expect("Je huidige antwoord: Nee")
    chat.upload("cv.pdf").expect("Beantwoord eerst de vragen")
    chat.press("Nee").expect("📄 Documenten voor een volledige kandidatuur:")


def test_restart_asks_for_confirmation_and_erases_answers_and_documents(engine, clock):
    spec = SPECS["spl"]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script)
    chat.upload("cv.pdf")
    assert len(chat.documents()) == 1 and len(chat.files_on_disk()) == 1

    chat.do("restart").expect("Opnieuw beginnen?", "je naam en e-mail blijven")
    assert chat.labels == ["Ja, begin opnieuw", "Nee, ga verder"]
    before = chat.dossier()
    chat.press("Nee, ga verder").expect("Oké, er is niets veranderd.", "Stuur nu je")
    after = chat.dossier()
    assert (after.answers, after.state) == (before.answers, before.state)
    assert len(chat.documents()) == 1

    chat.do("restart").press("Ja, begin opnieuw")
    chat.expect("We beginnen opnieuw.", "Vraag 3 van", "Wat is je hoogste behaalde diploma?")
    dossier = chat.dossier()
    assert dossier.answers == IDENTITY
    assert (dossier.state, dossier.status) == ("q:diploma.level", "draft")
    assert chat.documents() == []
    assert chat.files_on_disk() == set()
    assert "restart" in [a["event"] for a in chat.data.audit]


def test_status_tells_question_missing_documents_and_time_left(engine, clock):
    spec = SPECS["hardenberg"]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script, stop_at=["diploma.foreign"])
    chat.do("status").expect(
        "📋 Medewerker Intern Service Punt: vragen beantwoorden",
        "Je bent bij vraag 3 van 10 (Diploma).",
        "⏰ Uiterste datum: dinsdag 14 juli 2026, 09:00 (Nederlandse tijd) — nog 12 dagen en 21 uur",
        "Heb je dat diploma in het buitenland behaald?",  # and asks the question again
    )
    # Documents are not talked about before the document stage.
    chat.expect_not("Nog te uploaden", "⬜")
    clock.set(2026, 7, 4, 9, 0, tz=AMSTERDAM)  # exactly ten days before the deadline
    chat.do("status").expect("— nog 10 dagen\n").expect_not("en 0 uur")
    clock.set(2026, 7, 14, 7, 30, tz=AMSTERDAM)
    chat.do("status").expect("nog 1 uur en 30 minuten")
    clock.set(2026, 7, 14, 8, 55, tz=AMSTERDAM)
    chat.do("status").expect("nog 5 minuten")

    clock.set(spec.open_at)
    chat.answer_all({**spec.script, "diploma.foreign": "Ja"})
    chat.upload("cv.pdf")
    # Hardenberg is in the Netherlands: "uploaden", never the Flemish "opladen".
    chat.do("status").expect("documenten uploaden",
                             "Nog te uploaden:\n⬜ onderbouwing van de wijze van uitvoering (Wet DBA)"
                             "\n⬜ diplomawaardering van je buitenlandse diploma\n")
    chat.expect_not("⬜ cv\n")
    upload_all(chat)
    chat.do("status").expect("📋 Medewerker Intern Service Punt: ingediend").expect_not("Nog te uploaden")


def test_help_lists_the_commands_and_repeats_the_question(engine, clock):
    chat = applicant(engine, clock, SPECS["vera"])
    chat.do("help").expect("/status", "/back", "/restart", "/language", "/vacancies", "/withdraw",
                           "Hoe heet je?")
    chat.do("onbekend").expect("Dat commando ken ik niet.", "Hoe heet je?")


def test_start_again_welcomes_back_where_the_candidate_was(engine, clock):
    chat = applicant(engine, clock, SPECS["vera"])
    chat.say("Alice Peeters").say("alice@example.org")
    chat.start().expect("Welkom terug! Je was bezig met je sollicitatie voor Projectcoördinator.")
    chat.expect_question("diploma.level")
    chat.start(VERA).expect("Welkom terug!").expect_question("diploma.level")
    assert len(chat.data.dossiers) == 1


# ---------------------------------------------------------------- language


def test_language_switch_changes_the_texts_and_persists(engine, clock):
    spec = SPECS["hardenberg"]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script, stop_at=["diploma.foreign"])

    chat.do("language").expect("Kies je taal / Choose your language:")
    chat.press("English").expect("The language is now English.", "Question 3 of 10 · Diploma",
                                 "Did you obtain that diploma abroad?")
    assert chat.labels == ["Yes", "No"]
    assert chat.candidate().language == "en" and chat.dossier().language == "en"

    # Persisted: the next reply, and a later session with a Dutch phone, stay English.
    chat.press("No").expect("Question 4 of 10 · Work experience",
                            "How many years of experience in a customer-contact")
    later = Chat(engine, "alice", lang="nl")
    later.start().expect("Welcome back! You were applying for Internal service desk officer.")
    later.say("six").expect("I need a number from 0 to 60")
    later.say("6").expect("Do you have demonstrable experience working in multidisciplinary teams")
    later.say("yes").expect("Question 6 of 10 · Requirements")

    later.do("language").press("Nederlands").expect("De taal is nu Nederlands.",
                                                    "Vraag 6 van 10 · Voorwaarden",
                                                    "ICT-landschap van een overheidsinstelling")
    assert later.labels == ["Ja", "Nee"]
    assert later.candidate().language == "nl" and later.dossier().language == "nl"


@pytest.mark.parametrize("name", ALL)
def test_happy_path_in_english(name, engine, clock):
    spec = SPECS[name]
    title_en = vacancies()[spec.id].title.en
    chat = applicant(engine, clock, spec, lang="en")
    assert chat.history[0][1][0].text().startswith(f"🔒 Privacy — {title_en}")
    chat.expect("Thank you. Let's begin.", "Question 1 of", "What is your name?")
    chat.answer_all(spec.script)
    # Hardenberg and Nieuwpoort state their conditions; the job descriptions state none.
    met = ("you meet the requirements for" if name in ("hardenberg", "nieuwpoort")
           else "you meet what we assume to be the requirements for")
    chat.expect(f"✅ From your answers, {met} {title_en}",
                "📄 Documents for a complete application:",
                "Now send your")
    employer = vacancies()[spec.id].ask_whom.get("en")
    deadline = {"hardenberg": "⏰ Deadline: Tuesday 14 July 2026, 09:00 (Dutch time)",
                "nieuwpoort": "⏰ Deadline: Friday 1 August 2025 (the whole day) — 31 days and 12",
                }.get(name, f"The vacancy text gives no closing date; please check with {employer}.")
    chat.expect(deadline)
    upload_all(chat)
    submitted = {
        # Both take the official application elsewhere: the bot only forwards the file.
        "hardenberg": f"📨 Your file for {title_en} is complete and has been forwarded to"
                      " the recruiters who run this bot. Note: this is not yet an official"
                      " application. Please also apply via your Flextender account (respond to"
                      " request 30954) — closing date: Tuesday 14 July 2026, 09:00 (Dutch time).",
        "nieuwpoort": f"📨 Your file for {title_en} is complete and has been forwarded to"
                      " the recruiters who run this bot. Note: this is not yet an official"
                      " application. Please also apply via the city's website,"
                      " www.nieuwpoort.be/jobs — closing date: Friday 1 August 2025 (the whole"
                      " day).",
    }.get(name, f"📨 Your file for {title_en} is complete and has been forwarded to the recruiters"
              f" who run this bot. Note: this is not yet an application to {employer}. The job"
              " description does not say whether, how or until when you can apply: please"
              f" check with {employer} yourself.")
    chat.expect(submitted)
    assert chat.dossier().status == "submitted"
    if name == "nieuwpoort":
        chat.expect("• Written test: 16 September 2025 (subject to change)")
    if name == "hardenberg":
        chat.expect("• Step 4: selection interview: 20 July 2026")
    # Not a word of the Dutch catalogue slipped through (seed quotes stay verbatim).
    everything = "\n".join(line for _, replies in chat.history for r in replies
                           for line in (r.text(), *r.labels()))
    assert dutch_in(everything) == set(), everything
    for dutch in ("Vraag ", "Stuur nu", "Uiterste datum", "Bedankt", "Je komt", "Bron:",
                  "Ontvangen", "kandidatuur"):
        assert dutch not in everything, dutch


# ---------------------------------------------------------------- withdraw and re-apply


@pytest.mark.parametrize("name", ALL)
def test_withdraw_erases_answers_and_files_and_reapplying_asks_consent_again(name, engine, clock):
    spec = SPECS[name]
    chat = applicant(engine, clock, spec)
    # A foreign diploma with its equivalence document adds one more document to be missing.
    chat.answer_all({**spec.script, "diploma.foreign": "Ja"})
    chat.upload("eerste.pdf")
    assert chat.dossier().status == "collecting" and chat.files_on_disk()

    chat.do("withdraw").expect(f"Je {application(spec.id)} voor {spec.title} intrekken?",
                               "definitief gewist")
    assert chat.labels == ["Ja, trek in en wis", "Nee, ga verder"]
    chat.press("Nee, ga verder").expect("Oké, er is niets veranderd.")
    assert chat.dossier().status == "collecting" and chat.files_on_disk()

    chat.do("withdraw").press("Ja, trek in en wis")
    chat.expect(f"Je {application(spec.id)} voor {spec.title} is ingetrokken en je antwoorden en documenten"
                " zijn gewist.")
    dossier = next(iter(chat.data.dossiers.values()))
    assert (dossier.state, dossier.status) == ("withdrawn", "withdrawn")
    assert dossier.answers == {} and dossier.verdict is None
    assert chat.data.documents == {}
    assert chat.files_on_disk() == set()
    assert chat.candidate().active_dossier_id is None
    assert chat.data.outbox == []  # nothing had been submitted

    chat.do("withdraw").expect("Je bent nog geen sollicitatie begonnen.")
    chat.say("hallo").expect("Kies een vacature")
    assert dossier.answers == {}

    clock.advance(hours=1)
    chat.start(spec.id).expect("🔒 Privacy")
    chat.press("Akkoord").expect("Bedankt. We beginnen.", "Vraag 1 van", "Hoe heet je?")
    again = chat.dossier()
    assert again.id == dossier.id and again.answers == {}
    assert (again.state, again.consented_at) == ("q:candidate.name", clock.now)


def test_withdrawing_a_submitted_application_tells_the_employer(engine, clock):
    spec = SPECS["vera"]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script)
    upload_all(chat)
    chat.do("withdraw").press("Ja, trek in en wis").expect("is ingetrokken")
    dossier_id = next(iter(chat.data.dossiers))
    assert [o["kind"] for o in chat.data.outbox] == ["dossier_submitted", "dossier_withdrawn"]
    assert chat.data.outbox[-1]["dossier_id"] == dossier_id
    assert chat.files_on_disk() == set() and chat.data.documents == {}


# ---------------------------------------------------------------- privacy


@pytest.mark.parametrize("name", ALL)
def test_nothing_is_stored_before_the_privacy_notice_is_accepted(name, engine, clock):
    spec = SPECS[name]
    clock.set(spec.open_at)
    chat = Chat(engine, "bob")
    chat.start(spec.id).expect("🔒 Privacy")
    accept = chat.token("Akkoord")
    chat.say("Bob Peeters").say("bob@example.org").say("Ja").say("")
    for command in (*COMMANDS, "onbekend", ""):
        chat.do(command)
    chat.upload("cv.pdf").expect("Kies eerst een vacature")
    chat.upload("foto.jpg", media_type="image/jpeg")
    for token in ("a:0:1", "a:2:0", "s:0", "d:cv", "c:restart", "c:withdraw", "c:no",
                  "m:status", "m:back", "l:en", "l:nl", "x:nl", "zzz", ""):
        chat.press_token(token)
    chat.start(spec.id)
    assert stored(chat) == NOTHING
    assert chat.files_on_disk() == set()

    chat.press("Niet akkoord").expect("Geen probleem: we hebben niets van je bewaard.")
    assert stored(chat) == NOTHING

    chat.press_token(accept).expect("Bedankt. We beginnen.")  # changed their mind
    assert stored(chat)["candidates"] == 1 and stored(chat)["dossiers"] == 1


def test_declining_in_english_answers_in_english_and_stores_nothing(engine, clock):
    chat = Chat(engine, "carla", lang="en-GB")
    chat.start(VERA).expect("We store nothing until you agree below.")
    chat.press("I do not agree").expect("No problem: we have stored nothing about you.")
    assert stored(chat) == NOTHING


# ---------------------------------------------------------------- closed vacancies and expiry


@pytest.mark.parametrize("name, since", [
    ("nieuwpoort", "vrijdag 1 augustus 2025 (de hele dag)"),
    ("hardenberg", "dinsdag 14 juli 2026, 09:00 (Nederlandse tijd)"),
])
def test_a_closed_vacancy_says_since_when_and_offers_the_open_ones(name, since, engine, clock):
    spec = SPECS[name]
    chat = Chat(engine, "dirk")
    chat.start(spec.id).expect(f"De vacature {spec.title} is afgesloten: de uiterste datum was {since}.")
    assert chat.labels == ["ICT-coördinator", "Projectmedewerker Samenleven en integratie",
                           "Projectcoördinator"]
    # An old privacy button for it (from before the deadline) does not open it either.
    clock.set(spec.open_at)
    accept = Chat(engine, "dirk").start(spec.id).token("Akkoord")
    clock.set(TODAY)
    chat.press_token(accept).expect("is afgesloten")
    assert stored(chat) == NOTHING


@pytest.mark.parametrize("name, last_open, first_closed", [
    # Hardenberg closes at 09:00 Amsterdam time (07:00 UTC in summer).
    ("hardenberg", datetime(2026, 7, 14, 8, 59, tzinfo=AMSTERDAM),
     datetime(2026, 7, 14, 7, 0, tzinfo=UTC)),
    # Nieuwpoort takes the whole of 1 August in Brussels; 22:30 UTC is already 2 August there.
    ("nieuwpoort", datetime(2025, 8, 1, 23, 59, tzinfo=BRUSSELS),
     datetime(2025, 8, 1, 22, 30, tzinfo=UTC)),
])
def test_deadline_boundary_in_the_vacancy_zone(name, last_open, first_closed, engine, clock):
    spec = SPECS[name]
    clock.set(last_open)
    Chat(engine, "erik").start(spec.id).expect("🔒 Privacy")
    clock.set(first_closed)
    Chat(engine, "erik").start(spec.id).expect("is afgesloten")


def test_a_draft_expires_at_the_deadline_and_takes_nothing_more(engine, clock):
    spec = SPECS["hardenberg"]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script, stop_at=["diploma.foreign"])
    answers = chat.dossier().answers

    clock.set(2026, 7, 14, 9, 0, tz=AMSTERDAM)
    chat.press("Nee").expect(
        "De vacature Medewerker Intern Service Punt is afgesloten: de uiterste datum was dinsdag"
        " 14 juli 2026, 09:00 (Nederlandse tijd).",
        "Je sollicitatie was nog niet volledig en kan niet meer worden ingediend.")
    dossier = chat.dossier()
    assert (dossier.state, dossier.status) == ("expired", "expired")
    assert dossier.answers == answers  # the late answer was not stored

    chat.say("Nee").expect("is afgesloten")
    chat.press_token("a:3:0").expect("is afgesloten")
    chat.upload("cv.pdf").expect("is afgesloten")
    assert chat.text.count("is afgesloten") == 1
    chat.do("back").expect("is afgesloten")
    chat.do("restart").expect("is afgesloten")
    chat.do("status").expect("verlopen (vacature afgesloten)")
    assert chat.dossier().answers == answers and chat.dossier().state == "expired"
    assert chat.documents() == [] and chat.files_on_disk() == set()
    assert [a["event"] for a in chat.data.audit].count("expire") == 1


def test_a_dossier_collecting_documents_expires_on_the_next_upload(engine, clock):
    spec = SPECS["nieuwpoort"]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script)
    chat.upload("cv.pdf")
    on_disk = chat.files_on_disk()
    clock.set(2025, 8, 2, 0, 0, tz=BRUSSELS)
    chat.upload("motivatie.pdf").expect("is afgesloten", "kan niet meer worden ingediend")
    assert chat.text.count("is afgesloten") == 1  # said once, not twice
    assert chat.dossier().status == "expired"
    chat.upload("motivatie.pdf").expect("De vacature Systeembeheerder ICT is afgesloten")
    assert chat.text.count("is afgesloten") == 1
    assert [d.kind for d in chat.documents()] == ["cv"]
    assert chat.files_on_disk() == on_disk
    assert chat.data.outbox == []


# ---------------------------------------------------------------- stale and double presses


def test_a_button_of_an_earlier_question_changes_nothing(engine, clock):
    spec = SPECS["nieuwpoort"]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script, stop_at=["diploma.level"])
    level_no_diploma = chat.token("Geen diploma")
    chat.press("Bachelor")
    foreign_yes = chat.token("Ja")
    chat.press("Nee").expect_question("language.dutch_education")
    before = chat.dossier()

    for token in (level_no_diploma, foreign_yes):
        chat.press_token(token).expect("Die vraag is al beantwoord; er is niets veranderd.")
        chat.expect_question("language.dutch_education")
        after = chat.dossier()
        assert after.answers == before.answers
        assert (after.version, after.state) == (before.version, before.state)


def test_pressing_the_same_button_twice_applies_it_once(engine, clock):
    chat = applicant(engine, clock, SPECS["vera"])
    chat.say("Alice Peeters").say("alice@example.org")
    master = chat.token("Master")
    chat.press_token(master).expect_question("diploma.foreign")
    version = chat.dossier().version
    chat.press_token(master).expect("al beantwoord").expect_question("diploma.foreign")
    assert chat.dossier().version == version
    assert [a["event"] for a in chat.data.audit].count("answer:diploma.level") == 1


def test_pressing_accept_twice_keeps_one_dossier_and_the_answers(engine, clock):
    chat = Chat(engine, "alice")
    chat.start(VERA)
    accept = chat.token("Akkoord")
    chat.press_token(accept).say("Alice Peeters")
    chat.press_token(accept).expect_question("candidate.email")
    assert len(chat.data.dossiers) == 1
    assert chat.dossier().answers == {"candidate.name": "Alice Peeters"}


# ---------------------------------------------------------------- uploads


def at_checklist(engine, clock, name: str = "nieuwpoort") -> Chat:
    chat = applicant(engine, clock, SPECS[name])
    chat.answer_all(SPECS[name].script)
    return chat


def test_an_upload_of_the_wrong_type_is_refused_with_the_allowed_types(engine, clock):
    chat = at_checklist(engine, clock, "hardenberg")
    chat.upload("cv.docx").expect("Dat bestand (docx) kan ik niet aannemen als cv. Toegelaten: pdf.")
    chat.upload("cv.exe", data=b"MZ\x90\x00").expect("(.exe)", "Toegelaten: pdf.")
    chat.upload("", media_type="image/gif").expect("(image/gif)", "Toegelaten: pdf.")
    assert chat.documents() == [] and chat.files_on_disk() == set()
    assert chat.dossier().status == "collecting"


def test_an_oversized_upload_is_refused(engine, clock):
    chat = at_checklist(engine, clock, "hardenberg")
    chat.upload("cv.pdf", size=11 * MB).expect("Dat bestand is te groot", "Je cv mag hoogstens 10 MB zijn.")
    assert chat.documents() == [] and chat.files_on_disk() == set()
    chat.upload("cv.pdf", size=10 * MB).expect(  # exactly the limit is fine
        "📥 Ontvangen: cv (cv.pdf).", "Nog 1 document te gaan: onderbouwing van de wijze van uitvoering")
    chat.upload("dba.pdf", size=10 * MB).expect("📨 Je dossier voor")


def test_an_upload_during_the_questions_is_refused_politely_and_not_kept(engine, clock):
    chat = applicant(engine, clock, SPECS["vera"])
    chat.say("Alice Peeters")
    chat.upload("cv.pdf").expect("Bedankt! Beantwoord eerst de vragen; daarna vraag ik je documenten."
                                 " Dit bestand heb ik niet bewaard.", "Op welk e-mailadres")
    chat.expect_question("candidate.email")
    assert chat.data.documents == {} and chat.files_on_disk() == set()
    assert chat.dossier().answers == {"candidate.name": "Alice Peeters"}


def test_replacing_a_document_keeps_one_row_and_deletes_the_old_file(engine, clock):
    chat = at_checklist(engine, clock)
    chat.upload("cv.pdf", data=PDF + b"% old\n").expect("📥 Ontvangen: cv (cv.pdf).",
                                                         "Stuur nu je motivatiebrief")
    old = chat.documents()[0]
    assert chat.stored_file(old).read_bytes().endswith(b"% old\n")

    chat.press("cv vervangen").expect("Stuur nu je cv als bestand")
    chat.upload("cv-nieuw.pdf", data=PDF + b"% new\n").expect("📥 Vervangen: cv is nu cv-nieuw.pdf.",
                                                              "Stuur nu je motivatiebrief")
    rows = [d for d in chat.documents() if d.kind == "cv"]
    assert len(rows) == 1 and rows[0].original_name == "cv-nieuw.pdf"
    assert not chat.stored_file(old).exists()
    assert chat.stored_file(rows[0]).read_bytes().endswith(b"% new\n")
    assert chat.files_on_disk() == {rows[0].stored_path}


def test_a_file_is_stored_under_a_generated_name(engine, clock):
    chat = at_checklist(engine, clock)
    data = PDF + b"% alice\n"
    chat.upload("../../Alice Peeters CV.pdf", data=data)
    (doc,) = chat.documents()
    assert doc.original_name == "Alice Peeters CV.pdf"  # data only, and only its name part
    assert "Alice" not in doc.stored_path and "/" not in doc.stored_path
    assert re.fullmatch(r"[0-9a-f]{32}(\.\w+)?", doc.stored_path)
    path = chat.stored_file(doc)
    assert path.parent == Path(engine.files.root) and path.read_bytes() == data
    assert doc.size == len(data) and doc.media_type == "application/pdf"
    assert doc.sha256 == hashlib.sha256(data).hexdigest()


def test_a_photo_without_a_file_name_counts_by_its_media_type(engine, clock):
    chat = at_checklist(engine, clock)
    chat.press("kopie van je diploma (bachelor) opladen").expect("bestand: pdf, jpg, png")
    chat.upload("", data=b"\xff\xd8\xff\xe0 jpeg", media_type="image/jpeg").expect("📥 Ontvangen")
    assert [d.kind for d in chat.documents()] == ["diploma_copy"]


def test_check_upload_refuses_before_download_without_storing(engine, clock):
    chat = at_checklist(engine, clock, "hardenberg")
    check = engine.check_upload
    assert check(chat.sender, Upload("cv.pdf", "application/pdf", 1000)) == []
    (refusal,) = check(chat.sender, Upload("cv.docx", None, 1000))
    assert "Toegelaten: pdf" in refusal.text()
    (refusal,) = check(chat.sender, Upload("cv.pdf", None, 20 * MB))
    assert "te groot" in refusal.text()
    assert chat.documents() == [] and chat.files_on_disk() == set()


def test_text_while_collecting_points_to_the_document(engine, clock):
    chat = at_checklist(engine, clock, "school")
    chat.say("hier is mijn cv").expect("Ik wacht op een document.", "Stuur nu je cv")


# ---------------------------------------------------------------- what the bot cannot use


MEDIA_KINDS = [w for w in UNUSABLE if w not in ("forwarded", "edited")]


def paragraphs(chat: Chat) -> list[str]:
    return chat.text.split("\n\n")


@pytest.mark.parametrize("what", MEDIA_KINDS)
def test_unusable_content_says_what_it_was_what_works_and_asks_again(what, engine, clock):
    chat = applicant(engine, clock, SPECS["vera"])
    before = chat.dossier()
    chat.send(Inbound.unusable(what))
    said = paragraphs(chat)
    assert said[0] == render(Msg(f"unusable.{what}"), "nl")
    assert said[1] == "Typ je antwoord gewoon als bericht."  # the name question is typed
    assert "Vraag 1 van" in said[2]
    chat.expect_question("candidate.name")
    after = chat.dossier()
    assert (after.answers, after.state) == (before.answers, before.state)


def test_at_a_question_with_buttons_the_buttons_are_what_works(engine, clock):
    chat = applicant(engine, clock, SPECS["vera"])
    chat.say("Alice Peeters").say("alice@example.org")
    assert chat.question().expects == "choice"
    asked = chat.question_id
    chat.send(Inbound.unusable("sticker"))
    assert paragraphs(chat)[:2] == ["Leuk! Maar daarmee kan ik niet verder.",
                                    "Tik op een van de knoppen."]
    assert chat.question_id == asked and chat.labels  # the same question, its buttons again


def test_at_the_checklist_a_document_is_what_works_as_a_file_or_a_photo(engine, clock):
    chat = at_checklist(engine, clock, "nieuwpoort")
    vacancy = vacancies()[SPECS["nieuwpoort"].id]
    types = {d.id: set(d.types) for d in vacancy.documents}
    seen = set()
    for _ in range(10):
        asked = chat.last[-1].document
        assert asked is not None
        photos = bool({"jpg", "png"} & types[asked])
        chat.send(Inbound.unusable("voice"))
        said = paragraphs(chat)
        assert said[0] == "Spraak-, audio- en videoberichten kan ik niet beluisteren."
        assert said[1] == ("Een document stuur je als bestand (📎) of als foto." if photos
                           else "Een document stuur je als bestand (📎).")
        assert chat.last[-1].document == asked  # still waiting for the same document
        seen.add(photos)
        if seen == {True, False}:
            break
        chat.upload(f"{asked}.pdf")
    assert seen == {True, False}
    assert chat.dossier().status == "collecting"


def test_after_submission_help_is_what_works(engine, clock):
    chat = at_checklist(engine, clock, "hardenberg")
    upload_all(chat)
    assert chat.dossier().status == "submitted"
    chat.send(Inbound.unusable("location"))
    said = paragraphs(chat)
    assert said[:2] == ["Een locatie heb ik niet nodig, en ik heb die ook niet bewaard.",
                        "Typ /help om te zien wat je kunt doen."]
    assert said[2].startswith("Je dossier voor Medewerker Intern Service Punt is volledig en "
                              "doorgestuurd op ")


@pytest.mark.parametrize("what", ["forwarded", "edited"])
def test_forwarded_and_edited_say_what_to_do_themselves(what, engine, clock):
    chat = applicant(engine, clock, SPECS["vera"])
    chat.send(Inbound.unusable(what))
    said = paragraphs(chat)
    assert said[0] == render(Msg(f"unusable.{what}"), "nl")
    assert "Vraag 1 van" in said[1]


def test_an_edit_without_an_open_application_is_not_said_to_keep_an_answer(engine, clock):
    chat = Chat(engine, "nobody")
    chat.send(Inbound.unusable("edited"))
    assert paragraphs(chat)[0] == ("Een aangepast bericht lees ik niet opnieuw; stuur gerust een "
                                   "nieuw bericht.")
    assert stored(chat) == NOTHING
    chat = at_checklist(engine, clock, "hardenberg")
    chat.send(Inbound.unusable("edited"))  # collecting: the answers are kept
    assert paragraphs(chat)[0] == "Ik heb je eerste antwoord gehouden; met /back pas je het aan."
    upload_all(chat)
    chat.send(Inbound.unusable("edited"))  # submitted: nothing can change any more
    assert paragraphs(chat)[0].startswith("Een aangepast bericht lees ik niet opnieuw")


def test_unusable_content_before_consent_stores_nothing_and_lists_vacancies(engine, clock):
    chat = Chat(engine, "nobody", lang="en")
    chat.send(Inbound.unusable("contact"))
    said = paragraphs(chat)
    assert said[0] == "I don't need a contact. I haven't kept it, nor its phone number."
    assert said[1] == "Tap one of the buttons."  # the open vacancies, as buttons
    assert chat.labels
    assert stored(chat) == NOTHING


def test_an_unknown_kind_of_unusable_message_is_a_programming_error():
    with pytest.raises(ValueError):
        Inbound.unusable("hologram")


# ---------------------------------------------------------------- vacancies


def test_an_unknown_vacancy_id_lists_the_open_vacancies(engine, clock):
    chat = Chat(engine, "frank")
    chat.start("bestaat-niet").expect("Ik ken geen vacature “bestaat-niet”.", "Open vacatures:")
    assert chat.labels == ["ICT-coördinator", "Projectmedewerker Samenleven en integratie",
                           "Projectcoördinator"]
    chat.expect_not("Systeembeheerder ICT", "Medewerker Intern Service Punt")
    chat.start("x" * 500).expect("Ik ken geen vacature “" + "x" * 64 + "”.")
    chat.press("Projectcoördinator").expect("🔒 Privacy — Projectcoördinator")
    assert stored(chat) == NOTHING


def test_start_without_a_payload_welcomes_and_lists_the_open_vacancies(engine, clock):
    Chat(engine, "gina").start().expect("👋 Welkom!", "Kies een vacature:", "• Projectcoördinator — VERA")
    clock.set(SPECS["nieuwpoort"].open_at)
    chat = Chat(engine, "gina").start()
    assert len(chat.labels) == 5  # in July 2025 every vacancy was open


# ---------------------------------------------------------------- texts


def with_deadline(vacancy: Vacancy, until: datetime, timezone: str) -> Vacancy:
    """A validated copy of `vacancy` closing at local `until` (naive) in `timezone`."""
    data = vacancy.model_dump(by_alias=True)
    data["deadline"] = {"until": until, "timezone": timezone, "assumption": "test deadline"}
    return Vacancy.model_validate(data)


@pytest.mark.parametrize("zone, lang, shown", [
    ("Europe/Amsterdam", "nl", "dinsdag 14 juli 2026, 09:00 (Nederlandse tijd)"),
    ("Europe/Amsterdam", "en", "Tuesday 14 July 2026, 09:00 (Dutch time)"),
    ("Europe/Brussels", "nl", "dinsdag 14 juli 2026, 09:00 (Belgische tijd)"),
    ("Europe/Brussels", "en", "Tuesday 14 July 2026, 09:00 (Belgian time)"),
    # A zone the catalogue has no name for keeps its IANA id rather than showing nothing.
    ("Europe/Paris", "nl", "dinsdag 14 juli 2026, 09:00 (Europe/Paris)"),
])
def test_a_deadline_names_its_time_zone_readably(zone, lang, shown):
    vacancy = with_deadline(vacancies()[VERA], datetime(2026, 7, 14, 9, 0), zone)
    assert render(R.when_text(vacancy, lang), lang) == shown


@pytest.mark.parametrize("left, nl, en", [
    (timedelta(days=10), "nog 10 dagen", "10 days left"),
    (timedelta(days=3, hours=2), "nog 3 dagen en 2 uur", "3 days and 2 hours left"),
    (timedelta(days=2, hours=23, minutes=59), "nog 2 dagen en 23 uur", "2 days and 23 hours left"),
    (timedelta(hours=5, minutes=30), "nog 5 uur en 30 minuten", "5 hours and 30 minutes left"),
])
def test_time_left_leaves_out_zero_hours(left, nl, en):
    text = R.time_left_text(left)
    assert (render(text, "nl"), render(text, "en")) == (nl, en)


@pytest.mark.parametrize("name", ALL)
def test_a_short_verdict_then_the_checklist_with_the_details_one_tap_away(
        name, engine, clock):
    spec = SPECS[name]
    vacancy = vacancies()[spec.id]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script)
    verdict, checklist = chat.last
    assert verdict.text().startswith(spec.verdict)
    assert len(verdict.text()) <= 600
    for other in ("Goed om te weten:", "Wat de vacaturetekst niet zegt:", "📄 Documenten", "Bron:"):
        assert other not in verdict.text(), other
    assert verdict.labels() == ["Waarom?", "Over de vacature"]
    assert checklist.text().startswith(f"📄 Documenten voor een volledige {application(spec.id)}:")
    assert "Goed om te weten:" not in checklist.text()

    why_token = chat.token("Waarom?")
    info = "\n\n".join(r.text() for r in chat.press("Over de vacature").last)
    facts = [getattr(vacancy, f) for f in ("contract", "hours", "salary_scale", "contact")]
    opening = "Over de vacature" if any(facts) else "Goed om te weten:"
    assert info.startswith(opening)
    assert all(render(f.text, "nl") in info for f in facts if f is not None)
    assert ("Goed om te weten:" in info) == bool(vacancy.notes)
    assert all(f"• {render(n.text, 'nl')}" in info for n in vacancy.notes)
    assert ("Wat de vacaturetekst niet zegt:" in info) == bool(vacancy.silent_on)
    assert all(len(r.text()) <= 1000 for r in chat.last)
    why = chat.press_token(why_token).last
    assert why[0].text().startswith(f"Waarom — {spec.title}:")
    assert all(len(r.text()) <= 1000 for r in why)
    # Asking for the details changes nothing: the file waits where it was.
    assert chat.dossier().state == "collecting"


def test_the_notes_follow_the_verdict_in_english_too(engine, clock):
    chat = applicant(engine, clock, SPECS["vera"], lang="en")
    chat.answer_all(SPECS["vera"].script)
    verdict, _checklist = chat.last
    assert verdict.text().startswith(
        "✅ From your answers, you meet what we assume to be the requirements for Project"
        " coordinator")
    assert "Good to know:" not in verdict.text()
    assert verdict.labels() == ["Why?", "About the vacancy"]
    info = "\n\n".join(r.text() for r in chat.press("About the vacancy").last)
    assert info.startswith("About the vacancy Project coordinator:")
    assert "Good to know:" in info
    assert "What the vacancy text does not say:" in info


def test_the_diploma_copy_names_a_level_only_where_the_seed_does():
    # Nieuwpoort's brochure asks "een kopie van je diploma (bachelor)"; SPL's and VERA's
    # minimum is our assumption, so their label does not claim one.
    labels = {n: vacancies()[SPECS[n].id].document("diploma_copy").label
              for n in ("nieuwpoort", "spl", "vera")}
    assert {n: (t.nl, t.en) for n, t in labels.items()} == {
        "nieuwpoort": ("kopie van je diploma (bachelor)", "copy of your diploma (bachelor)"),
        "spl": ("kopie van je diploma", "copy of your diploma"),
        "vera": ("kopie van je diploma", "copy of your diploma"),
    }


def test_a_document_that_takes_no_photo_is_asked_as_a_file(engine, clock):
    chat = at_checklist(engine, clock)  # Nieuwpoort: the cv is pdf/Word, the diploma copy also a photo
    assert "jpg" not in vacancies()[NIEUWPOORT].document("cv").types
    chat.expect("Stuur nu je cv als bestand (📎 Bestand).").expect_not("foto")
    chat.press("kopie van je diploma (bachelor) opladen").expect(
        "Stuur nu je kopie van je diploma (bachelor) als bestand (📎 Bestand of foto).")
    english = at_checklist(engine, clock, "hardenberg")
    english.do("language").press("English").expect("Now send your CV as a file (📎 File).")
    english.expect_not("photo")


@pytest.mark.parametrize("lang, years, knocked_out", [
    ("nl", "5,5", "✅ Ervaring: 5,5 jaar werkervaring"),
    ("nl", "4,5", "jij gaf 4,5 jaar op"),
    ("en", "5,5", "5.5 years"),
    ("en", "4,5", "you said 4.5 years."),
])
def test_decimal_numbers_are_written_the_local_way(lang, years, knocked_out, engine, clock):
    spec = SPECS["hardenberg"]
    chat = applicant(engine, clock, spec, lang=lang)
    chat.answer_all({**spec.script, "customer_contact.years": years})
    if "Why?" in chat.labels or "Waarom?" in chat.labels:  # passed: the reasons are one tap away
        chat.press("Why?" if lang == "en" else "Waarom?")
    chat.expect(knocked_out)
    assert chat.dossier().answers["customer_contact.years"] == float(years.replace(",", "."))
    assert (render(2.5, "nl"), render(2.5, "en"), render(4.0, "nl")) == ("2,5", "2.5", "4")


@pytest.mark.parametrize("lang, shown", [("nl", "Je huidige antwoord: (overgeslagen)"),
                                         ("en", "(skipped)")])
def test_a_skipped_answer_shows_as_skipped(lang, shown, engine, clock):
    spec = SPECS["nieuwpoort"]
    chat = applicant(engine, clock, spec, lang=lang)
    chat.answer_all(spec.script, stop_at=["matrix.extra"])
    chat.press("Overslaan")
    assert chat.dossier().answers["matrix.extra"] == ""
    chat.do("back").expect_question("matrix.extra").expect(shown)


# ---------------------------------------------------------------- reminders


@pytest.mark.parametrize("name, until, zone, days, due", [
    # Nieuwpoort takes the whole of 1 August: it closes at midnight; not a time to message.
    ("nieuwpoort", None, BRUSSELS, 3, datetime(2025, 7, 30, 9, 0, tzinfo=BRUSSELS)),
    ("nieuwpoort", None, BRUSSELS, 1, datetime(2025, 8, 1, 9, 0, tzinfo=BRUSSELS)),
    # Hardenberg closes at 09:00: the reminders keep that hour.
    ("hardenberg", None, AMSTERDAM, 3, datetime(2026, 7, 11, 9, 0, tzinfo=AMSTERDAM)),
    ("vera", datetime(2026, 12, 4, 17, 0), BRUSSELS, 3, datetime(2026, 12, 1, 17, 0, tzinfo=BRUSSELS)),
    ("vera", datetime(2026, 12, 4, 8, 30), BRUSSELS, 1, datetime(2026, 12, 3, 9, 0, tzinfo=BRUSSELS)),
])
def test_a_reminder_is_never_due_before_nine_local_time(name, until, zone, days, due):
    vacancy = vacancies()[SPECS[name].id]
    if until is not None:
        vacancy = with_deadline(vacancy, until, zone.key)
    at = reminder_at(vacancy, days)
    assert at == due
    assert at.astimezone(zone).hour >= 9


def test_the_nieuwpoort_reminders_go_out_at_nine_once_each(engine, clock):
    spec = SPECS["nieuwpoort"]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script, stop_at=["diploma.foreign"])
    dossier_id = chat.dossier().id

    def sweep(*when: int) -> str:
        clock.set(*when, tz=BRUSSELS)
        replies = engine.sweep(chat.sender, dossier_id, (3, 1))
        return "\n\n".join(r.text() for r in replies)

    assert sweep(2025, 7, 30, 0, 0) == ""  # three days before the midnight deadline
    assert sweep(2025, 7, 30, 8, 59) == ""
    first = sweep(2025, 7, 30, 9, 0)
    assert "🔔 Herinnering: je kandidatuur voor Systeembeheerder ICT is nog niet volledig." in first
    assert "vrijdag 1 augustus 2025 (de hele dag) — nog 2 dagen en 15 uur" in first
    assert sweep(2025, 7, 30, 18, 0) == ""
    assert sweep(2025, 8, 1, 8, 59) == ""
    assert "— nog 15 uur" in sweep(2025, 8, 1, 9, 0)  # no "en 0 minuten"
    assert sweep(2025, 8, 1, 20, 0) == ""
    assert chat.dossier().reminders_sent == ["3d", "1d"]


# ---------------------------------------------------------------- catalogues


def test_both_catalogues_have_the_same_keys_and_placeholders():
    nl, en = catalogue("nl"), catalogue("en")
    assert set(nl) == set(en)
    assert {k: placeholders(v) for k, v in nl.items()} == {k: placeholders(v) for k, v in en.items()}


def _keys_used_by_the_code() -> set[str]:
    source = "\n".join(p.read_text(encoding="utf-8")
                       for p in (Path(__file__).resolve().parents[1] / "flows").glob("*.py"))
    literal = set(re.findall(r"""Msg\(\s*["']([\w.\-]+)["']""", source))
    # Msg("a" if x else "b"): both branches.
    literal |= set(re.findall(r"""Msg\(\s*["'][\w.\-]+["']\s+if\s[^()]*?\selse\s+["']([\w.\-]+)["']""",
                              source))
    # Reason keys are passed to _reason(...) or chosen beforehand (key = "reason.x" if ... else ...).
    literal |= set(re.findall(r"""["'](reason\.[\w.]+)["']""", source))
    literal |= set(re.findall(r"""_bad\(\s*["']([\w.\-]+)["']""", source))
    literal |= set(re.findall(r"""_q\([^,]+,\s*"\w+",\s*"([\w.]+)\"""", source))
    for pair in re.findall(r"""key = "([\w.]+)" if kind == "yes_no" else "([\w.]+)\"""", source):
        literal |= set(pair)
    statuses = ("draft", "ineligible", "collecting", "submitted", "withdrawn", "expired")
    literal |= {f"status.{s}" for s in statuses} | {f"text.in_{s}" for s in statuses}
    literal |= {f"back.{s}" for s in ("submitted", "withdrawn", "expired")}
    literal |= {f"upload.not_now_{s}" for s in ("ineligible", "submitted", "withdrawn", "expired")}
    literal |= {f"upload.{p}" for p in ("empty", "executable", "mismatch", "unreadable", "unknown")}
    literal |= {f"unusable.{w}" for w in UNUSABLE}
    literal |= {f"reason.mark.{o}" for o in ("met", "failed", "condition", "uncertain", "pending",
                                             "info", "review")}
    literal |= {f"reason.mark.{o}_assumed" for o in ("met", "condition", "info", "review")}
    verdicts = ("eligible", "not_eligible", "uncertain", "review", "conditional", "closed",
                "incomplete", "eligible_assumed", "conditional_assumed")
    literal |= {f"verdict.{s}" for s in verdicts}
    literal |= {f"reason.experience.{o}" for o in ("met", "failed")}
    literal |= {f"reason.yes_no.{o}" for o in ("met", "failed", "condition", "pending")}
    literal |= {f"authority.{c}" for c in ("BE", "NL")}
    literal |= {f"rec.verdict.{s}" for s in verdicts}
    from flows.vacancy import DIPLOMA_SCALES
    literal |= {f"diploma.{c}.{level}" for c, scale in DIPLOMA_SCALES.items() for level in scale}
    # A deadline names its zone readably ("Belgische tijd"): every zone a shipped vacancy uses.
    zones = {v.deadline.timezone for v in vacancies().values() if v.deadline.timezone}
    assert zones == {"Europe/Brussels", "Europe/Amsterdam"}
    literal |= {f"zone.{z}" for z in zones}
    literal |= {f"fact.{n}" for n in ("contract", "hours", "salary_scale", "contact")}
    from flows.sections import SECTION_OF_RULE
    literal |= {f"section.{s}" for s in {*SECTION_OF_RULE.values(), "you"}}
    # Recruiter labels are looked up only where the catalogue has one (rq.<prompt key>).
    literal |= {f"rq.{q.prompt_key}" for v in vacancies().values() for q in compile_questions(v)
                if f"rq.{q.prompt_key}" in catalogue("nl")}
    # The recruiters' decisions (flows/decisions.py): per kind, per reason category.
    from flows.decisions import KINDS, REASONS
    literal |= {f"rec.decide.{p}_{k}" for p in ("btn", "done") for k in KINDS}
    literal |= {f"rec.decide.reason_{r}" for r in REASONS.values()}
    literal |= {f"decision.reason_{r}" for r in REASONS.values()}
    # Recruiters read statuses, documents, questions and reasons in their own words
    # (flows/dossier_summary.py): every status, every document and question of a shipped
    # vacancy, and a "rec." counterpart of every reason the rules give.
    literal |= {f"rec.status.{s}" for s in statuses}
    literal |= {f"rec.doc.{d.id}" for v in vacancies().values() for d in v.documents
                if f"rec.doc.{d.id}" in catalogue("nl")}
    literal |= {f"rec.{q.prompt_key}" for v in vacancies().values() for q in compile_questions(v)}
    literal |= {f"rec.{k}" for k in set(literal) if k.startswith("reason.")
                and not k.startswith("reason.mark.") and k not in ("reason.source",
                                                                   "reason.assumption")}
    # Every family of keys built at run time (Msg(f"status.{...}")) is expanded above.
    for prefix in re.findall(r"""Msg\(f["']([\w.]+)\{""", source):
        assert any(k.startswith(prefix) for k in literal), f"expand Msg(f'{prefix}...') here"
    return literal


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_the_code_uses_is_in_the_catalogue(lang):
    keys = _keys_used_by_the_code()
    assert len(keys) > 100
    missing = sorted(k for k in keys if k not in catalogue(lang))
    assert missing == []


def test_every_reason_in_the_catalogue_is_one_the_code_gives():
    """No stale reason texts (such as the old 'mention_explain', replaced by a question)."""
    used = _keys_used_by_the_code()
    for lang in LANGUAGES:
        assert sorted(k for k in catalogue(lang) if k.startswith("reason.") and k not in used) == []


def _answer_values(question) -> list[object]:
    if question.kind in ("choice", "yes_no"):
        return list(question.option_values())
    if question.kind == "number":
        return [0, 1, 2.5, 5, 60]
    if question.kind == "date":
        return ["2025-06-15", "2024-01-01", "2026-11-01"]
    return ["Alice", "alice@example.org", ""]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", ALL)
def test_every_prompt_option_reason_and_reply_renders(name, lang):
    """Each question's prompt and options; every reason any single answer can give (pending,
    met, failed, condition, info), with the verdict, knock-out, checklist and confirmation."""
    spec = SPECS[name]
    vacancy = vacancies()[spec.id]
    flow = Flow(vacancy)
    for question in flow.questions:
        text = render(question.prompt, lang)
        assert text.strip() and "{" not in text, question.id
        for option in question.options:
            assert render(option.label, lang).strip(), question.id
    first = {q.id: _answer_values(q)[0] for q in flow.questions}
    variants = [{}, first, *({**first, q.id: v} for q in flow.questions for v in _answer_values(q))]
    for answers in variants:
        verdict = evaluate(vacancy, answers, spec.open_at)
        replies = [R.knockout(vacancy, verdict, lang),
                   R.checklist(vacancy, verdict, [], None, spec.open_at, lang),
                   R.privacy_notice(vacancy, lang), R.submitted(vacancy, lang)]
        texts = [render(R.verdict_parts(vacancy, verdict), lang),
                 *([render(R.info_parts(vacancy, verdict), lang)] if R.info_parts(vacancy, verdict)
                   else []),
                 render(R.deadline_line(vacancy, spec.open_at, lang), lang),
                 *(r.text() for r in replies), *(label for r in replies for label in r.labels())]
        for text in texts:
            assert text.strip() and not re.search(r"\{\w*\}", text), text
    for state in flow.states:  # every state a dossier can be in has a status text
        assert render(Msg(f"status.{status_of(state)}"), lang)


# ---------------------------------------------------------------- stated or assumed, everywhere


ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "vacancies" / "seeds"
# What each shipped vacancy can do with some answer: exclude (a stated rule failed), or leave
# it uncertain (an assumed rule not met). The walk below must reach both where they exist.
CAN_EXCLUDE = {"hardenberg": True, "nieuwpoort": True, "spl": False, "vera": False,
               "school": False}
# Hardenberg: havo/vwo where "minimaal mbo-4" is stated; Nieuwpoort: a graduaat where a
# bachelor is (whether either counts, the seed does not say).
CAN_BE_UNCERTAIN = {"hardenberg": True, "nieuwpoort": True, "spl": True, "vera": True,
                    "school": False}


def _norm(text: str) -> str:
    return " ".join(text.split())


def _provenances(vacancy: Vacancy, rule_id: str) -> tuple[Provenance, list[Provenance]]:
    """A requirement, and every provenance its reasons may carry (a diploma's foreign part)."""
    rule = next(r for r in vacancy.requirements if r.id == rule_id)
    foreign = [rule.foreign] if isinstance(rule, DiplomaRule) and rule.foreign else []
    return rule, [rule, *foreign]


def _walk_values(question, now: datetime) -> list[object]:
    """`_answer_values`, and for a date also days around 'today' (an extract still valid,
    valid today only, about to expire)."""
    values = _answer_values(question)
    if question.kind == "date":
        today = now.date()
        values += [(today - timedelta(days=d)).isoformat() for d in (0, 60, 85, 92)]
    return values


def _walk(flow: Flow, now: datetime) -> Iterator[dict[str, object]]:
    """Every value each question accepts, alone on two base sets (every first and every last
    value), and every pair of values of two questions outside the knowledge matrix."""
    questions = flow.questions
    first = {q.id: _walk_values(q, now)[0] for q in questions}
    last = {q.id: _walk_values(q, now)[-1] for q in questions}
    yield {}
    for base in (first, last):
        yield base
        for q in questions:
            for value in _walk_values(q, now):
                yield {**base, q.id: value}
    matrix = {r.id for r in flow.vacancy.requirements if isinstance(r, KnowledgeMatrixRule)}
    core = [q for q in questions if q.rule_id and q.rule_id not in matrix]
    for i, one in enumerate(core):
        for two in core[i + 1:]:
            for a in _walk_values(one, now):
                for b in _walk_values(two, now):
                    yield {**first, one.id: a, two.id: b}


def _check_what_is_printed(vacancy: Vacancy, verdict: Verdict, lang: str) -> None:
    """A quote under each reason that has one; each rule's assumption sentence once; nothing
    else: no "Aanname" under a stated rule without an assumed detail."""
    text = render(R.verdict_parts(vacancy, verdict), lang)
    quote, assumed = {"nl": ("    Bron: ", "    Aanname: "),
                      "en": ("    Source (vacancy text): ", "    Assumption: ")}[lang]
    shown = [r for r in verdict.reasons if r.outcome is not Outcome.PENDING]
    # One quote per rule, under its first line (not again under the rule's info line).
    assert text.count(quote) == len({(r.rule_id, r.source) for r in shown if r.source}), text
    sentences = {(r.rule_id, r.assumption) for r in shown if r.assumption}
    if verdict.score is not None and verdict.score_assumption:  # how to read the score, once
        sentences.add(("score", verdict.score_assumption))
    assert text.count(assumed) == len(sentences), text
    for _rule_id, sentence in sentences:
        assert text.count(f"{assumed}{sentence.get(lang)}") == 1, text


@pytest.mark.parametrize("name", ALL)
def test_no_shipped_vacancy_excludes_on_an_assumption(name):
    """Walk every answer the flow accepts: whatever fails is a rule the seed states, and its
    "Bron:" quote is the seed's own words."""
    spec = SPECS[name]
    vacancy = vacancies()[spec.id]
    seed = _norm((SEEDS / vacancy.seed).read_text(encoding="utf-8"))
    seen: set[Outcome] = set()
    walked = 0
    for answers in _walk(Flow(vacancy), spec.open_at):
        walked += 1
        verdict = evaluate(vacancy, answers, spec.open_at)
        for reason in verdict.reasons:
            seen.add(reason.outcome)
            rule, provenances = _provenances(vacancy, reason.rule_id)
            if reason.outcome is Outcome.FAILED:
                assert rule.stated, (reason, answers)
                assert reason.source is not None and reason.source == rule.source
                missing = [fragment for fragment in _norm(reason.source).split(" ... ")
                           if fragment.strip(" .") and fragment.strip() not in seed]
                assert missing == [], (reason.rule_id, missing)
            elif reason.outcome is Outcome.UNCERTAIN and reason.message.key == "reason.diploma.peer":
                # havo/vwo where mbo-4 is asked, a graduaat where a bachelor is: the rule's own
                # quote or assumption; the doubt about the level is the sentence itself.
                assert reason.source == (rule.source if rule.stated else None), reason
                continue
            elif reason.outcome is Outcome.UNCERTAIN:
                assert not rule.stated and reason.source is None, reason
                assert reason.assumption is not None
            # Whatever the outcome: a quote only from a stated provenance, the sentence as given.
            assert (reason.source, reason.assumption) in {
                (p.source if p.stated else None, p.assumption.says if p.assumption else None)
                for p in provenances}, reason
        assert (verdict.status is Status.NOT_ELIGIBLE) == bool(verdict.failed)
        if Outcome.UNCERTAIN in {r.outcome for r in verdict.reasons} and not verdict.failed:
            assert verdict.status in (Status.UNCERTAIN, Status.INCOMPLETE)
    assert walked > 20
    assert (Outcome.FAILED in seen) is CAN_EXCLUDE[name]
    assert (Outcome.UNCERTAIN in seen) is CAN_BE_UNCERTAIN[name]


# Nieuwpoort's record detail and the school's record rule give a MET reason and an INFO one
# ('te oud vanaf …'): the assumption is still said once, across the outcome groups.
@pytest.mark.parametrize("name", ALL)
def test_every_verdict_says_each_quote_and_each_assumption_once(name):
    """Over the same walk: a "Bron:" line under each reason whose rule the seed states, each
    rule's assumption sentence once, and no "Aanname:" anywhere else."""
    spec = SPECS[name]
    vacancy = vacancies()[spec.id]
    for answers in _walk(Flow(vacancy), spec.open_at):
        verdict = evaluate(vacancy, answers, spec.open_at)
        for lang in LANGUAGES:
            _check_what_is_printed(vacancy, verdict, lang)


def test_the_assumption_is_said_once_per_rule_and_never_under_a_stated_rule_without_one():
    vera = vacancies()[VERA]
    diploma, language = (next(r for r in vera.requirements if r.id == rid)
                         for rid in ("diploma", "language"))
    verdict = evaluate(vera, {"diploma.level": "bachelor", "language.dutch_education": True},
                       TODAY)
    assert verdict.status is Status.UNCERTAIN
    for lang, assumed, quote in (("nl", "Aanname:", "Bron:"), ("en", "Assumption:", "Source")):
        text = render(R.verdict_parts(vera, verdict), lang)
        assert text.count(assumed) == 2, text  # the diploma's and the language rule's
        assert text.count(f"    {assumed} {getattr(diploma.assumption, lang)}") == 1
        assert text.count(f"    {assumed} {getattr(language.assumption, lang)}") == 1
        assert quote not in text  # VERA's seed states neither rule
        # The uncertain diploma comes first, right under the heading, with its sentence.
        lines = text.splitlines()
        assert lines[1].startswith("❓ ") and lines[2] == f"    {assumed} {getattr(diploma.assumption, lang)}"

    hardenberg = vacancies()[HARDENBERG]
    rule = next(r for r in hardenberg.requirements if r.id == "diploma")
    assert rule.stated and rule.assumption is None
    bron = f"    Bron: “{rule.source}”"
    answers = {"diploma.level": "hbo", "diploma.foreign": False}
    eligible = render(R.verdict_parts(hardenberg, evaluate(hardenberg, answers, SPECS[
        "hardenberg"].open_at)), "nl")
    failed = evaluate(hardenberg, {"diploma.level": "mbo-3"}, SPECS["hardenberg"].open_at)
    knocked = R.knockout(hardenberg, failed, "nl").text()
    for text, mark in ((eligible, "✅ Diploma"), (knocked, "❌ Diploma")):
        lines = text.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith(mark))
        block = []
        for line in lines[at + 1:]:
            if not line.startswith("    "):
                break
            block.append(line)
        assert block == [bron], text  # the quote, and no "Aanname:" under a stated rule


def _assumed_nieuwpoort_diploma() -> Vacancy:
    data = vacancies()[NIEUWPOORT].model_dump(by_alias=True)
    diploma = next(r for r in data["requirements"] if r["id"] == "diploma")
    diploma |= {"firmness": "assumed",
                "assumption": {"why": "test", "nl": "Wij nemen een bachelor aan.",
                               "en": "We assume a bachelor."}}
    return Vacancy.model_validate(data)


def test_an_assumed_rule_with_a_note_says_its_assumption_once():
    """Its reasons fall in two groups: the assumed diploma not met (uncertain) and its INFO
    'also accepted' note."""
    vacancy = _assumed_nieuwpoort_diploma()
    answers = {"diploma.level": "secundair"}
    verdict = evaluate(vacancy, answers, SPECS["nieuwpoort"].open_at)
    outcomes = [r.outcome for r in verdict.reasons if r.rule_id == "diploma"]
    assert outcomes == [Outcome.UNCERTAIN, Outcome.INFO]
    text = render(R.verdict_parts(vacancy, verdict), "nl")
    assert text.count("Aanname: Wij nemen een bachelor aan.") == 1, text


# ---------------------------------------------------------------- no deadline in the seed


NO_DEADLINE = {"nl": "De vacaturetekst vermeldt geen uiterste datum; vraag het na bij {employer}.",
               "en": "The vacancy text gives no closing date; please check with {employer}."}
OPEN_UNTIL_FILLED = re.compile(r"open\s+(tot|until)\s+(ze\s+is\s+|it\s+is\s+)?(ingevuld|filled)",
                               re.IGNORECASE)
FAR = datetime(2100, 1, 1, 12, 0, tzinfo=UTC)


def test_the_vacancies_without_a_stated_deadline():
    assert {n for n in ALL if vacancies()[SPECS[n].id].deadline.not_stated} == {
        "spl", "vera", "school"}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", ["spl", "vera", "school"])
def test_a_deadline_not_stated_is_said_as_that_with_the_employer(name, lang, engine, clock):
    spec = SPECS[name]
    vacancy = vacancies()[spec.id]
    assert vacancy.deadline.not_stated and vacancy.closes_at() is None
    said = NO_DEADLINE[lang].format(employer=vacancy.ask_whom.get(lang))
    assert render(R.when_text(vacancy, lang), lang) == said
    assert render(R.deadline_line(vacancy, FAR, lang), lang) == said

    # The list of open vacancies, the checklist and /status say it the same way.
    clock.set(spec.open_at)
    lister = Chat(engine, "lister", lang=lang).start()
    lister.expect(f"• {vacancy.title.get(lang)} — {vacancy.employer.get(lang)}\n   {said}")
    chat = applicant(engine, clock, spec, lang=lang)
    chat.answer_all(spec.script).expect(said)
    chat.do("status").expect(said)

    # Nothing closes it, however late: no expiry, no reminder, still taking applications.
    clock.set(FAR)
    assert engine.sweep(chat.sender, chat.dossier().id, (3, 1)) == []
    assert chat.dossier().status == "collecting"
    chat.do("status").expect(said)
    Chat(engine, "late", lang=lang).start(spec.id).expect("🔒 Privacy")
    everything = "\n".join(r.text() for c in (lister, chat) for _, replies in c.history
                           for r in replies)
    assert not OPEN_UNTIL_FILLED.search(everything)
    for clock_words in ("⏰", "Uiterste datum:", "Deadline:", "afgesloten", "closed"):
        assert clock_words not in everything, clock_words


def _candidate_texts(node: object) -> Iterator[str]:
    """Every text of a loaded vacancy a candidate may read, in every language it has."""
    if isinstance(node, Text | Assumption):
        yield from (t for t in (node.nl, node.en) if t)
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _candidate_texts(getattr(node, name))
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _candidate_texts(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from _candidate_texts(item)


def test_no_text_says_a_vacancy_is_open_until_filled():
    for phrase in ("de vacature staat open tot ze is ingevuld", "open until filled",
                   "Open tot ingevuld"):
        assert OPEN_UNTIL_FILLED.search(phrase), phrase  # the pattern finds what it must
    for lang in LANGUAGES:
        po = ROOT / "flows" / "locale" / lang / "LC_MESSAGES" / "intake.po"
        assert not OPEN_UNTIL_FILLED.search(po.read_text(encoding="utf-8")), po
        assert [k for k, v in catalogue(lang).items()
                if any(OPEN_UNTIL_FILLED.search(f) for f in forms(v))] == []
    for vacancy in vacancies().values():
        texts = list(_candidate_texts(vacancy))
        assert len(texts) > 10 and render(vacancy.title, "nl") in texts
        assert [t for t in texts if OPEN_UNTIL_FILLED.search(t)] == [], vacancy.id


# ---------------------------------------------------------------- bugs found by these tests, fixed


@pytest.mark.parametrize("typed", ["²", "①"])
def test_typing_a_unicode_digit_at_a_choice_question_is_re_asked(typed, engine, clock):
    chat = applicant(engine, clock, SPECS["vera"])
    chat.answer_all(SPECS["vera"].script, stop_at=["diploma.level"])
    chat.say(typed).expect("Kies een van de knoppen").expect_question("diploma.level")


def test_a_forged_choice_token_with_a_unicode_digit_is_stale(engine, clock):
    chat = applicant(engine, clock, SPECS["vera"])
    chat.answer_all(SPECS["vera"].script, stop_at=["diploma.level"])
    dossier_id = chat.dossier().id
    chat.press_token(f"a:{dossier_id}:2:²").expect("al beantwoord").expect_question("diploma.level")


def test_a_button_of_another_application_is_never_applied_here(engine, clock):
    chat = applicant(engine, clock, SPECS["vera"])
    chat.answer_all(SPECS["vera"].script, stop_at=["diploma.level"])
    other = chat.dossier().id + 1000
    chat.press_token(f"a:{other}:2:4").expect("hoort bij een ander of ouder bericht")
    chat.expect_question("diploma.level")
    assert "diploma.level" not in chat.dossier().answers


def test_a_corrupt_yes_no_token_is_not_taken_for_no(engine, clock):
    spec = SPECS["nieuwpoort"]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script, stop_at=["civil_rights"])
    index = chat.tokens[0].split(":")[1]
    chat.press_token(f"a:{index}:7")
    assert chat.dossier().state == "q:civil_rights"
    assert "civil_rights" not in chat.dossier().answers


def test_a_withdraw_confirmation_only_withdraws_the_application_it_named(engine, clock):
    chat = applicant(engine, clock, SPECS["vera"])
    chat.say("Alice Peeters").say("alice@example.org")
    chat.do("withdraw").expect("Je kandidatuur voor Projectcoördinator intrekken?")
    confirm_vera = chat.token("Ja, trek in en wis")
    chat.start(SCHOOL).press("Akkoord").say("Alice Peeters")  # meanwhile: another application
    chat.press_token(confirm_vera)
    school = next(d for d in chat.data.dossiers.values() if d.vacancy_id == SCHOOL)
    assert school.status == "draft" and school.answers  # the school application is untouched


def test_a_document_no_longer_required_is_not_kept_or_submitted(engine, clock):
    spec = SPECS["vera"]
    chat = applicant(engine, clock, spec)
    chat.answer_all({**spec.script, "diploma.foreign": "Ja", "diploma.equivalence": "Ja"})
    chat.press("gelijkwaardigheidsattest van je buitenlandse diploma opladen")
    chat.upload("attest.pdf")
    chat.do("back").do("back").expect_question("diploma.equivalence")
    chat.do("back").expect_question("diploma.foreign")
    chat.press("Nee")  # not a foreign diploma after all
    upload_all(chat)
    dossier = chat.dossier()
    assert dossier.status == "submitted"
    assert {d.kind for d in chat.documents()} <= set(dossier.verdict["documents"])


def test_typing_skip_at_an_optional_question_skips_it(engine, clock):
    spec = SPECS["nieuwpoort"]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script, stop_at=["matrix.extra"])
    chat.say("Overslaan")
    assert chat.dossier().answers["matrix.extra"] == ""


@pytest.mark.parametrize("typed", ["-1", "+4", "1)", "#2"])
def test_a_signed_or_decorated_number_picks_no_diploma_by_substring(typed, engine, clock):
    """'-1' at Hardenberg's diploma question used to select 'MBO-1' (a substring match)."""
    spec = SPECS["hardenberg"]
    chat = applicant(engine, clock, spec)
    chat.answer_all(spec.script, stop_at=["diploma.level"])
    chat.say(typed).expect("Kies een van de knoppen").expect_question("diploma.level")
    assert "diploma.level" not in chat.dossier().answers


@pytest.mark.parametrize(("typed", "level"), [("mast", "master"), ("Bach", "bachelor")])
def test_a_unique_start_of_a_label_still_answers(typed, level, engine, clock):
    chat = applicant(engine, clock, SPECS["vera"])
    chat.answer_all(SPECS["vera"].script, stop_at=["diploma.level"])
    chat.say(typed)
    assert chat.dossier().answers["diploma.level"] == level
