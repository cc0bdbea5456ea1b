"""Build and run the python-telegram-bot Application around the engine."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.candidate_handlers import PRIVATE, CandidateHandlers
from bot.recruiter_commands import RecruiterCommands
from bot.recruiter_notifications import OutboxSender
from bot.reminders import Reminders
from bot.update_processor import PerUserUpdateProcessor
from flows.engine import Engine
from flows.messages import LANGUAGES, Msg, render
from flows.ports import FileStore
from flows.vacancy import Vacancy
from settings import Settings
from storage.dossier_repository import SqlDossierStore
from storage.retention import purge_expired

log = logging.getLogger(__name__)
MENU = ("start", "status", "back", "restart", "language", "vacancies", "withdraw", "help")
OUTBOX_INTERVAL = 10  # seconds between outbox runs (and right after every submit)
SWEEP_INTERVAL = 60  # seconds between reminder/expiry sweeps
RETENTION_INTERVAL = 6 * 3600  # seconds between retention runs


@dataclass
class BotParts:
    app: Application
    outbox: OutboxSender
    reminders: Reminders


def build_application(settings: Settings, engine: Engine, store: SqlDossierStore,
                      files: FileStore, vacancies: dict[str, Vacancy],
                      clock: Callable[[], datetime],
                      request: BaseRequest | None = None, rate_limit: bool = True) -> BotParts:
    assert settings.telegram_bot_token is not None
    builder = (ApplicationBuilder()
               .token(settings.telegram_bot_token.get_secret_value())
               .concurrent_updates(PerUserUpdateProcessor(64))
               .post_init(set_command_menu))
    if rate_limit:  # Telegram's limits; a simulation talks to no Telegram and runs at full speed
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url)
    if settings.telegram_file_base_url:
        builder = builder.base_file_url(settings.telegram_file_base_url)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app = builder.build()

    outbox = OutboxSender(store, files, vacancies, settings.recruiter_chat_id, clock)
    reminders = Reminders(engine, store, settings.reminder_days)

    async def deliver(context: ContextTypes.DEFAULT_TYPE) -> None:
        await outbox.deliver(context.bot)

    def kick(context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.job_queue is not None:
            context.job_queue.run_once(deliver, 0)

    # Recruiter commands first: in one handler group the first match wins.
    RecruiterCommands(store, files, vacancies, settings.recruiter_user_ids).register(app)
    candidates = CandidateHandlers(engine, after_submit=kick)
    candidates.register(app)
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, candidates.command))
    async def retention(context: ContextTypes.DEFAULT_TYPE) -> None:
        deleted, _ = await asyncio.to_thread(purge_expired, store, files, vacancies, clock())
        if deleted:
            log.info("retention: %s dossiers deleted", deleted)

    if app.job_queue is not None:
        app.job_queue.run_repeating(deliver, interval=OUTBOX_INTERVAL, first=1)
        app.job_queue.run_repeating(reminders.sweep, interval=SWEEP_INTERVAL, first=0)
        app.job_queue.run_repeating(retention, interval=RETENTION_INTERVAL, first=60)
    return BotParts(app, outbox, reminders)


async def set_command_menu(app: Application) -> None:
    """The command menu in Dutch (also the default) and English."""
    for lang in LANGUAGES:
        commands = [BotCommand(name, render(Msg(f"cmd.{name}"), lang)) for name in MENU]
        await app.bot.set_my_commands(commands, language_code=lang)
        if lang == "nl":
            await app.bot.set_my_commands(commands)


def webhook_path(webhook_url: str) -> str:
    """Listen where Telegram will post: the path of WEBHOOK_URL (behind a reverse proxy)."""
    return urlsplit(webhook_url).path.strip("/")


def run(parts: BotParts, settings: Settings) -> None:
    """Long polling, or a webhook when WEBHOOK_URL is set (the secret checked on every call)."""
    app = parts.app
    if settings.webhook_url:
        # main.py refuses webhook mode without a secret: without one anyone could post updates.
        assert settings.webhook_secret is not None
        app.run_webhook(listen="0.0.0.0", port=settings.port,
                        url_path=webhook_path(settings.webhook_url),
                        webhook_url=settings.webhook_url,
                        secret_token=settings.webhook_secret.get_secret_value(),
                        allowed_updates=Update.ALL_TYPES)
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
