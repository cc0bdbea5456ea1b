"""One stuck database lock delays only the candidate it belongs to (PostgreSQL).

A transaction elsewhere (an operator's query, a stuck process) holds a lock for a long time.
With `lock_timeout`, the update that needs it fails fast as a passing failure: it stays in the
inbox and is retried, its candidate is told once that the message arrived, and everybody else
— other candidates and newcomers — is served meanwhile. Once the lock is released the update is
applied and answered, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from tests.bot_harness import CANDIDATE, OTHER, running_bot

SCHOOL = "school-ict-coordinator"
NEWCOMER = 113


@pytest.fixture
def blocker(postgres_url: str) -> Iterator[Connection]:
    """A second connection, as a stuck transaction elsewhere would hold it."""
    engine = create_engine(postgres_url, poolclass=NullPool)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


@pytest.mark.parametrize("lock", ["the candidate's own lock", "the whole dossier table"])
async def test_a_held_lock_delays_only_its_own_candidate(tmp_path: Path, postgres_url: str,
                                                        blocker: Connection, lock: str):
    async with running_bot(tmp_path, database_url=postgres_url, db_lock_timeout=0.3) as bot:
        bot.tg.add_user(NEWCOMER, "Nora", "nl")
        for user in (CANDIDATE, OTHER):
            await bot.send(user, f"/start {SCHOOL}")
            await bot.press(user, "Akkoord")
        transaction = blocker.begin()
        if lock == "the whole dossier table":
            blocker.execute(text("LOCK TABLE dossier IN ACCESS EXCLUSIVE MODE"))
        else:
            blocker.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                            {"key": f"telegram:{CANDIDATE}"})

        sent = await bot.send(CANDIDATE, "Jan Peeters", expect_error=True)  # put back after 0.3 s
        assert [m.text for m in sent] == [
            "⏳ Even geduld: je bericht is goed aangekomen en wordt zo verwerkt."]
        assert bot.runtime.inbox.counts().get("pending") == 1

        # A newcomer needs no dossier: served even while the table is locked.
        await bot.send(NEWCOMER, "/start")
        assert "vacature" in bot.last(NEWCOMER).lower()
        if lock == "the candidate's own lock":  # another candidate is not held up either
            await bot.send(OTHER, "Els Janssens")
            assert bot.last(OTHER).startswith("Vraag 2 van")

        transaction.rollback()  # the lock is released
        bot.advance_wall(2)  # the retry falls due (1 s after the first try)
        await bot.runtime.drain()
        if lock == "the whole dossier table":
            await bot.send(OTHER, "Els Janssens")
            assert bot.last(OTHER).startswith("Vraag 2 van")

        assert bot.dossier(CANDIDATE).answers["candidate.name"] == "Jan Peeters"
        texts = bot.texts(CANDIDATE)
        assert sum(t.startswith("Vraag 2 van") for t in texts) == 1
        assert sum(t.startswith("⏳") for t in texts) == 1
        assert bot.runtime.inbox.counts() == {"done": bot.runtime.inbox.counts()["done"]}
