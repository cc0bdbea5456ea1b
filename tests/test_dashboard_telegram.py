"""The dashboard from Telegram (issue 14): /dashboard gives a recruiter a one-time sign-in link in
their private chat (and a Mini App button), never in a group; outsiders learn nothing; a
submitted dossier's notification links its dashboard page; the recruiters' menus offer it.

Through the real Application and the fake Bot API (tests/bot_harness.py): what the bot says is
what the fake Telegram received, after the outbox sent it. Links are redeemed with the store
the dashboard itself uses (storage/dashboard_access.py), on the real clock.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from telegram import Update

from bot.dashboard_links import with_dashboard
from bot.fake_bot_api import Sent
from bot.recruiter_commands import RECRUITER_COMMANDS
from bot.rendering import keyboard_rows
from bot.telegram_app import set_command_menu
from flows.messages import Msg, render
from storage.dashboard_access import Grant, SqlDashboardAccess
from storage.tables import dashboard_link_table
from tests.bot_harness import (
    CANDIDATE,
    RECRUITER,
    RECRUITER_CHAT,
    BotHarness,
    Clock,
    running_bot,
)
from tests.test_bot import NIEUWPOORT, NIEUWPOORT_OPEN, apply_fully

DASHBOARD = "https://jobs.example.org/dashboard"
STRANGER = 4242  # an outsider with an English Telegram client
DECISIONS = ["Uitnodigen", "Afwijzen", "Document vragen", "Bekeken"]


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path, dashboard_url=DASHBOARD) as harness:
        harness.tg.add_user(STRANGER, "Tom", "en")
        yield harness


def access(bot: BotHarness) -> SqlDashboardAccess:
    """The dashboard's side of the links, on the bot's database and on the real clock (as the
    bot issues them: they are about people signing in, not the product's dates)."""
    return SqlDashboardAccess(bot.store.engine, clock=bot.wall_clock)


def links_issued(bot: BotHarness) -> int:
    with bot.store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(dashboard_link_table)).scalar_one()


def sign_in_links(bot: BotHarness, chat: int) -> list[str]:
    return [url for m in bot.tg.messages_to(chat) for url in m.links() if "/login/" in url]


def token_of(link: str) -> str:
    assert link.startswith(f"{DASHBOARD}/login/")
    return link.removeprefix(f"{DASHBOARD}/login/")


def notification(bot: BotHarness, chat: int = RECRUITER_CHAT) -> Sent:
    """The newest message in `chat` carrying the decision buttons."""
    return next(m for m in reversed(bot.tg.messages_to(chat)) if "Uitnodigen" in m.labels())


# ---------------------------------------------------------------- /dashboard in the private chat


async def test_a_recruiter_gets_a_one_time_link_and_the_mini_app_in_their_private_chat(
        bot: BotHarness):
    sent = await bot.send(RECRUITER, "/dashboard")

    [message] = sent
    assert message.chat_id == RECRUITER
    assert message.text == "\n\n".join([render(Msg("rec.dashboard.link", {"n": 10}), "nl"),
                                        render(Msg("rec.dashboard.in_chat"), "nl")])
    assert "10 minuten" in message.text and "één keer" in message.text
    # Telegram's preview fetcher must not open the link; the link is on a button, not in the text.
    assert message.no_preview
    [link] = message.links()
    assert DASHBOARD not in message.text
    # The Mini App opens the dashboard itself: Telegram signs the recruiter in there.
    assert message.web_apps() == [DASHBOARD]
    assert message.labels() == [render(Msg("rec.dashboard.btn.link"), "nl"),
                                render(Msg("rec.dashboard.btn.app"), "nl")]
    assert bot.rejections == []

    token = token_of(link)
    assert len(token) >= 40
    assert access(bot).redeem_link(token) == Grant(RECRUITER, "Rita", "nl")
    assert access(bot).redeem_link(token) is None  # once
    assert links_issued(bot) == 1


async def test_the_link_is_valid_for_the_minutes_it_names(bot: BotHarness):
    await bot.send(RECRUITER, "/dashboard")
    [link] = sign_in_links(bot, RECRUITER)

    bot.advance_wall(10 * 60 + 1)
    assert access(bot).redeem_link(token_of(link)) is None


async def test_the_link_minutes_follow_the_setting_and_the_recruiters_language(tmp_path: Path):
    async with running_bot(tmp_path, dashboard_url=DASHBOARD, dashboard_link_minutes=1) as bot:
        bot.tg.chats[RECRUITER]["user"]["language_code"] = "en-GB"
        [message] = await bot.send(RECRUITER, "/dashboard")

        assert (message.text or "").startswith(render(Msg("rec.dashboard.link", {"n": 1}), "en"))
        assert "1 minute:" in (message.text or "")
        [link] = message.links()
        assert access(bot).redeem_link(token_of(link)) == Grant(RECRUITER, "Rita", "en")


