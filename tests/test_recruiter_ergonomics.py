"""Recruiters find their way: a command menu of their own, /help that lists their commands,
refusals in the stranger's language, long lists in pages; and setting up: the bot tells a group
it joins the group's id, and `main.py links` makes the deep link and QR code of each vacancy.

Through the real Application and the fake Bot API (tests/bot_harness.py): what the bot says is
what the fake Telegram received, after the outbox sent it.
"""

from __future__ import annotations

import logging
import re
import struct
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import segno

import main
from bot.fake_bot_api import BOT_USERNAME, MAX_CALLBACK_DATA, FakeTelegram
from bot.fake_bot_server import FakeBotServer
from bot.recruiter_commands import PAGE_SIZE, RECRUITER_COMMANDS
from bot.telegram_app import MENU, set_command_menu
from flows.messages import Msg, render
from flows.ports import CandidateRecord, DossierRecord
from tests.bot_harness import CANDIDATE, RECRUITER, RECRUITER_CHAT, BotHarness, running_bot

STRANGER = 4242  # writes to the bot with an English Telegram client
NEW_GROUP = -1009876543210
OTHER_GROUP = -1001111111111
VERA = "vera-projectcoordinator"
SCHOOL = "school-ict-coordinator"


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path) as harness:
        harness.tg.add_user(STRANGER, "Tom", "en")
        yield harness


def names(commands: list[dict[str, str]]) -> list[str]:
    return [c["command"] for c in commands]


# ---------------------------------------------------------------- the command menus


async def test_the_recruiters_chat_and_each_recruiter_get_a_menu_of_their_own(bot: BotHarness):
    await set_command_menu(bot.app, RECRUITER_CHAT, {RECRUITER})
    scoped = bot.tg.scoped_commands

    # Everyone else: the candidate menu, unchanged (tests/test_bot.py).
    assert set(bot.tg.commands) == {"", "nl", "en"}
    assert "dossiers" not in names(bot.tg.commands[""])
    # The recruiters' chat: only what works there; the candidate commands do not.
    assert {key for key in scoped if key[1] == RECRUITER_CHAT} == {
        ("chat", RECRUITER_CHAT, lang) for lang in ("", "nl", "en")}
    for lang in ("", "nl", "en"):
        assert names(scoped[("chat", RECRUITER_CHAT, lang)]) == list(RECRUITER_COMMANDS)
    assert "stats" in RECRUITER_COMMANDS
    # The recruiter's private chat (its id is the user's): their commands, then a candidate's.
    for lang in ("", "nl", "en"):
        private = names(scoped[("chat", RECRUITER, lang)])
        assert private[:4] == ["dossiers", "dossier", "export", "stats"]
        assert private[4:] == names(bot.tg.commands[lang or "nl"])
        assert private.count("help") == 1 and private[-1] == "help"
    dutch = {c["command"]: c["description"] for c in scoped[("chat", RECRUITER, "nl")]}
    english = {c["command"]: c["description"] for c in scoped[("chat", RECRUITER, "en")]}
    assert dutch["dossiers"] == render(Msg("rec.help.cmd.dossiers"), "nl")
    assert all(dutch[name] != english[name] for name in RECRUITER_COMMANDS)
    assert scoped[("chat", RECRUITER, "")] == scoped[("chat", RECRUITER, "nl")]


async def test_a_recruiter_telegram_cannot_reach_is_skipped_with_a_warning(
        bot: BotHarness, caplog: pytest.LogCaptureFixture):
    never_started = 31337  # not a chat of the fake Telegram: "chat not found", as Telegram says
    with caplog.at_level(logging.WARNING, logger="bot.telegram_app"):
        await set_command_menu(bot.app, RECRUITER_CHAT, {never_started, RECRUITER})

    assert ("chat", RECRUITER, "nl") in bot.tg.scoped_commands
    assert not any(key[1] == never_started for key in bot.tg.scoped_commands)
    assert "command menu for a recruiter not set" in caplog.text
    assert str(never_started) not in caplog.text


