"""Issue 11's acceptance test: a whole application with distinctive values, a question to the
recruiters, then /delete — and none of the values is left in any table, in the database's
files on disk (the SQLite file and its WAL; PostgreSQL's relation files), in the upload folder,
in the temp folder or in the logs; the candidate's key is gone; the recruiters' chat no longer
shows the bot's messages about the dossier, and the recruiters are told."""

from __future__ import annotations

import io
import logging
import re
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot import sample_files
from bot.log_privacy import install
from storage.tables import metadata, subject_key_table
from tests.bot_harness import (
    CANDIDATE,
    DOCX_MIME,
    RECRUITER,
    RECRUITER_CHAT,
    BotHarness,
    Clock,
    running_bot,
)
from tests.test_bot import NIEUWPOORT_OPEN, SCRIPTS, UPLOADS, accept_privacy

VACANCY = "nieuwpoort-systeembeheerder-ict"
NAME, EMAIL = "Zoltar Quispelaere", "zoltar.quispelaere@voorbeeld.be"
FREE_ANSWER = "Quuxbereide Ansible-kennis"
QUESTION = "Mag ik Quispelaere-stijl een dag later starten?"
CONTENT = b"QUUX-INHOUD-7f3a"
FILE_NAMES = ("Quispelaere_CV.pdf", "Quispelaere_motivatie.docx", "Quispelaere_diploma.pdf",
              "Quispelaere_uittreksel.pdf")
VALUES = (NAME, EMAIL, FREE_ANSWER, QUESTION, *FILE_NAMES)


def _uploads() -> list[tuple[str, bytes, str]]:
    """The vacancy's uploads, renamed and carrying a distinctive marker in their bytes."""
    out = []
    for (_name, _data, mime), name in zip(UPLOADS[VACANCY], FILE_NAMES, strict=True):
        if mime == DOCX_MIME:
            data = sample_files.docx(f"motivatie {CONTENT.decode()}")
        else:
            data = sample_files.pdf(f"{CONTENT.decode()} {name}")
        out.append((name, data, mime or "application/pdf"))
    return out


def _tables(bot: BotHarness) -> str:
    with bot.store.engine.connect() as connection:
        return "\n".join(repr(tuple(row)) for table in metadata.sorted_tables
                         for row in connection.execute(select(table)))


