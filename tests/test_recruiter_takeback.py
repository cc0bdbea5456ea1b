"""Taking back what the recruiters' chat holds about a dossier, and reducing an extract (issue 11).

- `storage/recruiter_messages.py` on SQLite and PostgreSQL: what is recorded, what `take_back`
  returns and forgets, `reduce_document` once;
- the fake Bot API deletes like Telegram: only the bot's own messages, for 48 hours;
- the recruiters' summary and CSV show a reduced extract as deleted after delivery, facts kept;
- the outbox sender, against the fake Bot API on the product's clock: every message about a
  dossier recorded as it goes; an erasure or withdrawal deletes the recent ones, counts the
  older, names no one, and survives a retry; the extract's file goes once delivered.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select, update

from bot.fake_bot_api import CANNOT_DELETE, FakeTelegram
from bot.fake_bot_api import TelegramError as Refused
from flows.dossier_summary import (
    csv_export,
    erased_notice,
    reduced_after_delivery,
    summary,
    takeback_text,
)
from flows.ports import DocumentRecord, DossierRecord
from storage import recruiter_messages
from storage.dossier_repository import write_transaction
from storage.outbox import RECRUITERS
from storage.tables import (
    candidate_table,
    document_table,
    dossier_table,
    outbox_table,
    question_table,
    recruiter_message_table,
)
from tests.bot_harness import (
    CANDIDATE,
    JPEG,
    RECRUITER,
    RECRUITER_CHAT,
    BotHarness,
    Clock,
    StepError,
    catalogue,
)
from tests.test_bot import CV, EMAIL, MOTIVATION_DOCX, NAME, VERA, apply_fully
from tests.test_bot_questions import HARDENBERG_OPEN, ask

T0 = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
CHAT = -100
SCHOOL = "school-ict-coordinator"
HARDENBERG = "hardenberg-medewerker-intern-service-punt"


# ---------------------------------------------------------------- storage


def add_dossier(engine: Engine, external_id: str = "1") -> int:
    with write_transaction(engine) as connection:
        candidate = connection.execute(insert(candidate_table).values(
            channel="telegram", external_id=external_id, chat_id=external_id, language="nl",
            created_at=T0).returning(candidate_table.c.id)).scalar_one()
        return connection.execute(insert(dossier_table).values(
            candidate_id=candidate, vacancy_id="school-ict-coordinator", state="submitted",
            status="submitted", answers={}, language="nl", consented_at=T0,
            privacy_version="1", created_at=T0, updated_at=T0,
            reminders_sent=[]).returning(dossier_table.c.id)).scalar_one()


def recorded(engine: Engine) -> list[tuple[int, int, int]]:
    r = recruiter_message_table.c
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(r.dossier_id, r.chat_id, r.message_id).order_by(r.id))]


def test_take_back_returns_the_recent_messages_counts_the_older_and_forgets_both(engine: Engine):
    first, second = add_dossier(engine, "1"), add_dossier(engine, "2")
    now = T0 + timedelta(hours=60)
    for message_id, hours_before in ((11, 59), (12, 47.5), (13, 46.5), (14, 1)):
        recruiter_messages.record(engine, first, CHAT, message_id,
                                  now - timedelta(hours=hours_before))
    recruiter_messages.record(engine, second, CHAT, 21, now - timedelta(hours=1))
    # A message id beyond 32 bits (supergroups number high) comes back as it went in.
    recruiter_messages.record(engine, first, -1001234567890, 2**40, now - timedelta(minutes=5))

    with write_transaction(engine) as connection:
        recent, older = recruiter_messages.take_back(connection, [first], now)
    # Under 47 hours (48 less a margin: the delete happens a little later), oldest first.
    assert recent == [(CHAT, 13), (CHAT, 14), (-1001234567890, 2**40)]
    assert older == 2
    assert recorded(engine) == [(second, CHAT, 21)]  # the other dossier's stays

    with write_transaction(engine) as connection:
        assert recruiter_messages.take_back(connection, [first], now) == ([], 0)
        assert recruiter_messages.take_back(connection, [], now) == ([], 0)


def test_take_back_is_part_of_the_callers_transaction(engine: Engine):
    dossier = add_dossier(engine)
    recruiter_messages.record(engine, dossier, CHAT, 5, T0)

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), write_transaction(engine) as connection:
        assert recruiter_messages.take_back(connection, [dossier], T0) == ([(CHAT, 5)], 0)
        raise Rollback
    assert recorded(engine) == [(dossier, CHAT, 5)]  # an erasure rolled back forgets nothing


def test_reduce_document_drops_the_path_once_and_keeps_the_facts(engine: Engine):
    dossier = add_dossier(engine)
    with write_transaction(engine) as connection:
        document = connection.execute(insert(document_table).values(
            dossier_id=dossier, kind="record_extract", original_name="uittreksel.pdf",
            stored_path="2026/11/abc.pdf", size=2048, sha256="f" * 64,
            media_type="application/pdf", uploaded_at=T0).returning(document_table.c.id)
        ).scalar_one()
    later = T0 + timedelta(minutes=3)

    assert recruiter_messages.reduce_document(engine, document, later) == "2026/11/abc.pdf"
    assert recruiter_messages.reduce_document(engine, document, later + timedelta(hours=1)) is None
    assert recruiter_messages.reduce_document(engine, 4242, later) is None

    f = document_table.c
    with engine.connect() as connection:
        row = connection.execute(select(document_table).where(f.id == document)).mappings().one()
    assert (row["kind"], row["original_name"], row["size"], row["sha256"], row["stored_path"]) == (
        "record_extract", "uittreksel.pdf", 2048, "f" * 64, "")
    deleted_at = row["file_deleted_at"]
    assert (deleted_at if deleted_at.tzinfo else deleted_at.replace(tzinfo=UTC)) == later


# ---------------------------------------------------------------- the fake Bot API


class Seconds:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_fake_telegram_deletes_the_bots_own_messages_for_48_hours_only():
    clock = Seconds()
    tg = FakeTelegram(clock=clock)
    tg.add_group(CHAT)
    old = tg.call("sendMessage", {"chat_id": CHAT, "text": "old"})["message_id"]
    clock.now += 47 * 3600
    first, second, third = (tg.call("sendMessage", {"chat_id": CHAT, "text": t})["message_id"]
                            for t in ("a", "b", "c"))
    clock.now += 3600  # `old` is 48 hours old now

    with pytest.raises(Refused, match="message can't be deleted"):
        tg.call("deleteMessage", {"chat_id": CHAT, "message_id": old})
    assert tg.call("deleteMessage", {"chat_id": CHAT, "message_id": first}) is True
    with pytest.raises(Refused, match="message to delete not found"):
        tg.call("deleteMessage", {"chat_id": CHAT, "message_id": first})  # gone already
    with pytest.raises(Refused, match="message to edit not found"):
        tg.call("editMessageText", {"chat_id": CHAT, "message_id": first, "text": "x"})

    # A batch deletes what it may and skips the rest (as the form-encoded JSON list too)...
    assert tg.call("deleteMessages", {"chat_id": CHAT,
                                      "message_ids": f"[{old}, {first}, {second}, 999]"}) is True
    # ... and is refused when it may delete none of them.
    with pytest.raises(Refused, match="message can't be deleted"):
        tg.call("deleteMessages", {"chat_id": CHAT, "message_ids": [old, first, second]})
    with pytest.raises(Refused, match="1-100"):
        tg.call("deleteMessages", {"chat_id": CHAT, "message_ids": list(range(1, 102))})

    assert tg.deleted == [(CHAT, first), (CHAT, second)]
    assert [m.text for m in tg.visible_in(CHAT)] == ["old", "c"]
    assert [m.text for m in tg.messages_to(CHAT)] == ["old", "a", "b", "c"]  # the history
    assert third not in {m for _, m in tg.deleted}


# ---------------------------------------------------------------- what recruiters read


def school_dossier(documents_deleted_at: datetime | None) -> tuple[Any, DossierRecord,
                                                                   list[DocumentRecord]]:
    vacancy = catalogue()[SCHOOL]
    dossier = DossierRecord(
        id=12, candidate_id=1, vacancy_id=SCHOOL, state="submitted", status="submitted",
        answers={"candidate.name": "Jan Peeters", "candidate.email": "jan@example.be",
                 "record.has_extract": True, "record.issued_on": "2026-10-01",
                 "record.mention": False},
        language="nl", consented_at=T0, privacy_version="1", created_at=T0, updated_at=T0,
        submitted_at=T0)
    documents = [
        DocumentRecord(id=1, dossier_id=12, kind="cv", original_name="cv.pdf",
                       stored_path="2026/11/a.pdf", size=4096, sha256="a" * 64,
                       media_type="application/pdf", uploaded_at=T0),
        DocumentRecord(id=2, dossier_id=12, kind="record_extract",
                       original_name="uittreksel.pdf",
                       stored_path="" if documents_deleted_at else "2026/11/b.pdf",
                       size=3072, sha256="b" * 64, media_type="application/pdf",
                       uploaded_at=T0, file_deleted_at=documents_deleted_at),
    ]
    return vacancy, dossier, documents


def test_a_reduced_extract_reads_as_deleted_after_delivery_and_its_facts_stay():
    # 23:30 UTC is the next day in Brussels: the date is the vacancy's.
    vacancy, dossier, documents = school_dossier(datetime(2026, 11, 22, 23, 30, tzinfo=UTC))
    text = summary(vacancy, dossier, documents)
    assert "• cv: cv.pdf (4 kB)\n" in text
    assert ("uittreksel.pdf (3 kB), bestand verwijderd na levering op 23-11-2026") in text
    assert "Datum van het uittreksel → 01-10-2026" in text  # the facts: answers stay

    rows = list(csv.DictReader(io.StringIO(csv_export(vacancy, [(dossier, None, documents)])
                                           .decode("utf-8-sig")), delimiter=";"))
    assert rows[0]["Documenten"] == ("cv, uittreksel uit het strafregister (model 596.2) "
                                     "(bestand verwijderd na levering op 23-11-2026)")
    extract = ("uittreksel uit het strafregister model 2 (art. 596, tweede lid, Wetboek van "
               "strafvordering)")
    assert (rows[0][f"Heeft al een {extract}"], rows[0]["Datum van het uittreksel"],
            rows[0]["Ongunstige vermelding op het uittreksel"]) == ("Ja", "01-10-2026", "Nee")

    vacancy, dossier, documents = school_dossier(None)  # not yet delivered
    assert "verwijderd" not in summary(vacancy, dossier, documents)
    assert "verwijderd" not in csv_export(vacancy, [(dossier, None, documents)]).decode()


def test_the_takeback_sentence_has_real_plurals_in_both_languages():
    assert takeback_text(1, 1, "nl") == (
        "De bot verwijderde zijn bericht erover van de laatste 48 uur; verwijder het oudere"
        " bericht en elke gedownloade kopie zelf.")
    assert takeback_text(5, 3, "nl") == (
        "De bot verwijderde zijn 5 berichten erover van de laatste 48 uur; verwijder de 3"
        " oudere berichten en elke gedownloade kopie zelf.")
    assert takeback_text(2, 0, "en") == (
        "The bot deleted the 2 messages it had posted here in the last 48 hours; please delete"
        " every downloaded copy yourselves.")
    assert takeback_text(0, 1, "nl").startswith("Het bericht erover in deze chat is ouder dan 48")
    assert takeback_text(0, 0, "nl") == (
        "Verwijder de berichten erover uit deze chat en elke gedownloade kopie zelf.")
    assert erased_notice([(12, "Vacature X")], 5, 3, "nl") == (
        "🗑 Dossier #12 (Vacature X) is op vraag van de kandidaat gewist, met alles wat de bot"
        " erover bewaarde. De bot verwijderde zijn 5 berichten erover van de laatste 48 uur;"
        " verwijder de 3 oudere berichten en elke gedownloade kopie zelf.")
    assert erased_notice([(12, "X"), (13, "Y"), (14, "Z")], 0, 0, "en").startswith(
        "🗑 The 3 dossiers #12 (X), #13 (Y) and #14 (Z) were erased at the candidate's request")


# ---------------------------------------------------------------- the sender, end to end


@asynccontextmanager
async def bot_on_one_clock(root: Path, clock: Clock | None = None,
                           **settings: Any) -> AsyncIterator[BotHarness]:
    """The harness with the fake Telegram on the product's clock: its 48 hours are ours."""
    clock = clock or Clock()
    tg = FakeTelegram(clock=lambda: clock.now.timestamp())
    harness = BotHarness(root, clock, tg, settings_overrides=settings)
    harness.add_users()
    await harness.open()
    try:
        yield harness
    finally:
        await harness.close()