async def test_no_recruiter_settings_no_scoped_menus(bot: BotHarness):
    await set_command_menu(bot.app)
    assert bot.tg.scoped_commands == {}
    assert names(bot.tg.commands["nl"])[: len(MENU) - 1] == list(MENU[:-1])


# ---------------------------------------------------------------- /help


async def test_a_recruiters_help_lists_their_commands_and_a_candidates(bot: BotHarness):
    await bot.send(RECRUITER, "/help")
    said = bot.last(RECRUITER)

    for command in ("/dossiers", "/dossier <nummer>", "/export", "/stats"):
        assert command in said
    assert render(Msg("rec.help.reply"), "nl") in said
    # In their private chat, also what /help tells a candidate: a recruiter may try the bot.
    assert render(Msg("help.question"), "nl") in said
    assert len(said) <= 4096


async def test_help_in_the_recruiters_chat_is_the_recruiters_only(bot: BotHarness):
    sent = await bot.send_in_group(RECRUITER, RECRUITER_CHAT, "/help")

    assert [m.chat_id for m in sent] == [RECRUITER_CHAT]
    assert "/dossiers" in (sent[0].text or "")
    assert render(Msg("help.question"), "nl") not in (sent[0].text or "")


async def test_a_recruiter_with_an_english_client_gets_the_help_in_english(bot: BotHarness):
    bot.tg.chats[RECRUITER]["user"]["language_code"] = "en-GB"
    await bot.send(RECRUITER, "/help")

    said = bot.last(RECRUITER)
    assert said.startswith(render(Msg("rec.help.intro"), "en"))
    assert "/dossier <number>" in said
    assert render(Msg("help.question"), "en") in said


async def test_a_candidates_help_is_the_candidate_help(bot: BotHarness):
    await bot.send(CANDIDATE, "/help")
    assert "/dossiers" not in bot.last(CANDIDATE)
    assert render(Msg("help.question"), "nl") in bot.last(CANDIDATE)


async def test_a_stranger_asking_help_in_the_recruiters_chat_is_refused(bot: BotHarness):
    sent = await bot.send_in_group(STRANGER, RECRUITER_CHAT, "/help")
    assert [m.text for m in sent] == [render(Msg("recruiter.only"), "en")]


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize("command", ["/dossiers", "/dossier 1", "/export vera-projectcoordinator",
                                     "/dossiers 2"])
async def test_a_stranger_with_an_english_client_is_refused_in_english(bot: BotHarness,
                                                                        command: str):
    sent = await bot.send(STRANGER, command)
    assert [(m.chat_id, m.text) for m in sent] == [
        (STRANGER, "This command is for recruiters only.")]


# ---------------------------------------------------------------- pages


def add_dossiers(bot: BotHarness, count: int, vacancy_id: str = VERA,
                 status: str = "submitted") -> list[int]:
    """`count` dossiers of as many candidates, one minute apart (the newest last)."""
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    ids = []
    for n in range(count):
        external = str(70_000 + n + (1000 if vacancy_id != VERA else 0))
        at = start + timedelta(minutes=n)
        with bot.store.unit_of_work("telegram", external) as uow:
            candidate = uow.add_candidate(CandidateRecord(
                id=None, channel="telegram", external_id=external, chat_id=external,
                language="nl", created_at=at))
            assert candidate.id is not None
            dossier = uow.add_dossier(DossierRecord(
                id=None, candidate_id=candidate.id, vacancy_id=vacancy_id, state=status,
                status=status, answers={"candidate.name": f"Kandidaat {n + 1}"}, language="nl",
                consented_at=at, privacy_version="2025-01", created_at=at, updated_at=at,
                submitted_at=at))
            assert dossier.id is not None
            ids.append(dossier.id)
    return ids


def listed(text: str) -> list[int]:
    """The dossier numbers of a page, in its order."""
    return [int(m) for m in re.findall(r"^#(\d+)\b", text, re.MULTILINE)]


def page_buttons(bot: BotHarness, chat_id: int) -> list[dict[str, Any]]:
    return [b for row in bot.tg.messages_to(chat_id)[-1].buttons for b in row]


