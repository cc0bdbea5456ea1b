"""Recruiters answer candidates' questions by replying to them in the recruiters' chat.

A candidate's question arrives in RECRUITER_CHAT_ID as a message the outbox sender recorded
(`candidate_question.recruiter_message_id`). A reply to that message by a recruiter
(RECRUITER_USER_IDS) is an answer: the engine stores it with the dossier, queues it to the
candidate's chat in their language and confirms it to the recruiters — in the candidate's unit
of work, once per update. Every reply is forwarded, in the order the recruiters sent them.

Anything else is ignored on purpose and logged by update id only, never its content: a reply
by someone who is not a recruiter, a reply to another message (recruiters talking among
themselves), an edited reply. A non-text reply to a question is answered with how to answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from flows.engine import Engine
from flows.messages import Msg, render
from storage.dossier_repository import SqlDossierStore
from storage.outbox import RECRUITERS, SqlOutbox

log = logging.getLogger(__name__)
OUTPUT_LANGUAGE = "nl"  # what the recruiters' chat reads


class RecruiterReplies:
    def __init__(self, engine: Engine, store: SqlDossierStore, allowed: frozenset[int],
                 recruiter_chat: int | None, outbox: SqlOutbox,
                 clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.store = store
        self.allowed = allowed
        self.recruiter_chat = recruiter_chat
        self.outbox = outbox
        self.clock = clock

    async def reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.message, update.effective_user
        if message is None or message.reply_to_message is None:
            return
        if user is None or user.id not in self.allowed:
            log.info("update %s: a reply in the recruiters' chat by someone who is not a "
                     "recruiter; ignored", update.update_id)
            return
        target = message.reply_to_message
        ref = await asyncio.to_thread(self.store.question_for_message, message.chat_id,
                                      target.message_id)
        if ref is None:
            log.info("update %s: a reply to a message that is no candidate's question; ignored",
                     update.update_id)
            return
        if not message.text:
            # A photo, a voice note...: only text can be forwarded; say how, once per update.
            await asyncio.to_thread(
                self.outbox.queue_for_event, channel="telegram", event_id=update.update_id,
                chat_id=RECRUITERS, messages=[{"text": render(Msg("rec.question.text_only"),
                                                              OUTPUT_LANGUAGE), "choices": []}],
                now=self.clock())
            return
        outcome = await asyncio.to_thread(
            self.engine.relay_answer, ref.channel, ref.external_id, ref.question_id,
            message.text, str(user.id), update.update_id)
        log.info("update %s: answer to question %s %s", update.update_id, ref.question_id, outcome)

    async def edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        # The first version went to the candidate already; an edit is not sent again.
        log.info("update %s: an edited message in the recruiters' chat; not forwarded",
                 update.update_id)

    def register(self, app: Application) -> None:
        if self.recruiter_chat is None:
            return  # no recruiters' chat: questions wait in the outbox (`main.py export`)
        chat = filters.Chat(chat_id=self.recruiter_chat)
        # Before the candidates' handlers: the recruiters' chat could be a private one.
        # Commands in a reply stay commands (the recruiter commands are registered earlier).
        app.add_handler(MessageHandler(chat & filters.UpdateType.MESSAGE & filters.REPLY
                                       & ~filters.COMMAND, self.reply))
        app.add_handler(MessageHandler(chat & filters.UpdateType.EDITED_MESSAGE & filters.REPLY,
                                       self.edited))
