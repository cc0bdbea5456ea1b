"""Language as people speak it: Dutch of Flanders and of the Netherlands, English without a
Dutch word, real plurals, numbers and durations through Babel, buttons in sentence case.

The catalogue layout (flows/messages.py): `nl` (Flemish, complete), `en` (complete) and
`nl_NL` (only what the Netherlands says differently, on top of `nl`). A reply about a vacancy
whose country is NL is said in nl_NL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from babel import Locale
from pydantic import BaseModel

from flows import replies as R
from flows.eligibility import evaluate
from flows.events import Choice, Inbound, Reply
from flows.flow import Flow
from flows.messages import (
    DEFAULT_LOCALES,
    VARIANTS,
    Msg,
    Quantity,
    catalogue,
    catalogue_path,
    forms,
    locale_for,
    placeholders,
    plural_categories,
    read_catalogue,
    render,
)
from flows.questions import compile_questions
from flows.vacancy import Assumption, Text, Vacancy
from tests.conversation import AMSTERDAM, TODAY, Chat, Clock, make_engine
from tests.conversation import shipped_vacancies as vacancies

HARDENBERG = "hardenberg-medewerker-intern-service-punt"
NIEUWPOORT = "nieuwpoort-systeembeheerder-ict"

# Words and phrases of Flemish Dutch that the Netherlands does not use in this sense, with
# what it says instead. A text of `nl` that holds one needs an `nl_NL` override.
FLEMISH_ONLY = {
    r"\bkandidatu(?:ur|ren)\b": "sollicitatie",
    r"\bop(?:ge)?laden\b|\bop te laden\b": "uploaden",
    r"\bkan je\b|\bje kan\b": "kun je, je kunt",
    r"\bgsm\b": "mobiele telefoon",
    r"\bbezorg(?:en|t)?\b": "aanleveren",
    r"\bhou het\b": "houd het",
    r"\bom het even\b": "elke, maakt niet uit",
    r"\binkijken\b": "inzien",
    r"\b(?:taal)?attest\b": "(taal)certificaat",
    r"\bloon\b": "salaris, beloning",
    r"\bvoornaam en naam\b": "voornaam en achternaam",
    r"\buitgereikt\b": "afgegeven",
}
FLEMISH = re.compile("|".join(FLEMISH_ONLY), re.IGNORECASE)

# Words of the Dutch catalogue that are English too, or names English texts use as they are.
# Anything else of the Dutch catalogue in an English text is a Dutch word that slipped through.
# A new Dutch text with a word that is also English may make the English test fail: add the
# word here if it is English (or a name), else fix the English text.
ALSO_ENGLISH = {
    # the same word in both languages
    "in", "is", "of", "we", "was", "me", "be", "begin", "later", "open", "moment", "rest",
    "letters", "start", "score", "contract", "document", "dossier", "dossiers", "procedure",
    "export", "status", "help", "chat", "bot", "id", "e", "mail", "via", "max", "mb", "kb", "detail",
    "diploma", "bachelor", "master", "privacy", "recruiters", "scripts", "json",
    # likely in a future text of either language: words English and Dutch write alike
    "cv", "pdf", "docx", "doc", "odt", "jpg", "png", "ict", "team", "teams", "online",
    "website", "manager", "assessment", "interview", "test", "project", "service", "desk",
    "support", "ok", "contact", "reply", "over", "even", "audio", "video", "model", "server",
    # commands, status codes and language names the Dutch texts show as they are
    "back", "restart", "withdraw", "vacancies", "language", "mydata", "delete", "draft",
    "collecting", "stats", "dashboard",
    "submitted", "withdrawn", "expired", "ineligible", "english", "nederlands",
    "invited", "declined", "document_asked", "reviewed", "asked",
    # file formats and the names of settings (RECRUITER_CHAT_ID in .env)
    "csv", "env", "recruiter", "url",
    # the dashboard's words, the same in both: a (Telegram) account, a link, filters
    "telegram", "account", "link", "filters",
    # names: of Dutch and Belgian education levels, authorities, people in examples, places
    "mbo", "havo", "vwo", "hbo", "wo", "graduaat", "autoriteit", "persoonsgegevens", "sofie",
    "janssens", "nieuwpoort", "hardenberg", "flextender", "vog", "topdesk",
    "diplomawaardering",  # IDW, "Internationale Diplomawaardering", named as it is
    # legal citations: "art. 6.1.b" (AVG) and "Art. 6(1)(b)" (GDPR)
    "art", "b",
}
# Keys that are bilingual by design ("Kies je taal / Choose your language").
BILINGUAL = {"language.choose", "cmd.language", "language.name.nl", "language.name.en"}
LETTERS = "A-Za-zÀ-ÖØ-öø-ÿ"  # Latin letters: not the ℹ of "ℹ️"
WORD = re.compile(f"[{LETTERS}]+(?:['’][{LETTERS}]+)*")
HOW_TO_FIX = ("a word of the Dutch catalogue in an English text: translate it, or, if it is "
              "English too (or a name), add it to ALSO_ENGLISH")
# Quoted text is the vacancy's own words (a seed quote, a Dutch term explained) and stays
# verbatim: “…”, "…", ‘…’, and '…' that is not an apostrophe.
QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|‘[^’]*’|(?<![\w])'[^'\n]+'(?![\w])")


def words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(re.sub(r"\{\w+\}", " ", text))}


def dutch_words() -> set[str]:
    """Every word of the Dutch catalogues but those that are English too."""
    found: set[str] = set()
    for folder in ("nl", *VARIANTS.values()):
        for key, entry in read_catalogue(folder).items():
            if key not in BILINGUAL:
                for form in forms(entry):
                    found |= words(form)
    return found - ALSO_ENGLISH


def dutch_in(english: str) -> set[str]:
    """The Dutch words in an English text, leaving quoted vacancy text alone."""
    return words(QUOTED.sub(" ", english)) & dutch_words()


def english_catalogue_texts() -> Iterator[tuple[str, str]]:
    """Every English text rendered with dummy values (plural ones for 1 and for 2)."""
    for key, entry in catalogue("en").items():
        if key in BILINGUAL:
            continue
        values = {name: "x" for name in placeholders(entry)}
        counts = (1, 2) if isinstance(entry, tuple) else (None,)
        for n in counts:
            yield key, render(Msg(key, {**values, **({"n": n} if n is not None else {})}), "en")


def vacancy_texts(node: object) -> Iterator[str]:
    """Every English text of a vacancy a candidate may read (a Text without `en` gives its
    Dutch: that is what an English reader would see)."""
    if isinstance(node, Text):
        yield node.get("en")
    elif isinstance(node, Assumption):
        if node.says is not None:
            yield node.says.get("en")
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from vacancy_texts(getattr(node, name))
    elif isinstance(node, list | tuple):
        for item in node:
            yield from vacancy_texts(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from vacancy_texts(item)


def english_replies(vacancy: Vacancy) -> Iterator[Reply]:
    """What the bot builds for a vacancy in English: notice, every question, verdicts for
    no answers and for the first option of each, the notes, checklist and confirmation."""
    flow = Flow(vacancy)
    closes = vacancy.closes_at()
    now = closes - timedelta(days=2, hours=3) if closes else TODAY
    yield R.privacy_notice(vacancy, "en")
    yield R.privacy_details(vacancy, "en")
    answers: dict[str, object] = {}
    for question in compile_questions(vacancy):
        yield R.ask(flow, question, answers, "en", (), 1)
        values = list(question.option_values()) if question.kind in ("choice", "yes_no") else []
        answers[question.id] = (values[0] if values else {"number": 2, "date": "2025-06-15"}
                                .get(question.kind, "x"))
    for given in ({}, answers):
        verdict = evaluate(vacancy, given, now)
        yield Reply("en", tuple(R.verdict_parts(vacancy, verdict)))
        yield Reply("en", tuple(R.info_parts(vacancy, verdict)))
        yield R.knockout(vacancy, verdict, "en")
        yield R.checklist(vacancy, verdict, [], None, now, "en")
    yield R.submitted(vacancy, "en")


# ---------------------------------------------------------------- the catalogues


def test_nl_and_en_have_the_same_keys_placeholders_and_plural_forms():
    nl, en = read_catalogue("nl"), read_catalogue("en")
    assert sorted(set(nl) - set(en)) == [] and sorted(set(en) - set(nl)) == []
    assert {k: placeholders(v) for k, v in nl.items()} == {k: placeholders(v) for k, v in en.items()}
    assert {k for k, v in nl.items() if isinstance(v, tuple)} == {
        k for k, v in en.items() if isinstance(v, tuple)}
    for lang, entries in (("nl", nl), ("en", en)):
        wanted = len(plural_categories(lang))
        assert {k: len(v) for k, v in entries.items()
                if isinstance(v, tuple) and len(v) != wanted} == {}, lang
        # The value that picks the form is always `n`.
        assert [k for k, v in entries.items() if isinstance(v, tuple)
                and "n" not in placeholders(v)] == []


def test_every_flemish_only_wording_has_a_netherlands_variant():
    """The test of issue 10: a catalogue key whose Flemish text the Netherlands would not say
    fails here until nl_NL has its own wording. A new key without such a word needs none."""
    overrides = read_catalogue("nl_NL")
    flemish = {k for k, v in read_catalogue("nl").items()
               if any(FLEMISH.search(f) for f in forms(v))}
    assert len(flemish) > 20  # the pattern finds what it must
    assert sorted(flemish - set(overrides)) == [], (
        "Flemish wording without a Netherlands variant: add the key to "
        "flows/locale/nl_NL/LC_MESSAGES/intake.po")
    # ... and the variant itself says it the Netherlands' way.
    assert {k: f for k, v in overrides.items() for f in forms(v) if FLEMISH.search(f)} == {}


def test_the_netherlands_catalogue_only_overrides_what_differs():
    nl, overrides = read_catalogue("nl"), read_catalogue("nl_NL")
    assert sorted(set(overrides) - set(nl)) == []  # no key the complete catalogue lacks
    assert {k: placeholders(v) for k, v in overrides.items()} == {
        k: placeholders(nl[k]) for k in overrides}
    assert [k for k, v in overrides.items() if type(v) is not type(nl[k])
            or len(forms(v)) != len(forms(nl[k]))] == []
    assert [k for k, v in overrides.items() if v == nl[k]] == []  # no override equals its base
    # Everything else is the Flemish text: one complete catalogue per language.
    assert catalogue("nl_NL") == {**nl, **overrides}
    assert catalogue("nl") == catalogue("nl_BE") == nl


def test_every_variant_has_a_catalogue_and_a_babel_locale():
    for (lang, country), locale in VARIANTS.items():
        assert catalogue_path(locale).exists(), locale
        assert Locale.parse(locale).language == lang and Locale.parse(locale).territory == country
    for lang, locale in DEFAULT_LOCALES.items():
        assert catalogue_path(lang).exists() and Locale.parse(locale).language == lang


@pytest.mark.parametrize("lang, country, locale", [
    ("nl", "NL", "nl_NL"), ("nl", "BE", "nl_BE"), ("nl", None, "nl_BE"),
    ("en", "NL", "en_GB"), ("en", "BE", "en_GB"), ("nl_NL", "BE", "nl_BE"),
])
def test_the_locale_follows_the_vacancys_country_for_dutch_only(lang, country, locale):
    assert locale_for(lang, country) == locale


def test_the_same_key_in_flanders_and_in_the_netherlands():
    upload = Msg("btn.upload", {"label": "cv"})
    assert render(upload, "nl") == "cv opladen"
    assert render(upload, "nl_NL") == "cv uploaden"
    assert render(upload, "en") == "Upload cv"
    # A key the variant leaves alone is the Flemish text.
    assert render(Msg("btn.yes"), "nl_NL") == render(Msg("btn.yes"), "nl") == "Ja"
    assert render(Msg("withdraw.already"), "nl") == "Die kandidatuur is al ingetrokken."
    assert render(Msg("withdraw.already"), "nl_NL") == "Die sollicitatie is al ingetrokken."


# ---------------------------------------------------------------- plurals and numbers


@pytest.mark.parametrize("key, values, n, nl, en", [
    ("checklist.left", {"labels": "cv"}, 1, "Nog 1 document te gaan: cv.", "1 document left: cv."),
    ("checklist.left", {"labels": "cv, dba"}, 2, "Nog 2 documenten te gaan: cv, dba.",
     "2 documents left: cv, dba."),
    ("rec.export.caption", {"title": "T"}, 1, "Export T: 1 dossier", "Export T: 1 dossier"),
    ("rec.export.caption", {"title": "T"}, 3, "Export T: 3 dossiers", "Export T: 3 dossiers"),
    ("age.months", {}, 1, "hoogstens 1 maand oud", "at most 1 month old"),
    ("age.months", {}, 3, "hoogstens 3 maanden oud", "at most 3 months old"),
    ("age.days", {}, 1, "hoogstens 1 dag oud", "at most 1 day old"),
])
def test_plural_forms_come_from_the_catalogue(key, values, n, nl, en):
    msg = Msg(key, {**values, "n": n})
    assert (render(msg, "nl"), render(msg, "nl_NL"), render(msg, "en")) == (nl, nl, en)


def test_a_plural_text_needs_its_count():
    with pytest.raises(ValueError, match="needs a number n"):
        render(Msg("checklist.left", {"labels": "cv"}), "nl")


@pytest.mark.parametrize("left, nl, en", [
    (timedelta(days=1), "nog 1 dag", "1 day left"),
    (timedelta(days=2), "nog 2 dagen", "2 days left"),
    (timedelta(days=1, hours=1), "nog 1 dag en 1 uur", "1 day and 1 hour left"),
    (timedelta(days=2, hours=5), "nog 2 dagen en 5 uur", "2 days and 5 hours left"),
    (timedelta(hours=1), "nog 1 uur", "1 hour left"),
    (timedelta(hours=1, minutes=1), "nog 1 uur en 1 minuut", "1 hour and 1 minute left"),
    (timedelta(minutes=1), "nog 1 minuut", "1 minute left"),
    (timedelta(seconds=20), "nog 1 minuut", "1 minute left"),
    (timedelta(minutes=2), "nog 2 minuten", "2 minutes left"),
])
def test_time_left_has_real_plurals(left, nl, en):
    text = R.time_left_text(left)
    assert (render(text, "nl"), render(text, "nl_NL"), render(text, "en")) == (nl, nl, en)


def test_numbers_and_years_are_said_by_babel_in_the_locale():
    assert [render(2.5, code) for code in ("nl", "nl_NL", "en")] == ["2,5", "2,5", "2.5"]
    assert render(10.0, "nl") == "10"
    years = [Quantity(n, "duration-year") for n in (1, 1.0, 2.5, 5)]
    assert [render(y, "nl") for y in years] == ["1 jaar", "1 jaar", "2,5 jaar", "5 jaar"]
    assert [render(y, "en") for y in years] == ["1 year", "1 year", "2.5 years", "5 years"]
    # The count of a plural text too; ids and other integers stay as they are.
    assert render(Msg("rec.export.caption", {"title": "T", "n": 1500}), "nl") == \
        "Export T: 1.500 dossiers"
    assert render(Msg("rec.dossier.unknown", {"id": 1500}), "nl") == "Dossier #1500 bestaat niet."


def test_experience_is_said_in_years_with_their_plural():
    rule = next(r for r in vacancies()[HARDENBERG].requirements if r.id == "customer_contact")
    verdict = evaluate(vacancies()[HARDENBERG], {"customer_contact.years": 1.0},
                       datetime(2026, 7, 1, tzinfo=UTC))
    [reason] = [r for r in verdict.reasons if r.rule_id == rule.id]
    english = render(reason.message, "en")
    assert english.startswith("Experience: this vacancy asks for at least 5 years of")
    assert english.endswith("you said 1 year.")
    assert render(reason.message, "nl_NL").endswith("jij gaf 1 jaar op.")


# ---------------------------------------------------------------- buttons


def test_buttons_are_in_sentence_case_without_lowering_the_rest():
    reply = Reply("nl", ("…",), (Choice("a", Msg("btn.upload", {"label": "motivatiebrief"})),
                                Choice("b", Text(nl="mbo niveau 4")), Choice("c", "CV of TOPdesk"),
                                Choice("d", "")), locale="nl_NL")
    assert reply.labels() == ["Motivatiebrief uploaden", "Mbo niveau 4", "CV of TOPdesk", ""]
    english = Reply("en", ("…",), (Choice("a", Msg("btn.upload", {"label": "motivation letter"})),))
    assert english.labels() == ["Upload motivation letter"]


# ---------------------------------------------------------------- English without Dutch


def test_the_dutch_word_finder_finds_what_it_must():
    assert dutch_in("Please upload your kandidatuur") == {"kandidatuur"}
    assert dutch_in("Now send your CV (bestand)") == {"bestand"}
    # A seed quote, a quoted Dutch term, a name or a word both languages share is no finding.
    assert dutch_in("    Source (vacancy text): “Je kandidatuur moet volledig zijn”") == set()
    assert dutch_in("for the level 'Deskundige' we assume a bachelor; the city's site") == set()
    assert dutch_in("Experience with TOPdesk in Nieuwpoort, via Flextender (VOG)") == set()
    assert {"kandidatuur", "opladen", "bestand", "vraag", "uiterste"} <= dutch_words()


def test_no_english_catalogue_text_holds_a_dutch_word():
    found = {key: sorted(dutch_in(text)) for key, text in english_catalogue_texts()
             if dutch_in(text)}
    assert found == {}, HOW_TO_FIX


@pytest.mark.parametrize("vacancy_id", sorted(vacancies()))
def test_no_english_text_of_a_vacancy_holds_a_dutch_word(vacancy_id):
    vacancy = vacancies()[vacancy_id]
    texts = list(vacancy_texts(vacancy))
    assert len(texts) > 10
    assert {t: sorted(dutch_in(t)) for t in texts if dutch_in(t)} == {}, HOW_TO_FIX
    # And as the bot says it: every reply it builds for this vacancy in English.
    for reply in english_replies(vacancy):
        text = "\n".join([reply.text(), *reply.labels()])
        assert dutch_in(text) == set(), f"{HOW_TO_FIX}:\n{text}"


# ---------------------------------------------------------------- through the engine


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 7, 1, 12, 0, tzinfo=AMSTERDAM))  # Hardenberg is open


@pytest.fixture
def engine(tmp_path, clock):
    return make_engine(tmp_path, clock)


def test_a_netherlands_vacancy_is_answered_in_the_netherlands_dutch_also_in_the_outbox(engine):
    chat = Chat(engine, "daan")
    chat.start(HARDENBERG).expect("om je sollicitatie te beoordelen", "1 jaar na je sollicitatie")
    chat.expect_not("kandidatuur", "inkijken", "kan je")
    assert chat.last[0].locale == "nl_NL" and chat.last[0].lang == "nl"
    chat.press("Meer over privacy").expect("een ingediende sollicitatie", "Klachten kun je")
    chat.expect_not("kandidatuur", "kan je")
    assert chat.last[0].locale == "nl_NL"
    # The outbox keeps the text as it was said: with the variant.
    engine.handle(chat.sender, Inbound.press(chat.token("Akkoord")), durable=True)
    queued = chat.data.outbox[-1]["payload"]["messages"]
    assert "Hoe heet je? (voornaam en achternaam)" in queued[-1]["text"]
    chat.do("help").expect("/withdraw — sollicitatie intrekken", "Je kunt altijd stoppen")
    # The language stored is still plain "nl".
    assert chat.dossier().language == "nl"


def test_a_flemish_vacancy_keeps_the_flemish_words(engine, clock):
    clock.set(datetime(2025, 7, 1, 12, 0, tzinfo=UTC))  # Nieuwpoort is open
    chat = Chat(engine, "lien")
    chat.start(NIEUWPOORT).expect("om je kandidatuur te beoordelen", "een ingediende kandidatuur")
    assert chat.last[0].locale == "nl_BE"
    chat.press("Meer over privacy").expect("Klachten kan je")
    chat.press("Akkoord").expect("(voornaam en naam)")
    chat.do("help").expect("/withdraw — kandidatuur intrekken", "Je kan altijd stoppen")
