"""Every text a recruiter reads, as a recruiter reads it (issue 12): the summary of every shipped
vacancy for several applicant profiles, a candidate's question, the /dossiers lines, the export
caption and CSV, the withdrawal and erasure notices — in Flemish Dutch, Dutch of the Netherlands
and English. None may show a question id, a vacancy slug, an untranslated status or a catalogue
key left unrendered; a summary and the CSV never address the candidate ("je", "your").
"""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.recruiter_commands import STATUSES, RecruiterCommands
from flows.dossier_summary import (
    csv_export,
    document_caption,
    erased_notice,
    question_notice,
    questions_summary,
    summary,
    withdrawn_notice,
)
from flows.messages import catalogue, read_catalogue, render
from flows.ports import AnswerRecord, DocumentRecord, DossierRecord, QuestionRecord
from flows.questions import compile_questions
from flows.vacancy import Vacancy
from tests.conversation import shipped_vacancies as vacancies
from tests.test_applicant_profiles import PROFILES

LOCALES = ("nl", "nl_NL", "en")
NOW = datetime(2025, 7, 15, 10, 0, tzinfo=UTC)
# Addressing the candidate, in the third person's place (quoted vacancy text aside: that is
# the vacancy's own question, shown as such).
SECOND_PERSON = {"nl": re.compile(r"\b(je|jij|jouw|u|uw)\b", re.IGNORECASE),
                 "en": re.compile(r"\b(you|your|yours)\b", re.IGNORECASE)}
QUOTED = re.compile(r"“[^”]*”")
# What a status id looks like in a text that should have said it in words; "submitted",
# "withdrawn" and "expired" are the English words themselves.
RAW_STATUSES = {"nl": STATUSES, "en": ("draft", "ineligible", "collecting")}
KEYS = sorted((k for k in read_catalogue("nl") if "." in k), key=len, reverse=True)
# Compiled once: ~600 patterns overflow the re module's cache, which then compiled every one
# again for every text checked.
KEY_PATTERNS = [(k, re.compile(rf"(?<![\w.]){re.escape(k)}(?![\w.])")) for k in KEYS]


def language(locale: str) -> str:
    return locale.split("_")[0]


def problems(text: str, vacancy: Vacancy, locale: str, *, third_person: bool) -> list[str]:
    """What a recruiter should never read in `text`."""
    # An id of one plain word ("multidisciplinary") is a word of the text too: only ids that
    # no text says (diploma.level, civil_rights) are looked for.
    found = [f"question id {q.id!r}" for q in compile_questions(vacancy)
             if re.search(r"[._]", q.id) and q.id in text]
    if vacancy.id in text:
        found.append(f"vacancy slug {vacancy.id!r}")
    found += [f"status {s!r}" for s in RAW_STATUSES[language(locale)]
              if re.search(rf"\b{s}\b", text)]
    found += [f"catalogue key {k!r}" for k, pattern in KEY_PATTERNS
              if k in text and pattern.search(text)]
    found += [f"placeholder {p!r}" for p in re.findall(r"\{\w+\}", text)]
    if third_person:
        found += [f"second person {w!r}" for w in
                  SECOND_PERSON[language(locale)].findall(QUOTED.sub(" ", text))]
    return found


def test_the_checks_find_what_they_must():
    vacancy = vacancies()["vera-projectcoordinator"]
    bad = ("#1 · vera-projectcoordinator · submitted · diploma.level → master; rec.verdict.eligible "
           "{title}: je hebt nog een taalattest nodig")
    assert problems(bad, vacancy, "nl", third_person=True) == [
        "question id 'diploma.level'", "vacancy slug 'vera-projectcoordinator'",
        "status 'submitted'", "catalogue key 'rec.verdict.eligible'", "placeholder '{title}'",
        "second person 'je'"]
    # The vacancy's own question, quoted, is no finding; "submitted" is English.
    assert problems("“Geniet je de burgerlijke en politieke rechten?” — de kandidaat antwoordde Ja.",
                    vacancy, "nl", third_person=True) == []
    assert problems("Status: submitted", vacancy, "en", third_person=True) == []
    assert problems("Your CV", vacancy, "en", third_person=True) == ["second person 'Your'"]


# ---------------------------------------------------------------- dossiers to render


def answers_by_option(vacancy: Vacancy, pick: int) -> dict[str, Any]:
    """Every question answered with its first (pick 0) or last (pick -1) option, 2 or 7 years,
    a date, a text."""
    answers: dict[str, Any] = {}
    for q in compile_questions(vacancy):
        values = q.option_values()
        if values:
            answers[q.id] = values[pick]
        elif q.kind == "number":
            answers[q.id] = 2 if pick == 0 else 7.5
        elif q.kind == "date":
            answers[q.id] = "2025-06-01" if pick == 0 else "2024-01-01"
        elif q.kind == "email":
            answers[q.id] = "lena@example.be"
        else:
            answers[q.id] = "Lena Peeters" if q.id == "candidate.name" else "Ook Proxmox."
    return answers


