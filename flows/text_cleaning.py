"""Text from candidates, made safe to store and to show.

Names, answers and file names come from a client we do not control. Terminal escape sequences
would act on a recruiter's terminal (clear it, retitle it), control characters break logs and
CSV, and a right-to-left override (U+202E) makes `cv<U+202E>fdp.exe` read as `cvexe.pdf`.
What is left is the text a person meant: letters of every script, emoji, punctuation, spaces
and newlines.
"""

from __future__ import annotations

import re
import unicodedata

# Escape sequences go whole: dropping only the ESC byte would leave "[2J" or "]0;pwned" behind.
_ESCAPE_SEQUENCE = re.compile(
    # OSC, DCS, SOS, PM, APC strings (7- and 8-bit), up to BEL or ST; unterminated ones run to
    # the end of the text, as a terminal would swallow it.
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    # CSI: parameters, intermediates, one final byte.
    r"|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"
    # Every other escape: ESC, intermediates, one final byte (ESC c, ESC ( B, ESC 7 ...).
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]"
)
# Every way of ending a line becomes "\n"; a bare CR would let text overwrite its own line.
_LINE_BREAK = re.compile(r"\r\n|[\r\v\f\x85\u2028\u2029]")
_DIRECTORY = re.compile(r"[/\\]")
# Emoji arrive faster than Python's Unicode tables: an unassigned code point in the emoji
# blocks is a newer emoji, not a hidden control.
_NEWER_EMOJI = range(0x1F000, 0x1FB00)
_ELLIPSIS = "…"


def _keep(char: str) -> bool:
    if char == "\n":
        return True
    category = unicodedata.category(char)
    if category[0] != "C":
        return True
    # Cc controls, Cf format characters (bidi, zero-width, soft hyphen), Co private use,
    # Cs lone surrogates and Cn unassigned code points all go.
    return category == "Cn" and ord(char) in _NEWER_EMOJI


def clean_text(text: str) -> str:
    """`text` without escape sequences, control and invisible format characters, in NFC.

    Newlines stay ("\\r\\n" and "\\r" become "\\n"), a tab becomes a space.
    """
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = _LINE_BREAK.sub("\n", text).replace("\t", " ")
    text = "".join(char for char in text if _keep(char))
    # Last, so that a removed zero-width character cannot leave a decomposed pair behind.
    return unicodedata.normalize("NFC", text)


def clean_line(text: str) -> str:
    """`clean_text` on one line: every run of whitespace and newlines is one space, stripped."""
    return " ".join(clean_text(text).split())


def display_name(file_name: str, limit: int = 80) -> str:
    """A sender's file name fit to show: cleaned, without folders or leading dots, at most
    `limit` characters with its extension kept, "document" when nothing is left."""
    name = _DIRECTORY.split(clean_line(file_name))[-1].lstrip(". ")
    if len(name) > limit:
        stem, dot, extension = name.rpartition(".")
        if stem and len(extension) + 2 <= limit // 2:
            name = stem[: limit - len(extension) - 2].rstrip() + _ELLIPSIS + dot + extension
        else:
            name = name[: max(limit - 1, 0)] + _ELLIPSIS
    return name or "document"
