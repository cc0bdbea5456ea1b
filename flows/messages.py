"""Message keys and the catalogues that turn them into Dutch or English text.

The engine and the rules speak only in `Msg(key, values)`; catalogues (gettext `.po` files in
`flows/locale/<dir>/LC_MESSAGES/intake.po`, read with Babel) hold every candidate-facing text.
A value may itself be a `Msg`, a vacancy `Text` or a `Quantity`, resolved in the same locale.

Languages and locales. A candidate chooses a language ("nl" or "en", what is stored); a reply
is rendered in a *locale* of that language: Dutch as spoken in Flanders (nl_BE, the complete
`nl` catalogue) unless the reply is about a vacancy in the Netherlands, then nl_NL — the `nl`
catalogue with the overrides in `locale/nl_NL` (only the texts whose Netherlands wording
differs: "sollicitatie" for "kandidatuur", "uploaden" for "opladen", "kun je" for "kan je").
`render` takes either a language ("nl", "en": its default locale) or a locale ("nl_NL").

Plurals: an entry with `msgid_plural` has one form per plural category of the language (CLDR,
through Babel); the value `n` of the `Msg` picks the form. Numbers: floats and the count `n`
are formatted by Babel in the locale (2,5 in Dutch, 2.5 in English); other integers (dossier
ids, years in dates) are shown as they are. Durations and years are a `Quantity`, formatted by
Babel's unit patterns ("1 dag", "2 dagen", "1 day", "2 days").

Parsing a .po file takes tens of milliseconds (paid by the first message after a start); its
entries are kept beside it as JSON (`intake.po.json`, not in git) with the hash of the .po
bytes they came from, and parsed again whenever those bytes change.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import string
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.numbers import format_decimal
from babel.units import format_unit

from flows.vacancy import Text

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LOCALE_DIR = Path(__file__).parent / "locale"
# The locale a language is rendered in by default; its catalogue is `locale/<language>`.
DEFAULT_LOCALES = {"nl": "nl_BE", "en": "en_GB"}
# (language, country of the vacancy) -> the locale of a variant, whose catalogue
# `locale/<locale>` holds only the texts that differ from the language's default.
VARIANTS = {("nl", "NL"): "nl_NL"}
PLURAL_TAGS = ("zero", "one", "two", "few", "many", "other")  # gettext order of the forms

Entry = str | tuple[str, ...]  # a text, or its plural forms


@dataclass(frozen=True)
class Msg:
    key: str
    values: dict[str, Any] = field(default_factory=dict)

    def keys(self) -> set[str]:
        """This key and every key nested in its values (for catalogue checks)."""
        found = {self.key}
        for value in self.values.values():
            if isinstance(value, Msg):
                found |= value.keys()
            elif isinstance(value, list | tuple):
                for item in value:
                    if isinstance(item, Msg):
                        found |= item.keys()
        return found


@dataclass(frozen=True)
class Quantity:
    """An amount of a CLDR unit ("duration-day", "duration-hour", "duration-minute",
    "duration-month", "duration-year"), said with the unit's own plural: "1 jaar", "2 years"."""

    amount: int | float
    unit: str


def normalise_language(code: str | None) -> str:
    """Telegram gives IETF tags such as 'en-GB' or 'nl-BE'; anything else falls back to Dutch."""
    if code:
        base = code.split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return DEFAULT_LANGUAGE


def locale_for(lang: str, country: str | None = None) -> str:
    """The locale a reply in `lang` is rendered in, about a vacancy in `country` (if any)."""
    lang = language_of(lang)
    return VARIANTS.get((lang, country or ""), DEFAULT_LOCALES[lang])


def language_of(code: str) -> str:
    """"nl_NL" -> "nl"; "en" -> "en"."""
    return code.split("_")[0]


def babel_locale(code: str) -> str:
    """A language ("nl") or locale ("nl_NL") as the Babel locale it is rendered in."""
    return DEFAULT_LOCALES.get(code, code)


def variant_locales() -> tuple[str, ...]:
    return tuple(VARIANTS.values())


def catalogue_path(folder: str) -> Path:
    return LOCALE_DIR / folder / "LC_MESSAGES" / "intake.po"


