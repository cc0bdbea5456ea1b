"""The rebuilt delivery path under stress, and the rules for hostile input, in process.

Everything goes through tests/bot_harness.py: real python-telegram-bot Updates stored in the
inbox, handled by the worker, answered through the outbox and sent to the fake Telegram.
Some tests step the runtime by hand (`runtime.drain()`, the product clock moved second by
second); others run its real loops (`worker.run` and `send_loop`) concurrently, as `main.py run`
does, and wait for conditions with a deadline — never for a fixed time.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import sqlite3
import time
import unicodedata
import zipfile
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot import sample_files, telegram_app
from bot.fake_bot_api import FakeTelegram, Sent
from bot.fake_bot_api import TelegramError as FakeTelegramError
from bot.runtime import Job, Runtime
from flows.events import Inbound, Sender
from storage.retention import sweep_orphan_files
from storage.tables import inbox_table, outbox_table
from tests.bot_harness import (
    CANDIDATE,
    DOCX_MIME,
    OTHER,
    RECRUITER,
    RECRUITER_CHAT,
    BotHarness,
    RecordingBotApi,
    running_bot,
)

VERA = "vera-projectcoordinator"
NAME = "Jan Peeters"
EMAIL = "jan.peeters@example.be"
CV = sample_files.pdf("cv of a candidate")
MOTIVATION = sample_files.docx("motivation letter")
PHOTO = sample_files.jpeg("diploma")
PDF_MIME = "application/pdf"
ERROR_REPLY = "Er ging iets mis"

# python-telegram-bot reads RetryAfter.retry_after, deprecated in 22.2.
no_retry_after_warning = pytest.mark.filterwarnings(
    "ignore::telegram.warnings.PTBDeprecationWarning")


# --------------------------------------------------------------------------- a VERA application


@dataclass(frozen=True)
class Step:
    kind: str  # text | press | document | photo
    value: Any  # the text, the button label, (name, bytes, media type), the photo's bytes
    reply: str  # the bot's answer to this step is complete once a message contains this


def vera_steps(name: str = NAME, email: str = EMAIL) -> list[Step]:
    """A full application to VERA, as a candidate on a phone does it."""
    return [
        Step("text", f"/start {VERA}", "🔒 Privacy"),
        Step("press", "Akkoord, verder", "Vraag 1 van"),
        Step("text", name, "Vraag 2 van"),
        Step("text", email, "Vraag 3 van"),
        Step("press", "Master", "buitenland behaald"),  # a follow-up: still "Vraag 3 van 4"
        Step("press", "Nee", "Vraag 4 van"),  # diploma.foreign
        Step("press", "Ja", "📄 Documenten"),  # language.dutch_education
        Step("document", ("cv.pdf", CV, PDF_MIME), "📥 Ontvangen: cv"),
        Step("document", ("motivatie.docx", MOTIVATION, DOCX_MIME), "📥 Ontvangen: motivatiebrief"),
        Step("photo", PHOTO, "is volledig en doorgestuurd"),
    ]


def update_for(tg: FakeTelegram, user: int, step: Step, messages: list[Sent]) -> dict[str, Any]:
    """The update the candidate's phone sends for `step`; `messages` are those they can see."""
    if step.kind == "text":
        return tg.text_update(user, step.value)
    if step.kind == "press":
        for message in reversed(messages):
            for row in message.buttons:
                for button in row:
                    if button["text"] == step.value:
                        return tg.press_update(user, message, button["callback_data"])
        raise AssertionError(f"{user}: no button {step.value!r} on screen")
    if step.kind == "document":
        name, data, mime = step.value
        return tg.document_update(user, name, data, mime)
    return tg.photo_update(user, step.value)


def replied(messages: list[Sent], marker: str) -> bool:
    return any(marker in (message.text or "") for message in messages)


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll `condition` every 10 ms; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def runtime_loops(runtime: Runtime, release: asyncio.Event | None = None
                        ) -> AsyncIterator[None]:
    """The worker and the sender running as `main.py run` runs them, stopped afterwards."""
    runtime.stop.clear()
    loops = [asyncio.create_task(runtime.worker.run(runtime.stop, runtime.arrived)),
             asyncio.create_task(runtime.send_loop())]
    try:
        yield
    finally:
        if release is not None:
            release.set()  # a stalled call must not keep the loops from stopping
        runtime.stop.set()
        await asyncio.wait_for(asyncio.gather(*loops), 60)


def control_characters(text: str) -> list[str]:
    """Controls, escapes, bidi and invisible format characters (newlines are fine)."""
    return [hex(ord(c)) for c in text if c != "\n" and unicodedata.category(c)[0] == "C"]


