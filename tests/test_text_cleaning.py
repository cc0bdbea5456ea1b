"""flows/text_cleaning.py: what a candidate typed, without what would act on a screen."""

from __future__ import annotations

import unicodedata

import pytest

from flows.text_cleaning import clean_line, clean_text, display_name


def test_terminal_escape_sequences_go_whole():
    # Clear the screen, then set the window title.
    assert clean_text("Jan\x1b[2J\x1b]0;pwned\x07 Peeters") == "Jan Peeters"


@pytest.mark.parametrize("hostile", [
    "\x1b[31mred\x1b[0m",  # colour
    "\x1b[38;5;196mred\x1b[m",  # 256 colours
    "\x1b]0;title\x1b\\red",  # title ended by ST
    "\x1b]8;;https://evil.example\x07red\x1b]8;;\x07",  # hyperlink
    "\x1bcred",  # full reset
    "\x1b(Bred",  # character set
    "\x9b2Jred",  # 8-bit CSI
    "\x1bP+q544e\x1b\\red",  # device control string
])
def test_every_kind_of_escape_sequence_is_removed(hostile):
    assert clean_text(hostile) == "red"


def test_an_unterminated_title_swallows_the_rest_as_a_terminal_would():
    assert clean_text("ok\x1b]0;pwned") == "ok"


def test_bidi_overrides_and_isolates_are_removed():
    assert clean_text("cv\u202efdp.exe") == "cvfdp.exe"
    assert clean_text("\u2066a\u2069\u202ab\u202c\u200ec\u200f\u061cd") == "abcd"


def test_zero_width_and_soft_hyphen_are_removed():
    assert clean_text("Pee\u200bters\u200c\u2060\ufeff ver\u00adslag") == "Peeters verslag"


def test_control_characters_are_removed():
    assert clean_text("a\x00b\x7fc\x07d\x08e") == "abcde"


def test_line_breaks_become_newlines_and_tabs_spaces():
    assert clean_text("one\r\ntwo\rthree\nfour\tfive") == "one\ntwo\nthree\nfour five"
    assert clean_text("a\u2028b\x85c") == "a\nb\nc"


def test_private_use_surrogates_and_unassigned_are_removed():
    assert clean_text("a\ue000b\ud800c\U000e0001d\uffffe") == "abcde"


def test_combining_accents_are_kept_and_composed():
    decomposed = "Rene\u0301e Lo\u0308wenstein"
    assert clean_text(decomposed) == "Renée Löwenstein"
    assert unicodedata.is_normalized("NFC", clean_text(decomposed))


def test_emoji_are_kept():
    assert clean_text("Bedankt 👍🏽 🇧🇪 ❤️") == "Bedankt 👍🏽 🇧🇪 ❤️"
    # A zero-width joiner may go; the people stay.
    assert clean_text("👩\u200d💻") == "👩💻"


def test_newer_emoji_than_our_unicode_tables_are_kept():
    assert clean_text("\U0001fae8") == "\U0001fae8"  # shaking face, Unicode 15


def test_every_script_is_kept():
    text = "محمد العلي — Алексей Смирнов — 李小龍 — Ελένη — שרה"
    assert clean_text(text) == text


def test_clean_line_collapses_white_space():
    assert clean_line("  Jan \n\t Peeters\r\n ") == "Jan Peeters"
    assert clean_line("a\u00a0\u3000b") == "a b"


def test_display_name_shows_the_real_extension():
    assert display_name("cv\u202efdp.exe") == "cvfdp.exe"


@pytest.mark.parametrize(("sent", "shown"), [
    ("C:\\Users\\jan\\cv.pdf", "cv.pdf"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\cv.pdf", "cv.pdf"),
    (".hidden.pdf", "hidden.pdf"),
    ("...", "document"),
    ("", "document"),
    ("\u200b\x00 ", "document"),
    ("cv\x1b[2J.pdf", "cv.pdf"),
    ("mijn  cv\n2024.pdf", "mijn cv 2024.pdf"),
])
def test_display_name(sent, shown):
    assert display_name(sent) == shown


def test_a_long_name_is_shortened_keeping_its_extension():
    shown = display_name("a" * 200 + ".docx")
    assert len(shown) == 80
    assert shown.endswith("….docx")
    assert len(display_name("b" * 30 + ".pdf", limit=20)) == 20


def test_a_long_name_without_a_usable_extension_is_cut():
    shown = display_name("x" * 100, limit=10)
    assert shown == "x" * 9 + "…"
    assert display_name("kort.pdf", limit=10) == "kort.pdf"
