"""Recruiter commands: /dossiers, /dossier, /export, /help — for RECRUITER_USER_IDS only
(/dashboard, guarded the same way: bot/dashboard_links.py).

A command is served only to a recruiter (`allowed`) and only where no outsider reads along: the
recruiter's private chat with the bot, or the recruiters' chat (`recruiter_chat`). Anywhere else
the answer is a refusal, in the asker's own language, that says nothing about dossiers (not
whether one exists, nor how many). Only new messages run a command: an edited message re-sends
nothing. A press on a page button of /dossiers (◀ ▶) is guarded the same way.

/help is the recruiters' own in the recruiters' chat and in a recruiter's private chat (there
followed by the candidate help: a recruiter may try the bot as a candidate); anyone else's /help
in a private chat is the candidate help of bot/candidate_handlers.py.

Handlers never send: every answer, a refusal included, is queued in the outbox exactly once per
update (`SqlOutbox.queue_for_event`), and `bot/outbox_sender.py` sends it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import CallbackQuery, Chat, Message, MessageEntity, Update, User
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.rendering import split_text
from bot.stats_chart import funnel_photo
from flows.decisions import KINDS
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
from flows.replies import vacancy_key
from flows.text_cleaning import clean_text
from flows.vacancy import Vacancy
from storage.dossier_repository import SqlDossierStore
from storage.outbox import SqlOutbox

log = logging.getLogger(__name__)
STATUSES = ("draft", "ineligible", "collecting", "submitted", "withdrawn", "expired")
DECISIONS = KINDS  # the recruiters' decisions: invited, declined, document_asked, reviewed
OUTPUT_LANGUAGE = "nl"  # what recruiters are shown; refusals follow the user's own language
Messages = list[dict[str, Any]]
Command = Callable[[list[str]], Messages]
# What a recruiter is offered, in the command menu and in /help (`/stats` is the funnel).
RECRUITER_COMMANDS = ("dossiers", "dossier", "export", "stats", "help")
PAGE_SIZE = 20  # rows of /dossiers per page
PAGE_PREFIX = "rl:"  # callback data of a page button: rl:<page>:<vacancy key>:<status>


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
                 clock: Callable[[], datetime], language: str = OUTPUT_LANGUAGE,
                 commands: tuple[str, ...] = RECRUITER_COMMANDS) -> None:
        self.store = store
        # What /help lists: RECRUITER_COMMANDS, and /dashboard when it is switched on.
        self.commands = commands
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

    def refusal(self, chat: Chat, user: User | None) -> Msg | None:
        """Why `user` is not served in `chat`, or None when they are. The same answer whatever
        they asked for: an outsider learns nothing about dossiers."""
        if user is None or user.id not in self.allowed:
            return Msg("recruiter.only")
        if not self.served_in(chat, user):
            return Msg("recruiter.not_here")
        return None

    async def queue(self, update: Update, chat: Chat, answer: Messages) -> None:
        queued = await asyncio.to_thread(
            self.outbox.queue_for_event, channel="telegram", event_id=update.update_id,
            chat_id=str(chat.id), messages=answer, now=self.clock())
        if not queued:
            log.info("update %s was answered before; not queued again", update.update_id)

    def guarded(self, command: Command) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Any]:
        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message = update.message  # a new message only; never an edit or a channel post
            chat = update.effective_chat
            if message is None or chat is None:
                return
            if addressed_elsewhere(message, context.bot.username):
                return
            user = update.effective_user
            refused = self.refusal(chat, user)
            if refused is not None:
                # In the asker's own language (Dutch when Telegram does not say).
                answer = say(refused, normalise_language(user.language_code if user else None))
            else:
                answer = await asyncio.to_thread(command, list(context.args or []))
            await self.queue(update, chat, answer)
        return handle

    def help_for(self, update: Update) -> Command:
        """/help in the asker's language: the recruiter commands; in a private chat also the
        candidate help (what /help says to everyone else there)."""
        user, chat = update.effective_user, update.effective_chat
        lang = normalise_language(user.language_code if user else None)
        private = chat is not None and chat.type == Chat.PRIVATE

        def command(args: list[str]) -> Messages:
            return [text(recruiter_help(lang, candidate_help=private, commands=self.commands))]
        return command

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.guarded(self.help_for(update))(update, context)

    async def page(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A press on ◀ or ▶ under a page of /dossiers: the asked page, as a new message in
        the same chat, for a recruiter where they are served; else a refusal on the button."""
        query = update.callback_query
        user = update.effective_user
        assert query is not None
        message = query.message
        lang = normalise_language(user.language_code if user else None)
        refused = Msg("recruiter.only") if message is None else self.refusal(message.chat, user)
        if refused is not None or message is None:
            if refused is None or refused.key == "recruiter.only":
                refused = Msg("rec.refused.button")
            await answer_press(query, render(refused, lang))
            return
        await answer_press(query)
        args = self.page_args(query.data or "")
        answer = (say(Msg("rec.page.gone"), lang) if args is None
                  else await asyncio.to_thread(self.dossiers, args))
        await self.queue(update, message.chat, answer)

    def page_args(self, data: str) -> list[str] | None:
        """The /dossiers arguments a page button stands for; None when it no longer can (its
        vacancy is gone, the data was not ours)."""
        page, _, rest = data.removeprefix(PAGE_PREFIX).partition(":")
        key, _, status = rest.partition(":")
        vacancy_id = next((v for v in self.vacancies if vacancy_key(v) == key), None)
        if not page.isdigit() or (key and vacancy_id is None) or (status and status not in STATUSES):
            return None
        return [a for a in (vacancy_id, status, page) if a]

    def page_buttons(self, page: int, pages: int, vacancy_id: str | None,
                     status: str | None) -> list[list[str]]:
        """◀ and ▶ (with the page they open) as [callback data, label] pairs; ≤ 64 bytes each."""
        def data(to: int) -> str:
            token = f"{PAGE_PREFIX}{to}:{vacancy_key(vacancy_id) if vacancy_id else ''}:{status or ''}"
            assert len(token.encode()) <= 64, token
            return token
        buttons = []
        if page > 1:
            buttons.append([data(page - 1), f"◀ {page - 1}"])
        if page < pages:
            buttons.append([data(page + 1), f"{page + 1} ▶"])
        return buttons

    # ------------------------------------------------------------------ the commands (blocking)

    def dossiers(self, args: list[str]) -> Messages:
        vacancy_id = next((a for a in args if a in self.vacancies), None)
        status = next((a for a in args if a in STATUSES), None)
        decision = next((a for a in args if a in DECISIONS), None)
        page = next((int(a) for a in args if a.isdigit() and int(a) > 0), None)
        if len(args) != sum(x is not None for x in (vacancy_id, status, decision, page)):
            return say(Msg("rec.list.usage"), self.language)
        rows = self.store.list_dossiers(vacancy_id, status, decision)
        if not rows:
            return say(Msg("rec.list.none"), self.language)
        # Newest first, PAGE_SIZE to a page; a page past the last shows the last.
        pages = math.ceil(len(rows) / PAGE_SIZE)
        page = min(page or 1, pages)
        shown = rows[::-1][(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
        lines = [render(Msg("rec.list.title", {"n": len(rows)}), self.language)]
        if pages > 1:
            lines.append(render(Msg("rec.page.of", {"page": page, "pages": pages}),
                                self.language))
        for d in shown:
            vacancy = self.vacancies.get(d.vacancy_id)
            lang = recruiter_locale(vacancy, self.language) if vacancy else self.language
            title = (Msg("rec.list.vacancy", {"title": vacancy.title, "employer": vacancy.employer})
                     if vacancy else d.vacancy_id)  # a vacancy file retired meanwhile
            lines.append(clean_text(render(Msg("rec.list.row", {
                "id": d.id, "vacancy": title, "status": status_text(d.status),
                "name": d.answers.get("candidate.name", "—"),
                "updated": d.updated_at.astimezone(vacancy.zone if vacancy else None
                                                   ).strftime("%d-%m-%Y %H:%M")}), lang)))
        return [{"text": "\n".join(lines),
                 "choices": self.page_buttons(page, pages, vacancy_id, status)}]

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
        data, ids = export_rows(self.store, vacancy, self.language)
        return data, len(ids)

    def stats(self, args: list[str]) -> Messages:
        """The funnel at a glance: a chart per vacancy (the one asked, or each one opened)."""
        if len(args) > 1 or (args and args[0] not in self.vacancies):
            return say(Msg("rec.stats.usage", {"ids": ", ".join(sorted(self.vacancies))}))
        chosen = [self.vacancies[args[0]]] if args else [self.vacancies[v] for v in sorted(self.vacancies)]
        parts = [funnel_photo(self.store, vacancy, OUTPUT_LANGUAGE, skip_empty=not args)
                 for vacancy in chosen]
        return [part for part in parts if part is not None] or say(Msg("rec.stats.none"))

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
        app.add_handler(CommandHandler("stats", self.guarded(self.stats), filters=new_messages))
        app.add_handler(CallbackQueryHandler(self.page, pattern=f"^{PAGE_PREFIX}"))
        # /help: a recruiter's in their private chat; anyone's in the recruiters' chat (there
        # an outsider is refused). Everyone else's private /help is the candidate help.
        helped = filters.ChatType.PRIVATE & filters.User(list(self.allowed))
        if self.recruiter_chat is not None:
            helped = helped | filters.Chat(self.recruiter_chat)
        app.add_handler(CommandHandler("help", self.help, filters=new_messages & helped))


def export_rows(store: SqlDossierStore, vacancy: Vacancy, language: str
                ) -> tuple[bytes, list[int]]:
    """A vacancy's dossiers as the CSV of /export (and of the dashboard), and their ids."""
    rows = store.dossiers_with_documents(vacancy.id)
    return (csv_export(vacancy, [(d, None, documents) for d, documents in rows], language),
            [d.id for d, _documents in rows if d.id is not None])


def recruiter_help(lang: str, candidate_help: bool,
                   commands: tuple[str, ...] = RECRUITER_COMMANDS) -> str:
    """What a recruiter can do here: every command of `commands` (RECRUITER_COMMANDS, with
    /dashboard when it is switched on), the buttons and replies; with `candidate_help`, what a
    candidate's /help says below it."""
    lines = [Msg("rec.help.intro"),
             *(Msg(f"rec.help.{name}", {"n": PAGE_SIZE} if name == "dossiers" else {})
               for name in commands if name != "help")]
    blocks = [[*lines], [Msg("rec.help.buttons"), Msg("rec.help.reply")]]
    if candidate_help:
        blocks += [[Msg("rec.help.as_candidate"), Msg("help")], [Msg("help.question")],
                   [Msg("help.privacy")]]
    return "\n\n".join("\n".join(render(part, lang) for part in block) for block in blocks)


async def answer_press(query: CallbackQuery, said: str | None = None) -> None:
    """Stop the button's spinner (with a short note, for a refusal); best effort."""
    try:
        await query.answer(said)
    except TelegramError:
        pass  # too old after downtime: what matters is what the outbox sends
