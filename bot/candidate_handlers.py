"""Candidate handlers: find the candidate, call the engine, nothing else.

The engine answers through the outbox (`durable=True`): its replies are written in the same
transaction as the answer, and sent by `bot/outbox_sender.py`. A handler never sends a message
itself, so a crash can neither lose nor repeat a reply.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import metrics, raw_calls
from bot.db_calls import RunDb
from bot.failpoints import failpoint
from bot.message_kinds import CONTENT_KINDS, DOCUMENT, SERVICE
from flows.answers import yes_or_no
from flows.engine import Engine
from flows.events import COMMAND_ALIASES, COMMANDS, QUESTION_COMMANDS, Inbound, Sender, Upload
from flows.messages import Msg, normalise_language, render
from flows.ports import FileStore

log = logging.getLogger(__name__)
Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]
# New messages only: an edited earlier message must not answer the current question.
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
EDITED = filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE


def sender_of(update: Update) -> Sender:
    user = update.effective_user
    assert user is not None
    # Always the user's own private chat: a press on a message elsewhere answers nowhere else.
    return Sender("telegram", str(user.id), chat_id=str(user.id), language_code=user.language_code)


def typed_consent(message: Message) -> str | None:
    """The accept button of the privacy notice this message *replies to* with a typed "ja",
    "ok" or "akkoord": Telegram says which notice it answers, so a typed consent can be taken
    although nothing was stored before it (not even the vacancy chosen)."""
    notice = message.reply_to_message
    if (notice is None or notice.from_user is None or not notice.from_user.is_bot
            or notice.chat.id != message.chat.id or yes_or_no(message.text or "") is not True):
        return None
    markup = notice.reply_markup
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if isinstance(button.callback_data, str) and button.callback_data.startswith("p:"):
                return button.callback_data
    return None


class CandidateHandlers:
    def __init__(self, engine: Engine, run_db: RunDb = asyncio.to_thread) -> None:
        self.engine = engine
        self.run_db = run_db  # bot/db_calls.py: inline on SQLite

    @property
    def files(self) -> FileStore:
        return self.engine.files

    async def run(self, update: Update, inbound: Inbound, run_db: RunDb | None = None) -> None:
        # The engine is synchronous (one short transaction): inline on SQLite, else in a
        # thread (bot/db_calls.py); `run_db` overrides that for a long turn.
        message = update.message
        sent_at = message.date if message is not None else None  # a press has no send time
        replies = await (run_db or self.run_db)(self.engine.handle, sender_of(update),
                                                inbound.numbered(update.update_id, sent_at),
                                                True)
        metrics.submitted_in(replies)
        failpoint("committed")

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        payload = context.args[0] if context.args else None
        await self.run(update, Inbound.start(payload))

    async def command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        name = message.text.split()[0][1:].split("@")[0].lower()
        await self.run(update, Inbound.do(name))

    async def question(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/vraag or /question, with the question after it or not."""
        message = update.effective_message
        assert message is not None and message.text is not None
        _command, *question = message.text.split(maxsplit=1)
        await self.run(update, Inbound.ask_recruiters(question[0] if question else None))

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        if message.forward_origin is not None:
            await self.run(update, Inbound.unusable("forwarded"))
            return
        consent = typed_consent(message)
        if consent is not None:
            await self.run(update, Inbound.press(consent))
            return
        await self.run(update, Inbound.say(message.text or ""))

    async def edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.run(update, Inbound.unusable("edited"))

    def unusable(self, what: str) -> Callback:
        """Stickers, voice, locations, contacts, polls...: answered with what works instead,
        never dropped. Nothing of the content is kept (a shared contact's number included)."""
        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            await self.run(update, Inbound.unusable(what))
        handle.__qualname__ = f"CandidateHandlers.unusable({what!r})"  # in logs and tests
        return handle

    async def press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        user = update.effective_user
        assert query is not None and user is not None
        lang = normalise_language(user.language_code)
        if not isinstance(query.message, Message) or query.message.chat.id != user.id:
            # An inline message, or a message of another chat (a forged press): act nowhere.
            await self.answer(query, render(Msg("button.not_here"), lang))
            return
        await self.answer(query)  # stops the button's spinner
        await self.run(update, Inbound.press(query.data or ""))
        # The pressed message's buttons have done their job; leaving them invites stale presses.
        try:
            await raw_calls.remove_buttons(context.bot, query.message.chat.id,
                                           query.message.message_id)
        except TelegramError:
            pass  # best effort: the message may be too old, or Telegram slow

    @staticmethod
    async def answer(query: object, text: str | None = None) -> None:
        try:
            await query.answer(text)  # type: ignore[attr-defined]
        except TelegramError:
            pass  # too old after downtime; the answer itself is what matters

    async def document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        if message.document is not None:
            doc = message.document
            upload = Upload(doc.file_name or "document", doc.mime_type, doc.file_size or 0,
                            group=message.media_group_id)
            file_id = doc.file_id
        else:
            photo = message.photo[-1]  # the largest size Telegram offers
            upload = Upload("foto.jpg", "image/jpeg", photo.file_size or 0,
                            group=message.media_group_id)
            file_id = photo.file_id
        sender = sender_of(update)
        refusal = await self.run_db(self.engine.check_upload, sender, upload, message.date,
                                          update.update_id, True)
        if refusal:
            return
        # Downloaded straight into the file store's incoming folder: no copy elsewhere, and
        # whatever a crash leaves there is swept (`sweep_orphan_files`).
        with self.files.incoming() as path:  # type: ignore[attr-defined]
            telegram_file = await context.bot.get_file(file_id)
            await telegram_file.download_to_drive(path)
            upload = replace(upload, path=path, size=path.stat().st_size)
            # Inspecting, sealing and writing a file of up to 20 MB: never on the event loop.
            await self.run(update, Inbound.send_file(upload), asyncio.to_thread)

    def register(self, app: Application) -> None:
        app.add_handler(CommandHandler("start", self.start, filters=PRIVATE))
        app.add_handler(CommandHandler([*COMMANDS, *COMMAND_ALIASES], self.command, filters=PRIVATE))
        app.add_handler(CommandHandler(list(QUESTION_COMMANDS), self.question, filters=PRIVATE))
        app.add_handler(CallbackQueryHandler(self.press))
        for what, content in CONTENT_KINDS:  # before documents: a GIF carries a document too
            app.add_handler(MessageHandler(PRIVATE & content, self.unusable(what)))
        app.add_handler(MessageHandler(PRIVATE & DOCUMENT, self.document))
        # Unknown /commands go to the command fallback, never into an answer.
        app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, self.text))
        app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, self.command))
        # A live location's moves arrive as edits: answered once, as a location, not per move.
        app.add_handler(MessageHandler(EDITED & ~filters.LOCATION, self.edited))
        # Whatever else a person can send; the chat's service messages are left to
        # bot/ignored_updates.py, which counts them.
        app.add_handler(MessageHandler(PRIVATE & ~SERVICE, self.unusable("media")))
