"""Recruiters decide from the notification, through Telegram: the real Application against the
fake Bot API. Each decision is confirmed, recorded (who, when) and told to the candidate in
their language from the vacancy's own texts; strangers, stale and forged presses do nothing;
a repeated update is applied once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.fake_bot_api import Sent
from flows import decisions as D
from tests.bot_harness import (
    CANDIDATE,
    OTHER,
    PDF,
    RECRUITER,
    RECRUITER_CHAT,
    BotHarness,
    Clock,
    running_bot,
)
from tests.test_bot import HARDENBERG, HARDENBERG_OPEN, NIEUWPOORT, NIEUWPOORT_OPEN, apply_fully


@pytest.fixture
async def nieuwpoort(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path, Clock(NIEUWPOORT_OPEN)) as harness:
        await apply_fully(harness, CANDIDATE, NIEUWPOORT)
        yield harness


@pytest.fixture
async def hardenberg(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path, Clock(HARDENBERG_OPEN)) as harness:
        await apply_fully(harness, CANDIDATE, HARDENBERG)
        yield harness


def notification(bot: BotHarness) -> Sent:
    """The recruiters' chat message carrying the decision buttons (the newest)."""
    for message in reversed(bot.tg.messages_to(RECRUITER_CHAT)):
        labels = [b["text"] for row in message.buttons for b in row]
        if "Uitnodigen" in labels:
            return message
    raise AssertionError("no notification with decision buttons")


async def press(bot: BotHarness, label: str, user: int = RECRUITER,
                message: Sent | None = None) -> list[Sent]:
    """`user` presses `label` on the newest message in the recruiters' chat offering it."""
    if message is None:
        message, data = bot.find_button(RECRUITER_CHAT, label)
    else:
        data = next(b["callback_data"] for row in message.buttons for b in row
                    if b["text"] == label)
    return await bot.process(bot.tg.press_update(user, message, data))


def answered(bot: BotHarness) -> str:
    """The text of the last answerCallbackQuery (the press's own little answer)."""
    return next(params.get("text", "") for method, params in reversed(bot.tg.calls)
                if method == "answerCallbackQuery")


def to(sent: list[Sent], chat: int) -> list[str]:
    return [m.text or "" for m in sent if m.chat_id == chat]


def decisions(bot: BotHarness) -> list[tuple[str, str | None, str]]:
    with bot.store.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(  # type: ignore[misc]
            "SELECT kind, reason, decided_by FROM decision ORDER BY id"))]


async def test_the_notification_carries_the_decision_buttons_on_its_last_text(
        nieuwpoort: BotHarness):
    message = notification(nieuwpoort)
    labels = [b["text"] for row in message.buttons for b in row]
    assert labels == ["Uitnodigen", "Afwijzen", "Document vragen", "Bekeken"]
    assert all(len(b["callback_data"].encode()) <= 64 for row in message.buttons for b in row)
    texts = [m for m in nieuwpoort.tg.messages_to(RECRUITER_CHAT) if m.text]
    assert texts[-1] is message  # the last text part; the documents follow without buttons


async def test_invite_nieuwpoort_names_the_written_test_and_its_reservation(
        nieuwpoort: BotHarness):
    dossier = nieuwpoort.dossier(CANDIDATE)
    sent = await press(nieuwpoort, "Uitnodigen")
    assert to(sent, CANDIDATE) == []  # nothing reaches the candidate before the confirmation
    [preview] = to(sent, RECRUITER_CHAT)
    assert f"Dossier #{dossier.id} · Jan Peeters" in preview
    assert "uitnodigen voor Schriftelijke proef?" in preview
    assert "16 september 2025 (onder voorbehoud)" in preview

    nieuwpoort.clock.set(NIEUWPOORT_OPEN.replace(hour=10, minute=12))
    sent = await press(nieuwpoort, "Bevestig")
    [told] = to(sent, CANDIDATE)
    assert "je bent uitgenodigd voor de volgende stap, Schriftelijke proef" in told
    assert "16 september 2025" in told and "onder voorbehoud" in told
    assert "kandidatuur" in told  # Flemish: a vacancy in Belgium
    [line] = to(sent, RECRUITER_CHAT)
    assert line.startswith("✅ Uitgenodigd door Rita om 10:12 — #")
    assert "Schriftelijke proef" in line
    assert decisions(nieuwpoort) == [("invited", None, str(RECRUITER))]
    assert nieuwpoort.dossier(CANDIDATE).decision == "invited"
    # The confirmation's buttons are taken off; the next invitation names the next step.
    assert nieuwpoort.tg.calls[-1][0] in ("editMessageReplyMarkup", "sendMessage")
    assert any(m == "editMessageReplyMarkup" for m, _ in nieuwpoort.tg.calls)
    sent = await press(nieuwpoort, "Uitnodigen")
    assert "uitnodigen voor Mondelinge proef?" in to(sent, RECRUITER_CHAT)[0]


