"""The privacy notice per vacancy: which fields, for what, who sees them, how long (the period
the retention job applies), where, and the candidate's commands; readable on a phone, the rest
one button away ("Meer over privacy"), and nothing stored before the candidate agrees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.simulation_stats import LIMIT_ANY
from flows import replies as R
from flows.engine import PRIVACY_VERSION
from flows.ports import DossierRecord
from flows.retention import kept
from flows.vacancy import Vacancy
from tests.conversation import Chat, Clock, make_engine
from tests.conversation import shipped_vacancies as vacancies

HARDENBERG = "hardenberg-medewerker-intern-service-punt"
NIEUWPOORT = "nieuwpoort-systeembeheerder-ict"
SCHOOL = "school-ict-coordinator"
SPL = "sint-pieters-leeuw-projectmedewerker-samenleven"
VERA = "vera-projectcoordinator"
OPEN_AT = {NIEUWPOORT: datetime(2025, 7, 1, 10, tzinfo=UTC),
           HARDENBERG: datetime(2026, 7, 1, 10, tzinfo=UTC)}

# What every notice says, in each language: the fields, the purpose, the commands.
SAID = {
    "nl": ("We bewaren je naam en e-mailadres, je antwoorden op de vragen van deze vacature, je "
           "documenten (met hun bestandsnaam) en je vragen aan de recruiters.",
           "Waarvoor: alleen om je", "te beoordelen.",
           "/mydata geeft je een kopie van alles", "/withdraw trekt je", "/delete wist alles",
           "We bewaren niets tot je hieronder akkoord gaat."),
    "en": ("We keep your name and e-mail address, your answers to this vacancy's questions, "
           "your documents (with their file names) and your questions to the recruiters.",
           "What for: only to assess your application.",
           "/mydata gives you a copy of everything", "/withdraw withdraws your application",
           "/delete erases everything", "We store nothing until you agree below."),
}
# How long, as this vacancy's notice says it: the seed's reserve, or our own period.
HOW_LONG = {
    NIEUWPOORT: ("Hoe lang: tot het einde van de selectie; een ingediende kandidatuur nog 2 jaar "
                 "langer: zo lang loopt de wervingsreserve volgens de vacature.",
                 "How long: until the end of the selection; a submitted application 2 years "
                 "longer: that is how long the recruitment reserve runs, according to the "
                 "vacancy."),
    HARDENBERG: ("Hoe lang: hoogstens 1 jaar na je sollicitatie (die termijn hanteren wij zelf: "
                 "de vacature noemt er geen).",
                 "How long: at most 1 year after your application (a period of our own: the "
                 "vacancy names none)."),
    **{vacancy_id: ("Hoe lang: hoogstens 1 jaar na je kandidatuur (die termijn hanteren wij "
                    "zelf: de vacature noemt er geen).",
                    "How long: at most 1 year after your application (a period of our own: "
                    "the vacancy names none).")
       for vacancy_id in (SCHOOL, SPL, VERA)},
}
# "Meer over privacy": the dates of that promise.
DATED = {
    NIEUWPOORT: "Hoe lang: een ingediende kandidatuur tot 16 september 2027, een andere tot het "
                "einde van de selectie (16 september 2025).",
    HARDENBERG: "Hoe lang: een ingediende sollicitatie tot 1 jaar na de dag dat je begint, een "
                "andere tot het einde van de selectie (20 juli 2026).",
    **{vacancy_id: "Hoe lang: je kandidatuur tot 1 jaar na de dag dat je begint, ingediend of "
                   "niet." for vacancy_id in (SCHOOL, SPL, VERA)},
}


@pytest.mark.parametrize("vacancy_id", sorted(HOW_LONG))
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_notice_says_what_why_who_how_long_and_the_commands(vacancy_id, lang):
    vacancy = vacancies()[vacancy_id]
    reply = R.privacy_notice(vacancy, lang)
    text = reply.text()
    for fragment in SAID[lang]:
        assert fragment in text, text
    who = vacancy.employer_ref.get(lang)
    assert (f"Wie ze ziet: de recruiters van {who} en de beheerders van deze bot." in text
            if lang == "nl" else
            f"Who sees them: the recruiters of {who} and the people who run this bot." in text)
    assert HOW_LONG[vacancy_id][lang == "en"] in text, text
    assert len(text) <= LIMIT_ANY
    assert reply.labels() == (["Akkoord, verder", "Niet akkoord", "Meer over privacy"]
                              if lang == "nl" else
                              ["I agree, continue", "I do not agree", "More about privacy"])


@pytest.mark.parametrize("vacancy_id", sorted(DATED))
def test_more_about_privacy_gives_the_basis_the_place_the_dates_and_whom_to_complain_to(
        vacancy_id):
    vacancy = vacancies()[vacancy_id]
    reply = R.privacy_details(vacancy, "nl")
    text = reply.text()
    assert "Stappen vóór een contract (AVG art. 6.1.b)".lower() in text.lower()
    assert ("Waar: op de server van deze bot. Je documenten zijn versleuteld met een sleutel die "
            "alleen voor jou dient.") in text
    assert DATED[vacancy_id] in text, text
    assert "Daarna wissen we ze automatisch, met de bestanden." in text
    authority = ("de Autoriteit Persoonsgegevens" if vacancy.country == "NL"
                 else "de Gegevensbeschermingsautoriteit")
    assert text.endswith(f"bij {authority}." if vacancy.country == "NL"
                         else f"aan {authority}.")
    assert len(text) <= LIMIT_ANY and len(R.privacy_details(vacancy, "en").text()) <= LIMIT_ANY
    assert reply.labels() == ["Akkoord, verder", "Niet akkoord"]


@pytest.mark.parametrize("vacancy_id, asks_extract", [
    (NIEUWPOORT, True), (SCHOOL, True),
    # Hardenberg's VOG comes later, from the client itself: the bot stores nothing of it.
    (HARDENBERG, False), (SPL, False), (VERA, False)])
def test_the_criminal_record_extract_is_explained_where_the_bot_collects_it(vacancy_id,
                                                                          asks_extract):
    text = R.privacy_details(vacancies()[vacancy_id], "nl").text()
    english = R.privacy_details(vacancies()[vacancy_id], "en").text()
    assert ("AVG art. 10" in text) is asks_extract
    assert ("GDPR Art. 10" in english) is asks_extract
    if asks_extract:
        assert "als openbare werkgever" in text
        assert ("Het bestand wissen we zodra de recruiters het hebben; we houden alleen bij of "
                "je het gaf, welk model, de datum van afgifte en of er een vermelding op staat."
                ) in text


def _submitted(vacancy: Vacancy, at: datetime, status: str = "submitted") -> DossierRecord:
    return DossierRecord(id=1, candidate_id=1, vacancy_id=vacancy.id, state=status,
                         status=status, answers={}, language="nl", consented_at=at,
                         privacy_version=PRIVACY_VERSION, created_at=at, updated_at=at)


@pytest.mark.parametrize("vacancy_id, day", [(NIEUWPOORT, "16 september 2027"),
                                             (HARDENBERG, "20 juli 2026")])
def test_the_dates_the_notice_gives_are_the_ones_the_retention_applies(vacancy_id, day):
    vacancy = vacancies()[vacancy_id]
    status = "submitted" if vacancy.reserve else "draft"
    until = kept(vacancy, _submitted(vacancy, OPEN_AT[vacancy_id], status)).until
    assert f"{until.day} {'september' if until.month == 9 else 'juli'} {until.year}" == day
    assert day in R.privacy_details(vacancy, "nl").text()


def test_a_period_the_vacancy_text_states_is_not_said_as_ours():
    data = vacancies()[VERA].model_dump(by_alias=True)
    data["retention"] = {"months": 18, "source": "Je gegevens worden 18 maanden bewaard."}
    text = R.privacy_notice(Vacancy.model_validate(data), "nl").text()
    assert "Hoe lang: hoogstens 18 maanden na je kandidatuur, zoals de vacature vermeldt." in text
    assert "wij zelf" not in text


@pytest.fixture
def clock() -> Clock:
    return Clock(OPEN_AT[NIEUWPOORT])


@pytest.fixture
def engine(tmp_path, clock):
    return make_engine(tmp_path, clock)


def test_more_about_privacy_stores_nothing_and_its_agree_starts(engine):
    chat = Chat(engine, "mona")
    chat.start(NIEUWPOORT).press("Meer over privacy").expect("🔒 Meer over privacy — "
                                                              "Systeembeheerder ICT")
    data = chat.data
    assert (data.candidates, data.dossiers, data.outbox, data.audit) == ({}, {}, [], [])
    chat.press("Akkoord").expect("Bedankt. We beginnen.", "Hoe heet je?")
    assert chat.dossier().privacy_version == PRIVACY_VERSION == "2026-11-29"


def test_more_about_privacy_in_english_and_after_declining(engine):
    chat = Chat(engine, "nora", lang="en-GB")
    chat.start(NIEUWPOORT).press("More about privacy").expect(
        "How long: a submitted application until 16 September 2027, any other until the end of "
        "the selection (16 September 2025).")
    chat.press("I do not agree").expect("No problem: we have stored nothing about you.")
    assert chat.data.candidates == {}
