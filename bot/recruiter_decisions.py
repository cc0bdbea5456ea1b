"""Recruiters decide from the notification: invite, decline, ask for a document, mark reviewed.

A submitted dossier's notification carries four buttons (`flows/decisions.py`). Only a
recruiter (RECRUITER_USER_IDS) may press them, and only in the recruiters' chat or their own
private chat with the bot; anyone else gets a refusal as the button's answer, in their language,
and nothing happens. A press shows what would happen — for a decline, the reason first; for a
document, which one — and what the candidate would read, with "Bevestig" and "Annuleer". Only
the confirmation acts: the engine records the decision in the candidate's unit of work, queues
the candidate's message and the recruiters' "Uitgenodigd door Rita om 10:12", once per update.

Every button names the dossier's decision version: a press on a button older than the last
decision (stale) or on data we never made (forged) does nothing but say so. A withdrawn or
erased dossier cannot be decided. Handlers never send a message themselves: the previews and
answers go through the outbox, exactly once per update; only the button's own answer (its
spinner) and taking the buttons off a message that has served are done directly, as both are
harmless to repeat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import CallbackQuery, Chat, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from flows import decisions as D
from flows.engine import Engine
from flows.events import Reply, outgoing
from flows.messages import Msg, normalise_language, render
from flows.replies import locale_of
from flows.text_cleaning import clean_text
from flows.vacancy import Vacancy
from storage.dossier_repository import SqlDossierStore
from storage.outbox import SqlOutbox

log = logging.getLogger(__name__)
OUTPUT_LANGUAGE = "nl"  # what the recruiters' chat reads
Messages = list[dict[str, Any]]


class RecruiterDecisions:
    def __init__(self, engine: Engine, store: SqlDossierStore, vacancies: dict[str, Vacancy],
                 allowed: frozenset[int], recruiter_chat: int | None, outbox: SqlOutbox,
                 clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.store = store
        self.vacancies = vacancies
        self.allowed = allowed
        self.recruiter_chat = recruiter_chat
        self.outbox = outbox
        self.clock = clock

    def served_in(self, chat: Chat, user_id: int) -> bool:
        private = chat.type == Chat.PRIVATE and chat.id == user_id
        return private or (self.recruiter_chat is not None and chat.id == self.recruiter_chat)

    async def press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        lang = normalise_language(user.language_code)
        if user.id not in self.allowed:
            log.info("update %s: a decision button pressed by someone who is not a recruiter; "
                     "refused", update.update_id)
            await answer(query, render(Msg("rec.decide.only"), lang))
            return
        message = query.message
        if not isinstance(message, Message) or not self.served_in(message.chat, user.id):
            await answer(query, render(Msg("rec.decide.not_here"), lang))
            return
        press = D.parse(query.data or "")
        if press is None:
            log.info("update %s: decision button data we never made; ignored", update.update_id)
            await answer(query, render(Msg("button.stale"), lang))
            return
        if press.stage == D.CANCEL:
            await answer(query, render(Msg("rec.decide.cancelled"), OUTPUT_LANGUAGE))
            await take_buttons_off(query)
            return
        if press.stage == D.CONFIRM:
            outcome = await asyncio.to_thread(self.confirm, press, update.update_id,
                                              str(user.id), user.first_name or "")
            log.info("update %s: decision %s on dossier %s %s", update.update_id, press.kind,
                     press.dossier_id, outcome)
            said = {"decided": Msg("rec.decide.confirmed"),
                    "gone": Msg("rec.decide.gone", {"id": press.dossier_id})}.get(
                outcome, Msg("rec.decide.stale", {"id": press.dossier_id}))
            await answer(query, None if outcome == "duplicate" else render(said, OUTPUT_LANGUAGE))
            await take_buttons_off(query)
            return
        messages = await asyncio.to_thread(self.ask, press)
        queued = await asyncio.to_thread(
            self.outbox.queue_for_event, channel="telegram", event_id=update.update_id,
            chat_id=str(message.chat.id), messages=messages, now=self.clock())
        if not queued:
            log.info("update %s was answered before; not queued again", update.update_id)
        await answer(query, render(Msg("rec.decide.asked"), OUTPUT_LANGUAGE))

    # ------------------------------------------------------------------ blocking parts

    def confirm(self, press: D.Press, event_id: int, decided_by: str, by_name: str) -> str:
        """Apply the decision in the candidate's unit of work; a dossier erased meanwhile
        (no candidate left to lock) is answered here, once per update."""
        found = self.store.get_dossier(press.dossier_id)
        if found is None:
            queued = self.outbox.queue_for_event(
                channel="telegram", event_id=event_id, chat_id="recruiters",
                messages=[{"text": render(Msg("rec.decide.gone", {"id": press.dossier_id}),
                                          OUTPUT_LANGUAGE), "choices": []}], now=self.clock())
            return "gone" if queued else "duplicate"
        candidate = found[1]
        return self.engine.decide(candidate.channel, candidate.external_id, press, decided_by,
                                  by_name, event_id)

    def ask(self, press: D.Press) -> Messages:
        """The next question about a press: which reason, which document, or "confirm?" with
        the candidate's message as they would read it (`flows.decisions.preview`)."""
        found = self.store.get_dossier(press.dossier_id)
        if found is None:
            return say(Msg("rec.decide.gone", {"id": press.dossier_id}))
        dossier, candidate, documents = found
        assert dossier.id is not None
        vacancy = self.vacancies.get(dossier.vacancy_id)
        shown = D.preview(vacancy, dossier, candidate, documents,
                          self.store.decisions(dossier.id), press)
        if shown.stage == "gone" or vacancy is None:
            return say(Msg("rec.decide.gone", {"id": press.dossier_id}))
        if shown.stage == "stale":
            return say(Msg("rec.decide.stale", {"id": dossier.id}))
        ours = locale_of(vacancy, OUTPUT_LANGUAGE)
        head = {"id": dossier.id, "title": vacancy.title,
                "name": clean_text(str(dossier.answers.get("candidate.name") or "—"))}
        if shown.stage in ("reason", "document"):
            key = "rec.decide.choose_reason" if shown.stage == "reason" else "rec.decide.choose_document"
            return self.about(dossier.id, Reply(OUTPUT_LANGUAGE, (Msg(key, head),), shown.choices,
                                                locale=ours))
        message = Reply(candidate.language, shown.told, locale=shown.locale).text()
        return self.about(dossier.id, Reply(OUTPUT_LANGUAGE, (Msg("rec.decide.confirm", {
            **head, "what": shown.what, "message": message}),), shown.choices, locale=ours))

    @staticmethod
    def about(dossier_id: int, reply: Reply) -> Messages:
        # About a dossier: the sender records it, to take it back when the dossier is erased.
        return [{**m, "dossier_id": dossier_id} for m in outgoing([reply])]

    def register(self, app: Application) -> None:
        # Before the candidates' button handler, which takes every other press.
        app.add_handler(CallbackQueryHandler(self.press, pattern=f"^{D.PREFIX}:"))


def say(msg: Msg) -> Messages:
    return [{"text": render(msg, OUTPUT_LANGUAGE), "choices": []}]


async def answer(query: CallbackQuery, text: str | None = None) -> None:
    try:
        await query.answer(text)
    except TelegramError:
        pass  # too old after downtime; what the press did is what matters


async def take_buttons_off(query: CallbackQuery) -> None:
    """The confirmation's buttons have served; leaving them invites a second press (which
    would only be answered as stale)."""
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError:
        pass  # best effort: the message may be too old, or Telegram slow
