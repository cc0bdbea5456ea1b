"""Applicant profiles, read by a recruiter from the seeds, checked against `evaluate`.

Each profile is a plain description of a candidate, the answers the bot would collect for it,
the moment of applying and what the SEED (`vacancies/seeds/*.txt`) implies for this person:

* ``not_eligible`` only when a rule the seed STATES excludes them; ``seed_quote`` is that line,
  and the failed rule ids are listed;
* ``uncertain`` when only one of our assumptions (a rule the seed does not state) is not met;
* ``conditional`` when something must still be provided (a certificate, an equivalence not yet
  there, an extract to request, an unfavourable mention the employer must assess);
* ``closed`` when the seed's closing moment has passed;
* ``eligible`` otherwise.

The expectations were written from the seeds, not from the bot. Where the bot disagrees and the
seed still supports our reading, the profile is marked ``xfail(strict=True)`` with the precise
disagreement, so the suite stays green and the disagreement stays visible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flows.eligibility import Status, evaluate
from flows.questions import compile_questions
from tests.conversation import shipped_vacancies

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = shipped_vacancies()
SEEDS = ROOT / "vacancies" / "seeds"

NIEUWPOORT = "nieuwpoort-systeembeheerder-ict"
SPL = "sint-pieters-leeuw-projectmedewerker-samenleven"
VERA = "vera-projectcoordinator"
HARDENBERG = "hardenberg-medewerker-intern-service-punt"
SCHOOL = "school-ict-coordinator"

BRUSSELS = ZoneInfo("Europe/Brussels")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

# Moments of applying. Nieuwpoort closes 2 Aug 2025 00:00 Brussels ("uiterlijk 1 augustus
# 2025"), Hardenberg 14 Jul 2026 09:00 Amsterdam; SPL, VERA and the school state no deadline.
NIEUWPOORT_NOW = datetime(2025, 7, 15, 12, 0, tzinfo=BRUSSELS)
HARDENBERG_NOW = datetime(2026, 7, 1, 12, 0, tzinfo=AMSTERDAM)
UNDATED_NOW = datetime(2026, 3, 2, 10, 0, tzinfo=BRUSSELS)

# Nieuwpoort: "een recent uittreksel uit het strafregister (max. 3 maanden oud)".
RECENT_EXTRACT = date(2025, 5, 20)  # under 2 months old on 15 July 2025

# Our reading where the bot differs: a candidate who already HOLDS the proof the seed asks for
# meets the rule, just as a Belgian bachelor who must still send a copy of the diploma does.
# A product decision, not a reading of the seeds: a proof the candidate already holds (an
# equivalence statement, a language certificate, a diploma valuation) is a condition until it is
# uploaded — the bot cannot see it before — while a domestic diploma is "met" on the answer and
# its copy is just a document. A recruiter may read such a candidate as eligible; the dossier
# reaches them the same way once the proof is uploaded.
HELD_PROOF = "conditional until the held proof is uploaded"


def _matrix_levels() -> list[str]:
    questions = compile_questions(CATALOGUE[NIEUWPOORT])
    return [q.id.removesuffix(".level") for q in questions
            if q.id.startswith("matrix.") and q.id.endswith(".level")]


def _matrix(level: str, years: int) -> dict[str, Any]:
    """The knowledge matrix filled in with one level throughout (it never excludes)."""
    out: dict[str, Any] = {}
    for base in _matrix_levels():
        out[f"{base}.level"] = level
        if level != "none":
            out[f"{base}.years"] = years
    out["matrix.extra"] = "-"
    return out


def nieuwpoort(**changes: Any) -> dict[str, Any]:
    """A Flemish bachelor in applied informatics with everything in order; then the changes."""
    answers: dict[str, Any] = {
        "candidate.name": "Kandidaat",
        "candidate.email": "kandidaat@example.org",
        "diploma.level": "bachelor",
        "diploma.foreign": False,
        "language.dutch_education": True,
        "civil_rights": True,
        "record.has_extract": True,
        "record.issued_on": RECENT_EXTRACT,
        "record.mention": False,
        **_matrix("operational", 3),
    }
    answers.update({k.replace("__", "."): v for k, v in changes.items()})
    return answers


def belgian(**changes: Any) -> dict[str, Any]:
    """SPL / VERA: a Belgian diploma from Dutch-language education; then the changes."""
    answers: dict[str, Any] = {
        "candidate.name": "Kandidaat",
        "candidate.email": "kandidaat@example.org",
        "diploma.level": "master",
        "diploma.foreign": False,
        "language.dutch_education": True,
    }
    answers.update({k.replace("__", "."): v for k, v in changes.items()})
    return answers


def hardenberg(**changes: Any) -> dict[str, Any]:
    """An mbo-4 ICT servicedesk employee meeting every knock-out; then the changes."""
    answers: dict[str, Any] = {
        "candidate.name": "Kandidaat",
        "candidate.email": "kandidaat@example.org",
        "diploma.level": "mbo-4",
        "diploma.foreign": False,
        "customer_contact.years": 6,
        "multidisciplinary": True,
        "government_ict": True,
        "score.education_field": True,
        "score.process_improvement": True,
        "score.topdesk": 3,
        "score.municipal_customer_contact": 6,
    }
    answers.update({k.replace("__", "."): v for k, v in changes.items()})
    return answers


def school(**changes: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "candidate.name": "Kandidaat",
        "candidate.email": "kandidaat@example.org",
    }
    answers.update({k.replace("__", "."): v for k, v in changes.items()})
    return answers


@dataclass(frozen=True)
class Profile:
    vacancy: str
    name: str
    description: str
    answers: dict[str, Any]
    now: datetime
    expected: Status
    failed: frozenset[str] = frozenset()  # rule ids that exclude (not_eligible only)
    seed_quote: str | None = None  # the seed line that excludes (not_eligible only)
    score: int | None = None  # Hardenberg's indicative points, where worth checking
    disagreement: str | None = None  # set: the bot differs from our reading (xfail)
    marks: tuple[Any, ...] = field(default=())


N_DIPLOMA = ("In het bezit zijn van ofwel een bachelordiploma, ofwel een diploma van het hoger "
             "onderwijs van één cyclus of daarmee gelijkgesteld onderwijs;")
N_CIVIL = "De burgerlijke en politieke rechten genieten;"
N_EXCLUDED = "Indien je niet voldoet aan de opgesomde voorwaarden, word je uitgesloten"
H_DIPLOMA = "1. Aantoonbare afgeronde opleiding op minimaal mbo-4 niveau;"
H_YEARS = ("2. Minimaal 5 jaar aantoonbare werkervaring in een dienstverlenende "
           "klantcontactfunctie")
H_MULTI = ("3. Aantoonbare werkervaring met het werken in multidisciplinaire teams vanuit het "
           "meedraaien in projecten")
H_GOV = ("4. Aantoonbare werkervaring binnen het complexe en veranderende ICT-landschap van "
         "een overheidsinstelling")
H_KNOCKOUT = "De kandidaten die niet voldoen worden niet verder beoordeeld."

E, NE, U, C, CL = (Status.ELIGIBLE, Status.NOT_ELIGIBLE, Status.UNCERTAIN, Status.CONDITIONAL,
                   Status.CLOSED)
RV = Status.REVIEW  # the employer judges a point itself (an unfavourable mention)

PROFILES: list[Profile] = [
    # ------------------------------------------------------------ 000 Nieuwpoort (BE)
    Profile(NIEUWPOORT, "n-bachelor-in-order",
            "Bachelor toegepaste informatica (Howest), Nederlandstalig onderwijs, burgerrechten "
            "ja, uittreksel van 20 mei zonder vermelding, kennismatrix operationeel",
            nieuwpoort(), NIEUWPOORT_NOW, E),
    Profile(NIEUWPOORT, "n-master-no-matrix-knowledge",
            "Master industriële wetenschappen (KU Leuven), Nederlandstalig, uittreksel recent "
            "zonder vermelding, geen kennis van één technologie uit de kennismatrix (de "
            "matrix is geen toelatingsvoorwaarde)",
            nieuwpoort(diploma__level="master", **_matrix("none", 0)), NIEUWPOORT_NOW, E),
    Profile(NIEUWPOORT, "n-morocco-equivalence-requested",
            "Master in informatica behaald in Marokko, equivalentie aangevraagd, Nederlandstalig "
            "onderwijs nee, taalattest nee, uittreksel 2 maanden oud zonder vermelding",
            nieuwpoort(diploma__level="master", diploma__foreign=True,
                       diploma__equivalence=False, language__dutch_education=False,
                       language__certificate=False, record__issued_on=date(2025, 5, 15)),
            NIEUWPOORT_NOW, C),
    Profile(NIEUWPOORT, "n-secundair-experienced",
            "Diploma secundair onderwijs (TSO informatica) met 12 jaar ervaring als "
            "systeembeheerder, verder alles in orde",
            nieuwpoort(diploma__level="secundair"), NIEUWPOORT_NOW, NE,
            failed=frozenset({"diploma"}), seed_quote=N_DIPLOMA),
    Profile(NIEUWPOORT, "n-graduaat",
            "Graduaat informatica (HBO5): geen bachelor; of het 'hoger onderwijs van één cyclus "
            "of daarmee gelijkgesteld onderwijs' is, beoordeelt het college (niet uitsluiten)",
            nieuwpoort(diploma__level="graduaat"), NIEUWPOORT_NOW, U),
    Profile(NIEUWPOORT, "n-no-civil-rights",
            "Bachelor informatica, maar ontzet uit de burgerlijke en politieke rechten",
            nieuwpoort(civil_rights=False), NIEUWPOORT_NOW, NE,
            failed=frozenset({"civil_rights"}), seed_quote=N_CIVIL),
    Profile(NIEUWPOORT, "n-no-diploma-no-civil-rights",
            "Geen diploma en geen burgerlijke en politieke rechten: twee gestelde voorwaarden "
            "niet vervuld",
            nieuwpoort(diploma__level="none", civil_rights=False), NIEUWPOORT_NOW, NE,
            failed=frozenset({"diploma", "civil_rights"}), seed_quote=N_EXCLUDED),
    Profile(NIEUWPOORT, "n-mention-explained",
            "Bachelor, Nederlandstalig, uittreksel met een ongunstige vermelding; voegt een "
            "schriftelijke toelichting toe (het college oordeelt)",
            nieuwpoort(record__mention=True, record__explain=True), NIEUWPOORT_NOW, RV),
    Profile(NIEUWPOORT, "n-mention-unexplained",
            "Bachelor, uittreksel met een ongunstige vermelding, geen toelichting (de brochure: "
            "'mag je ... voorleggen', dus geen uitsluiting; het college oordeelt)",
            nieuwpoort(record__mention=True, record__explain=False), NIEUWPOORT_NOW, RV),
    Profile(NIEUWPOORT, "n-no-extract-yet",
            "Bachelor, Nederlandstalig, heeft nog geen uittreksel uit het strafregister",
            nieuwpoort(record__has_extract=False), NIEUWPOORT_NOW, C),
    Profile(NIEUWPOORT, "n-extract-exactly-3-months",
            "Uittreksel uitgereikt op 1 mei 2025, solliciteert op 1 augustus 2025 om 12:00: "
            "precies 3 maanden oud, dus nog 'max. 3 maanden oud'",
            nieuwpoort(record__issued_on=date(2025, 5, 1)),
            datetime(2025, 8, 1, 12, 0, tzinfo=BRUSSELS), E),
    Profile(NIEUWPOORT, "n-extract-too-old",
            "Uittreksel uitgereikt op 30 april 2025, solliciteert op 1 augustus 2025: ouder dan "
            "3 maanden, moet een nieuw aanvragen",
            nieuwpoort(record__issued_on=date(2025, 4, 30)),
            datetime(2025, 8, 1, 12, 0, tzinfo=BRUSSELS), C),
    Profile(NIEUWPOORT, "n-last-minute",
            "Alles in orde, solliciteert op 1 augustus 2025 om 23:59 ('uiterlijk 1 augustus')",
            nieuwpoort(), datetime(2025, 8, 1, 23, 59, tzinfo=BRUSSELS), E),
    Profile(NIEUWPOORT, "n-too-late",
            "Alles in orde, solliciteert op 2 augustus 2025 om 00:00: na 'uiterlijk 1 augustus'",
            nieuwpoort(), datetime(2025, 8, 2, 0, 0, tzinfo=BRUSSELS), CL),
    Profile(NIEUWPOORT, "n-dutch-hbo-equivalence-held",
            "Hbo-bachelor informatica uit Nederland (Nederlandstalig onderwijs), "
            "gelijkwaardigheidsattest van NARIC al in handen",
            nieuwpoort(diploma__foreign=True, diploma__equivalence=True), NIEUWPOORT_NOW,
            C),  # a proof in hand stays a condition until uploaded (HELD_PROOF)
    Profile(NIEUWPOORT, "n-french-bachelor-certificate-held",
            "Franstalige bachelor (Haute École, Bergen), taalattest Nederlands (Selor/Jobpunt) "
            "al behaald",
            nieuwpoort(language__dutch_education=False, language__certificate=True),
            NIEUWPOORT_NOW, C),  # a proof in hand stays a condition until uploaded (HELD_PROOF)
    # ------------------------------------------------------------ 001 Sint-Pieters-Leeuw (BE)
    # The seed states no admission condition at all: the bachelor (level 'Deskundige') and the
    # knowledge of Dutch are our assumptions, so nobody is excluded.
    Profile(SPL, "spl-bachelor-social-work",
            "Bachelor sociaal werk (Odisee), Nederlandstalig onderwijs",
            belgian(diploma__level="bachelor"), UNDATED_NOW, E),
    Profile(SPL, "spl-master",
            "Master sociologie (UGent), Nederlandstalig onderwijs",
            belgian(), UNDATED_NOW, E),
    Profile(SPL, "spl-secundair-experienced",
            "Diploma secundair onderwijs, 10 jaar buurtwerker; het niveau 'Deskundige' wordt "
            "in de seed niet aan een diploma gekoppeld",
            belgian(diploma__level="secundair"), UNDATED_NOW, U),
    Profile(SPL, "spl-no-diploma",
            "Geen diploma, ervaren vrijwilligerscoördinator, Nederlandstalig",
            belgian(diploma__level="none"), UNDATED_NOW, U),
    Profile(SPL, "spl-congo-equivalence-requested",
            "Bachelor uit Congo (Franstalig), equivalentie aangevraagd, geen taalattest",
            belgian(diploma__level="bachelor", diploma__foreign=True,
                    diploma__equivalence=False, language__dutch_education=False,
                    language__certificate=False), UNDATED_NOW, C),
    Profile(SPL, "spl-ulb-no-certificate",
            "Master ULB (Franstalig onderwijs in Brussel), nog geen taalattest",
            belgian(language__dutch_education=False, language__certificate=False),
            UNDATED_NOW, C),
    Profile(SPL, "spl-secundair-no-dutch-proof",
            "Diploma secundair (Franstalig), geen taalattest: twee aannames, waarvan het "
            "diploma niet gehaald wordt",
            belgian(diploma__level="secundair", language__dutch_education=False,
                    language__certificate=False), UNDATED_NOW, U),
    # ------------------------------------------------------------ 002 VERA (BE)
    # The seed states no admission condition; the master (career A1a-A2a-A3a) is assumed.
    Profile(VERA, "vera-master",
            "Master handelsingenieur (KU Leuven), Nederlandstalig onderwijs",
            belgian(), UNDATED_NOW, E),
    Profile(VERA, "vera-bachelor-senior-pm",
            "Bachelor bedrijfsmanagement met 15 jaar projectleiding bij gemeenten; de seed "
            "noemt alleen 'FUNCTIONELE LOOPBAAN A1a-A2a-A3a', geen diploma",
            belgian(diploma__level="bachelor"), UNDATED_NOW, U),
    Profile(VERA, "vera-secundair",
            "Diploma secundair onderwijs, Nederlandstalig",
            belgian(diploma__level="secundair"), UNDATED_NOW, U),
    Profile(VERA, "vera-no-diploma",
            "Geen diploma, zelfstandig IT-consultant",
            belgian(diploma__level="none"), UNDATED_NOW, U),
    Profile(VERA, "vera-dutch-wo-equivalence-requested",
            "Wo-master uit Nederland (Nederlandstalig onderwijs), gelijkwaardigheid aangevraagd",
            belgian(diploma__foreign=True, diploma__equivalence=False), UNDATED_NOW, C),
    Profile(VERA, "vera-french-master-no-certificate",
            "Master UCLouvain (Franstalig), nog geen taalattest Nederlands",
            belgian(language__dutch_education=False, language__certificate=False),
            UNDATED_NOW, C),
    Profile(VERA, "vera-polish-bachelor",
            "Bachelor uit Polen, equivalentie nog niet aangevraagd, geen Nederlandstalig "
            "onderwijs en geen taalattest: het veronderstelde master-niveau ontbreekt",
            belgian(diploma__level="bachelor", diploma__foreign=True,
                    diploma__equivalence=False, language__dutch_education=False,
                    language__certificate=False), UNDATED_NOW, U),
    # ------------------------------------------------------------ 003 Hardenberg (NL)
    Profile(HARDENBERG, "h-mbo4-ict-all-knockouts",
            "Mbo-4 ICT-beheer, 6 jaar servicedesk bij een gemeente, projecten in "
            "multidisciplinaire teams, overheids-ICT, 3 jaar TOPdesk",
            hardenberg(), HARDENBERG_NOW, E, score=100),
    Profile(HARDENBERG, "h-hbo-exactly-5-years",
            "Hbo bedrijfskunde (niet ICT/FM), precies 5 jaar klantenservice ('minimaal 5 jaar'), "
            "procesverbetering ja, precies 2 jaar TOPdesk ('tussen 1 en 2 jaar': 15), 5 jaar "
            "bij een gemeente ('tussen 4 en 5 jaar': 15)",
            hardenberg(diploma__level="hbo", customer_contact__years=5,
                       score__education_field=False, score__topdesk=2,
                       score__municipal_customer_contact=5),
            HARDENBERG_NOW, E, score=50),
    Profile(HARDENBERG, "h-no-topdesk-no-municipality",
            "Mbo-4, 7 jaar frontoffice bij een zorgverzekeraar, wel overheids-ICT via "
            "detachering, geen TOPdesk: lage score, maar score sluit niet uit",
            hardenberg(score__education_field=False, score__process_improvement=False,
                       score__topdesk=0, score__municipal_customer_contact=0),
            HARDENBERG_NOW, E, score=0),
    Profile(HARDENBERG, "h-havo",
            "Havo, 7 jaar klantenservice, verder alle knock-outs: havo heeft het niveau van mbo-4 "
            "maar is geen mbo-opleiding; de vacature zegt niet of het telt (niet uitsluiten)",
            hardenberg(diploma__level="havo"), HARDENBERG_NOW, U),
    Profile(HARDENBERG, "h-vwo",
            "Vwo, verder alle knock-outs: zelfde vraag als havo",
            hardenberg(diploma__level="vwo"), HARDENBERG_NOW, U),
    Profile(HARDENBERG, "h-mbo3",
            "Mbo-3 servicedesk-medewerker, verder alle knock-outs",
            hardenberg(diploma__level="mbo-3"), HARDENBERG_NOW, NE,
            failed=frozenset({"diploma"}), seed_quote=H_DIPLOMA),
    Profile(HARDENBERG, "h-4-5-years",
            "Mbo-4, 4,5 jaar klantcontact: minder dan 'minimaal 5 jaar'",
            hardenberg(customer_contact__years=4.5), HARDENBERG_NOW, NE,
            failed=frozenset({"customer_contact"}), seed_quote=H_YEARS),
    Profile(HARDENBERG, "h-no-multidisciplinary",
            "Mbo-4, 8 jaar servicebalie, nooit in projecten of multidisciplinaire teams",
            hardenberg(multidisciplinary=False), HARDENBERG_NOW, NE,
            failed=frozenset({"multidisciplinary"}), seed_quote=H_MULTI),
    Profile(HARDENBERG, "h-no-government-ict",
            "Mbo-4, 10 jaar interne servicedesk bij een bank, geen overheid",
            hardenberg(government_ict=False), HARDENBERG_NOW, NE,
            failed=frozenset({"government_ict"}), seed_quote=H_GOV),
    Profile(HARDENBERG, "h-three-knockouts",
            "Mbo-2, 3 jaar klantcontact, geen projectervaring",
            hardenberg(diploma__level="mbo-2", customer_contact__years=3,
                       multidisciplinary=False), HARDENBERG_NOW, NE,
            failed=frozenset({"diploma", "customer_contact", "multidisciplinary"}),
            seed_quote=H_KNOCKOUT),
    Profile(HARDENBERG, "h-syria-valuation-requested",
            "Hbo-niveau diploma uit Syrië, diplomawaardering (IDW) aangevraagd, 6 jaar "
            "servicedesk bij een gemeente",
            hardenberg(diploma__level="hbo", diploma__foreign=True,
                       diploma__equivalence=False), HARDENBERG_NOW, C),
    Profile(HARDENBERG, "h-before-0900",
            "Alles in orde, reageert op 14 juli 2026 om 08:59",
            hardenberg(), datetime(2026, 7, 14, 8, 59, tzinfo=AMSTERDAM), E),
    Profile(HARDENBERG, "h-at-0900",
            "Alles in orde, reageert op 14 juli 2026 om 09:00 ('tot ... 09.00 uur')",
            hardenberg(), datetime(2026, 7, 14, 9, 0, tzinfo=AMSTERDAM), CL),
    Profile(HARDENBERG, "h-belgian-bachelor-valuation-held",
            "Belgische professionele bachelor (Nederlandstalig), IDW-diplomawaardering "
            "'hbo-bachelor' al in handen",
            hardenberg(diploma__level="hbo", diploma__foreign=True, diploma__equivalence=True),
            HARDENBERG_NOW, C),  # a proof in hand stays a condition until uploaded (HELD_PROOF)
    # ------------------------------------------------------------ 004 School (BE)
    # The template states no admission condition; the extract model 2 is our assumption.
    Profile(SCHOOL, "school-extract-in-order",
            "Bachelor toegepaste informatica, uittreksel model 2 van een maand oud, geen "
            "vermelding",
            school(record__has_extract=True, record__issued_on=date(2026, 2, 1),
                   record__mention=False), UNDATED_NOW, E),
    Profile(SCHOOL, "school-no-diploma",
            "Geen diploma (de seed stelt geen diplomavereiste), uittreksel model 2 recent",
            school(record__has_extract=True, record__issued_on=date(2026, 2, 20),
                   record__mention=False), UNDATED_NOW, E),
    Profile(SCHOOL, "school-extract-exactly-3-months",
            "Uittreksel uitgereikt op 2 december 2025, solliciteert op 2 maart 2026",
            school(record__has_extract=True, record__issued_on=date(2025, 12, 2),
                   record__mention=False), UNDATED_NOW, E),
    Profile(SCHOOL, "school-no-extract",
            "Leraar informatica, heeft nog geen uittreksel model 2",
            school(record__has_extract=False), UNDATED_NOW, C),
    Profile(SCHOOL, "school-extract-5-months",
            "Uittreksel van 5 maanden oud: een nieuw aanvragen",
            school(record__has_extract=True, record__issued_on=date(2025, 10, 1),
                   record__mention=False), UNDATED_NOW, C),
    Profile(SCHOOL, "school-mention-explained",
            "Uittreksel recent met een ongunstige vermelding, voegt een toelichting toe",
            school(record__has_extract=True, record__issued_on=date(2026, 2, 1),
                   record__mention=True, record__explain=True), UNDATED_NOW, RV),
    Profile(SCHOOL, "school-mention-unexplained",
            "Uittreksel recent met een ongunstige vermelding, geen toelichting (de seed zegt "
            "niets over het uittreksel: de school oordeelt)",
            school(record__has_extract=True, record__issued_on=date(2026, 2, 1),
                   record__mention=True, record__explain=False), UNDATED_NOW, RV),
]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _seed(vacancy_id: str) -> str:
    return _norm((SEEDS / CATALOGUE[vacancy_id].seed).read_text(encoding="utf-8"))


def _param(profile: Profile) -> Any:
    marks = list(profile.marks)
    if profile.disagreement:
        marks.append(pytest.mark.xfail(strict=True, reason=profile.disagreement))
    return pytest.param(profile, id=profile.name, marks=marks)


@pytest.mark.parametrize("profile", [_param(p) for p in PROFILES])
def test_profile(profile: Profile) -> None:
    vacancy = CATALOGUE[profile.vacancy]
    verdict = evaluate(vacancy, profile.answers, profile.now)
    failed = verdict.failed
    detail = [(r.rule_id, r.outcome.value, r.message.key) for r in verdict.reasons]
    assert verdict.status == profile.expected, (profile.description, detail)
    if profile.expected is Status.NOT_ELIGIBLE:
        seed = _seed(profile.vacancy)
        assert {r.rule_id for r in failed} == profile.failed, detail
        for reason in failed:
            assert reason.source, f"{reason.rule_id} excludes without a seed quote"
            assert _norm(reason.source) in seed, reason.source
    else:
        assert not failed, detail
    if profile.score is not None:
        assert verdict.score == profile.score


def test_profiles_are_well_formed() -> None:
    """Every profile answers only real questions with allowed values, and says why it fails."""
    names = [p.name for p in PROFILES]
    assert len(names) == len(set(names))
    for profile in PROFILES:
        vacancy = CATALOGUE[profile.vacancy]
        questions = {q.id: q for q in compile_questions(vacancy)}
        for qid, value in profile.answers.items():
            assert qid in questions, (profile.name, qid)
            allowed = questions[qid].option_values()
            if allowed is not None:
                assert value in allowed, (profile.name, qid, value)
        if profile.expected is Status.NOT_ELIGIBLE:
            assert profile.failed and profile.seed_quote, profile.name
            assert _norm(profile.seed_quote) in _seed(profile.vacancy), profile.seed_quote
        else:
            assert not profile.failed and profile.seed_quote is None, profile.name
    per_vacancy = {v: sum(p.vacancy == v for p in PROFILES) for v in CATALOGUE}
    assert all(n >= 6 for n in per_vacancy.values()), per_vacancy
