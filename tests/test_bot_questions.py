"""Questions reach a person, through Telegram: the real Application against the fake Bot API.

A candidate's question goes to the recruiters' chat through the outbox; a recruiter answers by
replying to that message; the answer reaches the candidate's chat, in order, stored with the
dossier. Replies by others, or to other messages, are ignored and logged without content.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.fake_bot_api import Sent
from bot.telegram_app import MENU, PRIVACY_COMMANDS, QUESTION_COMMAND, set_command_menu
from tests.bot_harness import (
    AMSTERDAM,
    CANDIDATE,
    OTHER,
    RECRUITER,
    RECRUITER_CHAT,
    BotHarness,
    Clock,
    running_bot,
)

HARDENBERG = "hardenberg-medewerker-intern-service-punt"
HARDENBERG_OPEN = datetime(2026, 7, 1, 12, 0, tzinfo=AMSTERDAM)
SALARY = "Wat is het loon eigenlijk?"
ANSWER = "Functieschaal 9 is de maatstaf; het uurtarief noem je zelf."


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path, Clock(HARDENBERG_OPEN)) as harness:
        yield harness


async def ask(bot: BotHarness, user: int = CANDIDATE, question: str = SALARY) -> Sent:
    """Start Hardenberg, type a question at the name, confirm it: the recruiters' copy."""
    await bot.send(user, f"/start {HARDENBERG}")
    await bot.press(user, "Akkoord")
    await bot.send(user, question)
    assert "Wil je deze vraag aan de recruiters stellen?" in bot.texts(user)[-2]
    sent = await bot.press(user, "Ja, stel de vraag")
    [copy] = [m for m in sent if m.chat_id == RECRUITER_CHAT]
    return copy


async def reply(bot: BotHarness, user: int, to: Sent, text: str | None = None,
                photo: bytes | None = None) -> list[Sent]:
    return await bot.process(bot.tg.group_update(user, RECRUITER_CHAT, text, reply_to=to,
                                                 photo=photo))


def to(sent: list[Sent], chat: int) -> list[str]:
    return [m.text or "" for m in sent if m.chat_id == chat]


async def test_a_question_goes_to_the_recruiters_and_the_answer_comes_back(bot: BotHarness):
    copy = await ask(bot)
    dossier = bot.dossier(CANDIDATE)
    assert copy.text is not None
    assert copy.text.startswith(f"❓ Vraag van kandidaat #{dossier.id} — Medewerker Intern"
                                " Service Punt · stap: vraag “Naam”")
    assert f"“{SALARY}”" in copy.text
    assert "Naam en antwoorden: niet meegestuurd" in copy.text
    assert "Antwoord door op dit bericht te reageren (reply)" in copy.text
    assert "candidate.name" not in dossier.answers  # never stored as the name
    assert "Hoe heet je?" in bot.last(CANDIDATE)  # asked again after "passed on"

    sent = await reply(bot, RECRUITER, copy, ANSWER)
    assert to(sent, CANDIDATE) == [
        f"💬 Antwoord van de recruiters op je vraag “{SALARY}”:\n\n{ANSWER}"]
    assert to(sent, RECRUITER_CHAT) == [f"✅ Doorgestuurd naar kandidaat #{dossier.id}."]

    # A second reply is forwarded too, after the first; the same update twice only once.
    again = bot.tg.group_update(RECRUITER, RECRUITER_CHAT, "En reiskosten vergoedt de"
                                " opdrachtgever niet.", reply_to=copy)
    sent = await bot.process(again)
    assert to(sent, CANDIDATE) == [f"💬 Antwoord van de recruiters op je vraag “{SALARY}”:\n\n"
                                   "En reiskosten vergoedt de opdrachtgever niet."]
    assert await bot.process(dict(again)) == []

    [(question, answers)] = bot.store.questions(dossier.id)  # type: ignore[arg-type]
    assert (question.status, question.recruiter_chat_id, question.recruiter_message_id) == (
        "asked", RECRUITER_CHAT, copy.message_id)
    assert [(a.text, a.answered_by) for a in answers] == [
        (ANSWER, str(RECRUITER)), ("En reiskosten vergoedt de opdrachtgever niet.", str(RECRUITER))]

    # The candidate carries on where they were.
    await bot.send(CANDIDATE, "Jan Peeters")
    assert "Vraag 2 van" in bot.last(CANDIDATE)