def erase(bot: BotHarness, user: int) -> list[tuple[int, str, str]]:
    """What erasing a candidate does, as far as the sender sees it (SqlUnitOfWork.erase_candidate
    and the /delete turn): in one transaction the recruiters' messages are taken back, the rows
    go and a "candidate_erased" row is queued; then the files go."""
    now = bot.clock.now.astimezone(UTC)  # SQLite keeps the wall time: write UTC
    dossiers = [(d.id, d.vacancy_id, d.status) for d in bot.dossiers_of(user)]
    ids = [d[0] for d in dossiers]
    with write_transaction(bot.store.engine) as connection:
        recent, older = recruiter_messages.take_back(connection, ids, now)  # type: ignore[arg-type]
        paths = connection.execute(delete(document_table).where(
            document_table.c.dossier_id.in_(ids)).returning(document_table.c.stored_path)
        ).scalars().all()
        connection.execute(delete(question_table).where(question_table.c.dossier_id.in_(ids)))
        connection.execute(delete(dossier_table).where(dossier_table.c.id.in_(ids)))
        connection.execute(delete(candidate_table).where(
            candidate_table.c.external_id == str(user)))
        connection.execute(insert(outbox_table).values(
            kind="candidate_erased", chat_key=RECRUITERS, dossier_id=None,
            payload={"dossiers": [list(d) for d in dossiers],
                     "delete": [list(m) for m in recent], "older": older},
            created_at=now, next_attempt_at=now, attempts=0))
    for path in paths:
        if path:
            bot.engine.files.delete(path)  # type: ignore[union-attr]
    return dossiers  # type: ignore[return-value]


