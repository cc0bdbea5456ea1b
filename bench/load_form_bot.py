"""The form bot: what the intake would be as an ordinary python-telegram-bot form —
`ConversationHandler` + `PicklePersistence`, the same questions (compiled from the vacancy
files, so it asks as many, with the same options as buttons) and one state per document.

It runs as such a bot is deployed: the Application started, updates through its update queue
one at a time (a ConversationHandler's default), the persistence flushed by the Application
(every `update_interval`, 60 s by default, and at stop — the stop is inside the measured time).
Replies start with "<n>|" (n counts the user's updates) for the driver's order check.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)
from telegram.warnings import PTBUserWarning

from bench.load_api import TOKEN, InstantApi
from bench.load_references import QueuedBot
from flows.flow import Flow
from flows.messages import Msg, render
from flows.vacancy_loader import load_catalogue
from settings import ROOT

DONE = -10  # past the last document: every update gets "your dossier is complete"


def questions_of(vacancy: Any, lang: str = "nl") -> list[tuple[str, list[str]]]:
    """(question text, option labels) of every question, then one per document."""
    asked = []
    for question in Flow(vacancy).questions:
        try:
            text = render(Msg(question.prompt_key, dict(question.prompt_values)), lang)
        except Exception:  # a prompt that needs the engine's context: its key will do
            text = question.prompt_key
        labels = []
        for option in question.options:
            try:
                labels.append(render(option.label, lang)[:60])
            except Exception:
                labels.append(str(option.value)[:60])
        if question.kind == "yes_no":
            labels = ["Ja", "Nee"]
        asked.append((text, labels))
    for document in vacancy.documents:
        asked.append((f"Stuur je {render(document.label, lang)}.", []))
    return asked


class FormBot(QueuedBot):
    def __init__(self, root: Path) -> None:
        self.path = root / "form-bot.pickle"
        self.forms = {vid: questions_of(v) for vid, v in load_catalogue(ROOT / "vacancies").items()}

    async def say(self, update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
                  options: list[str] = ()) -> None:  # type: ignore[assignment]
        data = context.user_data
        assert data is not None and update.effective_user is not None
        data["n"] = data.get("n", 0) + 1
        markup = (InlineKeyboardMarkup([[InlineKeyboardButton(o, callback_data=str(i))]
                                        for i, o in enumerate(options)]) if options else None)
        if update.callback_query is not None:
            await update.callback_query.answer()
        await context.bot.send_message(update.effective_user.id, f"{data['n']}|{text}",
                                       reply_markup=markup)

    async def begin(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        data = context.user_data
        assert data is not None and context.args is not None
        data["vacancy"] = context.args[0] if context.args else next(iter(self.forms))
        data["answers"] = {}
        await self.say(update, context, "Privacy: wat we bewaren en waarom.", ["Akkoord",
                                                                               "Niet akkoord"])
        return 0

    async def answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Keep the answer to the question of this state, ask the next one."""
        data = context.user_data
        assert data is not None
        form = self.forms[data["vacancy"]]
        step = data.get("step", 0)
        said = (update.callback_query.data if update.callback_query is not None
                else (update.effective_message.text if update.effective_message else None))
        data["answers"][step] = said or "[file]"
        data["step"] = step + 1
        if step >= len(form):
            await self.say(update, context, "Je dossier is volledig.")
            return DONE
        text, options = form[step]
        await self.say(update, context, text, options)
        return step + 1

    async def command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.say(update, context, "Status: je bent bezig met je kandidatuur.")

    async def done(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        await self.say(update, context, "Je dossier is volledig.")
        return DONE

    def conversation(self) -> ConversationHandler:
        longest = max(len(form) for form in self.forms.values())
        answer = [CallbackQueryHandler(self.answer),
                  MessageHandler(filters.ALL & ~filters.COMMAND, self.answer)]
        states: dict[object, list[Any]] = {i: answer for i in range(longest + 1)}
        states[DONE] = [MessageHandler(filters.ALL & ~filters.COMMAND, self.done),
                        CallbackQueryHandler(self.done)]
        with warnings.catch_warnings():
            # per_message=False with CallbackQueryHandlers: the usual form-bot setup.
            warnings.simplefilter("ignore", PTBUserWarning)
            return ConversationHandler(
                entry_points=[CommandHandler("start", self.begin)], states=states,
                fallbacks=[CommandHandler(["status", "back", "help"], self.command)],
                name="intake", persistent=True, allow_reentry=True)

    async def start(self, api: InstantApi) -> None:
        app = (ApplicationBuilder().token(TOKEN).request(api).updater(None)
               .job_queue(None).persistence(PicklePersistence(self.path)).build())
        app.add_handler(self.conversation())
        await self.serve(app)
