"""Build the python-telegram-bot Application around the engine, and the runtime that feeds it.

The Application only routes updates to handlers; updates reach it from the inbox
(`bot/inbox_worker.py`), and everything it says leaves through the outbox
(`bot/outbox_sender.py`). `run` starts polling or the webhook server and every loop of
`bot/runtime.py`, and stops them cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from starlette.types import ASGIApp
from telegram import BotCommand, BotCommandScope, BotCommandScopeChat, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder
from telegram.request import BaseRequest

from bot.candidate_handlers import CandidateHandlers
from bot.dashboard import wiring as dashboard
from bot.dashboard_links import DashboardLinks, set_menu_buttons, with_dashboard
from bot.db_calls import runner_for
from bot.group_messages import GroupMessages
from bot.ignored_updates import IgnoredUpdates
from bot.inbox_worker import InboxWorker
from bot.outbox_sender import OutboxSender
from bot.recruiter_commands import RECRUITER_COMMANDS, RecruiterCommands
from bot.recruiter_decisions import RecruiterDecisions
from bot.recruiter_replies import RecruiterReplies
from bot.reminders import Reminders
from bot.runtime import EVENT_MEMORY, QUARANTINE_KEPT, Job, Runtime, polling, process_name
from bot.webhook_server import build_status_app, build_webhook_app, serve
from flows.engine import Engine
from flows.messages import DEFAULT_LANGUAGE, LANGUAGES, Msg, render
from flows.ports import FileStore
from flows.vacancy import Vacancy
from settings import Settings
from storage.dashboard_access import SqlDashboardAccess
from storage.dossier_repository import SqlDossierStore
from storage.group_notices import SqlGroupNotices
from storage.inbox import SqlInbox, wall_clock
from storage.outbox import SqlOutbox
from storage.retention import purge_expired, sweep_orphan_files

log = logging.getLogger(__name__)
MENU = ("start", "status", "back", "restart", "language", "vacancies", "withdraw", "help")
# The question command in each menu's own language, listed before /help (both work in both).
QUESTION_COMMAND = {"nl": "vraag", "en": "question"}
# Access and erasure in each menu's own language, after the question (flows.events aliases).
PRIVACY_COMMANDS = {"nl": {"mijngegevens": "mydata", "wissen": "delete"},
                    "en": {"mydata": "mydata", "delete": "delete"}}
SWEEP_INTERVAL = 60  # seconds between reminder/expiry sweeps
# Retention at least daily, whichever process runs it: four times a day, so that when the
# process holding its lease dies (the lease lapses after two intervals) another one takes it
# within a day of the last run.
RETENTION_INTERVAL = 6 * 3600
HOUSEKEEPING_INTERVAL = 3600  # pruning handled updates, orphaned files
DB_THREADS = 32  # = the database pool: 16 connections + 16 overflow (main.build_engine)


@dataclass
class BotParts:
    app: Application
    runtime: Runtime
    reminders: Reminders
    ignored: IgnoredUpdates
    # The recruiters' dashboard (bot/dashboard), to mount at DASHBOARD_URL's path; None unset.
    dashboard: ASGIApp | None = None


def build_application(settings: Settings, engine: Engine, store: SqlDossierStore,
                      files: FileStore, vacancies: dict[str, Vacancy],
                      clock: Callable[[], datetime],
                      request: BaseRequest | None = None, rate_limit: bool = True,
                      lease_clock: Callable[[], datetime] = wall_clock) -> BotParts:
    """`clock` is the product's (deadlines, reminders, when a message is due); `lease_clock`
    the real one for leases and retries (a test may move it)."""
    assert settings.telegram_bot_token is not None
    builder = (ApplicationBuilder()
               .token(settings.telegram_bot_token.get_secret_value())
               .updater(None)  # updates come from the inbox, not python-telegram-bot's Updater
               .job_queue(None))  # periodic jobs are the runtime's, under a database lease
    if rate_limit and settings.telegram_max_rate:
        # Telegram's throughput limits; a 429 is the outbox's to retry (it records the wait).
        builder = builder.rate_limiter(AIORateLimiter(
            overall_max_rate=settings.telegram_max_rate, max_retries=0))
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url)
    if settings.telegram_file_base_url:
        builder = builder.base_file_url(settings.telegram_file_base_url)
    if request is not None:
        builder = builder.request(request)
    else:
        timeout = settings.telegram_timeout
        builder = (builder.connection_pool_size(64).read_timeout(timeout)
                   .write_timeout(timeout).connect_timeout(timeout).pool_timeout(timeout))
    app = builder.build()

    db = store.engine
    owner = process_name()
    run_db = runner_for(db)  # the per-update path's database calls: inline on SQLite
    lease = timedelta(seconds=settings.lease_seconds)
    inbox = SqlInbox(db, lease_clock=lease_clock, keyring=store.keyring)
    outbox = SqlOutbox(db, lease_clock=lease_clock, keyring=store.keyring)
    reminders = Reminders(engine, store, settings.reminder_days)

    group_notices = SqlGroupNotices(db)
    ignored = IgnoredUpdates()
    # One handler group: the first that matches takes the update; the last takes the rest.
    recruiter_commands = RecruiterCommands(
        store, files, vacancies, settings.recruiter_user_ids, settings.recruiter_chat_id, outbox,
        clock, settings.recruiter_language,
        with_dashboard(RECRUITER_COMMANDS, settings.dashboard_url))
    recruiter_commands.register(app)
    # Sign-in links and dashboard sessions on the real clock, like leases: they are about
    # the people signing in, not the product's (a test's) dates.
    access = SqlDashboardAccess(db, lease_clock)
    DashboardLinks(recruiter_commands, access, settings.dashboard_url,
                   settings.dashboard_link_minutes).register(app)
    RecruiterReplies(engine, store, settings.recruiter_user_ids, settings.recruiter_chat_id,
                     outbox, clock).register(app)
    RecruiterDecisions(engine, store, vacancies, settings.recruiter_user_ids,
                       settings.recruiter_chat_id, outbox, clock).register(app)
    CandidateHandlers(engine, run_db).register(app)
    GroupMessages(vacancies.keys(), group_notices, settings.recruiter_chat_id, ignored,
                  clock, outbox).register(app)
    ignored.register(app)

    worker = InboxWorker(app, inbox, outbox, engine, owner, lease, run_db=run_db)
    sender = OutboxSender(outbox, store, files, vacancies, settings.recruiter_chat_id, clock,
                          owner, lease, settings.telegram_timeout, settings.recruiter_language,
                          run_db, settings.dashboard_url)

    async def retention() -> None:
        purged = await asyncio.to_thread(purge_expired, store, files, vacancies, clock())
        # Keys nothing uses any more (made for someone who never agreed to the notice).
        keys = await asyncio.to_thread(store.forget_unused_keys, lease_clock() - EVENT_MEMORY)
        # Counts only: no id, name or vacancy (`purge --dry-run` shows an operator the why).
        log.info("retention: %s dossiers, %s files, %s candidates, %s unused keys deleted",
                 purged.dossiers, purged.files, purged.candidates, keys)

    async def housekeeping() -> None:
        now = clock()
        await asyncio.to_thread(store.prune_events, now - EVENT_MEMORY)
        await asyncio.to_thread(outbox.prune, now - EVENT_MEMORY)
        await asyncio.to_thread(group_notices.prune, now - group_notices.interval)
        await asyncio.to_thread(access.prune)
        await asyncio.to_thread(inbox.prune, lease_clock() - EVENT_MEMORY,
                                lease_clock() - QUARANTINE_KEPT)
        removed = await asyncio.to_thread(sweep_orphan_files, store, files)
        if removed:
            log.info("housekeeping: %s orphaned files removed", removed)

    jobs = [Job("reminders", SWEEP_INTERVAL, reminders.sweep),
            Job("housekeeping", HOUSEKEEPING_INTERVAL, housekeeping),
            Job("retention", RETENTION_INTERVAL, retention)]
    runtime = Runtime(app, inbox, outbox, worker, sender, owner, lease, jobs, db, lease_clock)
    # A decision on the dashboard queues its messages: wake the sender as the worker would.
    web = dashboard.build(settings, store=store, engine=engine, files=files, vacancies=vacancies,
                          access=access, wall_clock=lease_clock, decided=runtime.queued.set)
    return BotParts(app, runtime, reminders, ignored, web)


def candidate_menu(lang: str) -> list[BotCommand]:
    commands = [BotCommand(name, render(Msg(f"cmd.{name}"), lang)) for name in MENU]
    commands.insert(-1, BotCommand(QUESTION_COMMAND[lang], render(Msg("cmd.question"), lang)))
    for name, command in PRIVACY_COMMANDS[lang].items():
        commands.insert(-1, BotCommand(name, render(Msg(f"cmd.{command}"), lang)))
    return commands


def recruiter_menu(lang: str, commands: tuple[str, ...] = RECRUITER_COMMANDS) -> list[BotCommand]:
    return [BotCommand(name, render(Msg(f"rec.help.cmd.{name}"), lang)) for name in commands]


async def set_command_menu(app: Application, recruiter_chat: int | None = None,
                           recruiters: Collection[int] = (), dashboard_url: str | None = None,
                           recruiter_language: str = DEFAULT_LANGUAGE) -> None:
    """The command menu in Dutch (also the default) and English: the candidate's everywhere;
    the recruiter commands in the recruiters' chat, and in each recruiter's private chat
    before the candidate's (Telegram's chat scope; a private chat's id is the user's id);
    /dashboard among them when DASHBOARD_URL is set, and then (over https) a "Dashboard" menu
    button in each recruiter's private chat (bot/dashboard_links.py).

    A scope Telegram refuses (a recruiter who never opened the chat with the bot, a group the
    bot is not in) is logged and skipped: that menu comes at the next start."""
    commands = with_dashboard(RECRUITER_COMMANDS, dashboard_url)
    scoped: list[tuple[BotCommandScope, Callable[[str], list[BotCommand]]]] = []
    if recruiter_chat is not None:
        scoped.append((BotCommandScopeChat(recruiter_chat),
                       lambda lang: recruiter_menu(lang, commands)))
    for user_id in sorted(recruiters):
        scoped.append((BotCommandScopeChat(user_id),
                       lambda lang: [*recruiter_menu(lang, commands)[:-1],
                                     *candidate_menu(lang)]))
    for lang in LANGUAGES:
        await app.bot.set_my_commands(candidate_menu(lang), language_code=lang)
        if lang == DEFAULT_LANGUAGE:
            await app.bot.set_my_commands(candidate_menu(lang))
    for scope, menu in scoped:
        where = "the recruiters' chat" if scope.chat_id == recruiter_chat else "a recruiter"
        try:
            for lang in LANGUAGES:
                await app.bot.set_my_commands(menu(lang), scope=scope, language_code=lang)
            await app.bot.set_my_commands(menu(DEFAULT_LANGUAGE), scope=scope)
        except (BadRequest, Forbidden) as exc:
            log.warning("command menu for %s not set (%s): has the bot been added to that "
                        "chat, or the chat with the bot opened?", where, exc.message)
    await set_menu_buttons(app.bot, recruiters, dashboard_url, recruiter_language)


def webhook_path(webhook_url: str) -> str:
    """Listen where Telegram will post: the path of WEBHOOK_URL (behind a reverse proxy)."""
    return urlsplit(webhook_url).path.strip("/")


async def serve_bot(parts: BotParts, settings: Settings) -> None:
    """Polling, or the webhook server when WEBHOOK_URL is set; until SIGTERM/SIGINT."""
    runtime, app = parts.runtime, parts.app
    loop = asyncio.get_running_loop()
    # Database work runs in threads; asyncio's default pool (cores + 4) would let a few
    # statements waiting on one lock hold up everyone. Matched to the connection pool.
    loop.set_default_executor(ThreadPoolExecutor(DB_THREADS, thread_name_prefix="db"))
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, runtime.stop.set)
    async with app:  # initialize (getMe) ... shutdown
        await set_command_menu(app, settings.recruiter_chat_id, settings.recruiter_user_ids,
                               settings.dashboard_url, settings.recruiter_language)
        await app.start()
        try:
            if settings.webhook_url:
                # main.py refuses webhook mode without a secret: anyone could post updates.
                assert settings.webhook_secret is not None
                secret = settings.webhook_secret.get_secret_value()
                await app.bot.set_webhook(settings.webhook_url, secret_token=secret,
                                          allowed_updates=list(Update.ALL_TYPES))
                web = build_webhook_app(path=webhook_path(settings.webhook_url), secret=secret,
                                        receive=runtime.receive_one, health=runtime.health,
                                        max_body=settings.webhook_max_body,
                                        metrics=runtime.metrics,
                                        extra=dashboard.routes(settings, parts.dashboard))

                async def receiving(stop: asyncio.Event) -> None:
                    await serve(web, host=settings.listen_address, port=settings.port, stop=stop)

                await runtime.serve(receiving)
            else:
                await runtime.serve(await polling(runtime),
                                    status_server(runtime, settings, parts.dashboard))
        finally:
            await app.stop()


def status_server(runtime: Runtime, settings: Settings, web: ASGIApp | None = None
                  ) -> Callable[[asyncio.Event], Awaitable[None]]:
    """/healthz, /metrics and the dashboard beside polling, on LISTEN_ADDRESS:PORT. A port
    already taken is said once and the bot polls on: the health check is for the operator,
    the bot for the candidates."""
    app = build_status_app(health=runtime.health, metrics=runtime.metrics,
                           extra=dashboard.routes(settings, web))

    async def serving(stop: asyncio.Event) -> None:
        try:
            await serve(app, host=settings.listen_address, port=settings.port, stop=stop)
        except OSError as exc:
            log.warning("/healthz, /metrics and the dashboard not served: %s",
                        exc.strerror or type(exc).__name__)
            await stop.wait()

    return serving


def run(parts: BotParts, settings: Settings) -> None:
    asyncio.run(serve_bot(parts, settings))