def notices(bot: BotHarness) -> list[str]:
    return [m.text for m in bot.tg.messages_to(RECRUITER_CHAT)
            if m.text and m.text.startswith(("🗑", "↩️"))]


def delete_calls(bot: BotHarness) -> list[list[int]]:
    return [json.loads(p["message_ids"]) if isinstance(p["message_ids"], str)
            else p["message_ids"] for name, p in bot.tg.calls if name == "deleteMessages"]


async def test_every_message_about_a_dossier_is_recorded_as_it_goes(tmp_path: Path):
    async with bot_on_one_clock(tmp_path) as bot:
        await apply_fully(bot, CANDIDATE, SCHOOL)
        dossier_id = bot.dossier(CANDIDATE).id
        in_chat = [m.message_id for m in bot.tg.messages_to(RECRUITER_CHAT)]
        assert len(in_chat) == 4  # the summary, then cv, motivation and extract
        assert recorded(bot.store.engine) == [(dossier_id, RECRUITER_CHAT, m) for m in in_chat]


async def test_a_question_notice_is_recorded_for_its_dossier(tmp_path: Path):
    async with bot_on_one_clock(tmp_path, Clock(HARDENBERG_OPEN)) as bot:
        copy = await ask(bot)
        assert recorded(bot.store.engine) == [
            (bot.dossier(CANDIDATE).id, RECRUITER_CHAT, copy.message_id)]