@cache
def read_catalogue(folder: str) -> dict[str, Entry]:
    """One .po file as it is: key -> text, or key -> plural forms (untranslated keys left out)."""
    path = catalogue_path(folder)
    content = path.read_bytes()
    # The parser (this module) is part of the key: a change to it must not serve old entries.
    digest = hashlib.sha256(content + Path(__file__).read_bytes()).hexdigest()
    compiled = path.with_name(path.name + ".json")
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        kept = json.loads(compiled.read_bytes())
        if kept["sha256"] == digest:
            return {k: v if isinstance(v, str) else tuple(v) for k, v in kept["entries"].items()}
    entries = _parse_po(content, folder)
    with contextlib.suppress(OSError):  # a read-only install parses at each start: still right
        handle, partial = tempfile.mkstemp(dir=compiled.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(json.dumps({"sha256": digest, "entries": entries}, ensure_ascii=False))
            os.chmod(partial, 0o644)  # texts of the product, not data: readable by the service
            os.replace(partial, compiled)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
    return entries


def _parse_po(content: bytes, folder: str) -> dict[str, Entry]:
    import io

    from babel.messages.pofile import read_po

    po = read_po(io.BytesIO(content), locale=folder)
    entries: dict[str, Entry] = {}
    for m in po:
        if not m.id:
            continue
        if isinstance(m.id, tuple):
            forms = tuple(m.string)
            if all(forms):
                entries[m.id[0]] = forms
        elif m.string:
            entries[m.id] = m.string
    return entries


@cache
def catalogue(code: str) -> dict[str, Entry]:
    """The texts of a language ("nl", "en") or locale ("nl_BE", "nl_NL"): the language's
    complete catalogue, with a variant's overrides on top."""
    locale = babel_locale(code)
    lang = language_of(locale)
    entries = dict(read_catalogue(lang))
    if locale != DEFAULT_LOCALES[lang]:
        entries.update(read_catalogue(locale))
    return entries


def forms(entry: Entry) -> tuple[str, ...]:
    return (entry,) if isinstance(entry, str) else entry


def placeholders(entry: Entry) -> set[str]:
    return {name for form in forms(entry)
            for _, name, _, _ in string.Formatter().parse(form) if name}


def plural_categories(code: str) -> tuple[str, ...]:
    """The plural categories of a locale in the order of its gettext forms: ("one", "other")."""
    rule = Locale.parse(babel_locale(code)).plural_form
    return tuple(t for t in PLURAL_TAGS if t in rule.tags or t == "other")


def plural_form(entry: tuple[str, ...], n: Any, code: str) -> str:
    category = Locale.parse(babel_locale(code)).plural_form(n)
    return entry[min(plural_categories(code).index(category), len(entry) - 1)]


class MissingMessage(KeyError):
    pass


def render(value: Any, lang: str) -> str:
    """Text of a Msg, a vacancy Text, a Quantity, a list (one per line) or a plain value in
    `lang`, a language ("nl") or a locale ("nl_NL")."""
    if isinstance(value, Msg):
        entry = catalogue(lang).get(value.key)
        if entry is None:
            raise MissingMessage(f"message {value.key!r} is missing from the {lang} catalogue")
        values = {k: render(v, lang) for k, v in value.values.items()}
        if isinstance(entry, tuple):
            if not isinstance(value.values.get("n"), int | float):
                raise ValueError(f"message {value.key!r} has plural forms: it needs a number n")
            count = value.values["n"]
            values["n"] = format_decimal(count, locale=babel_locale(lang))
            return plural_form(entry, count, lang).format(**values)
        return entry.format(**values)
    if isinstance(value, Text):
        return value.get(language_of(lang))
    if isinstance(value, Quantity):
        return format_unit(value.amount, value.unit, length="long", locale=babel_locale(lang))
    if isinstance(value, list | tuple):
        return "\n".join(render(v, lang) for v in value)
    if isinstance(value, float):
        return format_decimal(value, locale=babel_locale(lang))  # 2,5 in Dutch, 2.5 in English
    return str(value)