def _database_bytes(bot: BotHarness, database_url: str) -> bytes:
    engine = bot.store.engine
    if engine.dialect.name == "sqlite":
        path = Path(database_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    chunks = []
    with engine.connect() as connection:
        connection.execute(text("CHECKPOINT"))
        for table in metadata.sorted_tables:
            path = connection.execute(text("SELECT pg_relation_filepath(:t)"),
                                      {"t": table.name}).scalar_one()
            chunks.append(bytes(connection.execute(text("SELECT pg_read_binary_file(:p)"),
                                                   {"p": path}).scalar_one()))
    return b"".join(chunks)


def _folder_bytes(folder: Path) -> bytes:
    return b"".join(p.name.encode() + p.read_bytes()
                    for p in folder.rglob("*") if p.is_file()) if folder.exists() else b""


@pytest.fixture
def captured_logs(monkeypatch: pytest.MonkeyPatch):
    """Everything logged at DEBUG by every logger, through the filter main installs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream, handler
    root.removeHandler(handler)
    root.setLevel(old_level)


async def test_delete_leaves_no_trace_anywhere(tmp_path: Path, database_url: str,
                                               captured_logs, monkeypatch: pytest.MonkeyPatch):
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    stream, _handler = captured_logs

    async with running_bot(tmp_path, Clock(NIEUWPOORT_OPEN), database_url=database_url) as bot:
        install(bot.store.keyring.pseudonym)  # as main's logging set-up does
        script = {**SCRIPTS[VACANCY], "candidate.name": NAME, "candidate.email": EMAIL,
                  "matrix.extra": FREE_ANSWER}
        await accept_privacy(bot, CANDIDATE, VACANCY)
        await bot.answer_all(CANDIDATE, script)
        for name, data, mime in _uploads():
            await bot.upload(CANDIDATE, name, data, mime)
        assert bot.dossier(CANDIDATE).status == "submitted", bot.last(CANDIDATE)
        await bot.send(CANDIDATE, f"/vraag {QUESTION}")
        await bot.press(CANDIDATE, "Ja, stel de vraag")
        await bot.deliver()
        shown = bot.tg.visible_in(RECRUITER_CHAT)
        assert any(NAME in (m.text or "") for m in shown), "the recruiters never got the file"
        dossier_id = bot.dossier(CANDIDATE).id
        subject = bot.store.keyring.subject("telegram", str(CANDIDATE))
        # A recruiter's /dossier answer that cannot go out yet waits sealed, and is about the
        # dossier: the erasure deletes it before it ever goes.
        bot.api.fail_network("sendMessage", chat_id=RECRUITER_CHAT)
        await bot.send_in_group(RECRUITER, RECRUITER_CHAT, f"/dossier {dossier_id}")
        assert any(row.dossier_id == dossier_id and row.kind == "message"
                   for row in bot.outbox()), "the /dossier answer is not waiting"
        # Before the erasure the values are there, sealed: the checks below can see ciphertext.
        assert NAME not in _tables(bot)

        await bot.send(CANDIDATE, "/delete")
        await bot.press(CANDIDATE, "Ja, wis alles")
        await bot.deliver()
        bot.clock.advance(hours=1)  # the failed /dossier answer would be due again by now
        await bot.deliver()

        # Nothing in any table, and the person's key is gone.
        everything = _tables(bot)
        for value in VALUES:
            assert value not in everything, f"{value!r} is still in a table"
        assert f"u:{CANDIDATE}" not in everything, "an inbox row still names the candidate"
        with bot.store.engine.connect() as connection:
            to_them = connection.execute(text(
                "SELECT count(*) FROM outbox WHERE chat_key = :c"), {"c": str(CANDIDATE)}
            ).scalar_one()
        assert to_them == 1, "rows of messages sent before the erasure still name their chat"
        with bot.store.engine.connect() as connection:
            keys = set(connection.execute(select(subject_key_table.c.subject)).scalars())
        assert subject not in keys, "the candidate's key survived the erasure"
        assert bot.dossiers_of(CANDIDATE) == []

        # Nothing in the database's files on disk.
        if bot.store.engine.dialect.name == "postgresql":
            bot.store.forget_unused_keys(bot.wall_clock())  # the daily job's VACUUM FULL
        raw = _database_bytes(bot, database_url)
        for value in VALUES:
            assert value.encode() not in raw, f"{value!r} lies in the database files"

        # Nothing in the upload folder or the temp folder.
        for folder in (tmp_path / "uploads", temp):
            stored = _folder_bytes(folder)
            assert CONTENT not in stored, f"a document's bytes are still in {folder}"
            for value in VALUES:
                assert value.encode() not in stored, f"{value!r} is still in {folder}"
        assert bot.stored_files() == [], "files of the erased candidate are left"

        # The recruiters' chat: the bot took its messages back and told them which dossier.
        left = bot.tg.visible_in(RECRUITER_CHAT)
        assert not any(NAME in (m.text or "") or QUESTION in (m.text or "") for m in left)
        assert not [m for m in left if m.document is not None]
        assert any(f"#{dossier_id}" in (m.text or "") for m in left), \
            "the recruiters were not told which dossier was erased"

        # A new message starts afresh: the privacy notice, nothing remembered.
        await bot.send(CANDIDATE, f"/start {VACANCY}")
        assert "Privacy" in bot.last(CANDIDATE), bot.last(CANDIDATE)
        assert bot.dossiers_of(CANDIDATE) == []

    logged = stream.getvalue()
    assert logged, "nothing was logged: the capture is not working"
    for value in VALUES:
        assert value not in logged, f"{value!r} is in the logs"
    # The Telegram id as a number of its own: not the digits inside an object's address
    # ("<... at 0x7f8701a11100>") that a library's DEBUG line may print.
    assert not re.search(rf"(?<![0-9A-Za-z]){CANDIDATE}(?![0-9A-Za-z])", logged), \
        "the candidate's Telegram id is in the logs"


async def test_a_button_from_before_an_erasure_cannot_touch_the_next_application(
        tmp_path: Path, database_url: str):
    """SQLite used to give the erased dossier's id to the next one, so an old confirmation
    (`c:withdraw:<dossier>.<version>`) could withdraw the new application."""
    vera = "vera-projectcoordinator"
    async with running_bot(tmp_path, database_url=database_url) as bot:
        await accept_privacy(bot, CANDIDATE, vera)
        await bot.send(CANDIDATE, NAME)
        await bot.send(CANDIDATE, "/withdraw")
        old_confirmation = bot.snapshot(CANDIDATE, "Ja, trek in")
        await bot.send(CANDIDATE, "/delete")
        await bot.press(CANDIDATE, "Ja, wis alles")

        await accept_privacy(bot, CANDIDATE, vera)
        await bot.send(CANDIDATE, NAME)
        again = bot.dossier(CANDIDATE)
        await bot.press(CANDIDATE, "Ja, trek in", message=old_confirmation)

        after = bot.dossier(CANDIDATE)
        assert after.status == "draft" and after.answers == again.answers, \
            "an old button withdrew the new application"
        assert after.id != int(old_confirmation.buttons[0][0]["callback_data"]
                               .split(":")[2].split(".")[0]), "the erased dossier's id was reused"