async def test_an_erasure_deletes_the_recent_messages_and_counts_the_older(tmp_path: Path):
    async with bot_on_one_clock(tmp_path) as bot:
        await apply_fully(bot, CANDIDATE, SCHOOL)
        older = [m.message_id for m in bot.tg.messages_to(RECRUITER_CHAT)]
        bot.clock.advance(hours=30)
        await apply_fully(bot, CANDIDATE, VERA)
        recent = [m.message_id for m in bot.tg.messages_to(RECRUITER_CHAT)][len(older):]
        assert len(older) == len(recent) == 4
        bot.clock.advance(hours=20)  # the school's are 50 hours old, VERA's 20
        (school, *_), (vera, *_) = erase(bot, CANDIDATE)

        assert await bot.deliver() == 1
        assert delete_calls(bot) == [recent]
        assert bot.tg.deleted == [(RECRUITER_CHAT, m) for m in recent]
        [notice] = notices(bot)
        assert notice == (
            f"🗑 De 2 dossiers #{school} (ICT-coördinator) en #{vera} (Projectcoördinator) zijn"
            " op vraag van de kandidaat gewist, met alles wat de bot erover bewaarde. De bot"
            " verwijderde zijn 4 berichten erover van de laatste 48 uur; verwijder de 4 oudere"
            " berichten en elke gedownloade kopie zelf.")
        for secret in (NAME, EMAIL, "Jan", "cv.pdf", "motivatie.docx", "jan.peeters"):
            assert secret not in notice
        assert [m.message_id for m in bot.tg.visible_in(RECRUITER_CHAT)][:4] == older
        assert recorded(bot.store.engine) == []  # the notice itself is about no one
        assert bot.outbox() == [] and bot.rejections == []