async def test_with_the_answers_ticked_the_recruiters_see_name_and_answers(bot: BotHarness):
    await bot.send(CANDIDATE, f"/start {HARDENBERG}")
    await bot.press(CANDIDATE, "Akkoord")
    await bot.send(CANDIDATE, "Jan Peeters")
    await bot.send(CANDIDATE, "jan@example.nl")
    await bot.send(CANDIDATE, "/vraag Telt een hbo-propedeuse als mbo-4?")
    assert "❓ Dit stuur ik naar de recruiters:" in bot.last(CANDIDATE)
    await bot.press(CANDIDATE, "Mijn antwoorden meesturen")
    assert "☑ Ook je naam, e-mailadres en antwoorden gaan mee." in bot.last(CANDIDATE)
    sent = await bot.press(CANDIDATE, "Ja, stel de vraag")
    [copy] = to(sent, RECRUITER_CHAT)
    assert "stap: vraag “Hoogste diploma”" in copy
    assert "Kandidaat: Jan Peeters <jan@example.nl>" in copy


async def test_vraag_then_the_question_in_the_next_message(bot: BotHarness):
    await bot.send(CANDIDATE, f"/start {HARDENBERG}")
    await bot.press(CANDIDATE, "Akkoord")
    await bot.send(CANDIDATE, "/vraag")
    assert bot.last(CANDIDATE) == "❓ Wat is je vraag aan de recruiters? Typ ze in één bericht."
    await bot.send(CANDIDATE, "Kan ik ook op zaterdag werken")
    assert "“Kan ik ook op zaterdag werken”" in bot.last(CANDIDATE)
    assert "candidate.name" not in bot.dossier(CANDIDATE).answers


async def test_replies_by_others_or_to_other_messages_are_ignored_and_logged_without_content(
        bot: BotHarness, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO)
    copy = await ask(bot)
    # A colleague who is not a recruiter answers; a recruiter replies to a colleague's message.
    assert await reply(bot, OTHER, copy, "Geen idee, vraag het aan Rita") == []
    colleague = bot.tg.group_update(OTHER, RECRUITER_CHAT, "Wie neemt deze?")
    await bot.process(colleague)
    theirs = Sent(colleague["message"]["message_id"], RECRUITER_CHAT, "Wie neemt deze?")
    assert await reply(bot, RECRUITER, theirs, "Ik neem hem") == []
    # A reply to another message of the bot (a command's answer) is no answer either.
    [listing] = to(await bot.send_in_group(RECRUITER, RECRUITER_CHAT, "/dossiers"), RECRUITER_CHAT)
    listing_message = next(m for m in bot.tg.messages_to(RECRUITER_CHAT) if m.text == listing)
    assert await reply(bot, RECRUITER, listing_message, "Bedankt") == []

    assert bot.tg.messages_to(CANDIDATE)[-1].text != "Geen idee, vraag het aan Rita"
    assert bot.store.questions(bot.dossier(CANDIDATE).id)[0][1] == []  # type: ignore[arg-type]
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.recruiter_replies"]
    assert any("not a recruiter; ignored" in line for line in logged)
    assert any("no candidate's question; ignored" in line for line in logged)
    for secret in (SALARY, "Geen idee", "Ik neem hem", "Bedankt", "Wie neemt"):
        assert secret not in caplog.text


async def test_a_photo_as_answer_is_not_forwarded_and_the_recruiter_told_why(bot: BotHarness):
    copy = await ask(bot)
    sent = await reply(bot, RECRUITER, copy, photo=b"\xff\xd8\xff\xe0 not really a jpeg")
    assert to(sent, RECRUITER_CHAT) == ["⚠️ Niet doorgestuurd: alleen tekst kan ik doorsturen."
                                        " Typ je antwoord als reply op de vraag."]
    assert to(sent, CANDIDATE) == []


async def test_after_a_withdrawal_the_question_and_answers_are_gone(bot: BotHarness):
    copy = await ask(bot)
    await reply(bot, RECRUITER, copy, ANSWER)
    dossier_id = bot.dossier(CANDIDATE).id
    await bot.send(CANDIDATE, "/withdraw")
    sent = await bot.press(CANDIDATE, "Ja, trek in en wis")
    assert any("ingetrokken en in de bot gewist" in t for t in to(sent, RECRUITER_CHAT))
    assert bot.store.questions(dossier_id) == []  # type: ignore[arg-type]

    # Erased means erased: the message no longer maps to anything, and a reply goes nowhere.
    assert await reply(bot, RECRUITER, copy, "Nog een aanvulling") == []


async def test_a_question_erased_while_a_reply_is_handled_is_reported_not_forwarded(
        bot: BotHarness):
    copy = await ask(bot)
    ref = bot.store.question_for_message(RECRUITER_CHAT, copy.message_id)
    assert ref is not None
    await bot.send(CANDIDATE, "/withdraw")
    await bot.press(CANDIDATE, "Ja, trek in en wis")
    assert bot.engine is not None
    # The reply was matched to the question just before the withdrawal took it away.
    assert bot.engine.relay_answer(ref.channel, ref.external_id, ref.question_id, ANSWER,
                                   str(RECRUITER), event_id=10_000) == "gone"
    sent = await bot.process(bot.tg.text_update(OTHER, "/start"))  # the outbox moves on
    assert to(sent, RECRUITER_CHAT) == ["⚠️ Niet doorgestuurd: die vraag bestaat niet meer (de"
                                        " kandidaat trok het dossier in, of het werd gewist)."]
    assert ANSWER not in "".join(bot.texts(CANDIDATE))


