"""Candidate handlers: find the candidate, call the engine, render the replies. Nothing else."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import traceback
from dataclasses import replace
from pathlib import Path

from telegram import Message, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.rendering import to_messages
from flows.engine import Engine
from flows.events import COMMANDS, Inbound, Reply, Sender, Upload
from flows.messages import Msg, normalise_language, render

log = logging.getLogger(__name__)
# New messages only: an edited earlier message must not answer the current question.
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def sender_of(update: Update) -> Sender:
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    return Sender("telegram", str(user.id), chat_id=str(chat.id), language_code=user.language_code)


async def send_replies(context: ContextTypes.DEFAULT_TYPE, chat_id: int | str,
                       replies: list[Reply]) -> None:
    for reply in replies:
        for out in to_messages(reply):
            await context.bot.send_message(chat_id, out.text, reply_markup=out.keyboard)


class CandidateHandlers:
    def __init__(self, engine: Engine, after_submit: object | None = None) -> None:
        self.engine = engine
        self.after_submit = after_submit  # called when a dossier was submitted (outbox kick)

    async def run(self, update: Update, context: ContextTypes.DEFAULT_TYPE,
                  inbound: Inbound) -> None:
        # The engine is synchronous (one short transaction); keep the event loop free.
        message = update.message
        sent_at = message.date if message is not None else None  # a press has no send time
        replies = await asyncio.to_thread(self.engine.handle, sender_of(update),
                                          inbound.numbered(update.update_id, sent_at))
        chat = update.effective_chat
        assert chat is not None
        await send_replies(context, chat.id, replies)
        if self.after_submit and any("submitted" in r.meta for r in replies):
            self.after_submit(context)  # type: ignore[operator]

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        payload = context.args[0] if context.args else None
        await self.run(update, context, Inbound.start(payload))

    async def command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        name = message.text.split()[0][1:].split("@")[0].lower()
        await self.run(update, context, Inbound.do(name))

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        await self.run(update, context, Inbound.say(message.text or ""))

    async def press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        try:
            await query.answer()  # stops the button's spinner; too old after downtime
        except TelegramError:
            pass
        await self.run(update, context, Inbound.press(query.data or ""))
        # The pressed message's buttons have done their job; leaving them invites stale presses.
        if isinstance(query.message, Message):
            try:
                await query.edit_message_reply_markup(None)
            except BadRequest:
                pass

    async def document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        if message.document is not None:
            doc = message.document
            upload = Upload(doc.file_name or "document", doc.mime_type, doc.file_size or 0,
                            group=message.media_group_id)
            file_id = doc.file_id
        elif message.photo:
            photo = message.photo[-1]  # the largest size Telegram offers
            upload = Upload("foto.jpg", "image/jpeg", photo.file_size or 0,
                            group=message.media_group_id)
            file_id = photo.file_id
        else:
            return
        sender = sender_of(update)
        refusal = await asyncio.to_thread(self.engine.check_upload, sender, upload, message.date)
        if refusal:
            await send_replies(context, message.chat_id, refusal)
            return
        with tempfile.TemporaryDirectory(prefix="intake-upload-") as folder:
            path = Path(folder) / "received"
            telegram_file = await context.bot.get_file(file_id)
            await telegram_file.download_to_drive(path)
            upload = replace(upload, path=path, size=path.stat().st_size)
            await self.run(update, context, Inbound.send_file(upload))

    def register(self, app: Application) -> None:
        app.add_handler(CommandHandler("start", self.start, filters=PRIVATE))
        app.add_handler(CommandHandler(list(COMMANDS), self.command, filters=PRIVATE))
        app.add_handler(CallbackQueryHandler(self.press))
        app.add_handler(MessageHandler(PRIVATE & (filters.Document.ALL | filters.PHOTO),
                                       self.document))
        # Unknown /commands go to the command fallback, never into an answer.
        app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, self.text))
        app.add_error_handler(self.on_error)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log without personal data; show the candidate where they are, so that nothing
        they repeat lands on a question they have not seen."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        # Type and code location only: an exception's message may quote what was sent.
        where = "".join(traceback.format_tb(error.__traceback__)[-3:]) if error else ""
        log.error("update %s failed: %s\n%s", update_id, type(error).__name__, where)
        if isinstance(error, Forbidden) or not isinstance(update, Update):
            return  # the user blocked the bot: nobody to tell
        if update.effective_chat is None or update.effective_user is None:
            return
        lang = normalise_language(update.effective_user.language_code)
        try:
            await context.bot.send_message(update.effective_chat.id,
                                           render(Msg("error.try_again"), lang))
            replies = await asyncio.to_thread(self.engine.handle, sender_of(update),
                                              Inbound.do("status"))
            await send_replies(context, update.effective_chat.id, replies)
        except Exception:
            log.warning("could not tell update %s where the candidate is", update_id)