async def test_a_retry_after_a_cut_short_delete_deletes_nothing_twice_and_tells_once(
        tmp_path: Path):
    async with bot_on_one_clock(tmp_path) as bot:
        await apply_fully(bot, CANDIDATE, SCHOOL)
        sent = [m.message_id for m in bot.tg.messages_to(RECRUITER_CHAT)]
        bot.clock.advance(hours=1)
        erase(bot, CANDIDATE)

        # Telegram deletes them, but its answer never arrives: the process dies waiting.
        bot.tg.stall_next("deleteMessages", 10**6)
        assert await bot.deliver() == 0
        assert bot.tg.deleted == [(RECRUITER_CHAT, m) for m in sent] and notices(bot) == []
        [row] = bot.outbox()
        assert row.attempts == 1 and row.payload["deleting"] == 0
        await bot.restart()

        # The retry asks again (Telegram: nothing left to delete: that is done), then the
        # notice fails once...
        bot.clock.advance(minutes=5)
        bot.tg.fail_next("sendMessage", 500, "Internal Server Error", chat_id=RECRUITER_CHAT)
        assert await bot.deliver() == 0
        assert notices(bot) == []
        [row] = bot.outbox()
        assert row.payload["deleted_upto"] == 4 and "deleting" not in row.payload
        # ... and goes at the next try, without asking Telegram to delete anything again.
        bot.clock.advance(minutes=5)
        assert await bot.deliver() == 1

        assert delete_calls(bot) == [sent, sent]  # the second one was refused: gone already
        assert bot.rejections == [("deleteMessages", 400, CANNOT_DELETE),
                                  ("sendMessage", 500, "Internal Server Error")]
        assert bot.tg.deleted == [(RECRUITER_CHAT, m) for m in sent]  # each once
        [notice] = notices(bot)
        assert notice.endswith("De bot verwijderde zijn 4 berichten erover van de laatste 48"
                               " uur; verwijder elke gedownloade kopie zelf.")
        assert bot.outbox() == []


async def test_messages_too_old_by_the_time_the_sender_runs_are_left_to_the_recruiters(
        tmp_path: Path):
    async with bot_on_one_clock(tmp_path) as bot:
        await apply_fully(bot, CANDIDATE, SCHOOL)
        bot.clock.advance(hours=46)
        erase(bot, CANDIDATE)  # still deletable when erased...
        bot.clock.advance(hours=3)  # ... but the sender comes too late: Telegram refuses

        assert await bot.deliver() == 1  # told all the same: a refusal does not block
        assert bot.tg.deleted == [] and len(delete_calls(bot)) == 1
        [notice] = notices(bot)
        assert notice.endswith("De 4 berichten erover in deze chat zijn ouder dan 48 uur en die"
                               " kan de bot niet meer wissen: verwijder ze en elke gedownloade"
                               " kopie zelf.")