# python-telegram-bot reads RetryAfter.retry_after (deprecated in 22.2).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_question_withdrawn_before_it_was_sent_never_reaches_the_recruiters(
        bot: BotHarness):
    await bot.send(CANDIDATE, f"/start {HARDENBERG}")
    await bot.press(CANDIDATE, "Akkoord")
    await bot.send(CANDIDATE, SALARY)
    bot.tg.fail_next("sendMessage", 429, "Too Many Requests: retry later", retry_after=3600,
                     chat_id=RECRUITER_CHAT)
    sent = await bot.press(CANDIDATE, "Ja, stel de vraag")
    assert to(sent, RECRUITER_CHAT) == []  # waits for Telegram
    await bot.send(CANDIDATE, "/withdraw")
    await bot.press(CANDIDATE, "Ja, trek in en wis")
    bot.clock.advance(hours=2)
    bot.advance_wall(7200)
    await bot.process(bot.tg.text_update(OTHER, "/start"))
    assert bot.outbox() == []  # the row was due and found nothing left to send
    assert all(SALARY not in m.text for m in bot.tg.messages_to(RECRUITER_CHAT) if m.text)
    assert any("ingetrokken" in (m.text or "") for m in bot.tg.messages_to(RECRUITER_CHAT))


async def test_the_deadline_for_questions_through_telegram(bot: BotHarness):
    bot.clock.set(datetime(2026, 7, 9, 10, 0, tzinfo=AMSTERDAM))
    await bot.send(CANDIDATE, f"/start {HARDENBERG}")
    await bot.press(CANDIDATE, "Akkoord")
    sent = await bot.send(CANDIDATE, "/vraag Wat is het loon?")
    said, where = to(sent, CANDIDATE)
    assert "Hoe heet je?" in where  # and where they are
    assert said.startswith("❓ Vragen over Medewerker Intern Service Punt konden gesteld worden tot"
                           " woensdag 8 juli 2026, 09:00 (Nederlandse tijd).")
    assert "gepubliceerd op vrijdag 10 juli 2026 op de website van Flextender" in said
    assert "Contact: Flextender, 035-7510777 (vragen over de procedure)" in said
    assert to(sent, RECRUITER_CHAT) == []


async def test_english_candidates_use_question_and_read_the_answer_in_english(bot: BotHarness):
    bot.tg.add_user(113, "Amy", "en")
    await bot.send(113, f"/start {HARDENBERG}")
    await bot.press(113, "I agree")
    await bot.send(113, "/question Is the work on site only?")
    assert "This is what I will send to the recruiters:" in bot.last(113)
    sent = await bot.press(113, "Yes, ask it")
    [copy] = [m for m in sent if m.chat_id == RECRUITER_CHAT]
    assert "❓ Vraag van kandidaat" in (copy.text or "")  # the recruiters read Dutch
    sent = await reply(bot, RECRUITER, copy, "Yes: hybrid working is not possible.")
    assert to(sent, 113) == ["💬 The recruiters' answer to your question “Is the work on site"
                             " only?”:\n\nYes: hybrid working is not possible."]


async def test_the_command_menu_offers_the_question_in_each_language(bot: BotHarness):
    await set_command_menu(bot.app)
    menus: dict[str, Any] = bot.tg.commands
    for lang, name in QUESTION_COMMAND.items():
        assert [c["command"] for c in menus[lang]] == [*MENU[:-1], name, *PRIVACY_COMMANDS[lang],
                                                       MENU[-1]]
    assert {c["command"]: c["description"] for c in menus["nl"]}["vraag"] == (
        "Een vraag stellen aan de recruiters")
    assert {c["command"]: c["description"] for c in menus["en"]}["question"] == (
        "Ask the recruiters a question")


async def test_the_recruiters_dossier_shows_the_questions_and_answers(bot: BotHarness):
    copy = await ask(bot)
    await reply(bot, RECRUITER, copy, ANSWER)
    dossier_id = bot.dossier(CANDIDATE).id
    sent = await bot.send_in_group(RECRUITER, RECRUITER_CHAT, f"/dossier {dossier_id}")
    texts = to(sent, RECRUITER_CHAT)
    assert texts[0].startswith(f"📨 Dossier #{dossier_id}")
    assert texts[1] == ("❓ Vragen van de kandidaat (1):\n"
                        f"• 01-07-2026 12:00: “{SALARY}”\n"
                        f"    ↩️ 01-07-2026 12:00: {ANSWER}")