async def test_invite_hardenberg_names_the_interview_day_in_netherlands_dutch(
        hardenberg: BotHarness):
    await press(hardenberg, "Uitnodigen")
    sent = await press(hardenberg, "Bevestig")
    [told] = to(sent, CANDIDATE)
    assert "Stap 4: selectiegesprek, op 20 juli 2026" in told
    assert "sollicitatie" in told and "kandidatuur" not in told


async def test_decline_asks_a_reason_and_tells_the_candidate_kindly(hardenberg: BotHarness):
    sent = await press(hardenberg, "Afwijzen")
    assert "Welke reden krijgt de kandidaat?" in to(sent, RECRUITER_CHAT)[0]
    sent = await press(hardenberg, "Andere kandidaten passen beter")
    assert "afwijzen, reden: andere kandidaten passen beter?" in to(sent, RECRUITER_CHAT)[0]
    sent = await press(hardenberg, "Bevestig")
    [told] = to(sent, CANDIDATE)
    assert "Bedankt voor je sollicitatie" in told
    assert "andere kandidaten sluiten beter aan" in told
    assert "succes" in told
    assert to(sent, RECRUITER_CHAT)[0].startswith("✖️ Afgewezen door Rita om ")
    assert decisions(hardenberg) == [("declined", "fit", str(RECRUITER))]
    # Declined is final: an old button is stale and changes nothing.
    sent = await press(hardenberg, "Bekeken", message=notification(hardenberg))
    assert "verouderd" in to(sent, RECRUITER_CHAT)[0]
    assert len(decisions(hardenberg)) == 1


async def test_ask_for_a_document_then_the_candidate_sends_it(hardenberg: BotHarness):
    await press(hardenberg, "Document vragen")
    sent = await press(hardenberg, "cv")
    assert "vragen om" in to(sent, RECRUITER_CHAT)[0]
    sent = await press(hardenberg, "Bevestig")
    [told] = to(sent, CANDIDATE)
    assert "De recruiters vragen voor je sollicitatie" in told
    assert hardenberg.dossier(CANDIDATE).decision == "document_asked"
    before = len(hardenberg.documents(CANDIDATE))

    sent = await hardenberg.upload(CANDIDATE, "nieuw-cv.pdf", PDF)
    assert "ontvangen (nieuw-cv.pdf) en doorgestuurd naar de recruiters" in to(sent, CANDIDATE)[0]
    assert len(hardenberg.documents(CANDIDATE)) == before  # replaced, not added
    # The recruiters get the dossier again, with the new file and fresh buttons.
    again = [m for m in sent if m.chat_id == RECRUITER_CHAT]
    assert any("Uitnodigen" in [b["text"] for row in m.buttons for b in row] for m in again)
    assert len(again) > 1  # the summary, then the documents
    # Only that one document was asked for: another upload is not taken.
    sent = await hardenberg.upload(CANDIDATE, "nog-een.pdf", PDF)
    assert "doorgestuurd naar de recruiters" not in " ".join(to(sent, CANDIDATE))


async def test_mark_reviewed_records_who_and_when_and_offers_the_next_decisions(
        nieuwpoort: BotHarness):
    original = notification(nieuwpoort)
    await press(nieuwpoort, "Bekeken")
    sent = await press(nieuwpoort, "Bevestig")
    assert "bekeken" in to(sent, CANDIDATE)[0]
    [line] = [m for m in sent if m.chat_id == RECRUITER_CHAT]
    assert (line.text or "").startswith("👀 Bekeken door Rita om ")
    assert next(b["text"] for row in line.buttons for b in row) == "Uitnodigen"
    with nieuwpoort.store.engine.connect() as connection:
        decided_at = connection.execute(text("SELECT decided_at FROM decision")).scalar_one()
    assert decided_at is not None
    # The notification's own buttons are stale now; the line's are current.
    sent = await press(nieuwpoort, "Uitnodigen", message=original)
    assert "verouderd" in to(sent, RECRUITER_CHAT)[0]
    sent = await press(nieuwpoort, "Uitnodigen", message=line)
    assert "uitnodigen voor Schriftelijke proef?" in to(sent, RECRUITER_CHAT)[0]