async def test_a_withdrawal_takes_back_its_messages_and_says_how_many(tmp_path: Path):
    async with bot_on_one_clock(tmp_path) as bot:
        await apply_fully(bot, CANDIDATE, SCHOOL)
        dossier_id = bot.dossier(CANDIDATE).id
        sent = [m.message_id for m in bot.tg.messages_to(RECRUITER_CHAT)]
        now = bot.clock.advance(hours=2).now.astimezone(UTC)
        # What the /withdraw turn queues (SqlUnitOfWork.take_back_messages in its transaction).
        with write_transaction(bot.store.engine) as connection:
            recent, older = recruiter_messages.take_back(
                connection, [dossier_id], now)  # type: ignore[list-item]
            connection.execute(insert(outbox_table).values(
                kind="dossier_withdrawn", chat_key=RECRUITERS, dossier_id=dossier_id,
                payload={"dossier_id": dossier_id, "delete": [list(m) for m in recent],
                         "older": older},
                created_at=now, next_attempt_at=now, attempts=0))

        assert await bot.deliver() == 1
        assert bot.tg.deleted == [(RECRUITER_CHAT, m) for m in sent]
        assert notices(bot) == [
            f"↩️ Dossier #{dossier_id} (ICT-coördinator) is door de kandidaat ingetrokken en in"
            " de bot gewist. De bot verwijderde zijn 4 berichten erover van de laatste 48 uur;"
            " verwijder elke gedownloade kopie zelf."]


async def test_the_extract_file_goes_once_the_recruiters_have_it_and_the_facts_stay(
        tmp_path: Path):
    async with bot_on_one_clock(tmp_path) as bot:
        await apply_fully(bot, CANDIDATE, SCHOOL)
        documents = bot.documents(CANDIDATE)
        [extract] = [d for d in documents if d.kind == "record_extract"]
        kept = [d for d in documents if d.kind != "record_extract"]

        # The recruiters have it...
        assert JPEG in [m.document["data"] for m in bot.tg.messages_to(RECRUITER_CHAT)
                        if m.document]
        # ... so the file is gone from UPLOAD_DIR; the row keeps what it was.
        assert (extract.stored_path, extract.file_deleted_at) == ("", bot.clock.now)
        assert (extract.size, extract.sha256) == (len(JPEG), hashlib.sha256(JPEG).hexdigest())
        assert bot.stored_files() == sorted(tmp_path / "uploads" / d.stored_path for d in kept)
        assert all(JPEG not in path.read_bytes() for path in bot.stored_files())
        answers = bot.dossier(CANDIDATE).answers
        assert (answers["record.has_extract"], answers["record.issued_on"],
                answers["record.mention"]) == (True, "2026-10-01", False)

        # Asked for the dossier later, the recruiter reads that the file went and when.
        shown = await bot.send(RECRUITER, f"/dossier {bot.dossier(CANDIDATE).id}")
        assert "bestand verwijderd na levering op 22-11-2026" in (shown[0].text or "")
        assert "Datum van het uittreksel → 01-10-2026" in (shown[0].text or "")
        assert [m.document["data"] for m in shown if m.document] == [CV, MOTIVATION_DOCX]


async def test_a_retry_after_the_extract_went_sends_nothing_more(tmp_path: Path):
    async with bot_on_one_clock(tmp_path) as bot:
        await apply_fully(bot, CANDIDATE, SCHOOL)
        dossier_id = bot.dossier(CANDIDATE).id
        count = len(bot.tg.messages_to(RECRUITER_CHAT))
        # As if the process died after the extract's file went, before the progress was saved:
        # the last part (the extract) is due again.
        with write_transaction(bot.store.engine) as connection:
            connection.execute(update(outbox_table).where(
                outbox_table.c.kind == "dossier_submitted").values(
                sent_at=None, payload={"dossier_id": dossier_id, "parts_sent": count - 1}))
        assert await bot.deliver() == 1
        assert len(bot.tg.messages_to(RECRUITER_CHAT)) == count  # no "file deleted" line
        assert bot.outbox() == []