async def test_over_plain_http_there_is_no_mini_app(tmp_path: Path):
    """Telegram opens Mini Apps over https only: a local dashboard gets the link alone."""
    local = "http://localhost:8443/dashboard/"
    async with running_bot(tmp_path, dashboard_url=local) as bot:
        [message] = await bot.send(RECRUITER, "/dashboard")

        assert message.web_apps() == []
        [link] = message.links()
        assert link.startswith("http://localhost:8443/dashboard/login/")  # one slash, not two
        assert message.text == render(Msg("rec.dashboard.link", {"n": 10}), "nl")
        assert bot.rejections == []


# ---------------------------------------------------------------- elsewhere, or for others


async def test_in_the_recruiters_group_no_link_is_issued_or_sent(bot: BotHarness):
    sent = await bot.send_in_group(RECRUITER, RECRUITER_CHAT, "/dashboard")

    [message] = sent
    assert message.chat_id == RECRUITER_CHAT
    assert message.text == render(Msg("rec.dashboard.group"), "nl")
    assert "/dashboard" in message.text
    assert message.links() == [DASHBOARD]  # the address only: it signs no one in
    assert message.web_apps() == []  # Telegram allows no Mini App button in a group
    assert links_issued(bot) == 0
    assert bot.rejections == []


@pytest.mark.parametrize("where", ["private", "group"])
async def test_an_outsider_gets_the_recruiter_refusal_and_no_link(bot: BotHarness, where: str):
    if where == "private":
        sent = await bot.send(CANDIDATE, "/dashboard")
        expected = render(Msg("recruiter.only"), "nl")
    else:
        sent = await bot.send_in_group(STRANGER, RECRUITER_CHAT, "/dashboard")
        expected = render(Msg("recruiter.only"), "en")

    assert [m.text for m in sent] == [expected]
    assert all(m.links() == [] and m.web_apps() == [] for m in sent)
    assert links_issued(bot) == 0


async def test_without_a_dashboard_url_the_recruiter_is_told_it_is_off(tmp_path: Path):
    async with running_bot(tmp_path) as bot:
        [message] = await bot.send(RECRUITER, "/dashboard")
        assert message.text == render(Msg("rec.dashboard.off"), "nl")
        assert "DASHBOARD_URL" in message.text
        assert message.buttons == []
        # An outsider is refused as for any recruiter command: not told about the setting.
        [refused] = await bot.send(CANDIDATE, "/dashboard")
        assert refused.text == render(Msg("recruiter.only"), "nl")
        assert links_issued(bot) == 0


# ---------------------------------------------------------------- exactly once


async def test_a_redelivered_update_sends_one_link(bot: BotHarness):
    payload = bot.tg.text_update(RECRUITER, "/dashboard")
    # Run the handler twice on the same update (a crash before the inbox row was done).
    for _ in range(2):
        await bot.app.process_update(Update.de_json(payload, bot.app.bot))
    await bot.runtime.drain()
    # And once more through the inbox, as Telegram would re-deliver it.
    await bot.process(payload)

    [link] = sign_in_links(bot, RECRUITER)
    assert access(bot).redeem_link(token_of(link)) == Grant(RECRUITER, "Rita", "nl")
    # Each run issued a link; only the first run's answer was queued, the others only expire.
    assert links_issued(bot) == 3


async def test_an_edited_command_issues_nothing(bot: BotHarness):
    update = bot.tg.text_update(RECRUITER, "/help")
    await bot.process(update)
    sent = await bot.edit(RECRUITER, update, "/dashboard")
    assert all(m.links() == [] for m in sent)  # at most "an edit is not read again"
    assert links_issued(bot) == 0


# ---------------------------------------------------------------- the notification's button


async def test_a_notification_in_the_group_links_its_dossier_page(tmp_path: Path):
    async with running_bot(tmp_path, Clock(NIEUWPOORT_OPEN), dashboard_url=DASHBOARD) as bot:
        await apply_fully(bot, CANDIDATE, NIEUWPOORT)
        dossier_id = bot.dossier(CANDIDATE).id
        message = notification(bot)

        # The four decisions as before, then the dashboard as a URL button on its own row.
        assert message.labels() == [*DECISIONS, render(Msg("rec.dashboard.btn.dossier"), "nl")]
        assert message.buttons[-1] == [{"text": "Openen in het dashboard",
                                        "url": f"{DASHBOARD}/dossiers/{dossier_id}"}]
        assert message.web_apps() == []
        assert bot.rejections == []
        # The decision buttons still decide.
        sent = await bot.press(RECRUITER, "Bekeken", message)
        assert sent and sent[0].chat_id == RECRUITER_CHAT


