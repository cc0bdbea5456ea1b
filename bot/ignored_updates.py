"""Updates the bot deliberately does not answer, counted by kind: nothing is dropped silently.

Registered last: what no other handler took ends here. That is, by design, what nobody wrote
*to* the bot as a candidate — a channel post, a group's service message, an edit in a group, a
live location moving, a reaction, a chat member change, a business or inline update — and what
a handler decided to leave unanswered (a group told within the hour, a command for another bot).
Each is counted under its kind (update type, chat type, message type: never its content, never
who sent it) and the count logged at 1, 10, 100, ... per kind, so the log shows what arrives
without growing with it.
"""

from __future__ import annotations

import logging
from collections import Counter

from telegram import Message, Update
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.helpers import effective_message_type

log = logging.getLogger(__name__)


def kind_of(update: Update) -> str:
    """`channel_post:channel:text`, `message_reaction`, ...: what arrived, without content."""
    for name in Update.ALL_TYPES:
        payload = getattr(update, name, None)
        if payload is None:
            continue
        if isinstance(payload, Message):
            return f"{name}:{payload.chat.type}:{effective_message_type(payload) or 'other'}"
        return str(name)
    return "empty"


def logged_at(count: int) -> bool:
    """1, 10, 100, ...: a count worth a line."""
    while count % 10 == 0:
        count //= 10
    return count == 1


class IgnoredUpdates:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def note(self, update: Update, why: str | None = None) -> None:
        kind = kind_of(update) + (f" ({why})" if why else "")
        self.counts[kind] += 1
        if logged_at(self.counts[kind]):
            log.info("not answered: %s, %s so far", kind, self.counts[kind])

    async def handle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self.note(update)

    def register(self, app: Application) -> None:
        """Call after every other handler: it takes whatever they left."""
        app.add_handler(TypeHandler(Update, self.handle))
