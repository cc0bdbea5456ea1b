"""Deep links into the bot, one per vacancy, and QR codes of them for posters and web pages.

A deep link `https://t.me/<bot>?start=<vacancy id>` opens the private chat with the bot and,
on Start, sends `/start <vacancy id>` (bot/candidate_handlers.py): the candidate goes straight
to that vacancy. Telegram takes a start parameter of at most 64 letters, digits, _ and -.
"""

from __future__ import annotations

import re
from pathlib import Path

START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")  # Telegram: 5-32 characters


def start_link(bot_username: str, payload: str = "") -> str:
    return f"https://t.me/{bot_username}?start={payload}"


def fits_deep_link(vacancy_id: str) -> bool:
    return START_PARAMETER.fullmatch(vacancy_id) is not None


def valid_username(name: str) -> bool:
    return USERNAME.fullmatch(name) is not None


def write_qr(link: str, path: Path) -> None:
    """A PNG of the link's QR code: black on white, 10 pixels a module and the quiet zone of
    4 modules a scanner needs; error correction M (readable with a smudge on a poster)."""
    import segno  # only `main.py links` draws codes: not imported at the bot's start-up

    segno.make(link, error="m", micro=False).save(path, kind="png", scale=10, border=4)