def everything_said(bot: BotHarness, chat_id: int) -> str:
    """Every text, caption and file name the bot sent to `chat_id`."""
    parts = []
    for message in bot.tg.messages_to(chat_id):
        parts.append(message.text or "")
        if message.document is not None:
            parts += [message.document["file_name"] or "", message.document["caption"] or ""]
    return "\n".join(parts)


async def reach_documents(bot: BotHarness, user: int = CANDIDATE) -> None:
    """Privacy and every question of VERA answered: the bot now asks for the cv."""
    for step in vera_steps()[:7]:
        await bot.process(update_for(bot.tg, user, step, bot.tg.messages_to(user)))
        assert replied(bot.tg.messages_to(user)[-3:], step.reply), bot.last(user)
    assert bot.dossier(user).status == "collecting"


# --------------------------------------------------------------------------- 1. a 429 storm


class Call(NamedTuple):
    at: datetime  # the product clock: what the sender reads
    method: str
    chat: str
    retry_after: int | None  # the 429's, or None when Telegram took it


def record_calls(bot: BotHarness) -> list[Call]:
    """Every call to the fake Telegram, with the product time and whether it was a 429."""
    calls: list[Call] = []
    original = bot.tg.call

    def call(method: str, params: dict[str, Any], files: Any = None) -> Any:
        chat = str(params.get("chat_id"))
        try:
            result = original(method, params, files)
        except FakeTelegramError as exc:
            calls.append(Call(bot.clock.now, method, chat, exc.retry_after))
            raise
        calls.append(Call(bot.clock.now, method, chat, None))
        return result

    bot.tg.call = call  # type: ignore[method-assign]
    return calls


async def apply_second_by_second(bot: BotHarness, users: list[int], ticks: int = 400) -> int:
    """Every user applies fully; each takes the next step once the previous reply arrived.
    Between rounds the product clock moves one second. Returns the rounds it took."""
    plans = {user: vera_steps(f"Kandidaat {user}", f"k{user}@example.be") for user in users}
    done = dict.fromkeys(users, 0)
    waiting: dict[int, tuple[int, str]] = {}  # user -> (messages seen before, reply marker)
    for tick in range(ticks):
        for user, (seen, marker) in list(waiting.items()):
            if replied(bot.tg.messages_to(user)[seen:], marker):
                del waiting[user]
                done[user] += 1
        updates = []
        for user in users:
            if user not in waiting and done[user] < len(plans[user]):
                step = plans[user][done[user]]
                messages = bot.tg.messages_to(user)
                waiting[user] = (len(messages), step.reply)
                updates.append(update_for(bot.tg, user, step, messages))
        if updates:
            await bot.runtime.receive(updates)
        await bot.runtime.drain()
        if not waiting and all(done[u] == len(plans[u]) for u in users) and not bot.outbox():
            return tick
        bot.clock.advance(seconds=1)
    raise AssertionError(f"not finished after {ticks} s: {done}, outbox {bot.outbox()}")


def conversation(bot: BotHarness, chat_id: int) -> list[tuple[str, tuple[str, ...], str | None]]:
    """What a chat shows, dossier numbers and times of day aside: (text, buttons, file name)
    per message."""
    return [(re.sub(r"\d\d:\d\d", "HH:MM", re.sub(r"#\d+", "#N", m.text or "")), tuple(m.labels()),
             m.document["file_name"] if m.document else None) for m in bot.tg.messages_to(chat_id)]


@dataclass
class Outcome:
    conversations: dict[int, list[tuple[str, tuple[str, ...], str | None]]]
    statuses: dict[int, str]
    notifications: int
    unsent: int
    calls: list[Call]
    seconds: int


async def apply_in_a_storm(root: Path, users: list[int], storm: bool) -> Outcome:
    async with running_bot(root) as bot:
        for user in users:
            if user not in bot.tg.chats:
                bot.tg.add_user(user, f"Kandidaat {user}", "nl")
        calls = record_calls(bot)
        if storm:
            for seconds in (3, 1, 7, 2, 5, 1, 4, 6, 2, 3):  # ten sendMessage in a row
                bot.tg.fail_next("sendMessage", 429, f"Too Many Requests: retry after {seconds}",
                                 retry_after=seconds)
            for seconds in (5, 2):  # and the recruiters' summaries
                bot.tg.fail_next("sendMessage", 429, "Too Many Requests", retry_after=seconds,
                                 chat_id=RECRUITER_CHAT)
        seconds = await apply_second_by_second(bot, users)
        assert bot.tg.failures.get("sendMessage", []) == [], "not every 429 was met"
        assert bot.errors == []
        assert [r for r in bot.rejections if r[1] != 429] == []
        return Outcome({chat: conversation(bot, chat) for chat in [*users, RECRUITER_CHAT]},
                       {user: bot.dossier(user).status for user in users},
                       bot.notifications_sent(), len(bot.outbox()), calls, seconds)