async def test_forty_five_dossiers_come_in_pages_of_twenty_newest_first(bot: BotHarness):
    ids = add_dossiers(bot, 45)
    newest_first = ids[::-1]

    await bot.send(RECRUITER, "/dossiers")
    first = bot.last(RECRUITER)
    assert PAGE_SIZE == 20
    assert listed(first) == newest_first[:20]
    assert render(Msg("rec.page.of", {"page": 1, "pages": 3}), "nl") in first
    assert [b["text"] for b in page_buttons(bot, RECRUITER)] == ["2 ▶"]

    await bot.press(RECRUITER, "2 ▶")
    assert listed(bot.last(RECRUITER)) == newest_first[20:40]
    assert [b["text"] for b in page_buttons(bot, RECRUITER)] == ["◀ 1", "3 ▶"]

    await bot.press(RECRUITER, "3 ▶")
    assert listed(bot.last(RECRUITER)) == newest_first[40:]
    assert [b["text"] for b in page_buttons(bot, RECRUITER)] == ["◀ 2"]

    await bot.press(RECRUITER, "◀ 2")
    assert listed(bot.last(RECRUITER)) == newest_first[20:40]

    # Typed, too; a page past the last shows the last.
    await bot.send(RECRUITER, "/dossiers 3")
    assert listed(bot.last(RECRUITER)) == newest_first[40:]
    await bot.send(RECRUITER, "/dossiers 9")
    assert listed(bot.last(RECRUITER)) == newest_first[40:]
    # Every page's buttons fit Telegram's 64 bytes (the fake Telegram refuses more, too).
    for message in bot.tg.messages_to(RECRUITER):
        for row in message.buttons:
            assert all(len(b["callback_data"].encode()) <= MAX_CALLBACK_DATA for b in row)


async def test_a_page_keeps_its_filters(bot: BotHarness):
    vera = add_dossiers(bot, 25)
    school = add_dossiers(bot, 3, vacancy_id=SCHOOL)

    await bot.send_in_group(RECRUITER, RECRUITER_CHAT, f"/dossiers {VERA} submitted")
    assert set(listed(bot.texts(RECRUITER_CHAT)[-1])) <= set(vera)
    message, data = bot.find_button(RECRUITER_CHAT, "2 ▶")
    await bot.press_data(RECRUITER, message, data)  # in the recruiters' chat, answered there
    second = listed(bot.texts(RECRUITER_CHAT)[-1])
    assert second == vera[::-1][20:]
    assert not set(second) & set(school)

    await bot.send(RECRUITER, f"/dossiers {SCHOOL}")
    assert listed(bot.last(RECRUITER)) == school[::-1]
    assert page_buttons(bot, RECRUITER) == []  # one page: no buttons
    assert render(Msg("rec.page.of", {"page": 1, "pages": 1}), "nl") not in bot.last(RECRUITER)


async def test_a_page_button_is_guarded_like_the_commands(bot: BotHarness):
    add_dossiers(bot, 25)
    await bot.send_in_group(RECRUITER, RECRUITER_CHAT, "/dossiers")
    message, data = bot.find_button(RECRUITER_CHAT, "2 ▶")
    before = len(bot.tg.sent)

    # Someone in the recruiters' chat who is not a recruiter presses ▶: a note on the button,
    # in their language, and no page.
    await bot.press_data(STRANGER, message, data)
    assert len(bot.tg.sent) == before
    method, params = bot.tg.calls[-1]
    assert method == "answerCallbackQuery"
    assert params["text"] == render(Msg("rec.refused.button"), "en")

    # A recruiter pressing a page button forged into a group that is not theirs: refused too.
    bot.tg.add_group(OTHER_GROUP, "Buurtvereniging", kind="supergroup")
    forged = bot.tg.press_update(RECRUITER, message, data)
    forged["callback_query"]["message"]["chat"] = {"id": OTHER_GROUP, "type": "supergroup",
                                                   "title": "Buurtvereniging"}
    await bot.process(forged)
    assert len(bot.tg.sent) == before
    assert bot.tg.calls[-1][1]["text"] == render(Msg("recruiter.not_here"), "nl")


