"""The dashboard from Telegram: /dashboard, and the buttons that open the dashboard.

/dashboard is a recruiter command, guarded like the others (bot/recruiter_commands.py): a
recruiter only, and only in their private chat with the bot or in the recruiters' chat; anyone
else gets the same refusal, which says nothing about dossiers.

- In the recruiter's private chat: a one-time sign-in link, `<DASHBOARD_URL>/login/<token>`,
  valid DASHBOARD_LINK_MINUTES and used once (storage/dashboard_access.py keeps only its hash),
  as a URL button; and, over https, a Mini App button that opens the dashboard inside Telegram
  (signed in by Telegram's signed start data, no link needed). The message asks Telegram for no
  link preview: a preview fetcher must never be the one to open a sign-in link.
- In the recruiters' group: no link (anyone in the group could use it), a pointer to the
  private chat and a plain button to the dashboard.
- Without DASHBOARD_URL: that the dashboard is not switched on.

The link is issued while the update is handled, before its answer is queued exactly once: a
re-delivered update issues a second link that is never sent (it expires unused).

Telegram allows Mini App buttons (web_app) in private chats only, and over https only: a
notification in a group links its dossier with a URL button, and each recruiter's private chat
gets a "Dashboard" menu button (setChatMenuButton) only when DASHBOARD_URL is https.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    Bot,
    Chat,
    MenuButton,
    MenuButtonDefault,
    MenuButtonWebApp,
    Update,
    WebAppInfo,
)
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.recruiter_commands import Messages, RecruiterCommands, addressed_elsewhere, say
from bot.rendering import WEB_APP
from flows.messages import Msg, normalise_language, render
from storage.dashboard_access import SqlDashboardAccess

log = logging.getLogger(__name__)
COMMAND = "dashboard"


def address(dashboard_url: str, *path: str | int) -> str:
    """A page of the dashboard: DASHBOARD_URL with `path` below it."""
    return "/".join([dashboard_url.rstrip("/"), *(str(p) for p in path)])


def opens_in_telegram(dashboard_url: str) -> bool:
    """Telegram opens a Mini App over https only."""
    return urlsplit(dashboard_url).scheme == "https"


def with_dashboard(commands: tuple[str, ...], dashboard_url: str | None) -> tuple[str, ...]:
    """The recruiter commands, with /dashboard before /help when DASHBOARD_URL is set."""
    if not dashboard_url or COMMAND in commands:
        return commands
    if "help" not in commands:
        return (*commands, COMMAND)
    at = commands.index("help")
    return (*commands[:at], COMMAND, *commands[at:])


def open_button(label: str, url: str, private: bool) -> list[str]:
    """A link to `url` (a `links` entry of bot/rendering.py): a Mini App where Telegram allows
    one (a private chat, https), else a URL button that opens the browser."""
    return [label, url, WEB_APP] if private and opens_in_telegram(url) else [label, url]


def dossier_button(dashboard_url: str, dossier_id: int | None, recruiter_chat: int,
                   locale: str) -> list[str]:
    """"Open in the dashboard" under a submitted dossier's notification. A positive chat id is
    a private chat (the recruiters' chat may be one recruiter's); groups have negative ids."""
    assert dossier_id is not None
    return open_button(render(Msg("rec.dashboard.btn.dossier"), locale),
                       address(dashboard_url, "dossiers", dossier_id), recruiter_chat > 0)


async def set_menu_buttons(bot: Bot, recruiters: Collection[int], dashboard_url: str | None,
                           lang: str) -> None:
    """The menu button of each recruiter's private chat: "Dashboard" (a Mini App) when
    DASHBOARD_URL is https, else Telegram's default again (a dashboard switched off leaves no
    dead button behind). A chat Telegram refuses (never opened) is logged and skipped, like the
    command menu: it comes at the next start."""
    button: MenuButton = MenuButtonDefault()
    if dashboard_url and opens_in_telegram(dashboard_url):
        button = MenuButtonWebApp(render(Msg("rec.dashboard.menu"), lang),
                                  WebAppInfo(dashboard_url))
    web_app = isinstance(button, MenuButtonWebApp)
    for user_id in sorted(recruiters):
        try:
            await bot.set_chat_menu_button(chat_id=user_id, menu_button=button)
        except (BadRequest, Forbidden) as exc:
            # Only worth a warning when there is a dashboard to open (the command menu has
            # already warned about a chat the bot cannot reach).
            log.log(logging.WARNING if web_app else logging.DEBUG,
                    "dashboard menu button for a recruiter not set (%s): has the chat with the "
                    "bot been opened?", exc.message)


class DashboardLinks:
    """/dashboard: guarded and queued by `guard` (the recruiter commands), links issued by
    `access`."""

    def __init__(self, guard: RecruiterCommands, access: SqlDashboardAccess,
                 dashboard_url: str | None, link_minutes: int) -> None:
        self.guard = guard
        self.access = access
        self.dashboard_url = dashboard_url or None
        self.link_lifetime = timedelta(minutes=link_minutes)

    async def dashboard(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message  # a new message only: an edit re-issues nothing
        chat = update.effective_chat
        if message is None or chat is None or addressed_elsewhere(message, context.bot.username):
            return
        user = update.effective_user
        lang = normalise_language(user.language_code if user else None)
        refused = self.guard.refusal(chat, user)
        if refused is not None:
            answer = say(refused, lang)
        elif self.dashboard_url is None:
            answer = say(Msg("rec.dashboard.off"), lang)
        elif chat.type != Chat.PRIVATE:
            answer = self.pointer(self.dashboard_url, lang)
        else:
            assert user is not None  # refusal() refuses an update without a user
            token = await asyncio.to_thread(self.access.issue_link, user.id, user.first_name,
                                            lang, self.link_lifetime)
            answer = self.sign_in(self.dashboard_url, token, lang)
        await self.guard.queue(update, chat, answer)

    def sign_in(self, dashboard_url: str, token: str, lang: str) -> Messages:
        """The private answer: the one-time link, and the Mini App (no link needed there)."""
        minutes = int(self.link_lifetime.total_seconds() // 60)
        said = [Msg("rec.dashboard.link", {"n": minutes})]
        links = [[render(Msg("rec.dashboard.btn.link"), lang),
                  address(dashboard_url, "login", token)]]
        if opens_in_telegram(dashboard_url):
            said.append(Msg("rec.dashboard.in_chat"))
            links.append(open_button(render(Msg("rec.dashboard.btn.app"), lang), dashboard_url,
                                     private=True))
        message: dict[str, Any] = {"text": "\n\n".join(render(m, lang) for m in said),
                                   "choices": [], "links": links, "no_preview": True}
        return [message]

    @staticmethod
    def pointer(dashboard_url: str, lang: str) -> Messages:
        """The group's answer: where the link is given, and the dashboard's address."""
        return [{"text": render(Msg("rec.dashboard.group"), lang), "choices": [],
                 "links": [[render(Msg("rec.dashboard.btn.open"), lang), dashboard_url]]}]

    def register(self, app: Application) -> None:
        # Before the candidates' handlers; new messages only (an edit must not issue a link).
        app.add_handler(CommandHandler(COMMAND, self.dashboard,
                                       filters=filters.UpdateType.MESSAGE))