async def test_a_strangers_press_is_refused_and_changes_nothing(nieuwpoort: BotHarness):
    nieuwpoort.tg.add_user(OTHER, "Els", "en")
    message = notification(nieuwpoort)
    data = message.buttons[0][0]["callback_data"]
    sent = await nieuwpoort.process(nieuwpoort.tg.press_update(OTHER, message, data))
    assert sent == []
    assert answered(nieuwpoort) == "Only recruiters can decide on dossiers."  # their language
    # Even the confirmation itself, forged by a stranger.
    ok = D.Press(nieuwpoort.dossier(CANDIDATE).id or 0, 0, D.INVITED, "", D.CONFIRM).token
    assert await nieuwpoort.process(nieuwpoort.tg.press_update(OTHER, message, ok)) == []
    assert decisions(nieuwpoort) == []


async def test_stale_and_forged_presses_do_nothing_harmful(nieuwpoort: BotHarness):
    dossier_id = nieuwpoort.dossier(CANDIDATE).id or 0
    message = notification(nieuwpoort)
    for data in (f"rd:{dossier_id}:0:inv::zz", "rd:x", f"rd:{dossier_id}:0:dec:evil:ok",
                 f"rd:{dossier_id}:0:doc:99:ok"):
        await nieuwpoort.process(nieuwpoort.tg.press_update(RECRUITER, message, data))
    assert decisions(nieuwpoort) == []
    # A confirmation with an older version: stale.
    stale = D.Press(dossier_id, 7, D.INVITED, "", D.CONFIRM).token
    sent = await nieuwpoort.process(nieuwpoort.tg.press_update(RECRUITER, message, stale))
    assert "verouderd" in to(sent, RECRUITER_CHAT)[0]
    assert to(sent, CANDIDATE) == [] and decisions(nieuwpoort) == []
    # A dossier that does not exist.
    gone = D.Press(dossier_id + 50, 0, D.INVITED, "", D.CONFIRM).token
    sent = await nieuwpoort.process(nieuwpoort.tg.press_update(RECRUITER, message, gone))
    assert "kan niet meer beslist worden" in to(sent, RECRUITER_CHAT)[0]


async def test_a_repeated_update_is_applied_once(nieuwpoort: BotHarness):
    await press(nieuwpoort, "Uitnodigen")
    message, data = nieuwpoort.find_button(RECRUITER_CHAT, "Bevestig")
    update = nieuwpoort.tg.press_update(RECRUITER, message, data)
    sent = await nieuwpoort.process(update)
    assert len(to(sent, CANDIDATE)) == 1
    assert await nieuwpoort.process(dict(update)) == []
    assert len(decisions(nieuwpoort)) == 1


async def test_a_withdrawn_dossier_cannot_be_decided(nieuwpoort: BotHarness):
    await press(nieuwpoort, "Uitnodigen")
    await nieuwpoort.send(CANDIDATE, "/withdraw")
    await nieuwpoort.press(CANDIDATE, "Ja")
    assert nieuwpoort.dossier(CANDIDATE).status == "withdrawn"
    sent = await press(nieuwpoort, "Bevestig")
    assert to(sent, CANDIDATE) == []
    assert "kan niet meer beslist worden" in " ".join(to(sent, RECRUITER_CHAT))
    assert decisions(nieuwpoort) == []


async def test_dossiers_filters_by_decision(nieuwpoort: BotHarness):
    await press(nieuwpoort, "Bekeken")
    await press(nieuwpoort, "Bevestig")
    sent = await nieuwpoort.send_in_group(RECRUITER, RECRUITER_CHAT, "/dossiers reviewed")
    assert "Jan Peeters" in to(sent, RECRUITER_CHAT)[0]
    sent = await nieuwpoort.send_in_group(RECRUITER, RECRUITER_CHAT, "/dossiers invited")
    assert "Jan Peeters" not in to(sent, RECRUITER_CHAT)[0]