async def test_a_notification_in_a_recruiters_private_chat_opens_the_mini_app(tmp_path: Path):
    """A positive RECRUITER_CHAT_ID is one recruiter's private chat: Telegram allows a Mini App
    button there."""
    async with running_bot(tmp_path, Clock(NIEUWPOORT_OPEN), dashboard_url=DASHBOARD,
                           recruiter_chat_id=RECRUITER) as bot:
        await apply_fully(bot, CANDIDATE, NIEUWPOORT)
        message = notification(bot, RECRUITER)

        assert message.labels()[:4] == DECISIONS
        assert message.web_apps() == [f"{DASHBOARD}/dossiers/{bot.dossier(CANDIDATE).id}"]
        assert message.links() == []
        assert bot.rejections == []


async def test_without_a_dashboard_the_notification_is_unchanged(tmp_path: Path):
    async with running_bot(tmp_path, Clock(NIEUWPOORT_OPEN)) as bot:
        await apply_fully(bot, CANDIDATE, NIEUWPOORT)
        assert notification(bot).labels() == DECISIONS


def test_a_link_can_be_a_mini_app_button():
    rows = keyboard_rows([["a", "Ja"], ["b", "Nee"]],
                         [["Site", "https://x.example/a"], ["App", "https://x.example", "web_app"]])
    assert rows == [[{"text": "Ja", "callback_data": "a"}, {"text": "Nee", "callback_data": "b"}],
                    [{"text": "Site", "url": "https://x.example/a"}],
                    [{"text": "App", "web_app": {"url": "https://x.example"}}]]


# ---------------------------------------------------------------- menus and /help


def names(commands: list[dict[str, str]]) -> list[str]:
    return [c["command"] for c in commands]


async def test_the_recruiters_menus_offer_the_dashboard_and_a_menu_button(bot: BotHarness):
    await set_command_menu(bot.app, RECRUITER_CHAT, {RECRUITER}, DASHBOARD)
    scoped = bot.tg.scoped_commands

    for lang in ("", "nl", "en"):
        assert names(scoped[("chat", RECRUITER_CHAT, lang)]) == [
            "dossiers", "dossier", "export", "stats", "dashboard", "help"]
        private = names(scoped[("chat", RECRUITER, lang)])
        assert private[:5] == ["dossiers", "dossier", "export", "stats", "dashboard"]
        assert private.count("help") == 1 and private[-1] == "help"
    dutch = {c["command"]: c["description"] for c in scoped[("chat", RECRUITER, "nl")]}
    assert dutch["dashboard"] == render(Msg("rec.help.cmd.dashboard"), "nl")
    assert "dashboard" not in names(bot.tg.commands["nl"])  # candidates never see it
    assert bot.tg.menu_buttons == {RECRUITER: {"type": "web_app", "text": "Dashboard",
                                               "web_app": {"url": DASHBOARD}}}


async def test_without_https_no_menu_button_and_without_a_url_no_command(bot: BotHarness):
    await set_command_menu(bot.app, RECRUITER_CHAT, {RECRUITER}, "http://localhost:8443/dashboard")
    assert "dashboard" in names(bot.tg.scoped_commands[("chat", RECRUITER, "nl")])
    assert bot.tg.menu_buttons == {RECRUITER: {"type": "default"}}

    await set_command_menu(bot.app, RECRUITER_CHAT, {RECRUITER})
    assert names(bot.tg.scoped_commands[("chat", RECRUITER_CHAT, "nl")]) == list(RECRUITER_COMMANDS)
    # A dashboard switched off leaves no dead menu button behind.
    assert bot.tg.menu_buttons == {RECRUITER: {"type": "default"}}


async def test_a_recruiter_telegram_cannot_reach_gets_no_menu_button_and_a_warning(
        bot: BotHarness, caplog: pytest.LogCaptureFixture):
    never_started = 31337
    with caplog.at_level(logging.WARNING, logger="bot.dashboard_links"):
        await set_command_menu(bot.app, RECRUITER_CHAT, {never_started, RECRUITER}, DASHBOARD)

    assert set(bot.tg.menu_buttons) == {RECRUITER}
    assert "dashboard menu button for a recruiter not set" in caplog.text
    assert str(never_started) not in caplog.text


async def test_help_names_the_dashboard_only_when_it_is_on(bot: BotHarness, tmp_path: Path):
    await bot.send(RECRUITER, "/help")
    assert render(Msg("rec.help.dashboard"), "nl") in bot.last(RECRUITER)
    [group_help] = await bot.send_in_group(RECRUITER, RECRUITER_CHAT, "/help")
    assert "/dashboard" in (group_help.text or "")

    async with running_bot(tmp_path / "off") as off:
        await off.send(RECRUITER, "/help")
        assert "/dashboard" not in off.last(RECRUITER)


def test_the_dashboard_goes_before_help():
    assert with_dashboard(RECRUITER_COMMANDS, None) == RECRUITER_COMMANDS
    assert with_dashboard(RECRUITER_COMMANDS, DASHBOARD)[-2:] == ("dashboard", "help")
    assert with_dashboard(("dossiers",), DASHBOARD) == ("dossiers", "dashboard")
