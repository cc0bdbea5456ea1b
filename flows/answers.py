"""Turn what a candidate typed or pressed into an answer, or into a helpful reason to re-ask.

Answers are stored as JSON: booleans, numbers, strings, and dates as ISO strings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flows.messages import Msg, Quantity
from flows.question_detection import QUESTION_MARKS
from flows.questions import Question

MAX_TEXT = 1000
YES = {"ja", "j", "yes", "y", "jawel", "zeker", "oui", "ok", "oké", "okay", "okee", "akkoord",
       "prima", "goed", "klopt", "yep", "yeah", "sure", "agreed", "i agree", "ja hoor",
       "jazeker", "ja zeker", "ja, zeker", "zeker weten", "✅", "👍"}
NO = {"nee", "n", "no", "neen", "nope", "non", "niet akkoord", "nee hoor", "neen hoor",
      "zeker niet", "helemaal niet", "❌", "👎"}


def yes_or_no(text: str) -> bool | None:
    """True for a typed yes ("ja", "ok", "akkoord", "yes"), False for a no, None otherwise."""
    word = " ".join(text.lower().strip(" .!").split())
    return True if word in YES else False if word in NO else None
NUMBER = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*(?:jaar|jr|j|years?|yrs?|y)?\.?\s*$", re.I)
DATE_FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d-%m-%y", "%d/%m/%y")
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class Parsed:
    ok: bool
    value: Any = None
    problem: Msg | None = None


def _bad(key: str, **values: Any) -> Parsed:
    return Parsed(False, problem=Msg(key, values))


def has_letters_or_digits(text: str) -> bool:
    return any(unicodedata.category(ch)[0] in ("L", "N") for ch in text)


def parse_text(question: Question, raw: str, today: date, labels: list[str] | None = None) -> Parsed:
    """Parse typed text for `question`.

    `today` is the candidate's date in the vacancy's zone; `labels` are the options as the
    candidate sees them, so typing a label works like pressing its button.
    """
    text = raw.strip()
    if not text:
        return _bad("reask.empty")
    limit = int(question.maximum) if question.kind == "text" and question.maximum else MAX_TEXT
    if len(text) > limit:
        return _bad("reask.too_long", max=limit, given=len(text))
    if question.kind == "yes_no":
        said = yes_or_no(text)
        return _bad("reask.yes_no") if said is None else Parsed(True, said)
    if question.kind == "choice":
        return _choice_from_text(question, text, labels or [])
    if question.kind == "number":
        return _number(question, text)
    if question.kind == "date":
        return _date(text, today)
    if question.kind == "email":
        address = text.strip("<>").strip()
        if len(address) > 254 or not EMAIL.match(address):
            return _bad("reask.email")
        local, _, domain = address.rpartition("@")
        return Parsed(True, f"{local}@{domain.lower()}")
    # Free text: at least one letter or digit, so "👍👍" or "..." is not taken for a name.
    if not has_letters_or_digits(text):
        return _bad("reask.text")
    if question.id == "candidate.name":
        problem = _not_a_name(text)
        if problem is not None:
            return problem
    return Parsed(True, " ".join(text.split()) if question.id == "candidate.name" else text)


NAME_MAX_WORDS = 6  # "Maria del Carmen van der Berg" has six


def _not_a_name(text: str) -> Parsed | None:
    """A re-ask for what is clearly not a name: no letters (digits only, emoji), an e-mail
    address, a question, a sentence. None when it may well be one."""
    if not any(ch.isalpha() for ch in text):
        return _bad("reask.name")
    if "@" in text and any(EMAIL.match(word.strip("<>,;")) for word in text.split()):
        return _bad("reask.name_email")
    if text.rstrip().endswith(QUESTION_MARKS):
        # A name never ends in a question mark. (One that only starts like a question, "Hoe
        # Kim Lian", is offered to the recruiters first and can still be taken as the name.)
        return _bad("reask.name_question")
    if len(text.split()) > NAME_MAX_WORDS:
        return _bad("reask.name_long", max=NAME_MAX_WORDS)
    return None


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _choice_from_text(question: Question, text: str, labels: list[str]) -> Parsed:
    # A typed option number ("2"), a label, or an option's own value ("mbo-4") works too.
    if text.isascii() and text.isdecimal() and 1 <= int(text) <= len(question.options):
        return Parsed(True, question.options[int(text) - 1].value)
    typed = _squash(text)
    if typed:
        for option, label in zip(question.options, labels or [""] * len(question.options),
                                 strict=True):
            if typed in (_squash(label), _squash(str(option.value))):
                return Parsed(True, option.value)
        # A unique start of a label, or of one of its words ("mast" for "Master"). Only with
        # letters: "-1" must not pick "MBO-1" as a mere substring.
        if any(ch.isalpha() for ch in typed):
            partial = [o for o, label in zip(question.options, labels, strict=False)
                       if any(word.startswith(typed) for word in
                              (_squash(label), *map(_squash, label.split())))]
            if len(partial) == 1:
                return Parsed(True, partial[0].value)
    # The buttons show labels, not numbers: the re-ask names what works with an example.
    example = labels[-1] if labels else str(question.options[-1].value)
    return _bad("reask.choice", example=example)


def _number(question: Question, text: str) -> Parsed:
    match = NUMBER.match(text)
    if not match:
        return _bad("reask.number", min=_fmt(question.minimum), max=_fmt(question.maximum))
    value = float(match.group(1).replace(",", "."))
    low = question.minimum if question.minimum is not None else 0
    high = question.maximum if question.maximum is not None else 60
    if value < low:
        return _bad("reask.number_negative", min=_fmt(low))
    if value > high:
        return _bad("reask.number_absurd", max=_fmt(high),
                    given=Quantity(value, "duration-year"))
    return Parsed(True, round(value, 2))


def _fmt(value: float | None) -> float | str:
    """A bound as a number the catalogue says in its locale (2,5 or 2.5); "" when none."""
    return "" if value is None else float(value)


MONTHS = {name: number for number, names in enumerate((
    ("januari", "january", "jan"), ("februari", "february", "feb"),
    ("maart", "march", "mrt", "mar", "maa"), ("april", "apr"), ("mei", "may"),
    ("juni", "june", "jun"), ("juli", "july", "jul"), ("augustus", "august", "aug"),
    ("september", "sep", "sept"), ("oktober", "october", "okt", "oct"),
    ("november", "nov"), ("december", "dec")), start=1) for name in names}
WORDS_DATE = re.compile(r"^(\d{1,2})\.?\s+([a-z]+)\.?\s+(\d{4})$")


def _date(text: str, today: date) -> Parsed:
    day = _numeric_date(text.replace(" ", "")) or _words_date(text.strip().lower())
    if day is None:
        return _bad("reask.date")
    if day > today:
        return _bad("reask.date_future", today=today.strftime("%d-%m-%Y"))
    if day.year < today.year - 20:
        return _bad("reask.date_old")
    return Parsed(True, day.isoformat())


def _numeric_date(cleaned: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def _words_date(text: str) -> date | None:
    """ "2 november 2026", "15 mrt. 2025", "3 May 2026" as people write them."""
    match = WORDS_DATE.match(text)
    if not match or match.group(2) not in MONTHS:
        return None
    try:
        return date(int(match.group(3)), MONTHS[match.group(2)], int(match.group(1)))
    except ValueError:
        return None
