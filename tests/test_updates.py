"""Every update gets an answer or is counted on purpose: nothing is dropped silently.

Through the real python-telegram-bot Application, the inbox and the outbox, with the fake Bot
API. Every `telegram.constants.MessageType` in a private chat and in a group, and every
`telegram.Update` type, lands where it is meant to: an answer (the question, a specific reply to
a sticker, voice, location...), a pointer from a group to the private chat (once an hour), or
the explicit count of bot/ignored_updates.py.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select, text
from telegram import Update
from telegram.constants import MessageType
from telegram.ext import BaseHandler

from bot.fake_bot_api import BOT_USERNAME, CONTENT, Sent
from bot.ignored_updates import kind_of, logged_at
from flows.messages import Msg, render
from storage.group_notices import SqlGroupNotices, chat_hash
from storage.tables import group_notice_table, outbox_table
from tests.bot_harness import CANDIDATE, OTHER, RECRUITER, RECRUITER_CHAT, BotHarness, running_bot
from tests.update_samples import (
    MESSAGE_SAMPLES,
    THE_BOT,
    UPDATE_KINDS,
    message,
    update_sample,
)

# Reading a sample auto-delete timer (an int today, a timedelta in a later major version).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
VERA = "vera-projectcoordinator"
NAME = "Jan Peeters"
GROUP = -200
OTHER_GROUP = -201
FORUM = -202
CHANNEL = -300
LINK = f"https://t.me/{BOT_USERNAME}?start="
POINTER = ("Hallo! Ik help je graag verder in een privégesprek, zodat je antwoorden en "
           "documenten niet in deze groep komen. Tik op de knop om te beginnen.")

# Where each message type lands in a private chat: a handler of bot/candidate_handlers.py, or
# "ignored" (a service message, counted by bot/ignored_updates.py).
TEXT = "CandidateHandlers.text"
UPLOAD = "CandidateHandlers.document"
IGNORED = "IgnoredUpdates.handle"


def unusable(what: str) -> str:
    return f"CandidateHandlers.unusable({what!r})"


CONTENT_ROUTES = {
    "text": TEXT, "business_connection_id": TEXT, "effect_id": TEXT, "reply_to_story": TEXT,
    "sender_boost_count": TEXT, "sender_business_bot": TEXT, "suggested_post_info": TEXT,
    "document": UPLOAD, "photo": UPLOAD, "live_photo": UPLOAD,
    "sticker": unusable("sticker"), "animation": unusable("sticker"),
    "dice": unusable("sticker"),
    "voice": unusable("voice"), "video_note": unusable("voice"), "audio": unusable("voice"),
    "video": unusable("video"),
    "location": unusable("location"), "venue": unusable("location"),
    "contact": unusable("contact"), "poll": unusable("poll"), "story": unusable("story"),
    "game": unusable("game"),
    "checklist": unusable("media"), "invoice": unusable("media"),
    "paid_media": unusable("media"), "giveaway": unusable("media"),
    "giveaway_winners": unusable("media"),
}
PRIVATE_ROUTES = {t: CONTENT_ROUTES.get(t, IGNORED) for t in MESSAGE_SAMPLES}
# What each kind a person sends says first (then what works instead, then the question).
SAID_FIRST = {
    "sticker": "Leuk! Maar daarmee kan ik niet verder.",
    "voice": "Spraak-, audio- en videoberichten kan ik niet beluisteren.",
    "video": "Een video kan ik niet bekijken.",
    "location": "Een locatie heb ik niet nodig, en ik heb die ook niet bewaard.",
    "contact": "Een contact heb ik niet nodig. Ik heb het niet bewaard, ook het telefoonnummer "
               "niet.",
    "poll": "Met een peiling kan ik niets doen.",
    "story": "Een verhaal (story) kan ik niet bekijken.",
    "game": "Spelletjes kan ik hier niet spelen.",
    "media": "Dat soort bericht kan ik hier niet gebruiken.",
}
KIND_OF_CONTENT = {"animation": "sticker", "dice": "sticker", "video_note": "voice",
                   "audio": "voice", "live_location": "location", "venue": "location",
                   "invoice": "media", "checklist": "media", "paid_media": "media"}


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path) as harness:
        harness.tg.add_group(GROUP, "Jobs Westkust")
        harness.tg.add_group(OTHER_GROUP, "Vacatures Vlaanderen", kind="supergroup")
        harness.tg.add_group(FORUM, "Werken bij de stad", kind="supergroup", forum=True)
        harness.tg.add_channel(CHANNEL)
        yield harness


def user(harness: BotHarness, user_id: int) -> dict[str, Any]:
    return harness.tg.chats[user_id]["user"]


def private(harness: BotHarness, user_id: int) -> dict[str, Any]:
    return {k: v for k, v in harness.tg.chats[user_id].items() if k != "user"}


def as_update(harness: BotHarness, payload: dict[str, Any]) -> Update:
    update = Update.de_json({"update_id": 1, **payload}, harness.app.bot)
    assert update is not None
    return update


def first_handler(harness: BotHarness, update: Update) -> BaseHandler:
    """The handler python-telegram-bot runs: the first of the (one) group that matches."""
    assert list(harness.app.handlers) == [0], "every handler is in group 0: one per update"
    for handler in harness.app.handlers[0]:
        check = handler.check_update(update)
        if check is not None and check is not False:
            return handler
    raise AssertionError("no handler took it")


def route(harness: BotHarness, update: Update) -> str:
    return first_handler(harness, update).callback.__qualname__


def texts(sent: list[Sent]) -> str:
    return "\n\n".join(m.text or "" for m in sent)


def ignored_total(harness: BotHarness) -> int:
    assert harness.parts is not None
    return sum(harness.parts.ignored.counts.values())


async def at_the_name_question(harness: BotHarness, user_id: int = CANDIDATE,
                               lang_button: str = "Akkoord") -> None:
    await harness.send(user_id, f"/start {VERA}")
    await harness.press(user_id, lang_button)
    assert harness.current_question(user_id).id == "candidate.name"


def every_row(engine: Engine) -> str:
    """Everything the database holds, as text."""
    dump = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            dump.append(json.dumps([list(map(str, r)) for r in rows]))
    return "\n".join(dump)


# ---------------------------------------------------------------- every type, sorted on purpose


def test_the_samples_cover_every_message_and_update_type_of_the_installed_library():
    """A new type in a python-telegram-bot upgrade fails here: sort it in update_samples.py and
    the routes below (answer it, or count it as not meant for the bot)."""
    assert set(MESSAGE_SAMPLES) == {t.value for t in MessageType}
    assert set(UPDATE_KINDS) == set(Update.ALL_TYPES)


async def test_every_message_type_in_a_private_chat_lands_in_its_one_handler(bot: BotHarness):
    me, chat = user(bot, CANDIDATE), private(bot, CANDIDATE)
    landed = {t: route(bot, as_update(bot, {"message": message(chat, me, **content)}))
              for t, content in MESSAGE_SAMPLES.items()}
    assert landed == PRIVATE_ROUTES


def test_no_message_carries_two_kinds_of_unusable_content():
    from bot.message_kinds import CONTENT_KINDS

    chat = {"id": CANDIDATE, "type": "private", "first_name": "Jan"}
    me = {"id": CANDIDATE, "is_bot": False, "first_name": "Jan"}
    for kind, content in {**MESSAGE_SAMPLES, **CONTENT}.items():
        update = Update.de_json({"update_id": 1, "message": message(chat, me, **content)}, None)
        matching = [what for what, f in CONTENT_KINDS if f.check_update(update)]
        assert len(matching) <= 1, (kind, matching)


async def test_every_message_type_in_a_private_chat_is_answered_or_counted(bot: BotHarness):
    """Before any application (nothing stored): each type once, through the whole path."""
    me, chat = user(bot, CANDIDATE), private(bot, CANDIDATE)
    for number, (kind, content) in enumerate(MESSAGE_SAMPLES.items()):
        counted = ignored_total(bot)
        sent = await bot.process(bot.queue({"message": message(chat, me, 1000 + number,
                                                               **content)}))
        where = PRIVATE_ROUTES[kind]
        if where == IGNORED:
            assert sent == [], kind
            assert ignored_total(bot) == counted + 1, kind
            assert bot.parts.ignored.counts[f"message:private:{kind}"] == 1, kind
            continue
        assert sent and {m.chat_id for m in sent} == {CANDIDATE}, kind
        assert ignored_total(bot) == counted, kind
        said = texts(sent)
        if where.startswith("CandidateHandlers.unusable"):
            what = where.split("'")[1]
            assert said.startswith(SAID_FIRST[what] + "\n\nTik op een van de knoppen."), kind
        elif where == UPLOAD:
            assert said.startswith("Kies eerst een vacature; daarna vraag ik je documenten."), kind
        else:
            assert said.startswith("👋 Welkom!"), kind
    assert bot.errors == []
    assert bot.dossiers_of(CANDIDATE) == []
    assert bot.runtime.inbox.counts() == {"done": len(MESSAGE_SAMPLES)}


async def test_every_update_type_is_answered_or_counted(bot: BotHarness):
    me, chat = user(bot, CANDIDATE), private(bot, CANDIDATE)
    group = {"id": GROUP, "type": "group", "title": "Jobs Westkust"}
    answered = {"message", "edited_message", "callback_query"}
    for kind in UPDATE_KINDS:
        counted = ignored_total(bot)
        calls = len(bot.tg.calls)
        payload = update_sample(kind, me, chat, group)
        assert kind_of(as_update(bot, payload)).split(":")[0] == kind
        sent = await bot.process(bot.queue(payload))
        if kind not in answered:
            assert sent == [], kind
            assert [c for c, _ in bot.tg.calls[calls:]] == [], kind  # not a single API call
            assert ignored_total(bot) == counted + 1, kind
        else:
            assert ignored_total(bot) == counted, kind
    assert bot.errors == []
    said = bot.texts(CANDIDATE)
    assert any(t.startswith("Een aangepast bericht lees ik niet opnieuw") for t in said)
    assert bot.tg.answered_callbacks == ["cq1"]
    assert bot.runtime.inbox.counts() == {"done": len(UPDATE_KINDS)}


def test_the_log_shows_counts_at_1_10_100():
    assert [n for n in range(1, 2001) if logged_at(n)] == [1, 10, 100, 1000]


async def test_ignored_updates_are_logged_as_kinds_and_counts_only(
        bot: BotHarness, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO)
    for _ in range(10):
        await bot.process(bot.tg.channel_post_update(CHANNEL, "Vacature: Jan Peeters zoekt"))
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.ignored_updates"]
    assert lines == ["not answered: channel_post:channel:text, 1 so far",
                     "not answered: channel_post:channel:text, 10 so far"]
    assert "Jan" not in caplog.text and "Vacature" not in caplog.text
    assert bot.tg.sent == []


# ---------------------------------------------------------------- content a candidate sends


@pytest.mark.parametrize("kind", sorted(CONTENT))
async def test_content_the_bot_cannot_use_is_answered_and_the_question_asked_again(
        bot: BotHarness, kind: str):
    await at_the_name_question(bot)
    before = bot.dossier(CANDIDATE)
    sent = await bot.process(bot.tg.content_update(CANDIDATE, kind))
    what = KIND_OF_CONTENT.get(kind, kind)
    assert [m.chat_id for m in sent] == [CANDIDATE]
    [reply] = sent
    assert reply.text.startswith(f"{SAID_FIRST[what]}\n\nTyp je antwoord gewoon als bericht.\n\n"
                                 "Vraag 1 van")
    after = bot.dossier(CANDIDATE)
    assert (after.answers, after.state) == (before.answers, before.state)
    await bot.send(CANDIDATE, NAME)  # and the typed answer is taken as before
    assert bot.dossier(CANDIDATE).answers["candidate.name"] == NAME


async def test_content_is_answered_in_the_candidates_language(bot: BotHarness):
    bot.tg.add_user(113, "Emma", "en-GB")
    await bot.send(113, f"/start {VERA}")
    await bot.press(113, "I agree")
    await bot.send(113, "Emma Stone")
    await bot.send(113, "emma@example.org")
    [reply] = await bot.process(bot.tg.content_update(113, "voice"))
    assert reply.text.startswith("I can't listen to voice, audio or video messages.\n\n"
                                 "Tap one of the buttons.\n\nQuestion 3 of")
    assert reply.labels()  # the question's buttons again


async def test_a_shared_contact_is_never_stored_nor_logged(
        bot: BotHarness, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    await at_the_name_question(bot)
    await bot.process(bot.tg.content_update(CANDIDATE, "contact"))
    phone = CONTENT["contact"]["contact"]["phone_number"]
    stored = every_row(bot.store.engine)
    for trace in (phone, phone.lstrip("+"), "Contact"):
        assert trace not in stored
        assert trace not in caplog.text
    assert bot.runtime.inbox.counts() == {"done": 3}  # kept as a number, its content cleared


async def test_a_live_location_is_answered_once_not_at_every_move(bot: BotHarness):
    await at_the_name_question(bot)
    shared = bot.tg.content_update(CANDIDATE, "live_location")
    sent = await bot.process(shared)
    assert texts(sent).startswith(SAID_FIRST["location"])
    for step in range(3):  # Telegram sends each move as an edit of that message
        moved = {**shared["message"], "edit_date": shared["message"]["date"] + 60 * step,
                 "location": {"latitude": 51.13 + step / 1000, "longitude": 2.75,
                              "live_period": 900}}
        assert await bot.process(bot.queue({"edited_message": moved})) == []
    assert bot.parts.ignored.counts["edited_message:private:location"] == 3


# ---------------------------------------------------------------- edits and forwards


async def test_an_edit_keeps_the_first_answer_and_shows_the_question(bot: BotHarness):
    await at_the_name_question(bot)
    typed = bot.tg.text_update(CANDIDATE, NAME)
    await bot.process(typed)
    [reply] = await bot.process(bot.tg.edit_update(typed, "Jan Pieters"))
    assert reply.text.startswith("Ik heb je eerste antwoord gehouden; met /back pas je het aan."
                                 "\n\nVraag 2 van")
    assert bot.dossier(CANDIDATE).answers == {"candidate.name": NAME}


async def test_a_forwarded_text_is_not_the_answer(bot: BotHarness):
    await at_the_name_question(bot)
    [reply] = await bot.process(bot.tg.forwarded_update(CANDIDATE, "Piet Pieters"))
    assert reply.text.startswith("Een doorgestuurd bericht neem ik niet als jouw antwoord: typ "
                                 "het zelf.\n\nVraag 1 van")
    assert "candidate.name" not in bot.dossier(CANDIDATE).answers


async def test_a_forwarded_sticker_is_a_sticker(bot: BotHarness):
    await at_the_name_question(bot)
    origin = {"type": "hidden_user", "date": 1, "sender_user_name": "Piet"}
    sent = await bot.process(bot.tg.message_update(CANDIDATE, forward_origin=origin,
                                                   **CONTENT["sticker"]))
    assert texts(sent).startswith(SAID_FIRST["sticker"])


async def test_edits_in_a_group_or_a_channel_are_never_answered_there(bot: BotHarness):
    written = bot.tg.message_update(CANDIDATE, GROUP, text="/start")
    assert [m.chat_id for m in await bot.process(written)] == [GROUP]
    assert await bot.process(bot.tg.edit_update(written, "/start vera")) == []
    posted = bot.tg.channel_post_update(CHANNEL, "Nieuwe vacature")
    assert await bot.process(posted) == []
    assert await bot.process(bot.tg.edit_update(posted, "Nieuwe vacature!")) == []
    counts = bot.parts.ignored.counts
    assert counts["edited_message:group:text"] == 1
    assert counts["channel_post:channel:text"] == 1
    assert counts["edited_channel_post:channel:text"] == 1
    assert bot.tg.messages_to(CHANNEL) == [] and len(bot.tg.messages_to(GROUP)) == 1


# ---------------------------------------------------------------- groups


async def test_a_candidate_writing_in_a_group_is_pointed_to_the_private_chat(bot: BotHarness):
    sent = await bot.process(bot.tg.message_update(CANDIDATE, GROUP, text="/start"))
    assert [m.chat_id for m in sent] == [GROUP]
    [pointer] = sent
    assert pointer.text == POINTER
    assert pointer.labels() == ["💬 Naar het privégesprek"]
    assert pointer.links() == [LINK]
    assert bot.tg.messages_to(CANDIDATE) == []  # nothing in private until they open it
    assert bot.dossiers_of(CANDIDATE) == []


async def test_the_link_carries_the_vacancy_typed_in_the_group(bot: BotHarness):
    [pointer] = await bot.process(bot.tg.message_update(
        CANDIDATE, GROUP, text=f"/start@{BOT_USERNAME} {VERA}"))
    assert pointer.links() == [LINK + VERA]
    [other] = await bot.process(bot.tg.message_update(
        OTHER, OTHER_GROUP, text="/start <script>"))  # not a vacancy: no payload
    assert other.links() == [LINK]


async def test_the_pointer_follows_the_writers_language(bot: BotHarness):
    bot.tg.add_user(113, "Emma", "en")
    [pointer] = await bot.process(bot.tg.message_update(113, GROUP, text="/help"))
    assert pointer.text.startswith("Hi! I'm glad to help you in a private chat")
    assert pointer.labels() == ["💬 Open the private chat"]


async def test_at_most_one_pointer_per_group_per_hour(bot: BotHarness):
    first = await bot.process(bot.tg.message_update(CANDIDATE, GROUP, text="/start"))
    assert len(first) == 1
    bot.clock.advance(minutes=30)
    assert await bot.process(bot.tg.message_update(OTHER, GROUP, text="/status")) == []
    assert await bot.process(bot.tg.message_update(CANDIDATE, GROUP, text="/start")) == []
    # Another group is told on its own.
    assert len(await bot.process(bot.tg.message_update(OTHER, OTHER_GROUP, text="/start"))) == 1
    bot.clock.advance(minutes=29, seconds=59)
    assert await bot.process(bot.tg.message_update(OTHER, GROUP, text="/start")) == []
    bot.clock.advance(seconds=1)  # an hour after the first
    assert len(await bot.process(bot.tg.message_update(OTHER, GROUP, text="/start"))) == 1
    assert bot.parts.ignored.counts["message:group:text (group told within the hour)"] == 3
    assert len(bot.tg.messages_to(GROUP)) == 2


async def test_the_hour_survives_a_restart(bot: BotHarness):
    assert len(await bot.process(bot.tg.message_update(CANDIDATE, GROUP, text="/start"))) == 1
    await bot.restart()
    bot.clock.advance(minutes=10)
    assert await bot.process(bot.tg.message_update(OTHER, GROUP, text="/start")) == []


async def test_group_messages_at_once_get_one_pointer(bot: BotHarness):
    for user_id in (CANDIDATE, OTHER, RECRUITER):  # three people, stored in one batch
        bot.tg.message_update(user_id, GROUP, text="/start")
    await bot.runtime.receive(list(bot.tg.updates))
    await bot.runtime.drain()
    assert len(bot.tg.messages_to(GROUP)) == 1
    assert bot.errors == []


async def test_a_group_keeps_nothing_of_who_wrote_or_what(bot: BotHarness):
    bot.tg.add_user(4321, "Geheim", "nl")
    await bot.process(bot.tg.message_update(4321, GROUP, text="/start ik ben Geheim Persoon"))
    with bot.store.engine.connect() as connection:
        notices = connection.execute(select(group_notice_table)).all()
        outbox = connection.execute(select(outbox_table.c.payload)).all()
    assert [n.chat_hash for n in notices] == [chat_hash("telegram", GROUP)]
    assert str(GROUP) not in notices[0].chat_hash
    stored = every_row(bot.store.engine)
    for trace in ("Geheim", "4321", "Persoon"):
        assert trace not in stored
    assert [row.payload for row in outbox] == [{}]  # the pointer's text cleared once sent


async def test_in_a_forum_the_pointer_answers_in_the_topic(bot: BotHarness):
    [pointer] = await bot.process(bot.tg.message_update(
        CANDIDATE, FORUM, text="/start", message_thread_id=12, is_topic_message=True))
    assert (pointer.chat_id, pointer.thread_id) == (FORUM, 12)


@pytest.mark.parametrize("written", [
    {"text": "/start@other_bot"},  # a command for another bot
    {"new_chat_members": [{"id": 4242, "is_bot": False, "first_name": "Piet"}]},
    {"pinned_message": {"message_id": 1, "date": 0, "chat": {"id": GROUP, "type": "group"}}},
    {"text": "/start", "sender_chat": {"id": GROUP, "type": "group", "title": "G"}},  # anonymous
    {"text": "/start", "is_automatic_forward": True},  # a channel post mirrored in its group
], ids=["other-bot", "joined", "pinned", "anonymous-admin", "channel-forward"])
async def test_what_is_not_a_candidate_writing_gets_no_pointer(bot: BotHarness,
                                                               written: dict[str, Any]):
    counted = ignored_total(bot)
    assert await bot.process(bot.tg.message_update(CANDIDATE, GROUP, **written)) == []
    assert ignored_total(bot) == counted + 1
    # ... and does not use up the group's hour.
    assert len(await bot.process(bot.tg.message_update(CANDIDATE, GROUP, text="/start"))) == 1


async def test_the_groups_own_conversation_gets_no_pointer(bot: BotHarness):
    """With privacy mode off (or as an admin) the bot sees every message of a group: it only
    answers what is said to it."""
    for chatter in ({"text": "Wie gaat er mee lunchen?"}, CONTENT["sticker"],
                    {"text": "Vraag het aan @iemand_anders"},
                    {"text": "Ik heb gesolliciteerd", "reply_to_message": message(
                        {"id": GROUP, "type": "group", "title": "G"}, user(bot, OTHER),
                        text="Nog iemand?")}):
        assert await bot.process(bot.tg.message_update(CANDIDATE, GROUP, **chatter)) == []
    assert bot.parts.ignored.counts["message:group:text (not to the bot)"] == 3
    assert bot.parts.ignored.counts["message:group:sticker (not to the bot)"] == 1


@pytest.mark.parametrize("written", [
    {"text": f"@{BOT_USERNAME} hoe solliciteer ik?",
     "entities": [{"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}]},
    {"text": f"Hoi @{BOT_USERNAME.upper()}",
     "entities": [{"type": "mention", "offset": 4, "length": len(BOT_USERNAME) + 1}]},
    {"text": "Hoi bot", "entities": [{"type": "text_mention", "offset": 4, "length": 3,
                                      "user": THE_BOT}]},
    {"text": "Hoe werkt dat?", "reply_to_message": message(
        {"id": GROUP, "type": "group", "title": "G"}, THE_BOT, text="Hallo!")},
    {**CONTENT["voice"], "reply_to_message": message(
        {"id": GROUP, "type": "group", "title": "G"}, THE_BOT, text="Hallo!")},
    {"photo": [{"file_id": "p", "file_unique_id": "up", "width": 1, "height": 1}],
     "caption": "/start", "caption_entities": [{"type": "bot_command", "offset": 0,
                                                "length": 6}]},
], ids=["mention", "mention-any-case", "text-mention", "reply", "voice-reply", "caption-command"])
async def test_what_is_said_to_the_bot_in_a_group_gets_the_pointer(bot: BotHarness,
                                                                   written: dict[str, Any]):
    sent = await bot.process(bot.tg.message_update(CANDIDATE, GROUP, **written))
    assert [(m.chat_id, m.text) for m in sent] == [(GROUP, POINTER)]


async def test_the_recruiters_chat_gets_no_pointer(bot: BotHarness):
    assert await bot.process(bot.tg.message_update(CANDIDATE, RECRUITER_CHAT, text="/start")) == []
    helped = await bot.process(bot.tg.message_update(RECRUITER, RECRUITER_CHAT, text="/help"))
    assert [m.chat_id for m in helped] == [RECRUITER_CHAT]  # the recruiters' help
    assert POINTER not in texts(helped)
    sent = await bot.process(bot.tg.message_update(RECRUITER, RECRUITER_CHAT, text="/dossiers"))
    assert [m.chat_id for m in sent] == [RECRUITER_CHAT]  # its own commands still work
    assert POINTER not in texts(sent)


async def test_every_message_type_in_a_group_is_pointed_or_counted(bot: BotHarness):
    """Each type as a reply to the bot (what makes it addressed to the bot, whatever it is)."""
    me = user(bot, CANDIDATE)
    for number, (kind, content) in enumerate(MESSAGE_SAMPLES.items()):
        chat_id = -10_000 - number  # a group of its own: each may be told once
        bot.tg.add_group(chat_id, f"Groep {number}")
        chat = {"id": chat_id, "type": "group", "title": f"Groep {number}"}
        to_the_bot = message(chat, THE_BOT, 1, text="Hallo! Ik help je graag verder")
        update = bot.queue({"message": message(chat, me, 2000 + number,
                                               reply_to_message=to_the_bot, **content)})
        where = route(bot, as_update(bot, update))
        sent = await bot.process(update)
        if PRIVATE_ROUTES[kind] == IGNORED:  # a service message
            assert (where, sent) == (IGNORED, []), kind
        else:
            assert where == "GroupMessages.point_to_private_chat", kind
            assert [m.text for m in sent] == [POINTER], kind
    assert bot.tg.messages_to(CANDIDATE) == []
    assert bot.errors == []


async def test_a_candidate_mid_application_is_not_moved_by_the_group(bot: BotHarness):
    await at_the_name_question(bot)
    before = bot.dossier(CANDIDATE)
    private_before = len(bot.tg.messages_to(CANDIDATE))
    await bot.process(bot.tg.message_update(CANDIDATE, GROUP, text="/restart"))
    await bot.process(bot.tg.message_update(CANDIDATE, GROUP, text=NAME))
    after = bot.dossier(CANDIDATE)
    assert (after.answers, after.state) == (before.answers, before.state)
    assert len(bot.tg.messages_to(CANDIDATE)) == private_before


# ---------------------------------------------------------------- the group notice store


def test_group_notices_once_per_interval_and_once_per_update(engine: Engine):
    notices = SqlGroupNotices(engine)
    t0 = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
    hello = [{"text": "hallo", "choices": []}]
    assert notices.queue_once(1, GROUP, hello, t0)
    assert not notices.queue_once(1, GROUP, hello, t0 + timedelta(hours=2))  # re-delivered
    assert not notices.queue_once(2, GROUP, hello, t0 + timedelta(minutes=59))
    assert notices.queue_once(3, OTHER_GROUP, hello, t0 + timedelta(minutes=59))
    assert notices.queue_once(4, GROUP, hello, t0 + timedelta(hours=1))
    with engine.connect() as connection:
        queued = connection.execute(select(outbox_table.c.chat_key)
                                    .order_by(outbox_table.c.id)).scalars().all()
    assert queued == [str(GROUP), str(OTHER_GROUP), str(GROUP)]
    assert notices.prune(t0 + timedelta(minutes=60)) == 1  # OTHER_GROUP's, at 59 minutes
    assert notices.prune(t0 + timedelta(minutes=60)) == 0


def test_group_notices_claimed_by_many_threads_at_once_go_out_once(engine: Engine):
    notices = SqlGroupNotices(engine)
    now = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
    count = 8
    barrier = threading.Barrier(count)
    won: list[bool] = []

    def race(event_id: int) -> None:
        barrier.wait()
        won.append(notices.queue_once(event_id, GROUP, [{"text": "x", "choices": []}], now))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False] * (count - 1) + [True]


def test_the_pointer_text_exists_in_both_languages():
    for lang in ("nl", "en"):
        assert render(Msg("group.private_only"), lang) and render(Msg("btn.private_chat"), lang)