@no_retry_after_warning
async def test_429_storm_every_reply_once_in_order_never_before_retry_after(tmp_path: Path):
    users = [CANDIDATE, OTHER, 113, 114]
    calm = await apply_in_a_storm(tmp_path / "calm", users, storm=False)
    storm = await apply_in_a_storm(tmp_path / "storm", users, storm=True)

    rate_limited = [c for c in storm.calls if c.retry_after is not None]
    assert len(rate_limited) == 12
    assert str(RECRUITER_CHAT) in {c.chat for c in rate_limited}
    assert len({c.chat for c in rate_limited}) >= 3
    # Per chat: after a 429, the next attempt to that chat comes exactly retry_after later
    # (the clock moves a second between rounds), never before, and nothing overtakes it.
    sends: dict[str, list[Call]] = defaultdict(list)
    for c in storm.calls:
        if c.method in ("sendMessage", "sendDocument"):
            sends[c.chat].append(c)
    for chat, attempts in sends.items():
        for failed, after in pairwise(attempts):
            if failed.retry_after is not None:
                waited = after.at - failed.at
                assert waited >= timedelta(seconds=failed.retry_after), (chat, failed, after)
                assert waited == timedelta(seconds=failed.retry_after), (chat, failed, after)
        assert attempts[-1].retry_after is None

    # Every reply arrived, once, in order: each chat shows what it shows without the storm.
    for user in users:
        assert storm.conversations[user] == calm.conversations[user], user
        assert storm.statuses[user] == "submitted"
    recruiters = storm.conversations[RECRUITER_CHAT]
    assert Counter(recruiters) == Counter(calm.conversations[RECRUITER_CHAT])
    for user in users:  # one summary per candidate, not two
        assert sum(f"Kandidaat {user}" in text for text, _, _ in recruiters) == 1, user
    assert len(recruiters) == 4 * len(users)  # a summary and three documents each
    assert storm.notifications == calm.notifications == len(users)
    assert storm.unsent == 0
    assert storm.seconds > calm.seconds  # the storm did cost time


# --------------------------------------------------------------------------- 2. a stalled Telegram


async def test_a_stalled_reply_holds_up_only_its_own_chat(tmp_path: Path):
    async with running_bot(tmp_path) as bot:
        runtime = bot.runtime
        release = asyncio.Event()
        # Telegram takes A's message but answers 10 s later (within the 30 s timeout).
        bot.tg.stall_next("sendMessage", 10, until=release, chat_id=CANDIDATE)
        async with runtime_loops(runtime, release):
            await runtime.receive([bot.tg.text_update(CANDIDATE, f"/start {VERA}")])
            await eventually(lambda: not bot.tg.stalls.get("sendMessage"), "A's reply to hang")

            # Meanwhile B applies: privacy, consent, three questions; each reply arrives.
            for step in vera_steps("Els Janssens", "els@example.be")[:6]:
                messages = bot.tg.messages_to(OTHER)
                seen = len(messages)
                await runtime.receive([update_for(bot.tg, OTHER, step, messages)])
                await eventually(lambda s=step, n=seen: replied(bot.tg.messages_to(OTHER)[n:],
                                                                s.reply),
                                 f"B's reply {step.reply!r} while A's hangs", timeout=5)
            assert bot.dossier(OTHER).answers["candidate.name"] == "Els Janssens"
            # A's message reached Telegram, but the bot has not heard back: still pending.
            assert len(bot.tg.messages_to(CANDIDATE)) == 1
            assert [row for row in bot.outbox() if row.payload.get("chat_id") == str(CANDIDATE)]

            release.set()
            await eventually(lambda: not bot.outbox(), "A's row to be marked sent")
        await runtime.drain()
        [privacy] = bot.tg.messages_to(CANDIDATE)  # once, not again after the hang
        assert (privacy.text or "").startswith("🔒 Privacy")
        texts = bot.texts(OTHER)
        assert len(texts) == len(set(texts)) == 7, texts  # nothing repeated, nothing missing
        assert bot.errors == []