async def test_nothing_is_reduced_while_the_notification_waits_for_an_export(tmp_path: Path):
    async with bot_on_one_clock(tmp_path, recruiter_chat_id=None) as bot:
        await apply_fully(bot, CANDIDATE, SCHOOL)
        await bot.deliver()
        [extract] = [d for d in bot.documents(CANDIDATE) if d.kind == "record_extract"]
        assert extract.stored_path and extract.file_deleted_at is None
        opened = bot.store.open_document(extract.id)
        assert opened is not None  # still there, sealed with the candidate's key
        assert bot.engine.files.read(extract.stored_path, opened[1]) == JPEG
        assert [row.kind for row in bot.outbox()] == ["dossier_submitted"]
        assert recorded(bot.store.engine) == []


async def test_withdrawing_after_the_extract_went_deletes_no_empty_path(tmp_path: Path):
    async with bot_on_one_clock(tmp_path) as bot:
        await apply_fully(bot, CANDIDATE, SCHOOL)
        await bot.send(CANDIDATE, "/withdraw")
        try:
            await bot.press(CANDIDATE, "Ja, trek in en wis")
        except StepError as error:
            raise AssertionError(f"the withdrawal failed after its commit: {error}") from error
        assert bot.dossier(CANDIDATE).status == "withdrawn"
        assert bot.stored_files() == []


async def test_a_dossier_shown_by_a_recruiter_command_is_taken_back_too(tmp_path: Path):
    async with bot_on_one_clock(tmp_path) as bot:
        await apply_fully(bot, CANDIDATE, SCHOOL)
        before = len(recorded(bot.store.engine))
        shown = await bot.send_in_group(RECRUITER, RECRUITER_CHAT,
                                        f"/dossier {bot.dossier(CANDIDATE).id}")
        assert shown, "the recruiter command answered nothing"
        assert len(recorded(bot.store.engine)) >= before + len(shown), \
            "the /dossier copy was not recorded"


def test_what_is_reduced_is_the_criminal_record_data_only():
    from tests.bot_harness import catalogue

    reduced = {vacancy_id: reduced_after_delivery(v) for vacancy_id, v in catalogue().items()}
    # The extract and the explanation of a mention on it (GDPR art. 10); never a CV.
    # Hardenberg asks for a VOG only later, with no document of its own: nothing to reduce.
    assert reduced[HARDENBERG] == frozenset()
    assert reduced["nieuwpoort-systeembeheerder-ict"] == {"record_extract", "record_explanation"}
    assert reduced[SCHOOL] == {"record_extract", "record_explanation"}
    assert reduced["vera-projectcoordinator"] == frozenset()


async def test_a_copy_that_goes_out_while_its_dossier_is_erased_is_taken_back(tmp_path: Path):
    """The sender had claimed the notification when the erasure deleted its row: the part it
    was sending is deleted from the chat at once, and nothing more goes out."""
    from storage.outbox import RECRUITERS, OutboxItem

    async with bot_on_one_clock(tmp_path) as bot:
        await apply_fully(bot, CANDIDATE, SCHOOL)
        dossier_id = bot.dossier(CANDIDATE).id
        before = len(bot.tg.messages_to(RECRUITER_CHAT))
        gone = OutboxItem(10**6, "dossier_submitted", RECRUITERS, dossier_id, {}, 0)  # no row
        await bot.runtime.sender.deliver(bot.app.bot, gone)
        sent = bot.tg.messages_to(RECRUITER_CHAT)[before:]
        assert len(sent) == 1, "more parts went out after the row was gone"
        assert bot.tg.visible_in(RECRUITER_CHAT)[-1].message_id != sent[0].message_id, \
            "the part sent during the erasure was not taken back"
