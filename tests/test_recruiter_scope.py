"""Recruiter commands show dossiers only to a recruiter, only privately or in the recruiters' chat.

The handlers are run by a real python-telegram-bot `Application` (talking to the in-process
fake Bot API) on real `Update` objects; what they answer is read back from the outbox, the only
way anything leaves the bot: which chat each row is addressed to, and what it contains.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from telegram import Update
from telegram.ext import Application, ApplicationBuilder

from bot.fake_bot_api import BOT_USERNAME, FakeBotApi, FakeTelegram
from bot.outbox_sender import OutboxSender
from bot.recruiter_commands import RecruiterCommands, addressed_elsewhere
from flows.messages import Msg, render
from flows.ports import CandidateRecord, DocumentRecord, DossierRecord
from storage.database import make_engine, migrate
from storage.dossier_repository import SqlDossierStore
from storage.file_store import LocalFileStore
from storage.outbox import SqlOutbox
from storage.tables import outbox_table
from tests.conversation import shipped_vacancies
from tests.db_fixtures import migrated_sqlite_url, opened

T0 = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
VACANCY = "school-ict-coordinator"

RECRUITER = 501
OUTSIDER = 502
RECRUITER_CHAT = -1001234500777
STRANGE_GROUP = -1001234500999

NAME = "Zoë Vertrouwelijk"
EMAIL = "zoe.vertrouwelijk@example.org"
RECORD_NAME = "uittreksel-strafregister-zoe.pdf"
RECORD_BYTES = b"%PDF-1.4\n% criminal record extract of the candidate\n%%EOF\n"


def user(user_id: int, language_code: str) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"User {user_id}",
            "language_code": language_code}


def private_chat(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": f"User {user_id}"}


def group(chat_id: int, title: str) -> dict[str, Any]:
    return {"id": chat_id, "type": "supergroup", "title": title}


RECRUITERS_GROUP = group(RECRUITER_CHAT, "Recruiters")
NEIGHBOURS_GROUP = group(STRANGE_GROUP, "Buurtvereniging")


def command_update(update_id: int, chat: dict[str, Any], sender: dict[str, Any], text: str,
                   edited: bool = False) -> dict[str, Any]:
    """A message (or an edited message) whose text starts with a bot command."""
    message: dict[str, Any] = {
        "message_id": 1000 + update_id, "date": int(T0.timestamp()), "chat": chat,
        "from": sender, "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
    if edited:
        message["edit_date"] = int(T0.timestamp()) + 60
        return {"update_id": update_id, "edited_message": message}
    return {"update_id": update_id, "message": message}


@dataclass
class World:
    app: Application
    engine: Engine
    store: SqlDossierStore
    files: LocalFileStore
    outbox: SqlOutbox
    vacancies: dict[str, Any]
    dossier_id: int
    telegram: FakeTelegram

    async def feed(self, payload: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(payload, self.app.bot))

    def rows(self) -> list[tuple[str, dict[str, Any]]]:
        """Every outbox row: (chat_key, payload), oldest first."""
        with self.engine.connect() as connection:
            return [(r.chat_key, dict(opened(self.engine, r.payload))) for r in connection.execute(
                select(outbox_table.c.chat_key, outbox_table.c.payload)
                .order_by(outbox_table.c.id))]


def make_dossier(store: SqlDossierStore, files: LocalFileStore, tmp_path: Path) -> int:
    """A submitted dossier with a CV and a criminal-record extract, as the engine leaves it."""
    cv_source = tmp_path / "cv.pdf"
    cv_source.write_bytes(b"%PDF-1.4\n% curriculum vitae\n%%EOF\n")
    record_source = tmp_path / "record.pdf"
    record_source.write_bytes(RECORD_BYTES)
    with store.unit_of_work("telegram", "9001") as uow:
        candidate = uow.add_candidate(CandidateRecord(
            id=None, channel="telegram", external_id="9001", chat_id="9001", language="nl",
            created_at=T0))
        assert candidate.id is not None
        dossier = uow.add_dossier(DossierRecord(
            id=None, candidate_id=candidate.id, vacancy_id=VACANCY, state="submitted",
            status="submitted", answers={"candidate.name": NAME, "candidate.email": EMAIL},
            language="nl", consented_at=T0, privacy_version="2025-01", created_at=T0,
            updated_at=T0, submitted_at=T0))
        assert dossier.id is not None
        for kind, source, name in (("cv", cv_source, "cv-zoe.pdf"),
                                   ("record_extract", record_source, RECORD_NAME)):
            stored = files.put(source)
            uow.add_document(DocumentRecord(
                id=None, dossier_id=dossier.id, kind=kind, original_name=name,
                stored_path=stored.stored_path, size=stored.size, sha256=stored.sha256,
                media_type="application/pdf", uploaded_at=T0))
        return dossier.id


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    engine = make_engine(migrated_sqlite_url(tmp_path))
    migrate(engine)
    store = SqlDossierStore(engine, clock=lambda: T0)
    files = LocalFileStore(tmp_path / "files", clock=lambda: T0)
    vacancies = shipped_vacancies()
    dossier_id = make_dossier(store, files, tmp_path)
    outbox = SqlOutbox(engine)
    telegram = FakeTelegram()
    app = (ApplicationBuilder().token("123456:TEST-TOKEN").updater(None)
           .request(FakeBotApi(telegram)).build())
    RecruiterCommands(store, files, vacancies, frozenset({RECRUITER}), RECRUITER_CHAT, outbox,
                      lambda: T0).register(app)
    await app.initialize()
    try:
        yield World(app, engine, store, files, outbox, vacancies, dossier_id, telegram)
    finally:
        await app.shutdown()
        engine.dispose()


def parts_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return list(payload["messages"])


def leaks(payload: dict[str, Any], dossier_id: int) -> list[str]:
    """Whatever in a queued payload tells something about the dossier."""
    found = []
    dumped = json.dumps(payload, ensure_ascii=False)
    for secret in (NAME, EMAIL, RECORD_NAME, "record_extract", f"#{dossier_id}", "Dossier"):
        if secret in dumped:
            found.append(secret)
    for part in parts_of(payload):
        if "document_id" in part or "file_data" in part:
            found.append(f"a file part: {sorted(part)}")
    return found


def only_text(payload: dict[str, Any]) -> str:
    parts = parts_of(payload)
    assert len(parts) == 1 and set(parts[0]) == {"text", "choices"}, parts
    return parts[0]["text"]


# --------------------------------------------------------------------------- refused


@pytest.mark.parametrize("command", ["/dossier {id}", "/dossiers", f"/dossiers {VACANCY}",
                                     f"/export {VACANCY}", "/dossier 999", "/stats",
                                     f"/stats {VACANCY}"])
async def test_a_recruiter_in_a_strange_group_gets_only_a_refusal_there(world: World,
                                                                        command: str):
    await world.feed(command_update(1, NEIGHBOURS_GROUP, user(RECRUITER, "en-GB"),
                                    command.format(id=world.dossier_id)))

    rows = world.rows()
    assert [chat for chat, _ in rows] == [str(STRANGE_GROUP)]
    _, payload = rows[0]
    assert payload["chat_id"] == str(STRANGE_GROUP)
    assert only_text(payload) == render(Msg("recruiter.not_here"), "en")
    assert leaks(payload, world.dossier_id) == []


async def test_the_refusal_in_a_strange_group_is_the_same_whether_the_dossier_exists(
        world: World):
    await world.feed(command_update(1, NEIGHBOURS_GROUP, user(RECRUITER, "nl"),
                                    f"/dossier {world.dossier_id}"))
    await world.feed(command_update(2, NEIGHBOURS_GROUP, user(RECRUITER, "nl"), "/dossier 999"))

    (_, existing), (_, missing) = world.rows()
    assert only_text(existing) == only_text(missing) == render(Msg("recruiter.not_here"), "nl")


async def test_a_private_chat_that_is_not_the_recruiters_own_is_not_served(world: World):
    await world.feed(command_update(1, private_chat(OUTSIDER), user(RECRUITER, "nl"),
                                    f"/dossier {world.dossier_id}"))

    [(chat, payload)] = world.rows()
    assert chat == str(OUTSIDER)
    assert only_text(payload) == render(Msg("recruiter.not_here"), "nl")
    assert leaks(payload, world.dossier_id) == []


@pytest.mark.parametrize("language_code, lang", [("en", "en"), ("en-US", "en"), ("nl-BE", "nl"),
                                                 (None, "nl")])
async def test_a_non_recruiter_in_a_private_chat_is_refused_in_their_language(
        world: World, language_code: str | None, lang: str):
    sender = user(OUTSIDER, "en")
    if language_code is None:
        del sender["language_code"]
    else:
        sender["language_code"] = language_code
    await world.feed(command_update(1, private_chat(OUTSIDER), sender,
                                    f"/dossier {world.dossier_id}"))

    [(chat, payload)] = world.rows()
    assert chat == str(OUTSIDER)
    assert only_text(payload) == render(Msg("recruiter.only"), lang)
    assert leaks(payload, world.dossier_id) == []


def test_the_english_refusals_are_english():
    assert render(Msg("recruiter.only"), "en") != render(Msg("recruiter.only"), "nl")
    assert render(Msg("recruiter.not_here"), "en") != render(Msg("recruiter.not_here"), "nl")


@pytest.mark.parametrize("chat", [RECRUITERS_GROUP, NEIGHBOURS_GROUP])
async def test_a_non_recruiter_in_a_group_learns_nothing(world: World, chat: dict[str, Any]):
    await world.feed(command_update(1, chat, user(OUTSIDER, "en"), f"/export {VACANCY}"))

    [(chat_key, payload)] = world.rows()
    assert chat_key == str(chat["id"])
    assert only_text(payload) == render(Msg("recruiter.only"), "en")
    assert leaks(payload, world.dossier_id) == []


# --------------------------------------------------------------------------- served


@pytest.mark.parametrize("chat", [private_chat(RECRUITER), RECRUITERS_GROUP])
async def test_the_recruiter_is_served_privately_and_in_the_recruiters_chat(
        world: World, chat: dict[str, Any]):
    await world.feed(command_update(1, chat, user(RECRUITER, "nl"),
                                    f"/dossier {world.dossier_id}"))

    [(chat_key, payload)] = world.rows()
    assert chat_key == payload["chat_id"] == str(chat["id"])
    summary_part, *document_parts = parts_of(payload)
    assert NAME in summary_part["text"] and EMAIL in summary_part["text"]
    assert RECORD_NAME in summary_part["text"]
    documents = world.store.get_dossier(world.dossier_id)[2]  # type: ignore[index]
    # Captioned with whose document it is and which, as the vacancy names it.
    labels = ["cv", "uittreksel uit het strafregister (model 596.2)"]
    assert document_parts == [
        {"document_id": doc.id, "caption": f"#{world.dossier_id} · {NAME} · {label}",
         "dossier_id": world.dossier_id}  # recorded once sent, to be taken back on erasure
        for doc, label in zip(documents, labels, strict=True)]
    assert [doc.kind for doc in documents] == ["cv", "record_extract"]


async def test_the_queued_dossier_reaches_the_recruiter_with_its_files(world: World):
    world.telegram.add_user(RECRUITER)
    await world.feed(command_update(1, private_chat(RECRUITER), user(RECRUITER, "nl"),
                                    f"/dossier {world.dossier_id}"))
    sender = OutboxSender(world.outbox, world.store, world.files, world.vacancies,
                          RECRUITER_CHAT, lambda: T0, "test", timedelta(minutes=1))

    assert await sender.run_once(world.app.bot) == 1

    sent = world.telegram.messages_to(RECRUITER)
    assert NAME in (sent[0].text or "")
    documents = [m.document for m in sent[1:]]
    assert [d["file_name"] for d in documents if d] == ["cv-zoe.pdf", RECORD_NAME]
    assert documents[1] is not None and documents[1]["data"] == RECORD_BYTES
    assert {m.chat_id for m in world.telegram.sent} == {RECRUITER}


async def test_the_recruiter_lists_dossiers_in_the_recruiters_chat(world: World):
    await world.feed(command_update(1, RECRUITERS_GROUP, user(RECRUITER, "nl"),
                                    f"/dossiers {VACANCY} submitted"))

    [(chat_key, payload)] = world.rows()
    assert chat_key == str(RECRUITER_CHAT)
    listing = only_text(payload)
    assert f"#{world.dossier_id}" in listing and NAME in listing


async def test_the_recruiter_exports_a_csv_privately(world: World):
    await world.feed(command_update(1, private_chat(RECRUITER), user(RECRUITER, "nl"),
                                    f"/export {VACANCY}"))

    [(chat_key, payload)] = world.rows()
    assert chat_key == str(RECRUITER)
    [part] = parts_of(payload)
    assert part["file_name"] == f"{VACANCY}.csv"
    csv = base64.b64decode(part["file_data"]).decode("utf-8-sig")
    assert NAME in csv and EMAIL in csv
    assert part["caption"] == render(Msg("rec.export.caption", {
        "title": world.vacancies[VACANCY].title, "n": 1}), "nl")


@pytest.mark.parametrize("command, key", [("/dossier", "rec.dossier.usage"),
                                          ("/dossier abc", "rec.dossier.usage"),
                                          ("/dossiers nonsense", "rec.list.usage")])
async def test_usage_messages_still_go_through_the_outbox(world: World, command: str, key: str):
    await world.feed(command_update(1, private_chat(RECRUITER), user(RECRUITER, "nl"), command))

    [(_, payload)] = world.rows()
    assert only_text(payload) == render(Msg(key), "nl")


async def test_an_unknown_dossier_is_named_unknown(world: World):
    await world.feed(command_update(1, private_chat(RECRUITER), user(RECRUITER, "nl"),
                                    "/dossier 999"))

    [(_, payload)] = world.rows()
    assert only_text(payload) == render(Msg("rec.dossier.unknown", {"id": 999}), "nl")


# --------------------------------------------------------------------------- never twice


@pytest.mark.parametrize("chat", [private_chat(RECRUITER), RECRUITERS_GROUP, NEIGHBOURS_GROUP])
async def test_an_edited_message_never_runs_a_recruiter_command(world: World,
                                                                chat: dict[str, Any]):
    await world.feed(command_update(1, chat, user(RECRUITER, "nl"),
                                    f"/dossier {world.dossier_id}", edited=True))
    await world.feed(command_update(2, chat, user(RECRUITER, "nl"), f"/export {VACANCY}",
                                    edited=True))

    assert world.rows() == []


async def test_a_redelivered_update_is_answered_once(world: World):
    update = command_update(7, private_chat(RECRUITER), user(RECRUITER, "nl"),
                            f"/dossier {world.dossier_id}")
    await world.feed(update)
    await world.feed(update)

    rows = world.rows()
    assert len(rows) == 1
    assert len(world.store.pending_outbox(FAR_FUTURE, 1000, str(RECRUITER))) == 1


async def test_a_redelivered_refusal_is_queued_once(world: World):
    update = command_update(8, NEIGHBOURS_GROUP, user(RECRUITER, "nl"), "/dossiers")
    await world.feed(update)
    await world.feed(update)

    assert len(world.rows()) == 1


async def test_a_command_for_another_bot_is_ignored(world: World):
    await world.feed(command_update(1, RECRUITERS_GROUP, user(RECRUITER, "nl"),
                                    f"/dossier@other_bot {world.dossier_id}"))
    await world.feed(command_update(2, NEIGHBOURS_GROUP, user(OUTSIDER, "nl"),
                                    "/dossiers@other_bot"))

    assert world.rows() == []


async def test_a_command_addressed_to_this_bot_is_served(world: World):
    await world.feed(command_update(1, RECRUITERS_GROUP, user(RECRUITER, "nl"),
                                    f"/dossier@{BOT_USERNAME} {world.dossier_id}"))

    [(chat_key, payload)] = world.rows()
    assert chat_key == str(RECRUITER_CHAT)
    assert NAME in parts_of(payload)[0]["text"]


async def test_no_recruiter_handler_accepts_an_edited_message(world: World):
    edited = Update.de_json(command_update(1, private_chat(RECRUITER), user(RECRUITER, "nl"),
                                           f"/dossier {world.dossier_id}", edited=True),
                            world.app.bot)
    fresh = Update.de_json(command_update(2, private_chat(RECRUITER), user(RECRUITER, "nl"),
                                          f"/dossier {world.dossier_id}"), world.app.bot)
    handlers = [h for hs in world.app.handlers.values() for h in hs]

    assert len(handlers) >= 3  # the commands, /help and the page buttons at least
    assert not any(h.check_update(edited) for h in handlers)
    assert any(h.check_update(fresh) for h in handlers)


@pytest.mark.parametrize("text, elsewhere", [
    ("/dossier 1", False), (f"/dossier@{BOT_USERNAME} 1", False),
    (f"/dossier@{BOT_USERNAME.upper()} 1", False), ("/dossier@other_bot 1", True),
    ("/dossiers@other_bot", True)])
async def test_a_command_names_its_bot(world: World, text: str, elsewhere: bool):
    update = Update.de_json(command_update(1, RECRUITERS_GROUP, user(RECRUITER, "nl"), text),
                            world.app.bot)
    assert update.message is not None

    assert addressed_elsewhere(update.message, world.app.bot.username) is elsewhere
    assert addressed_elsewhere(update.message, None) is ("@" in text.split()[0])