async def test_a_stall_longer_than_the_timeout_may_repeat_the_message(tmp_path: Path):
    """Telegram has no way to ask whether a timed-out message arrived. When the answer comes
    later than TELEGRAM_TIMEOUT (30 s), the sender counts it as failed and sends it again:
    delivery is at-least-once. The row is retried, never lost."""
    async with running_bot(tmp_path) as bot:
        assert bot.settings.telegram_timeout <= 60
        bot.tg.stall_next("sendMessage", 60, chat_id=CANDIDATE)
        await bot.send(CANDIDATE, f"/start {VERA}")
        # Delivered to the phone, yet the bot saw a timeout.
        assert len(bot.tg.messages_to(CANDIDATE)) == 1
        [row] = bot.outbox()
        assert row.attempts == 1 and row.payload["chat_id"] == str(CANDIDATE)

        bot.clock.advance(seconds=4)
        await bot.deliver()
        assert len(bot.tg.messages_to(CANDIDATE)) == 1, "retried before its backoff"
        bot.clock.advance(seconds=1)
        await bot.deliver()
        first, second = bot.tg.messages_to(CANDIDATE)
        assert first.text == second.text and (first.text or "").startswith("🔒 Privacy")
        assert bot.outbox() == []


# --------------------------------------------------------------------------- 3. many at once


class SlowBotApi(RecordingBotApi):
    """Every Bot API request takes 20 ms, as over a network."""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        await asyncio.sleep(0.02)
        return await super().do_request(*args, **kwargs)


class SentByChat(list):
    """`FakeTelegram.sent` that also files each message under its chat and wakes its reader."""

    def __init__(self) -> None:
        super().__init__()
        self.by_chat: dict[int, list[Sent]] = defaultdict(list)
        self.arrived: dict[int, asyncio.Event] = defaultdict(asyncio.Event)

    def append(self, sent: Sent) -> None:
        super().append(sent)
        self.by_chat[sent.chat_id].append(sent)
        self.arrived[sent.chat_id].set()

    async def wait_for(self, chat: int, seen: int, marker: str, deadline: float) -> None:
        while not replied(self.by_chat[chat][seen:], marker):
            self.arrived[chat].clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{chat}: no {marker!r}; last: "
                                     f"{[m.text for m in self.by_chat[chat][-2:]]}")
            try:
                await asyncio.wait_for(self.arrived[chat].wait(), remaining)
            except TimeoutError:
                pass


# Under pytest-xdist on the worker of test_multiprocess's load run, after it: its time bound
# must not be measured while the other load run takes the cores.
@pytest.mark.xdist_group("load-runs")
async def test_80_candidates_apply_at_once_on_sqlite(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING)
    # As `serve_bot` does: database work in as many threads as the pool has connections.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(telegram_app.DB_THREADS, thread_name_prefix="db"))
    # Correctness under concurrency; throughput at scale is `python -m bench.load`'s.
    users = list(range(5000, 5080))
    # Telegram's own flood limits (30 messages a second) would make this last minutes by
    # design; what is measured here is the bot's side.
    bot = BotHarness(tmp_path, settings_overrides={"telegram_max_rate": 0})
    bot.api = SlowBotApi(bot.tg)
    sent = bot.tg.sent = SentByChat()
    bot.add_users()
    for user in users:
        bot.tg.add_user(user, f"K{user}", "nl")
    await bot.open()
    try:
        runtime = bot.runtime
        started = time.monotonic()
        deadline = started + 120

        async def candidate(user: int) -> None:
            for step in vera_steps(f"Kandidaat {user}", f"k{user}@example.be"):
                seen = len(sent.by_chat[user])
                await runtime.receive([update_for(bot.tg, user, step, sent.by_chat[user])])
                await sent.wait_for(user, seen, step.reply, deadline)

        async with runtime_loops(runtime):
            await asyncio.gather(*(candidate(user) for user in users))
            elapsed = time.monotonic() - started
        notified = bot.notifications_sent()
        print(f"\n{len(users)} full VERA applications, 20 ms per Telegram call: {elapsed:.1f} s "
              f"({notified} recruiter notifications sent meanwhile)")

        dossiers = bot.store.list_dossiers()
        assert len(dossiers) == len(users)
        assert {d.status for d in dossiers} == {"submitted"}
        for dossier in dossiers:
            found = bot.store.get_dossier(dossier.id)  # type: ignore[arg-type]
            assert found is not None
            documents = found[2]
            assert sorted(d.kind for d in documents) == ["cv", "diploma_copy", "motivation"]
            for document in documents:
                assert bot.engine.files.path(document.stored_path).is_file()  # type: ignore[union-attr]
        assert len(bot.stored_files()) == 3 * len(users)
        for user in users:
            said = "\n".join(m.text or "" for m in sent.by_chat[user])
            assert ERROR_REPLY not in said and "Even geduld" not in said, user
        log = caplog.text.lower()
        assert "database is locked" not in log and "operationalerror" not in log, caplog.text
        assert bot.errors == []
        assert bot.runtime.inbox.counts() == {"done": 10 * len(users)}
        # One notification per dossier queued; those already sent went once. (The recruiters'
        # chat is one chat: its messages leave one after another, about 0.1 s per dossier
        # here; test_429_storm... checks that each arrives once.)
        with bot.store.engine.connect() as connection:
            queued = Counter(connection.execute(
                select(outbox_table.c.dossier_id).where(outbox_table.c.kind == "dossier_submitted")
            ).scalars())
        assert sorted(queued) == sorted(d.id for d in dossiers) and set(queued.values()) == {1}
        summaries = [m.text or "" for m in sent.by_chat[RECRUITER_CHAT] if m.text]
        assert len(summaries) == len(set(summaries)) >= notified
    finally:
        await bot.close()