def profiles(vacancy: Vacancy) -> list[tuple[dict[str, Any], datetime]]:
    """The applicant profiles of this vacancy (tests/test_applicant_profiles.py), and every
    question answered with its first and with its last option."""
    closes = vacancy.closes_at()
    open_at = closes - timedelta(days=5) if closes else NOW
    return ([(p.answers, p.now) for p in PROFILES if p.vacancy == vacancy.id]
            + [(answers_by_option(vacancy, 0), open_at), (answers_by_option(vacancy, -1), open_at)])


def dossier_of(vacancy: Vacancy, answers: dict[str, Any], now: datetime, status: str,
               dossier_id: int = 12) -> DossierRecord:
    return DossierRecord(
        id=dossier_id, candidate_id=1, vacancy_id=vacancy.id,
        state="submitted" if status == "submitted" else "collecting", status=status,
        answers={k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in answers.items()},
        language="nl", consented_at=now, privacy_version="1", created_at=now, updated_at=now,
        submitted_at=now if status == "submitted" else None)


def documents_of(vacancy: Vacancy, now: datetime) -> list[DocumentRecord]:
    """A file for every document the vacancy may ask for; the last one's file went after
    delivery (a criminal-record extract's would)."""
    docs = [DocumentRecord(id=i, dossier_id=12, kind=d.id, original_name=f"{d.id}.pdf",
                           stored_path=f"2025/07/{i}.pdf", size=2048, sha256="a" * 64,
                           media_type="application/pdf", uploaded_at=now)
            for i, d in enumerate(vacancy.documents, start=1)]
    docs[-1].stored_path, docs[-1].file_deleted_at = "", now
    return docs


def cases() -> list[Any]:
    return [pytest.param(vacancy_id, locale, id=f"{vacancy_id}-{locale}")
            for vacancy_id in sorted(vacancies()) for locale in LOCALES]


# ---------------------------------------------------------------- the texts


@pytest.mark.parametrize("vacancy_id, locale", cases())
def test_every_summary_is_written_for_recruiters(vacancy_id: str, locale: str):
    vacancy = vacancies()[vacancy_id]
    lang = language(locale)
    rendered = 0
    for index, (answers, now) in enumerate(profiles(vacancy)):
        status = STATUSES[index % len(STATUSES)]
        dossier = dossier_of(vacancy, answers, now, status)
        text = summary(vacancy, dossier, documents_of(vacancy, now), lang)
        assert problems(text, vacancy, locale, third_person=True) == [], text
        rendered += 1
    assert rendered >= 2


@pytest.mark.parametrize("vacancy_id, locale", cases())
def test_the_csv_is_written_for_recruiters(vacancy_id: str, locale: str):
    vacancy = vacancies()[vacancy_id]
    rows = []
    for index, (answers, now) in enumerate(profiles(vacancy)):
        dossier = dossier_of(vacancy, answers, now, STATUSES[index % len(STATUSES)], index + 1)
        rows.append((dossier, None, documents_of(vacancy, now)))
    data = csv_export(vacancy, rows, language(locale))  # type: ignore[arg-type]
    assert data.startswith("\ufeff".encode())  # Excel reads the accents
    text = data.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(table) == len(rows) + 1 and len({len(row) for row in table}) == 1
    assert problems(text, vacancy, locale, third_person=True) == [], table[0]
    # The header names questions by their labels: one column each, none twice.
    assert len(set(table[0])) == len(table[0])


@pytest.mark.parametrize("vacancy_id, locale", cases())
def test_a_question_notice_and_the_questions_kept_with_a_dossier(vacancy_id: str, locale: str):
    vacancy = vacancies()[vacancy_id]
    lang = language(locale)
    answers, now = profiles(vacancy)[-1]
    dossier = dossier_of(vacancy, answers, now, "collecting")
    steps = [f"q:{q.id}" for q in compile_questions(vacancy)] + ["collecting", "submitted"]
    for step in steps:
        for include in (False, True):
            question = QuestionRecord(id=1, dossier_id=12, status="asked", text="Is er parking?",
                                      step=step, created_at=now, include_answers=include,
                                      asked_at=now)
            text = question_notice(vacancy, dossier, question, lang)
            assert problems(text, vacancy, locale, third_person=False) == [], text
    kept = questions_summary(vacancy, [(question, [AnswerRecord(
        id=1, question_id=1, text="Ja.", answered_by="7", answered_at=now)])], lang)
    assert problems(kept, vacancy, locale, third_person=False) == [], kept


@pytest.mark.parametrize("vacancy_id, locale", cases())
def test_document_captions_name_the_candidate_and_the_document(vacancy_id: str, locale: str):
    vacancy = vacancies()[vacancy_id]
    for doc in vacancy.documents:
        caption = document_caption(vacancy, 12, "Lena Peeters", doc.id, locale)
        assert caption.startswith("#12 · Lena Peeters · ")
        assert problems(caption, vacancy, locale, third_person=True) == [], caption