async def test_a_page_button_of_a_vacancy_that_is_gone_says_so(bot: BotHarness):
    add_dossiers(bot, 25)
    await bot.send(RECRUITER, "/dossiers")
    message, _data = bot.find_button(RECRUITER, "2 ▶")

    await bot.press_data(RECRUITER, message, "rl:2:deadbeef:")
    assert bot.last(RECRUITER) == render(Msg("rec.page.gone"), "nl")


# ---------------------------------------------------------------- added to a group


def joined(bot: BotHarness, chat: dict[str, Any], old: str = "left", new: str = "member",
           by: int = CANDIDATE) -> dict[str, Any]:
    the_bot = {"id": bot.app.bot.id, "is_bot": True, "first_name": "Intake",
               "username": BOT_USERNAME}
    member: dict[str, Any] = {"status": new, "user": the_bot}
    if new == "administrator":
        member.update(can_be_edited=False, is_anonymous=False, can_manage_chat=True,
                      can_delete_messages=True, can_manage_video_chats=False,
                      can_restrict_members=False, can_promote_members=False,
                      can_change_info=False, can_invite_users=True, can_post_stories=False,
                      can_edit_stories=False, can_delete_stories=False)
    return bot.queue({"my_chat_member": {
        "chat": chat, "from": bot.tg.chats[by]["user"], "date": 1_700_000_000,
        "old_chat_member": {"status": old, "user": the_bot}, "new_chat_member": member}})


async def test_added_to_a_group_the_bot_tells_that_group_its_id_and_nothing_else(
        bot: BotHarness):
    await bot.send(CANDIDATE, "/start vera-projectcoordinator")  # someone the bot knows
    bot.tg.add_group(NEW_GROUP, "Selectiecommissie", kind="supergroup")
    chat = {"id": NEW_GROUP, "type": "supergroup", "title": "Selectiecommissie"}

    sent = await bot.process(joined(bot, chat))

    assert [m.chat_id for m in sent] == [NEW_GROUP]
    assert sent[0].text == render(Msg("rec.setup.group", {"id": str(NEW_GROUP)}), "nl")
    assert f"RECRUITER_CHAT_ID={NEW_GROUP}" in (sent[0].text or "")
    assert "Jan" not in (sent[0].text or "")  # not who added it, nothing about anyone


async def test_added_to_the_recruiters_chat_it_says_that_is_what_it_is(bot: BotHarness):
    chat = {"id": RECRUITER_CHAT, "type": "group", "title": "Recruiters"}
    sent = await bot.process(joined(bot, chat, new="administrator", by=RECRUITER))

    assert [(m.chat_id, m.text) for m in sent] == [
        (RECRUITER_CHAT, render(Msg("rec.setup.recruiters", {"id": str(RECRUITER_CHAT)}), "nl"))]


async def test_only_joining_a_group_is_told(bot: BotHarness):
    bot.tg.add_group(NEW_GROUP, "Selectiecommissie", kind="supergroup")
    bot.tg.add_channel(-1002222222222, "Vacatures")
    group = {"id": NEW_GROUP, "type": "supergroup", "title": "Selectiecommissie"}
    channel = {"id": -1002222222222, "type": "channel", "title": "Vacatures"}

    assert await bot.process(joined(bot, group, old="member", new="administrator")) == []
    assert await bot.process(joined(bot, group, old="member", new="left")) == []
    assert await bot.process(joined(bot, channel, new="administrator")) == []
    assert await bot.process(joined(bot, bot.tg.chats[CANDIDATE] | {"user": None},
                                    old="kicked", new="member")) == []


async def test_a_redelivered_join_is_told_once(bot: BotHarness):
    bot.tg.add_group(NEW_GROUP, "Selectiecommissie", kind="supergroup")
    update = joined(bot, {"id": NEW_GROUP, "type": "supergroup", "title": "Selectiecommissie"})

    first = await bot.process(update)
    again = await bot.process(update)
    assert len(first) == 1 and again == []