# --------------------------------------------------------------------------- 4. hostile files


def zip_of(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(240)
EXECUTABLE = "Programma's en scripts neem ik niet aan"
MISMATCH = "De naam van dat bestand past niet bij wat erin zit"
HOSTILE = [
    # (what, file name, bytes, media type, the reply says)
    ("a program named cv.pdf", "cv.pdf", PROGRAM, PDF_MIME, EXECUTABLE),
    ("a zip named cv.pdf", "cv.pdf", zip_of(("readme.txt", b"hello")), PDF_MIME, MISMATCH),
    ("a zip carrying a program", "cv.pdf", zip_of(("setup.exe", PROGRAM)), PDF_MIME, EXECUTABLE),
    ("an HTML page named cv.pdf", "cv.pdf",
     b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", PDF_MIME, MISMATCH),
    ("a real PDF named invoice.exe", "invoice.exe", CV, PDF_MIME, EXECUTABLE),
    ("a right-to-left override", "cv\u202efdp.exe", CV, PDF_MIME, EXECUTABLE),
    ("an empty file", "cv.pdf", b"", PDF_MIME, "Dat bestand is leeg"),
    ("a truncated PDF", "cv.pdf", CV[: len(CV) // 2], PDF_MIME, "beschadigd of onvolledig"),
    ("a JPEG named cv.pdf", "cv.pdf", PHOTO, PDF_MIME, MISMATCH),
]


def incoming_files(bot: BotHarness) -> list[Path]:
    folder = bot.root / "uploads" / ".incoming"
    return sorted(folder.iterdir()) if folder.exists() else []


async def test_hostile_files_are_refused_and_nothing_is_kept(tmp_path: Path):
    async with running_bot(tmp_path) as bot:
        await reach_documents(bot)
        for what, name, data, mime, says in HOSTILE:
            sent = await bot.upload(CANDIDATE, name, data, mime)
            text = "\n".join(m.text or "" for m in sent)
            assert says in text, f"{what}: {text!r}"
            assert "📥 Ontvangen" not in text, what
            assert {m.chat_id for m in sent} == {CANDIDATE}, what
            assert control_characters(text) == [], what
            assert bot.documents(CANDIDATE) == [], what
            assert bot.stored_files() == [], what
            assert incoming_files(bot) == [], f"{what}: a download was left behind"
            assert bot.dossier(CANDIDATE).status == "collecting"
            assert bot.dossier(CANDIDATE).awaiting_document in (None, "cv"), what
        assert bot.tg.messages_to(RECRUITER_CHAT) == [] and bot.tg.messages_to(RECRUITER) == []

        # A genuine PDF is taken; its name is shown cleaned, to the candidate and recruiters.
        dirty = "Jan\u202eCV\x1b[31m\u200b\x07.pdf"
        [received] = await bot.upload(CANDIDATE, dirty, CV, PDF_MIME)
        assert "📥 Ontvangen: cv (JanCV.pdf)" in (received.text or "")
        [document] = bot.documents(CANDIDATE)
        assert document.original_name == "JanCV.pdf"
        assert len(bot.stored_files()) == 1
        await bot.upload(CANDIDATE, "motivatie.docx", MOTIVATION, DOCX_MIME)
        await bot.photo(CANDIDATE, PHOTO)
        assert bot.dossier(CANDIDATE).status == "submitted"
        assert bot.notifications_sent() == 1
        names = [m.document["file_name"] for m in bot.tg.messages_to(RECRUITER_CHAT) if m.document]
        assert names[0] == "JanCV.pdf"
        for chat in (CANDIDATE, RECRUITER_CHAT):
            assert control_characters(everything_said(bot, chat)) == [], chat
        assert incoming_files(bot) == []


# --------------------------------------------------------------------------- 5. forged presses


NOT_HERE = "Deze knop hoort bij een ander gesprek."


def answers_to_callbacks(bot: BotHarness) -> list[dict[str, Any]]:
    return [params for method, params in bot.tg.calls if method == "answerCallbackQuery"]


async def test_a_press_on_a_message_of_another_chat_acts_nowhere(tmp_path: Path):
    async with running_bot(tmp_path) as bot:
        await reach_documents(bot, OTHER)  # Els has a conversation of her own
        for step in vera_steps()[:4]:
            await bot.process(update_for(bot.tg, CANDIDATE, step,
                                         bot.tg.messages_to(CANDIDATE)))
        question, data = bot.find_button(CANDIDATE, "Master")
        before = bot.dossier(CANDIDATE)
        others_before = len(bot.tg.messages_to(OTHER))

        forged = bot.tg.press_update(CANDIDATE, question, data)
        forged["callback_query"]["message"]["chat"] = {
            k: v for k, v in bot.tg.chats[OTHER].items() if k != "user"}
        forged["callback_query"]["id"] = "forged-1"
        calls_before = len(bot.tg.calls)
        sent = await bot.process(forged)

        assert sent == [], "a forged press made the bot speak"
        assert len(bot.tg.messages_to(OTHER)) == others_before
        after = bot.dossier(CANDIDATE)
        assert (after.answers, after.state, after.version) == (before.answers, before.state,
                                                               before.version)
        assert "diploma.level" not in after.answers
        assert answers_to_callbacks(bot)[-1] == {"callback_query_id": "forged-1",
                                                 "text": NOT_HERE}
        # Only the spinner was stopped: no edit, no message, in any chat.
        assert [m for m, _ in bot.tg.calls[calls_before:]] == ["answerCallbackQuery"]
        assert question.buttons, "the real question lost its buttons"

        # The real press on the real message still works.
        await bot.press(CANDIDATE, "Master")
        assert bot.dossier(CANDIDATE).answers["diploma.level"] == "master"


async def test_an_inline_press_without_a_message_is_answered_not_crashed(tmp_path: Path):
    async with running_bot(tmp_path) as bot:
        await bot.send(CANDIDATE, f"/start {VERA}")
        update = bot.queue({"callback_query": {
            "id": "inline-1", "from": bot.tg.chats[CANDIDATE]["user"], "chat_instance": "9",
            "inline_message_id": "AgAAAGxZAAB", "data": "consent:yes"}})
        assert await bot.process(update) == []
        assert bot.errors == []
        assert answers_to_callbacks(bot)[-1] == {"callback_query_id": "inline-1",
                                                 "text": NOT_HERE}
        assert bot.dossiers_of(CANDIDATE) == []  # no consent from a press elsewhere
        assert bot.runtime.inbox.counts() == {"done": 2}


# --------------------------------------------------------------------------- 6. odd messages


async def at_the_name_question(bot: BotHarness) -> None:
    for step in vera_steps()[:2]:
        await bot.process(update_for(bot.tg, CANDIDATE, step, bot.tg.messages_to(CANDIDATE)))
    assert bot.last(CANDIDATE).startswith("Vraag 1 van")


def message_of(bot: BotHarness, user: int, **content: Any) -> dict[str, Any]:
    chat = {k: v for k, v in bot.tg.chats[user].items() if k != "user"}
    return bot.queue({"message": {"message_id": 50_000 + len(bot.tg.updates), "date": int(time.time()),
                                  "chat": chat, "from": bot.tg.chats[user]["user"], **content}})


async def test_a_forwarded_message_is_not_taken_as_the_answer(tmp_path: Path):
    async with running_bot(tmp_path) as bot:
        await at_the_name_question(bot)
        forwarded = message_of(bot, CANDIDATE, text="Piet Pieters", forward_origin={
            "type": "user", "date": int(time.time()) - 3600,
            "sender_user": {"id": 555, "is_bot": False, "first_name": "Piet"}})
        sent = await bot.process(forwarded)
        text = "\n".join(m.text or "" for m in sent)
        assert "Een doorgestuurd bericht neem ik niet als jouw antwoord" in text
        assert "candidate.name" not in bot.dossier(CANDIDATE).answers
        await bot.send(CANDIDATE, NAME)  # typed: taken
        assert bot.dossier(CANDIDATE).answers["candidate.name"] == NAME


async def test_an_edited_message_keeps_the_first_answer(tmp_path: Path):
    async with running_bot(tmp_path) as bot:
        await at_the_name_question(bot)
        typed = bot.tg.text_update(CANDIDATE, NAME)
        await bot.process(typed)
        sent = await bot.edit(CANDIDATE, typed, "Jan Peters")
        assert any("Ik heb je eerste antwoord gehouden" in (m.text or "") for m in sent)
        assert bot.dossier(CANDIDATE).answers == {"candidate.name": NAME}


@pytest.mark.parametrize("content, said", [
    ({"sticker": {"file_id": "st1", "file_unique_id": "ust1", "type": "regular", "width": 512,
                  "height": 512, "is_animated": False, "is_video": False}},
     "Leuk! Maar daarmee kan ik niet verder."),
    ({"location": {"latitude": 50.85, "longitude": 4.35}},
     "Een locatie heb ik niet nodig, en ik heb die ook niet bewaard."),
    ({"contact": {"phone_number": "+32470000000", "first_name": "Jan"}},
     "Een contact heb ik niet nodig. Ik heb het niet bewaard, ook het telefoonnummer niet."),
    ({"voice": {"file_id": "v1", "file_unique_id": "uv1", "duration": 3}},
     "Spraak-, audio- en videoberichten kan ik niet beluisteren."),
], ids=["sticker", "location", "contact", "voice"])
async def test_stickers_locations_contacts_and_voice_get_an_answer(tmp_path: Path,
                                                                   content: dict[str, Any],
                                                                   said: str):
    """Each with what it was and what works instead (tests/test_updates.py: every type)."""
    async with running_bot(tmp_path) as bot:
        await at_the_name_question(bot)
        before = bot.dossier(CANDIDATE)
        sent = await bot.process(message_of(bot, CANDIDATE, **content))
        assert sent, "silence"
        assert {m.chat_id for m in sent} == {CANDIDATE}
        assert any((m.text or "").startswith(f"{said}\n\nTyp je antwoord gewoon als bericht.")
                   for m in sent)
        after = bot.dossier(CANDIDATE)
        assert (after.answers, after.state) == (before.answers, before.state)


# --------------------------------------------------------------------------- 7. escapes in a name


async def test_escape_sequences_in_a_typed_name_never_reach_storage_or_recruiters(tmp_path: Path):
    hostile = "Jan\x1b[2J\x1b]0;pwned\x07 Peeters\u202e"
    async with running_bot(tmp_path) as bot:
        await at_the_name_question(bot)
        sent = await bot.send(CANDIDATE, hostile)
        assert bot.dossier(CANDIDATE).answers["candidate.name"] == NAME
        assert all(control_characters(m.text or "") == [] for m in sent)
        for step in vera_steps()[3:]:
            await bot.process(update_for(bot.tg, CANDIDATE, step, bot.tg.messages_to(CANDIDATE)))
        assert bot.dossier(CANDIDATE).status == "submitted"
        assert bot.notifications_sent() == 1
        summary = everything_said(bot, RECRUITER_CHAT)
        assert f"Kandidaat: {NAME} <{EMAIL}>" in summary
        for leftover in ("\x1b", "\x07", "\u202e", "pwned", "[2J", "]0;"):
            assert leftover not in summary, repr(leftover)
            assert leftover not in everything_said(bot, CANDIDATE), repr(leftover)
        assert control_characters(summary) == []


# --------------------------------------------------------------------------- 8. orphaned files


async def test_orphan_sweep_removes_old_unowned_files_only(tmp_path: Path):
    async with running_bot(tmp_path) as bot:
        await reach_documents(bot)
        await bot.upload(CANDIDATE, "cv.pdf", CV, PDF_MIME)
        [document] = bot.documents(CANDIDATE)
        files = bot.engine.files  # type: ignore[union-attr]
        owned = files.path(document.stored_path)
        folder = owned.parent
        old_orphan = folder / "0123456789abcdef0123456789abcdef.pdf"
        new_orphan = folder / "fedcba9876543210fedcba9876543210.pdf"
        incoming = files.root / ".incoming"
        incoming.mkdir(exist_ok=True)
        old_part = incoming / "aaaabbbbccccddddeeeeffff00001111.part"
        new_part = incoming / "11110000ffffeeeeddddccccbbbbaaaa.part"
        for path in (old_orphan, new_orphan, old_part, new_part):
            path.write_bytes(CV)
        two_hours_ago = time.time() - 2 * 3600
        for path in (owned, old_orphan, old_part):
            os.utime(path, (two_hours_ago, two_hours_ago))

        assert sweep_orphan_files(bot.store, files) == 2
        assert owned.is_file(), "a document's file was swept"
        assert not old_orphan.exists() and not old_part.exists()
        assert new_orphan.is_file() and new_part.is_file(), "a file still being written was swept"
        assert sweep_orphan_files(bot.store, files) == 0
        # Once old enough, the fresh leftovers go too.
        for path in (new_orphan, new_part):
            os.utime(path, (two_hours_ago, two_hours_ago))
        assert sweep_orphan_files(bot.store, files) == 2
        assert [p.name for p in bot.stored_files()] == [owned.name]


# --------------------------------------------------------------------------- 9. failing handlers


def database_is_locked() -> OperationalError:
    return OperationalError("stmt", {}, sqlite3.OperationalError("database is locked"))


def fail_once(bot: BotHarness, monkeypatch: pytest.MonkeyPatch, text: str,
              error: Callable[[], BaseException]) -> list[str]:
    """The engine fails the first time it handles the text `text`; returns the kinds of every
    event it was given."""
    engine = bot.engine
    assert engine is not None
    real = engine.handle
    seen: list[str] = []
    failed = False

    def handle(sender: Sender, inbound: Inbound, durable: bool = False) -> Any:
        nonlocal failed
        seen.append(inbound.kind)
        if inbound.kind == "text" and inbound.text == text and not failed:
            failed = True
            raise error()
        return real(sender, inbound, durable)

    monkeypatch.setattr(engine, "handle", handle)
    return seen


def inbox_row(bot: BotHarness, update_id: int) -> Any:
    with bot.store.engine.connect() as connection:
        return connection.execute(select(inbox_table)
                                  .where(inbox_table.c.update_id == update_id)).one()


async def test_a_database_lock_while_handling_is_retried_not_lost(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    async with running_bot(tmp_path) as bot:
        await at_the_name_question(bot)
        seen = fail_once(bot, monkeypatch, NAME, database_is_locked)
        before = len(bot.tg.messages_to(CANDIDATE))

        update = bot.tg.text_update(CANDIDATE, NAME)
        await bot.process(update, expect_error=True)
        told = bot.texts(CANDIDATE)[before:]
        assert len(told) == 1 and told[0].startswith("⏳ Even geduld"), told
        assert "candidate.name" not in bot.dossier(CANDIDATE).answers
        row = inbox_row(bot, update["update_id"])
        assert (row.status, row.attempts, row.error) == ("pending", 1, "OperationalError")
        assert row.raw is not None

        # The candidate's next message waits behind the one being retried.
        follow_up = bot.tg.text_update(CANDIDATE, EMAIL)
        await bot.process(follow_up)
        assert bot.texts(CANDIDATE)[before:] == told

        bot.advance_wall(1)  # the first retry is due a second later (wall clock)
        await bot.deliver()
        told = bot.texts(CANDIDATE)[before:]
        assert len(told) == 3, told
        assert told[0].startswith("⏳ Even geduld")
        assert told[1].startswith("Vraag 2 van") and told[2].startswith("Vraag 3 van")
        assert bot.dossier(CANDIDATE).answers == {"candidate.name": NAME,
                                                  "candidate.email": EMAIL}
        assert seen.count("text") == 3  # failed, retried, then the e-mail
        assert inbox_row(bot, update["update_id"]).status == "done"
        assert len(bot.errors) == 1
        await bot.deliver()
        assert len(bot.texts(CANDIDATE)) == before + 3


async def test_a_handler_that_fails_for_good_shows_where_the_candidate_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    async with running_bot(tmp_path) as bot:
        await at_the_name_question(bot)
        await bot.send(CANDIDATE, NAME)
        fail_once(bot, monkeypatch, EMAIL, lambda: ValueError("a bug"))
        before = len(bot.tg.messages_to(CANDIDATE))

        update = bot.tg.text_update(CANDIDATE, EMAIL)
        await bot.process(update, expect_error=True)
        shown = bot.texts(CANDIDATE)[before:]
        told = "\n".join(shown)
        assert "Er ging iets mis aan onze kant" in told
        assert "Vraag 2 van" in told, "the candidate was not shown where they are"
        assert "Even geduld" not in told  # nothing passing about a bug
        row = inbox_row(bot, update["update_id"])
        assert (row.status, row.error, row.raw) == ("failed", "ValueError", None)
        assert [type(e) for e in bot.errors] == [ValueError]
        assert EMAIL not in caplog.text

        # Not retried, and the candidate carries on normally.
        bot.advance_wall(60)
        await bot.deliver()
        assert bot.texts(CANDIDATE)[before:] == shown, "a failed update was tried again"
        sent = await bot.send(CANDIDATE, EMAIL)
        assert (sent[-1].text or "").startswith("Vraag 3 van")
        assert bot.dossier(CANDIDATE).answers == {"candidate.name": NAME,
                                                  "candidate.email": EMAIL}
        assert bot.runtime.inbox.counts().get("pending", 0) == 0


async def test_a_periodic_job_runs_in_one_process_at_a_time(tmp_path: Path):
    """Two processes on one database: reminders (and every other job) run in one of them."""
    runs: list[str] = []
    async with running_bot(tmp_path) as first, running_bot(tmp_path) as second:
        def job(who: str) -> Job:
            async def run() -> None:
                runs.append(who)
            return Job("reminders", 60, run)

        for _ in range(3):
            await first.runtime.run_job(job("first"))
            await second.runtime.run_job(job("second"))
        assert runs == ["first"] * 3  # the holder renews; the other stays out
        first.advance_wall(121)  # the holder died: its lease (twice the interval) runs out
        second.advance_wall(121)
        await second.runtime.run_job(job("second"))
        await first.runtime.run_job(job("first"))
        assert runs == ["first"] * 3 + ["second"]
