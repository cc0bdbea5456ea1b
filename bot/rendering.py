"""Queued messages as Telegram messages: text within Telegram's limits, choices as buttons."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

MAX_TEXT = 4096
SHORT_LABEL = 18  # labels this short go two to a row, like "Ja | Nee"
WEB_APP = "web_app"  # the third item of a link that opens as a Mini App


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


def keyboard_rows(choices: list[list[str]],
                  links: list[list[str]] | None = None) -> list[list[dict[str, Any]]]:
    """Buttons from [token, label] pairs, as the Bot API's inline keyboard rows; short labels
    go two to a row, like "Ja | Nee". `links`, [label, url] pairs, open a URL (a deep link),
    each on a row of its own; [label, url, "web_app"] opens it as a Mini App inside Telegram
    (which allows that in a private chat only)."""
    rows: list[list[dict[str, Any]]] = []
    for token, label in choices:
        button = {"text": label[:64], "callback_data": token}
        if (rows and len(rows[-1]) == 1 and len(rows[-1][0]["text"]) <= SHORT_LABEL
                and len(button["text"]) <= SHORT_LABEL):
            rows[-1].append(button)
        else:
            rows.append([button])
    rows += [[link_button(*link)] for link in links or []]
    return rows


def link_button(label: str, url: str, kind: str = "url") -> dict[str, Any]:
    if kind == WEB_APP:
        return {"text": label[:64], "web_app": {"url": url}}
    return {"text": label[:64], "url": url}


def keyboard(choices: list[list[str]],
             links: list[list[str]] | None = None) -> InlineKeyboardMarkup | None:
    """`keyboard_rows` as python-telegram-bot's markup (None without buttons)."""
    rows = keyboard_rows(choices, links)
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton.de_json(button, None) for button in row]
                                 for row in rows])


def message_parts(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each queued message as Telegram messages: long texts split, buttons on the last piece.
    A message may name the forum topic (`thread_id`) it answers in."""
    parts: list[dict[str, Any]] = []
    for message in messages:
        if "text" not in message:
            parts.append(message)  # a document or a file: one part as it is
            continue
        chunks = split_text(message["text"])
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            part: dict[str, Any] = {"text": chunk,
                                    "choices": message.get("choices") if last else []}
            if last and message.get("links"):
                part["links"] = message["links"]
            if message.get("no_preview"):
                part["no_preview"] = True  # a sign-in link: no preview fetcher may open it
            if message.get("thread_id") is not None:
                part["thread_id"] = message["thread_id"]
            if message.get("dossier_id") is not None:
                part["dossier_id"] = message["dossier_id"]  # recorded once sent (take-back)
            parts.append(part)
    return parts


