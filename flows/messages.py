"""Message keys and the catalogues that turn them into Dutch or English text.

The engine and the rules speak only in `Msg(key, values)`; catalogues (gettext `.po` files in
`flows/locale/<lang>/LC_MESSAGES/intake.po`, read with Babel) hold every candidate-facing text.
A value may itself be a `Msg` or a vacancy `Text`, resolved in the same language.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from flows.vacancy import Text

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LOCALE_DIR = Path(__file__).parent / "locale"


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


def normalise_language(code: str | None) -> str:
    """Telegram gives IETF tags such as 'en-GB' or 'nl-BE'; anything else falls back to Dutch."""
    if code:
        base = code.split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return DEFAULT_LANGUAGE


@cache
def catalogue(lang: str) -> dict[str, str]:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "intake.po"
    with path.open("rb") as fh:
        po = read_po(fh, locale=lang)
    return {m.id: m.string for m in po if m.id and m.string}


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class MissingMessage(KeyError):
    pass


def render(value: Any, lang: str) -> str:
    """Text of a Msg, a vacancy Text, a list (one per line) or a plain value in `lang`."""
    if isinstance(value, Msg):
        template = catalogue(lang).get(value.key)
        if template is None:
            raise MissingMessage(f"message {value.key!r} is missing from the {lang} catalogue")
        values = {k: render(v, lang) for k, v in value.values.items()}
        return template.format(**values)
    if isinstance(value, Text):
        return value.get(lang)
    if isinstance(value, list | tuple):
        return "\n".join(render(v, lang) for v in value)
    if isinstance(value, float):
        # 2,5 in Dutch, 2.5 in English
        return f"{value:g}".replace(".", ",") if lang == "nl" else f"{value:g}"
    return str(value)