@pytest.mark.parametrize("locale", LOCALES)
def test_withdrawn_and_erased_notices(locale: str):
    for vacancy in vacancies().values():
        title = vacancy.title
        for deleted, older in ((0, 0), (1, 0), (0, 2), (3, 1)):
            for text in (withdrawn_notice(4, title, deleted, older, locale),
                         erased_notice([(4, title)], deleted, older, locale),
                         erased_notice([(4, title), (5, title)], deleted, older, locale)):
                assert problems(text, vacancy, locale, third_person=False) == [], text


class Store:
    """The reads /dossiers and /export make."""

    def __init__(self, dossiers: list[DossierRecord], documents: list[DocumentRecord]) -> None:
        self.dossiers, self.documents = dossiers, documents

    def list_dossiers(self, vacancy_id: str | None = None, status: str | None = None,
                      decision: str | None = None) -> list[DossierRecord]:
        assert decision is None  # the listing under test filters by vacancy and status only
        return [d for d in self.dossiers if vacancy_id in (None, d.vacancy_id)
                and status in (None, d.status)]

    def get_dossier(self, dossier_id: int) -> Any:
        found = next((d for d in self.dossiers if d.id == dossier_id), None)
        return None if found is None else (found, None, self.documents)

    def dossiers_with_documents(self, vacancy_id: str) -> list[Any]:
        return [(d, self.documents) for d in self.list_dossiers(vacancy_id)]


def commands(dossiers: list[DossierRecord], lang: str,
             documents: list[DocumentRecord] = ()) -> RecruiterCommands:  # type: ignore[assignment]
    return RecruiterCommands(Store(dossiers, list(documents)), None, vacancies(),  # type: ignore[arg-type]
                             frozenset({7}), None, None, lambda: NOW, lang)  # type: ignore[arg-type]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_dossier_list_and_the_export_caption(locale: str):
    lang = language(locale)
    dossiers = []
    for vacancy in vacancies().values():
        for status in STATUSES:
            answers, now = profiles(vacancy)[-1]
            dossiers.append(dossier_of(vacancy, answers, now, status, len(dossiers) + 1))
    # Every page of the list (20 rows a page): each row once, under a title and "page n of m".
    first = commands(dossiers, lang).dossiers([])[0]["text"].splitlines()
    pages = [commands(dossiers, lang).dossiers([str(n)])[0]["text"].splitlines()
             for n in range(1, -(-len(dossiers) // 20) + 1)]
    rows = [line for page in pages for line in page[2:]]
    assert len(rows) == len(dossiers) and first == pages[0]
    listing = "\n".join(line for page in pages for line in page)
    lines = first
    for vacancy in vacancies().values():
        assert problems(listing, vacancy, locale, third_person=False) == [], listing
        for status in STATUSES:
            one = commands([d for d in dossiers if d.vacancy_id == vacancy.id
                            and d.status == status], lang).dossiers([vacancy.id, status])
            assert one[0]["text"].splitlines()[0] == {"nl": "1 dossier:", "en": "1 dossier:"}[lang]
        export = commands([d for d in dossiers if d.vacancy_id == vacancy.id], lang,
                          documents_of(vacancy, NOW)).export([vacancy.id])[0]
        assert export["caption"].endswith(f": {len(STATUSES)} dossiers")
        assert problems(export["caption"], vacancy, locale, third_person=True) == []
        header = base64.b64decode(export["file_data"]).decode("utf-8-sig").splitlines()[0]
        assert problems(header, vacancy, locale, third_person=True) == [], header
    assert lines[0] == {"nl": f"{len(dossiers)} dossiers:", "en": f"{len(dossiers)} dossiers:"}[lang]


def test_the_listing_says_title_employer_and_status_in_words():
    vera = vacancies()["vera-projectcoordinator"]
    answers, _ = profiles(vera)[0]
    lena = dossier_of(vera, {**answers, "candidate.name": "Lena Peeters"},
                      datetime(2026, 11, 29, 6, 40, tzinfo=UTC), "submitted", 1)
    assert commands([lena], "nl").dossiers([])[0]["text"] == (
        "1 dossier:\n#1 · Projectcoördinator (VERA) · ingediend · Lena Peeters · 29-11-2026 07:40")
    assert commands([lena], "en").dossiers([])[0]["text"] == (
        "1 dossier:\n#1 · Project coordinator (VERA) · submitted · Lena Peeters · 29-11-2026 07:40")


def test_recruiters_read_the_summary_in_their_language_and_in_the_employers_dutch():
    hardenberg = vacancies()["hardenberg-medewerker-intern-service-punt"]
    answers, now = profiles(hardenberg)[0]
    dossier = dossier_of(hardenberg, answers, now, "submitted")
    docs = documents_of(hardenberg, now)
    dutch, english = summary(hardenberg, dossier, docs, "nl"), summary(hardenberg, dossier, docs, "en")
    assert "Oordeel van de bot:" in dutch and "The bot's verdict:" in english
    # Dutch of the Netherlands for a Dutch employer: "diplomawaardering", never "attest".
    assert "attest" not in dutch
    assert render(catalogue("nl_NL")["rec.status.submitted"], "nl_NL") in dutch
