"""Recruiter commands: /dossiers, /dossier, /export — for RECRUITER_USER_IDS only.

A command is served only to a recruiter (`allowed`) and only where no outsider reads along: the
recruiter's private chat with the bot, or the recruiters' chat (`recruiter_chat`). Anywhere else
the answer is a refusal that says nothing about dossiers (not whether one exists, nor how many).
Only new messages run a command: an edited message re-sends nothing.

Handlers never send: every answer, a refusal included, is queued in the outbox exactly once per
update (`SqlOutbox.queue_for_event`), and `bot/outbox_sender.py` sends it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import Chat, Message, MessageEntity, Update, User
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.rendering import split_text
from flows.dossier_summary import (
    csv_export,
    document_caption,
    questions_summary,
    recruiter_locale,
    status_text,
    summary,
)
from flows.messages import Msg, normalise_language, render
from flows.ports import FileStore
from flows.text_cleaning import clean_text
from flows.vacancy import Vacancy
from storage.dossier_repository import SqlDossierStore
from storage.outbox import SqlOutbox

log = logging.getLogger(__name__)
STATUSES = ("draft", "ineligible", "collecting", "submitted", "withdrawn", "expired")
OUTPUT_LANGUAGE = "nl"  # what recruiters are shown; refusals follow the user's own language
Messages = list[dict[str, Any]]
Command = Callable[[list[str]], Messages]


def text(value: str) -> dict[str, Any]:
    return {"text": value, "choices": []}


def say(msg: Msg, lang: str = OUTPUT_LANGUAGE) -> Messages:
    return [text(render(msg, lang))]


def addressed_elsewhere(message: Message, bot_username: str | None) -> bool:
    """True for `/command@other_bot`: a command meant for another bot in the same group."""
    entity = (message.entities or (None,))[0]
    if (message.text is None or entity is None or entity.type != MessageEntity.BOT_COMMAND
            or entity.offset != 0):
        return False
    _command, at, username = message.text[1:entity.length].partition("@")
    if not at:
        return False
    return bot_username is None or username.lower() != bot_username.lower()


class RecruiterCommands:
    def __init__(self, store: SqlDossierStore, files: FileStore, vacancies: dict[str, Vacancy],
                 allowed: frozenset[int], recruiter_chat: int | None, outbox: SqlOutbox,
                 clock: Callable[[], datetime], language: str = OUTPUT_LANGUAGE) -> None:
        self.store = store
        # What recruiters read (RECRUITER_LANGUAGE): "nl" (as the employer's country says it)
        # or "en"; refusals follow the user's own language.
        self.language = language
        self.files = files
        self.vacancies = vacancies
        self.allowed = allowed
        self.recruiter_chat = recruiter_chat
        self.outbox = outbox
        self.clock = clock

    # ------------------------------------------------------------------ who may see what, where

    def served_in(self, chat: Chat, user: User) -> bool:
        """The recruiter's own private chat with the bot, or the recruiters' chat."""
        private = chat.type == Chat.PRIVATE and chat.id == user.id
        return private or (self.recruiter_chat is not None and chat.id == self.recruiter_chat)

    def guarded(self, command: Command) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Any]:
        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message = update.message  # a new message only; never an edit or a channel post
            chat = update.effective_chat
            if message is None or chat is None:
                return
            if addressed_elsewhere(message, context.bot.username):
                return
            user = update.effective_user
            if user is None or user.id not in self.allowed:
                # Same answer whatever the arguments: an outsider learns nothing about dossiers.
                answer = say(Msg("recruiter.only"), normalise_language(
                    user.language_code if user else None))
            elif not self.served_in(chat, user):
                answer = say(Msg("recruiter.not_here"), normalise_language(user.language_code))
            else:
                answer = await asyncio.to_thread(command, list(context.args or []))
            queued = await asyncio.to_thread(
                self.outbox.queue_for_event, channel="telegram", event_id=update.update_id,
                chat_id=str(chat.id), messages=answer, now=self.clock())
            if not queued:
                log.info("update %s was answered before; not queued again", update.update_id)
        return handle

    # ------------------------------------------------------------------ the commands (blocking)

    def dossiers(self, args: list[str]) -> Messages:
        vacancy_id = next((a for a in args if a in self.vacancies), None)
        status = next((a for a in args if a in STATUSES), None)
        if len(args) != (vacancy_id is not None) + (status is not None):
            return say(Msg("rec.list.usage"), self.language)
        rows = self.store.list_dossiers(vacancy_id, status)
        if not rows:
            return say(Msg("rec.list.none"), self.language)
        lines = [render(Msg("rec.list.title", {"n": len(rows)}), self.language)]
        for d in rows[-100:]:
            vacancy = self.vacancies.get(d.vacancy_id)
            lang = recruiter_locale(vacancy, self.language) if vacancy else self.language
            title = (Msg("rec.list.vacancy", {"title": vacancy.title, "employer": vacancy.employer})
                     if vacancy else d.vacancy_id)  # a vacancy file retired meanwhile
            lines.append(clean_text(render(Msg("rec.list.row", {
                "id": d.id, "vacancy": title, "status": status_text(d.status),
                "name": d.answers.get("candidate.name", "—"),
                "updated": d.updated_at.astimezone(vacancy.zone if vacancy else None
                                                   ).strftime("%d-%m-%Y %H:%M")}), lang)))
        return [text("\n".join(lines))]

    def dossier(self, args: list[str]) -> Messages:
        if len(args) != 1 or not args[0].lstrip("#").isdigit():
            return say(Msg("rec.dossier.usage"), self.language)
        dossier_id = int(args[0].lstrip("#"))
        found = self.store.get_dossier(dossier_id)
        if found is None or found[0].vacancy_id not in self.vacancies:
            return say(Msg("rec.dossier.unknown", {"id": dossier_id}), self.language)
        dossier, _candidate, documents = found
        vacancy = self.vacancies[dossier.vacancy_id]
        answer = [text(summary(vacancy, dossier, documents, self.language))]
        asked = [(q, a) for q, a in self.store.questions(dossier_id) if q.status == "asked"]
        if asked:  # kept with the dossier: the questions it put to us, and what we answered
            answer += [text(chunk) for chunk in
                       split_text(questions_summary(vacancy, asked, self.language))]
        # Documents by id: the sender reads the file at send time (gone if erased meanwhile).
        name = dossier.answers.get("candidate.name")
        lang = recruiter_locale(vacancy, self.language)
        answer += [{"document_id": doc.id,
                    "caption": document_caption(vacancy, dossier.id, name, doc.kind, lang)}
                   for doc in documents]
        # Every copy is about this dossier: the sender records it, to take it back on erasure.
        return [{**part, "dossier_id": dossier_id} for part in answer]

    def export(self, args: list[str]) -> Messages:
        if len(args) != 1 or args[0] not in self.vacancies:
            return say(Msg("rec.export.usage", {"ids": ", ".join(sorted(self.vacancies))}),
                       self.language)
        vacancy = self.vacancies[args[0]]
        data, count = self.export_rows(vacancy)
        caption = render(Msg("rec.export.caption", {"title": vacancy.title, "n": count}),
                         recruiter_locale(vacancy, self.language))
        return [{"file_name": f"{vacancy.id}.csv",
                 "file_data": base64.b64encode(data).decode("ascii"), "caption": caption}]

    def export_rows(self, vacancy: Vacancy) -> tuple[bytes, int]:
        rows = []
        for d in self.store.list_dossiers(vacancy.id, None):
            found = self.store.get_dossier(d.id)
            if found is not None:
                rows.append(found)
        return csv_export(vacancy, rows, self.language), len(rows)

    def register(self, app: Application) -> None:
        # New messages only: CommandHandler also runs on edited messages by default, and
        # editing an old message must not re-send a dossier.
        new_messages = filters.UpdateType.MESSAGE
        app.add_handler(CommandHandler("dossiers", self.guarded(self.dossiers),
                                       filters=new_messages))
        app.add_handler(CommandHandler("dossier", self.guarded(self.dossier),
                                       filters=new_messages))
        app.add_handler(CommandHandler("export", self.guarded(self.export),
                                       filters=new_messages))