async def test_a_group_that_becomes_a_supergroup_is_told_its_new_id(bot: BotHarness):
    old_id, new_id = -4000123, -1004000123
    bot.tg.add_group(new_id, "Selectiecommissie", kind="supergroup")
    sent = await bot.process(bot.queue({"message": {
        "message_id": 1, "date": 1_700_000_000, "migrate_from_chat_id": old_id,
        "chat": {"id": new_id, "type": "supergroup", "title": "Selectiecommissie"},
        "from": bot.tg.chats[RECRUITER]["user"]}}))

    assert [(m.chat_id, m.text) for m in sent] == [
        (new_id, render(Msg("rec.setup.migrated", {"id": str(new_id)}), "nl"))]


# ---------------------------------------------------------------- main.py links


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of a 1-bit grayscale PNG, checked chunk by chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, {}
    idat = b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert zlib.crc32(kind + body) == crc
        chunks[kind] = body
        if kind == b"IDAT":
            idat += body
        offset += 12 + length
    assert b"IEND" in chunks
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (1, 0)
    raw = zlib.decompress(idat)
    stride = 1 + (width + 7) // 8
    assert len(raw) == height * stride
    rows: list[bytes] = []
    previous = bytes(stride - 1)
    for i in range(height):
        kind, line = raw[i * stride], bytearray(raw[i * stride + 1:(i + 1) * stride])
        for x in range(len(line)):  # PNG's five row filters; one byte a pixel group
            left = line[x - 1] if x else 0
            up, corner = previous[x], previous[x - 1] if x else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                nearest = min((abs(guess - left), 0, left), (abs(guess - up), 1, up),
                              (abs(guess - corner), 2, corner))[2]
                line[x] = (line[x] + nearest) & 0xFF
            else:
                assert kind == 0, f"unknown PNG filter {kind}"
        rows.append(bytes(line))
        previous = bytes(line)
    return width, height, rows


def dark(rows: list[bytes], x: int, y: int) -> bool:
    return not (rows[y][x // 8] >> (7 - x % 8)) & 1


def test_links_prints_each_open_vacancys_deep_link_and_writes_its_qr_code(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "links"
    # Nieuwpoort closed on 2 August 2025; the others are open on this day.
    code = main.main(["links", "--username", "intake_test_bot", "--out", str(out),
                      "--now", "2026-01-15T10:00+01:00"])
    printed = capsys.readouterr().out

    assert code == 0
    open_ones = [SCHOOL, VERA, "hardenberg-medewerker-intern-service-punt",
                 "sint-pieters-leeuw-projectmedewerker-samenleven"]
    assert sorted(p.stem for p in out.glob("*.png")) == sorted(open_ones)
    assert "closed (no link): nieuwpoort-systeembeheerder-ict" in printed
    for vacancy_id in open_ones:
        link = f"https://t.me/intake_test_bot?start={vacancy_id}"
        assert link in printed
        width, height, rows = png_pixels((out / f"{vacancy_id}.png").read_bytes())
        # The picture is the QR code of exactly that link: 10 pixels a module, 4 modules of
        # quiet zone, each module as segno encodes the link.
        matrix = segno.make(link, error="m", micro=False).matrix
        assert width == height == (len(matrix) + 8) * 10
        assert 200 <= width <= 1000  # printable on a poster, small enough for a web page
        assert all(dark(rows, (x + 4) * 10 + 5, (y + 4) * 10 + 5) == bool(matrix[y][x])
                   for y in range(len(matrix)) for x in range(len(matrix)))
        assert not dark(rows, 5, 5)  # the quiet zone is white


def test_links_asks_telegram_for_the_username_when_none_is_given(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    tg = FakeTelegram()
    with FakeBotServer(tg) as server:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", tg.token)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", server.api_base_url)
        code = main.main(["links", "--out", str(tmp_path), "--now", "2026-01-15T10:00+01:00"])
    assert code == 0
    assert f"https://t.me/{BOT_USERNAME}?start={VERA}" in capsys.readouterr().out
    assert "getMe" in [method for method, _params in tg.calls]


def test_links_without_a_username_or_token_says_what_to_do(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    assert main.main(["links", "--out", str(tmp_path)]) == 2
    assert "--username" in capsys.readouterr().err
    assert main.main(["links", "--username", "x y", "--out", str(tmp_path)]) == 2
