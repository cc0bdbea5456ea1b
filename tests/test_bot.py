"""The Telegram bot end to end: the real Application against the fake Bot API.

Every test drives python-telegram-bot's Application with real Update objects (see
tests/bot_harness.py) on a SQLite file, with a clock the test sets.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import sample_files
from bot.fake_bot_api import MAX_CALLBACK_DATA, MAX_TEXT, Sent
from bot.telegram_app import MENU, set_command_menu
from bot.webhook_server import build_webhook_app, serve
from flows.questions import compile_questions
from tests.bot_harness import (
    AMSTERDAM,
    BRUSSELS,
    CANDIDATE,
    DOCX_MIME,
    JPEG,
    OTHER,
    RECRUITER,
    RECRUITER_CHAT,
    ROOT,
    BotHarness,
    Clock,
    catalogue,
    running_bot,
)

SPL = "sint-pieters-leeuw-projectmedewerker-samenleven"
VERA = "vera-projectcoordinator"
SCHOOL = "school-ict-coordinator"
HARDENBERG = "hardenberg-medewerker-intern-service-punt"
NIEUWPOORT = "nieuwpoort-systeembeheerder-ict"
OPEN_VACANCIES = (SPL, VERA, SCHOOL)

HARDENBERG_OPEN = datetime(2026, 7, 1, 12, 0, tzinfo=AMSTERDAM)
NIEUWPOORT_OPEN = datetime(2025, 7, 1, 12, 0, tzinfo=BRUSSELS)

NAME = "Jan Peeters"
EMAIL = "jan.peeters@example.be"
IDENTITY = {"candidate.name": NAME, "candidate.email": EMAIL}
FLEMISH_DIPLOMA = {**IDENTITY, "diploma.level": "Master", "diploma.foreign": "Nee",
                   "language.dutch_education": "Ja"}


def nieuwpoort_script() -> dict[str, str]:
    """Passing answers; the first matrix item at an operational level with years, the rest none."""
    script = {**FLEMISH_DIPLOMA, "civil_rights": "Ja", "record.has_extract": "Ja",
              "record.issued_on": "15-06-2025", "record.mention": "Nee",
              "matrix.extra": "Ansible en Terraform"}
    levels = [q for q in compile_questions(catalogue()[NIEUWPOORT])
              if q.rule_id == "matrix" and q.id.endswith(".level")]
    for i, q in enumerate(levels):
        script[q.id] = "Operationele kennis" if i == 0 else "Geen kennis"
        script[q.id.removesuffix(".level") + ".years"] = "3"
    return script


SCRIPTS: dict[str, dict[str, str]] = {
    SPL: FLEMISH_DIPLOMA,
    VERA: FLEMISH_DIPLOMA,
    SCHOOL: {**IDENTITY, "record.has_extract": "Ja", "record.issued_on": "01-10-2026",
             "record.mention": "Nee"},
    HARDENBERG: {**IDENTITY, "diploma.level": "mbo niveau 4", "diploma.foreign": "Nee",
                 "customer_contact.years": "5", "multidisciplinary": "Ja", "government_ict": "Ja",
                 "score.education_field": "Ja", "score.process_improvement": "Ja",
                 "score.topdesk": "3", "score.municipal_customer_contact": "6"},
    NIEUWPOORT: nieuwpoort_script(),
}

CV = sample_files.pdf("cv of Jan Peeters")
MOTIVATION_DOCX = sample_files.docx("motivation letter of Jan")
DIPLOMA_PDF = sample_files.pdf("diploma")
EXTRACT_PDF = sample_files.pdf("record extract")
DBA_PDF = sample_files.pdf("DBA explanation")

# Uploads in the order the bot asks for them: (file name, bytes, media type); None = a photo.
UPLOADS: dict[str, list[tuple[str, bytes, str | None]]] = {
    SPL: [("cv.pdf", CV, "application/pdf"), ("motivatie.docx", MOTIVATION_DOCX, DOCX_MIME),
          ("foto.jpg", JPEG, None)],
    VERA: [("cv.pdf", CV, "application/pdf"), ("motivatie.docx", MOTIVATION_DOCX, DOCX_MIME),
           ("foto.jpg", JPEG, None)],
    SCHOOL: [("cv.pdf", CV, "application/pdf"), ("motivatie.docx", MOTIVATION_DOCX, DOCX_MIME),
             ("foto.jpg", JPEG, None)],
    HARDENBERG: [("Jan Peeters CV.pdf", CV, "application/pdf"),
                 ("onderbouwing DBA.pdf", DBA_PDF, "application/pdf")],
    NIEUWPOORT: [("cv.pdf", CV, "application/pdf"), ("motivatie.docx", MOTIVATION_DOCX, DOCX_MIME),
                 ("diploma.pdf", DIPLOMA_PDF, "application/pdf"),
                 ("uittreksel.pdf", EXTRACT_PDF, "application/pdf")],
}


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path) as harness:
        yield harness


# ---------------------------------------------------------------- helpers


async def accept_privacy(bot: BotHarness, user: int, vacancy_id: str) -> None:
    await bot.send(user, f"/start {vacancy_id}")
    assert "Privacy" in bot.last(user)
    await bot.press(user, "Akkoord")


async def apply_fully(bot: BotHarness, user: int, vacancy_id: str,
                      script: dict[str, str] | None = None) -> None:
    """Privacy, every question, every upload: ends with a submitted dossier."""
    await accept_privacy(bot, user, vacancy_id)
    await bot.answer_all(user, script or SCRIPTS[vacancy_id])
    await upload_all(bot, user, vacancy_id)
    assert bot.dossier(user).status == "submitted", bot.last(user)


async def upload_all(bot: BotHarness, user: int, vacancy_id: str) -> None:
    for name, data, mime in UPLOADS[vacancy_id]:
        if mime is None:
            await bot.photo(user, data)
        else:
            await bot.upload(user, name, data, mime)


def recruiter_messages(bot: BotHarness) -> list[Sent]:
    return bot.tg.messages_to(RECRUITER_CHAT)


def summary_text(bot: BotHarness) -> str:
    return "\n".join(m.text for m in recruiter_messages(bot) if m.text)


def recruiter_documents(bot: BotHarness) -> list[dict[str, Any]]:
    return [m.document for m in recruiter_messages(bot) if m.document is not None]


def calls(bot: BotHarness, method: str) -> list[dict[str, Any]]:
    return [params for name, params in bot.tg.calls if name == method]


def assert_no_personal_data(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked into {text!r}"


# ---------------------------------------------------------------- 1. full applications


@pytest.mark.parametrize("vacancy_id", OPEN_VACANCIES)
async def test_full_application_then_recruiter_notification(bot: BotHarness, vacancy_id: str):
    vacancy = catalogue()[vacancy_id]
    await apply_fully(bot, CANDIDATE, vacancy_id)
    assert "is volledig en doorgestuurd" in bot.last(CANDIDATE)
    dossier = bot.dossier(CANDIDATE)
    assert dossier.answers["candidate.name"] == NAME
    assert dossier.answers["candidate.email"] == EMAIL
    stored = bot.documents(CANDIDATE)
    assert [d.original_name for d in stored] == [u[0] for u in UPLOADS[vacancy_id]]
    # The notification left with the last upload, through the outbox, once.
    assert bot.notifications_sent() == 1
    text = summary_text(bot)
    assert f"Dossier #{dossier.id}" in text
    assert NAME in text and EMAIL in text
    assert vacancy.title.nl in text  # type: ignore[union-attr]
    # Stated conditions (Nieuwpoort, Hardenberg) or only our assumptions (the others).
    assert ("Oordeel van de bot: komt in aanmerking" in text
            or "Oordeel van de bot: voldoet aan wat de bot als voorwaarden aanneemt" in text)
    assert "Antwoorden:" in text
    for qid in SCRIPTS[vacancy_id]:
        if qid in IDENTITY:
            continue
        assert f"→ {SCRIPTS[vacancy_id][qid]}" in text or f"→ {dossier.answers[qid]}" in text, qid
    if vacancy_id == SCHOOL:
        assert "→ Ja" in text and "→ Nee" in text
        # A date reads as the candidate typed it, not as stored (2026-10-01).
        assert "Datum van het uittreksel → 01-10-2026" in text
        assert "2026-10-01" not in text
    else:
        assert "→ Master" in text
    sent_docs = recruiter_documents(bot)
    assert [(d["file_name"], d["data"]) for d in sent_docs] == [
        (name, data) for name, data, _ in UPLOADS[vacancy_id]]
    assert all(d["caption"].startswith(f"#{dossier.id}") for d in sent_docs)
    # the summary comes first, then the documents
    assert recruiter_messages(bot)[0].text is not None

    count = len(recruiter_messages(bot))
    assert await bot.deliver() == 0
    assert len(recruiter_messages(bot)) == count, "a notification was sent twice"
    assert bot.outbox() == []
    assert bot.rejections == []


async def test_hardenberg_notification_shows_indicative_score(bot: BotHarness):
    bot.clock.set(HARDENBERG_OPEN)
    await apply_fully(bot, CANDIDATE, HARDENBERG)
    assert bot.notifications_sent() == 1
    text = summary_text(bot)
    assert "Medewerker Intern Service Punt" in text and NAME in text
    assert "Indicatieve score (eigen antwoorden):" in text and "/100" in text
    # The score explained, criterion by criterion (the script: 20 + 20 + 15 + 0 or similar).
    assert "• Ervaring met TOPdesk: " in text and "/30" in text
    assert "• Opleiding ICT of Facility Management: " in text and "/20" in text
    assert [(d["file_name"], d["data"]) for d in recruiter_documents(bot)] == [
        ("Jan Peeters CV.pdf", CV), ("onderbouwing DBA.pdf", DBA_PDF)]
    # Responding runs via Flextender: the candidate is told so, never "ingediend".
    done = bot.last(CANDIDATE)
    assert "doorgestuurd naar de recruiters die deze bot beheren" in done
    assert "Solliciteer ook via je Flextender-account" in done
    assert "Flextender-account" in done and "ingediend" not in done
    assert await bot.deliver() == 0


async def test_nieuwpoort_notification_shows_knowledge_matrix_and_limits_hold(bot: BotHarness):
    bot.clock.set(NIEUWPOORT_OPEN)
    await apply_fully(bot, CANDIDATE, NIEUWPOORT)
    assert bot.notifications_sent() == 1
    text = summary_text(bot)
    assert "Systeembeheerder ICT" in text and NAME in text
    assert "Kennismatrix:" in text
    assert "Operationele kennis · 3 j" in text
    assert "Geen kennis" in text
    assert "Toevoeging: Ansible en Terraform" in text
    assert "→ 15-06-2025" in text and "2025-06-15" not in text
    assert [d["file_name"] for d in recruiter_documents(bot)] == [
        u[0] for u in UPLOADS[NIEUWPOORT]]
    # The long run (18 matrix items): Telegram never had to refuse a message or a button.
    assert bot.rejections == []
    for method, params in bot.tg.calls:
        if "text" in params:
            assert len(str(params["text"])) <= MAX_TEXT, method
        markup = params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                assert len(button["callback_data"].encode()) <= MAX_CALLBACK_DATA
    for sent in bot.tg.sent:
        assert sent.text is None or len(sent.text) <= MAX_TEXT
    assert len(bot.tg.messages_to(CANDIDATE)) > 30  # privacy, 27+ questions, uploads


# ---------------------------------------------------------------- 2. the outbox survives failures


async def submitted_school_dossier(bot: BotHarness) -> int:
    await apply_fully(bot, CANDIDATE, SCHOOL)
    dossier_id = bot.dossier(CANDIDATE).id
    assert dossier_id is not None
    return dossier_id


async def submit_school_dossier(bot: BotHarness, before_last_upload: Callable[[], None]) -> int:
    """Apply to the school; `before_last_upload` runs just before the upload that submits."""
    await accept_privacy(bot, CANDIDATE, SCHOOL)
    await bot.answer_all(CANDIDATE, SCRIPTS[SCHOOL])
    *first, (name, data, mime) = UPLOADS[SCHOOL]
    for upload in first:
        await bot.upload(CANDIDATE, upload[0], upload[1], upload[2] or "image/jpeg")
    before_last_upload()
    await (bot.photo(CANDIDATE, data) if mime is None else bot.upload(CANDIDATE, name, data, mime))
    assert bot.dossier(CANDIDATE).status == "submitted"
    dossier_id = bot.dossier(CANDIDATE).id
    assert dossier_id is not None
    return dossier_id


@pytest.mark.parametrize("failure", ["http-500", "network"])
async def test_outbox_keeps_the_notification_when_telegram_fails(bot: BotHarness, failure: str):
    def fail() -> None:
        if failure == "http-500":
            bot.tg.fail_next("sendMessage", 500, "Internal Server Error", chat_id=RECRUITER_CHAT)
        else:
            bot.api.fail_network("sendMessage", chat_id=RECRUITER_CHAT)

    await submit_school_dossier(bot, fail)
    assert "doorgestuurd" in bot.last(CANDIDATE)  # the candidate is not held up by the recruiters
    assert recruiter_messages(bot) == []
    [row] = bot.outbox()
    assert row.attempts == 1 and row.kind == "dossier_submitted"

    assert await bot.deliver() == 0, "retried before the backoff"
    assert recruiter_messages(bot) == []

    bot.clock.advance(minutes=1)
    assert await bot.deliver() == 1
    assert len([m for m in recruiter_messages(bot) if m.text]) == 1
    assert len(recruiter_documents(bot)) == 3
    assert bot.outbox() == []
    assert await bot.deliver() == 0
    assert len(recruiter_messages(bot)) == 4


async def test_outbox_resumes_with_the_document_after_a_failure_in_the_middle(bot: BotHarness):
    await submit_school_dossier(bot, lambda: bot.tg.fail_next(
        "sendDocument", 500, "Internal Server Error", chat_id=RECRUITER_CHAT))
    assert [m.text is not None for m in recruiter_messages(bot)] == [True]  # the summary only
    [row] = bot.outbox()
    assert row.attempts == 1 and row.payload["parts_sent"] == 1

    bot.clock.advance(minutes=1)
    assert await bot.deliver() == 1
    messages = recruiter_messages(bot)
    assert [m.text is not None for m in messages] == [True, False, False, False]
    assert [(d["file_name"], d["data"]) for d in recruiter_documents(bot)] == [
        (name, data) for name, data, _ in UPLOADS[SCHOOL]]
    assert await bot.deliver() == 0


# ---------------------------------------------------------------- 3. recruiter commands


async def test_export_dossiers_and_dossier_for_the_recruiter(bot: BotHarness):
    await submitted_school_dossier(bot)
    await accept_privacy(bot, OTHER, SCHOOL)
    await bot.send(OTHER, "Els Janssens")  # a second, unfinished dossier
    first, second = bot.dossier(CANDIDATE).id, bot.dossier(OTHER).id

    [export] = await bot.send(RECRUITER, f"/export {SCHOOL}")
    assert export.chat_id == RECRUITER and export.document is not None
    assert export.document["file_name"] == f"{SCHOOL}.csv"
    assert "2 dossiers" in export.document["caption"]
    rows = list(csv.DictReader(io.StringIO(export.document["data"].decode("utf-8-sig")),
                               delimiter=";"))
    assert [int(r["Dossier"]) for r in rows] == [first, second]
    jan, els = rows
    assert (jan["Status"], jan["Naam"], jan["E-mailadres"]) == ("ingediend", NAME, EMAIL)
    has_extract = next(h for h in jan if h.startswith("Heeft al een uittreksel"))
    assert (jan[has_extract], jan["Datum van het uittreksel"],
            jan["Ongunstige vermelding op het uittreksel"]) == ("Ja", "01-10-2026", "Nee")
    # The extract's file went once the recruiters had it (issue 11.4); the facts stay.
    assert jan["Documenten"] == ("cv, motivatiebrief, uittreksel uit het strafregister (model "
                                 "596.2) (bestand verwijderd na levering op 22-11-2026)")
    assert (els["Status"], els["Naam"], els["E-mailadres"]) == (
        "vragen nog niet beantwoord", "Els Janssens", "")

    listing = await bot.send(RECRUITER, "/dossiers")
    text = "\n".join(m.text or "" for m in listing)
    assert "2 dossiers:" in text
    school = "ICT-coördinator (School (naam niet ingevuld))"
    assert f"#{first} · {school} · ingediend · {NAME}" in text
    assert f"#{second} · {school} · vragen nog niet beantwoord · Els Janssens" in text
    only_submitted = "\n".join(m.text or "" for m in await bot.send(RECRUITER, "/dossiers submitted"))
    assert NAME in only_submitted and "Els Janssens" not in only_submitted

    shown = await bot.send(RECRUITER, f"/dossier {first}")
    assert shown[0].text is not None and NAME in shown[0].text and EMAIL in shown[0].text
    assert [(m.document["file_name"], m.document["data"]) for m in shown if m.document] == [
        (name, data) for name, data, _ in UPLOADS[SCHOOL][:2]]
    assert shown[-1].text == (f"#{first} · {NAME} · uittreksel uit het strafregister (model 596.2):"
                              " bestand verwijderd na levering op 22-11-2026")
    [unknown] = await bot.send(RECRUITER, "/dossier 4242")
    assert unknown.text == "Dossier #4242 bestaat niet."
    assert bot.rejections == []


@pytest.mark.parametrize("where", ["candidate-private-chat", "recruiters-group-non-recruiter"])
async def test_recruiter_commands_refused_to_others_without_revealing_data(bot: BotHarness,
                                                                           where: str):
    await submitted_school_dossier(bot)
    dossier_id = bot.dossier(CANDIDATE).id
    await bot.deliver()
    before = len(bot.tg.sent)
    replies: list[Sent] = []
    for command in ("/dossiers", f"/dossier {dossier_id}", f"/export {SCHOOL}", "/dossier 4242",
                    "/export nope"):
        if where == "candidate-private-chat":
            sent = await bot.send(CANDIDATE, command)
        else:
            sent = await bot.send_in_group(OTHER, RECRUITER_CHAT, command)
        assert len(sent) == 1, command
        replies += sent
    target = CANDIDATE if where == "candidate-private-chat" else RECRUITER_CHAT
    assert {m.chat_id for m in replies} == {target}
    assert {m.text for m in replies} == {"Dit commando is alleen voor recruiters."}
    assert all(m.document is None and not m.buttons for m in replies)
    assert len(bot.tg.sent) == before + len(replies)
    for m in replies:
        assert_no_personal_data(m.text or "", NAME, EMAIL, SCHOOL, str(dossier_id) + " ")


# ---------------------------------------------------------------- 4. deep links


OPEN_TITLES = ("Projectmedewerker Samenleven en integratie", "Projectcoördinator", "ICT-coördinator")


def assert_lists_open_vacancies(message: Sent) -> None:
    assert message.text is not None and "Open vacatures:" in message.text
    for title in OPEN_TITLES:
        assert title in message.text
        assert title in message.labels()
    assert "Medewerker Intern Service Punt" not in message.text
    assert "Systeembeheerder ICT" not in message.text
    assert len(message.labels()) == len(OPEN_TITLES)


@pytest.mark.parametrize("vacancy_id", OPEN_VACANCIES)
async def test_deep_link_to_an_open_vacancy_goes_straight_to_the_privacy_notice(
        bot: BotHarness, vacancy_id: str):
    [notice] = await bot.send(CANDIDATE, f"/start {vacancy_id}")
    assert notice.text is not None and notice.text.startswith("🔒 Privacy — ")
    assert catalogue()[vacancy_id].title.nl in notice.text  # type: ignore[union-attr]
    assert notice.labels() == ["Akkoord, verder", "Niet akkoord", "Meer over privacy"]
    assert bot.dossiers_of(CANDIDATE) == []  # nothing stored before consent


async def test_deep_link_to_an_unknown_vacancy_lists_the_open_ones(bot: BotHarness):
    sent = await bot.send(CANDIDATE, "/start unknown-id")
    assert sent[0].text == "Ik ken geen vacature “unknown-id”."
    assert_lists_open_vacancies(sent[-1])
    assert bot.dossiers_of(CANDIDATE) == []


async def test_deep_link_to_a_closed_vacancy_says_since_when_and_lists_the_open_ones(
        bot: BotHarness):
    sent = await bot.send(CANDIDATE, f"/start {HARDENBERG}")
    assert sent[0].text is not None
    assert "Medewerker Intern Service Punt is afgesloten" in sent[0].text
    assert "14 juli 2026" in sent[0].text
    assert "Privacy" not in "".join(m.text or "" for m in sent)
    assert_lists_open_vacancies(sent[-1])
    assert bot.dossiers_of(CANDIDATE) == []


# ---------------------------------------------------------------- 5. buttons and progress


async def test_progress_is_shown_per_question(bot: BotHarness):
    await accept_privacy(bot, CANDIDATE, SPL)
    assert bot.last(CANDIDATE).startswith("Vraag 1 van ")
    await bot.send(CANDIDATE, NAME)
    assert bot.last(CANDIDATE).startswith("Vraag 2 van ")
    await bot.send(CANDIDATE, EMAIL)
    assert bot.last(CANDIDATE).startswith("Vraag 3 van ")


async def test_stale_button_changes_nothing(bot: BotHarness):
    await accept_privacy(bot, CANDIDATE, SPL)
    await bot.send(CANDIDATE, NAME)
    await bot.send(CANDIDATE, EMAIL)
    old_question = bot.snapshot(CANDIDATE, "Master")  # "Wat is je hoogste behaalde diploma?"
    await bot.press(CANDIDATE, "Master")
    await bot.press(CANDIDATE, "Nee")  # diploma.foreign; now at the language question
    before = bot.dossier(CANDIDATE)
    assert before.answers["diploma.level"] == "master"

    sent = await bot.press(CANDIDATE, "Secundair onderwijs", message=old_question)
    assert "al beantwoord" in (sent[0].text or "")
    after = bot.dossier(CANDIDATE)
    assert after.answers == before.answers
    assert after.version == before.version and after.state == before.state
    assert bot.tg.answered_callbacks, "callback queries must be answered"
    presses = [name for name, _ in bot.tg.calls if name == "answerCallbackQuery"]
    assert len(presses) == len(bot.tg.answered_callbacks) == 4  # privacy, Master, Nee, stale


async def test_double_press_applies_once(bot: BotHarness):
    await accept_privacy(bot, CANDIDATE, SCHOOL)
    await bot.send(CANDIDATE, NAME)
    await bot.send(CANDIDATE, EMAIL)
    message, data = bot.find_button(CANDIDATE, "Ja")  # record.has_extract
    screen = bot.snapshot(CANDIDATE, "Ja")
    await bot.press_data(CANDIDATE, message, data)
    first = bot.dossier(CANDIDATE)
    assert first.answers["record.has_extract"] is True
    assert "Op welke datum werd het uitgereikt?" in bot.last(CANDIDATE)

    sent = await bot.press_data(CANDIDATE, screen, data)  # the same callback again
    assert "al beantwoord" in (sent[0].text or "")
    second = bot.dossier(CANDIDATE)
    assert (second.answers, second.version, second.state) == (first.answers, first.version,
                                                              first.state)
    trail = [e.event for e in bot.store.audit_trail(first.id)]  # type: ignore[arg-type]
    assert trail.count("answer:record.has_extract") == 1
    assert len(bot.tg.answered_callbacks) == 3  # privacy + both presses
    # the pressed message lost its buttons: no invitation to press again
    assert message.buttons == []


# ---------------------------------------------------------------- 6. uploads refused before download


async def reach_documents(bot: BotHarness) -> None:
    await accept_privacy(bot, CANDIDATE, SCHOOL)
    await bot.answer_all(CANDIDATE, SCRIPTS[SCHOOL])
    assert bot.dossier(CANDIDATE).status == "collecting"


@pytest.mark.parametrize(("name", "mime", "declared", "says"), [
    ("cv.exe", "application/x-msdownload", None, "kan ik niet aannemen als cv"),
    ("cv.pdf", "application/pdf", 11 * 1024 * 1024, "te groot"),
])
async def test_unacceptable_file_is_refused_before_download(bot: BotHarness, name: str, mime: str,
                                                            declared: int | None, says: str):
    await reach_documents(bot)
    bot.tg.calls.clear()
    [reply] = await bot.upload(CANDIDATE, name, b"MZ\x90\x00" * 16, mime, declared_size=declared)
    assert says in (reply.text or "")
    assert [m for m, _ in bot.tg.calls if m == "getFile"] == []
    assert bot.documents(CANDIDATE) == []
    assert bot.stored_files() == []
    assert bot.dossier(CANDIDATE).status == "collecting"
    # the right file is still taken afterwards
    await bot.upload(CANDIDATE, "cv.pdf", CV)
    assert [d.original_name for d in bot.documents(CANDIDATE)] == ["cv.pdf"]
    assert [m for m, _ in bot.tg.calls if m == "getFile"] != []


# ---------------------------------------------------------------- 7. command menu


async def test_command_menu_in_dutch_default_and_english(bot: BotHarness):
    await set_command_menu(bot.app)
    menus = bot.tg.commands
    assert set(menus) == {"", "nl", "en"}
    assert menus[""] == menus["nl"]
    for lang in ("nl", "en"):
        # The question command has a name in each language (tests/test_bot_questions.py).
        assert [c["command"] for c in menus[lang] if c["command"] in MENU] == list(MENU)
        assert all(c["description"] for c in menus[lang])
    dutch = {c["command"]: c["description"] for c in menus["nl"]}
    english = {c["command"]: c["description"] for c in menus["en"]}
    assert all(dutch[name] != english[name] for name in MENU if name != "language")
    assert dutch["restart"] == "Opnieuw beginnen"


# ---------------------------------------------------------------- 8. Telegram errors


# python-telegram-bot's AIORateLimiter reads RetryAfter.retry_after (deprecated in 22.2).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limited_reply_waits_exactly_retry_after_then_goes_once(bot: BotHarness):
    bot.tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    sent = await bot.send(CANDIDATE, f"/start {SCHOOL}")
    assert sent == []  # Telegram said: not now
    bot.clock.advance(seconds=6)
    assert await bot.deliver() == 0 and bot.tg.messages_to(CANDIDATE) == []  # not yet
    bot.clock.advance(seconds=1)
    await bot.deliver()
    [reply] = bot.tg.messages_to(CANDIDATE)
    assert (reply.text or "").startswith("🔒 Privacy")
    assert len(calls(bot, "sendMessage")) == 2
    assert bot.errors == []


async def test_blocked_candidate_answer_is_stored_and_logged_without_personal_data(
        bot: BotHarness, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO)
    await accept_privacy(bot, CANDIDATE, SCHOOL)
    bot.tg.blocked.add(CANDIDATE)

    sent = await bot.send(CANDIDATE, NAME)
    assert sent == []
    assert bot.dossier(CANDIDATE).answers["candidate.name"] == NAME
    sent = await bot.send(CANDIDATE, EMAIL)
    assert sent == []
    assert bot.dossier(CANDIDATE).answers["candidate.email"] == EMAIL
    assert bot.outbox() == [], "an undeliverable reply must not hold up the chat"

    dropped = [r for r in caplog.records if r.name == "bot.outbox_sender"]
    assert len(dropped) == 2 and all("Forbidden" in r.getMessage() for r in dropped)
    assert_no_personal_data(caplog.text, NAME, "Jan", EMAIL, "jan.peeters")

    bot.tg.blocked.discard(CANDIDATE)  # unblocked: the conversation goes on where it was
    await bot.send(CANDIDATE, "/start")
    assert "Vraag 3 van" in bot.last(CANDIDATE)


# ---------------------------------------------------------------- 9. restarts


async def test_restart_in_the_middle_of_a_conversation_loses_nothing(tmp_path: Path):
    async with running_bot(tmp_path / "uninterrupted") as straight:
        await apply_fully(straight, CANDIDATE, SPL)
        expected = straight.dossier(CANDIDATE)

    async with running_bot(tmp_path / "restarted") as bot:
        await accept_privacy(bot, CANDIDATE, SPL)
        await bot.send(CANDIDATE, NAME)
        await bot.send(CANDIDATE, EMAIL)
        assert bot.dossier(CANDIDATE).answers == IDENTITY
        await bot.restart()
        assert bot.generation == 2
        await bot.send(CANDIDATE, "/start")
        assert "Welkom terug" in "\n".join(bot.texts(CANDIDATE)[-2:])
        assert bot.last(CANDIDATE).startswith("Vraag 3 van ")
        await bot.answer_all(CANDIDATE, SCRIPTS[SPL])
        await bot.restart()
        await upload_all(bot, CANDIDATE, SPL)
        final = bot.dossier(CANDIDATE)
        assert final.status == "submitted"
        assert final.answers == expected.answers
        assert final.verdict == expected.verdict
        assert [d.original_name for d in bot.documents(CANDIDATE)] == [
            u[0] for u in UPLOADS[SPL]]
        assert bot.notifications_sent() == 1


# ---------------------------------------------------------------- 10. reminders and expiry


def reminders_to(bot: BotHarness, user: int) -> list[str]:
    return [t for t in bot.texts(user) if "Herinnering" in t]


async def test_reminders_after_downtime_once_each_then_expiry(tmp_path: Path):
    clock = Clock(datetime(2026, 7, 10, 12, 0, tzinfo=AMSTERDAM))
    async with running_bot(tmp_path, clock) as bot:
        await accept_privacy(bot, CANDIDATE, HARDENBERG)
        await bot.send(CANDIDATE, NAME)
        assert await bot.sweep() == 0  # four days left: nothing due yet
        assert reminders_to(bot, CANDIDATE) == []

        # the process was down; it comes back when only the 3-day reminder is due
        clock.set(datetime(2026, 7, 12, 10, 0, tzinfo=AMSTERDAM))
        await bot.restart()
        assert await bot.sweep() == 1
        [reminder] = reminders_to(bot, CANDIDATE)
        assert "Medewerker Intern Service Punt" in reminder
        assert "Vraag 2 van" not in reminder  # no question re-asked out of the blue...
        sent = bot.tg.messages_to(CANDIDATE)[-1]
        assert sent.labels() == ["Verder met mijn sollicitatie"]  # ...but a way back to it
        assert bot.dossier(CANDIDATE).reminders_sent == ["3d"]
        assert await bot.sweep() == 0
        await bot.restart()
        assert await bot.sweep() == 0
        assert len(reminders_to(bot, CANDIDATE)) == 1

        clock.set(datetime(2026, 7, 13, 10, 0, tzinfo=AMSTERDAM))
        assert await bot.sweep() == 1
        assert len(reminders_to(bot, CANDIDATE)) == 2
        assert bot.dossier(CANDIDATE).reminders_sent == ["3d", "1d"]
        await bot.restart()
        assert await bot.sweep() == 0
        assert len(reminders_to(bot, CANDIDATE)) == 2

        clock.set(datetime(2026, 7, 14, 9, 0, tzinfo=AMSTERDAM))
        before = len(bot.tg.messages_to(CANDIDATE))
        assert await bot.sweep() == 0  # closed, but a backlog from before 09:00 gets an hour
        clock.set(datetime(2026, 7, 14, 10, 0, tzinfo=AMSTERDAM))
        assert await bot.sweep() == 1
        told = bot.tg.messages_to(CANDIDATE)[before:]
        assert len(told) == 1
        assert "afgesloten" in (told[0].text or "")
        assert "niet meer worden ingediend" in (told[0].text or "")
        assert bot.dossier(CANDIDATE).status == "expired"
        assert await bot.sweep() == 0
        await bot.restart()
        assert await bot.sweep() == 0
        assert len(bot.tg.messages_to(CANDIDATE)) == before + 1
        assert len(reminders_to(bot, CANDIDATE)) == 2
        assert bot.rejections == []


# ---------------------------------------------------------------- 11. webhook mode


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_until(condition: Any, what: str, timeout: float = 5.0) -> None:
    """Wait for a condition (not for a fixed time): poll every 10 ms, fail after `timeout`."""
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def test_webhook_stores_the_update_before_answering_and_checks_the_secret(
        bot: BotHarness):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    runtime = bot.runtime
    web = build_webhook_app(path="telegram", secret="s3cret", receive=runtime.receive_one,
                            health=runtime.health, max_body=100_000)
    stop, ready = asyncio.Event(), asyncio.Event()
    server = asyncio.create_task(serve(web, host="127.0.0.1", port=port, stop=stop, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        payload = bot.tg.text_update(CANDIDATE, f"/start {SCHOOL}")
        async with httpx.AsyncClient(timeout=5) as client:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                response = await client.post(url, json=payload, headers=headers)
                assert response.status_code == 403
            assert bot.runtime.inbox.counts() == {}

            response = await client.post(url, json=payload,
                                         headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
            assert response.status_code == 200
            # Stored (committed) when Telegram hears 200, before anything was handled.
            assert bot.runtime.inbox.counts() == {"pending": 1}
            assert bot.tg.messages_to(CANDIDATE) == []
            health = (await client.get(f"http://127.0.0.1:{port}/healthz")).json()
            assert health["inbox_pending"] == 1
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)
    await runtime.drain()
    assert bot.last(CANDIDATE).startswith("🔒 Privacy")
    assert len(bot.tg.messages_to(CANDIDATE)) == 1
    assert bot.dossiers_of(CANDIDATE) == []


# ---------------------------------------------------------------- 12. order within a user


async def test_updates_of_one_user_are_handled_in_order_while_users_run_concurrently(
        bot: BotHarness):
    users = {CANDIDATE: ("Anna Aerts", "anna@example.org"), OTHER: ("Bert Bos", "bert@example.org")}
    for user in users:
        await accept_privacy(bot, user, SCHOOL)
    counts = {user: len(bot.tg.messages_to(user)) for user in users}
    runtime = bot.runtime
    updates = []
    for step in range(2):
        for user, answers in users.items():
            updates.append(bot.tg.text_update(user, answers[step]))
    updates += [bot.tg.text_update(user, "/status") for user in users]
    await runtime.receive(updates)
    # One claim takes one update per user (the oldest): both users at once, each in order.
    first = await runtime.worker.claim(10)
    assert sorted(item.key for item in first) == [f"u:{CANDIDATE}", f"u:{OTHER}"]
    assert [item.update_id for item in first] == [u["update_id"] for u in updates[:2]]
    assert await runtime.worker.claim(10) == []  # the next of each waits for the first
    await asyncio.gather(*(runtime.worker.handle(item) for item in first))
    await runtime.drain()
    for user, (name, email) in users.items():
        replies = bot.texts(user)[counts[user]:]
        assert len(replies) == 4, replies
        assert replies[0].startswith("Vraag 2 van 3")
        assert replies[1].startswith("Vraag 3 van 3")
        assert replies[2].startswith("📋 ICT-coördinator") and "vraag 3 van 3" in replies[2]
        assert replies[3].startswith("Vraag 3 van 3")
        assert bot.dossier(user).answers == {"candidate.name": name, "candidate.email": email}
    assert bot.errors == []


# ---------------------------------------------------------------- 13. `main.py run` refuses clearly


def run_main(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("TELEGRAM_", "WEBHOOK_", "DATABASE_", "UPLOAD_", "RECRUITER_"))}
    clean |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
              "UPLOAD_DIR": str(tmp_path / "uploads"), **env}
    return subprocess.run([sys.executable, "main.py", "run"], cwd=ROOT, env=clean,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def test_run_without_a_token_says_so_in_one_line(tmp_path: Path):
    result = run_main(tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "TELEGRAM_BOT_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_run_with_unreachable_api_says_so_in_one_line(tmp_path: Path):
    result = run_main(tmp_path, TELEGRAM_BOT_TOKEN="123456:TEST-TOKEN",
                      TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot")
    assert result.returncode != 0
    assert "Cannot reach the Telegram Bot API" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr


# ---------------------------------------------------------------- 14. product bugs found here, fixed


async def test_redelivered_update_is_applied_once(bot: BotHarness):
    """A crash before the offset was confirmed re-delivers the same update: applied once."""
    await accept_privacy(bot, CANDIDATE, SCHOOL)
    payload = bot.tg.text_update(CANDIDATE, NAME)
    await bot.process(payload)
    version = bot.dossier(CANDIDATE).version
    assert await bot.process(payload) == []
    assert bot.dossier(CANDIDATE).version == version
    await bot.send(CANDIDATE, EMAIL)
    assert bot.dossier(CANDIDATE).answers == IDENTITY


async def test_update_ids_restarting_lower_after_a_quiet_week_are_not_ignored(bot: BotHarness):
    await accept_privacy(bot, CANDIDATE, SCHOOL)
    await bot.send(CANDIDATE, NAME)
    bot.clock.advance(days=8)
    payload = bot.tg.text_update(CANDIDATE, EMAIL)
    payload["update_id"] = 1  # "chosen randomly instead of sequentially" (Bot API, Update)
    sent = await bot.process(payload)
    assert bot.dossier(CANDIDATE).answers == IDENTITY
    assert sent and sent[-1].text is not None and sent[-1].text.startswith("Vraag 3 van 3")


async def test_export_caption_counts_dossiers_not_lines(bot: BotHarness):
    bot.clock.set(NIEUWPOORT_OPEN)
    extra = "Ansible\nTerraform\nDocker"
    await apply_fully(bot, CANDIDATE, NIEUWPOORT, {**SCRIPTS[NIEUWPOORT], "matrix.extra": extra})
    [export] = await bot.send(RECRUITER, f"/export {NIEUWPOORT}")
    assert export.document is not None
    rows = list(csv.DictReader(io.StringIO(export.document["data"].decode("utf-8-sig")),
                               delimiter=";"))
    assert len(rows) == 1 and rows[0]["Toevoeging bij de kennismatrix"] == extra
    assert export.document["caption"] == "Export Systeembeheerder ICT: 1 dossier"  # one, not "1 dossiers"


async def test_press_is_applied_even_when_answering_the_callback_query_fails(bot: BotHarness):
    await bot.send(CANDIDATE, f"/start {SCHOOL}")
    bot.tg.fail_next("answerCallbackQuery", 400, "Bad Request: query is too old and response "
                     "timeout expired or query id is invalid")
    await bot.press(CANDIDATE, "Akkoord", expect_error=True)
    assert bot.dossiers_of(CANDIDATE), "the consent was lost"
    assert bot.dossier(CANDIDATE).status == "draft"
    assert bot.last(CANDIDATE).startswith("Vraag 1 van")


async def test_editing_an_earlier_message_does_not_answer_the_current_question(bot: BotHarness):
    bot.clock.set(HARDENBERG_OPEN)
    await accept_privacy(bot, CANDIDATE, HARDENBERG)
    await bot.answer_all(CANDIDATE, SCRIPTS[HARDENBERG], stop_at="multidisciplinary")
    typed = bot.tg.text_update(CANDIDATE, "ja")  # multidisciplinary, typed
    await bot.process(typed)
    assert bot.current_question(CANDIDATE).id == "government_ict"
    await bot.edit(CANDIDATE, typed, "ja!")  # the candidate corrects a typo in that message
    assert "government_ict" not in bot.dossier(CANDIDATE).answers


async def test_failed_reply_after_a_stored_answer_is_sent_later_once(bot: BotHarness):
    bot.clock.set(HARDENBERG_OPEN)
    await accept_privacy(bot, CANDIDATE, HARDENBERG)
    await bot.answer_all(CANDIDATE, SCRIPTS[HARDENBERG], stop_at="multidisciplinary")
    assert bot.last(CANDIDATE).startswith("Vraag 5 van")
    bot.tg.fail_next("sendMessage", 500, "Internal Server Error")
    assert await bot.send(CANDIDATE, "ja") == []  # stored; the reply waits in the outbox
    assert bot.dossier(CANDIDATE).answers["multidisciplinary"] is True
    bot.clock.advance(minutes=1)
    await bot.deliver()
    questions = [t for t in bot.texts(CANDIDATE) if t.startswith("Vraag 6 van")]
    assert len(questions) == 1
    assert bot.outbox() == []


async def test_consent_typed_as_a_reply_to_the_notice_is_taken(bot: BotHarness):
    """Nothing is stored before consent, not even the vacancy chosen; a typed "akkoord" that
    replies to the notice says itself which notice it agrees to."""
    await bot.send(CANDIDATE, f"/start {VERA}")
    notice = bot.tg.messages_to(CANDIDATE)[-1]
    assert "Privacy" in (notice.text or "")
    # Typed without replying: how to agree, and nothing stored.
    await bot.send(CANDIDATE, "akkoord")
    assert "antwoord op dat bericht met ‘akkoord’" in "\n".join(bot.texts(CANDIDATE)[-2:])
    assert bot.dossiers_of(CANDIDATE) == []
    # A reply to the notice that is not a yes is an ordinary message, not a consent.
    await bot.process(bot.tg.message_update(
        CANDIDATE, text="wat is dit?", reply_to_message=bot.tg._message_json(notice)))
    assert bot.dossiers_of(CANDIDATE) == []
    # Typed as a reply to the notice: the same as pressing "Akkoord, verder".
    await bot.process(bot.tg.message_update(
        CANDIDATE, text="Akkoord", reply_to_message=bot.tg._message_json(notice)))
    assert bot.dossier(CANDIDATE).vacancy_id == VERA
    assert "Bedankt. We beginnen." in "\n".join(bot.texts(CANDIDATE)[-2:])


async def test_a_reply_to_someone_elses_notice_is_no_consent(bot: BotHarness):
    """Only a bot message in the candidate's own chat counts (Telegram quotes it; a message of
    another chat is never a reply target here)."""
    await bot.send(CANDIDATE, f"/start {VERA}")
    notice = bot.tg._message_json(bot.tg.messages_to(CANDIDATE)[-1])
    forged = {**notice, "from": {"id": 4242, "is_bot": False, "first_name": "Piet"}}
    await bot.process(bot.tg.message_update(CANDIDATE, text="ok", reply_to_message=forged))
    assert bot.dossiers_of(CANDIDATE) == []


async def test_more_about_privacy_stores_nothing_and_a_reply_to_it_is_consent(bot: BotHarness):
    """"Meer over privacy" is the rest of the notice, read-only like the notice; it carries the
    same choice, so agreeing under it (pressed or typed as a reply) starts the application."""
    await bot.send(CANDIDATE, f"/start {SCHOOL}")
    [details] = await bot.press(CANDIDATE, "Meer over privacy")
    assert (details.text or "").startswith("🔒 Meer over privacy — ICT-coördinator")
    assert "AVG art. 10" in (details.text or "")
    assert details.labels() == ["Akkoord, verder", "Niet akkoord"]
    assert bot.dossiers_of(CANDIDATE) == []
    await bot.process(bot.tg.message_update(
        CANDIDATE, text="akkoord", reply_to_message=bot.tg._message_json(details)))
    assert bot.dossier(CANDIDATE).vacancy_id == SCHOOL
