"""Engine replies as Telegram messages: text within Telegram's limits, choices as buttons."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from flows.events import Reply

MAX_TEXT = 4096
MAX_CALLBACK = 64
SHORT_LABEL = 18  # labels this short go two to a row, like "Ja | Nee"


@dataclass(frozen=True)
class OutMessage:
    text: str
    keyboard: InlineKeyboardMarkup | None


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.choices:
        return None
    buttons = []
    for choice, label in zip(reply.choices, reply.labels(), strict=True):
        if len(choice.token.encode()) > MAX_CALLBACK:
            raise ValueError(f"callback data over {MAX_CALLBACK} bytes: {choice.token!r}")
        buttons.append(InlineKeyboardButton(label[:64], callback_data=choice.token))
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        if (rows and len(rows[-1]) == 1 and len(rows[-1][0].text) <= SHORT_LABEL
                and len(button.text) <= SHORT_LABEL):
            rows[-1].append(button)
        else:
            rows.append([button])
    return InlineKeyboardMarkup(rows)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut at paragraph, then line boundaries so no message exceeds Telegram's limit."""
    text = text.strip() or "…"
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n\n", 0, limit)
        if cut <= 0:
            cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    chunks.append(text)
    return chunks


def to_messages(reply: Reply) -> list[OutMessage]:
    chunks = split_text(reply.text())
    markup = keyboard(reply)
    return [OutMessage(chunk, markup if i == len(chunks) - 1 else None)
            for i, chunk in enumerate(chunks)]
