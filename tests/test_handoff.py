"""The hand-off (storage/handoff.py): rows leased to the process that received or wrote them,
without breaking the order per user and per chat, and free again when that process stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.work_pool import LocalFirst
from storage import handoff
from storage.crypto import fixed_keyring
from storage.dossier_repository import SqlDossierStore
from storage.inbox import Received, SqlInbox
from storage.outbox import SqlOutbox
from storage.tables import inbox_table, outbox_table
from tests.bot_harness import BotHarness

LEASE = timedelta(seconds=60)


def update(update_id: int, user: int) -> Received:
    return Received(update_id, f"u:{user}", {"update_id": update_id,
                                             "message": {"text": str(update_id)}})


def test_only_a_users_first_pending_update_is_taken_on_arrival(engine: Engine):
    inbox = SqlInbox(engine, keyring=fixed_keyring())
    new, taken = inbox.receive_and_take([update(1, 7), update(2, 7), update(3, 8)], "me", LEASE)
    assert new == 3 and [item.update_id for item in taken] == [1, 3]
    assert taken[0].raw == update(1, 7).raw and taken[0].attempts == 1
    # Another worker finds nothing: 1 and 3 are leased, and 2 waits behind 1.
    assert inbox.claim("other", LEASE) == []
    # The same update delivered again is neither stored nor taken twice.
    assert inbox.receive_and_take([update(3, 8)], "me", LEASE) == (0, [])
    # A user with a pending row: the new one waits for it, whoever receives it.
    new, taken = inbox.receive_and_take([update(4, 7)], "me", LEASE)
    assert (new, taken) == (1, [])
    inbox.done(1)
    assert [item.update_id for item in inbox.claim("other", LEASE)] == [2]


def test_a_reply_is_handed_to_the_sender_only_when_nothing_older_waits_for_its_chat(
        engine: Engine):
    store = SqlDossierStore(engine, keyring=fixed_keyring())
    inbox = SqlInbox(engine, keyring=fixed_keyring())
    _, (row,) = inbox.receive_and_take([update(10, 7)], "me", LEASE)
    settled = handoff.Handoff(row.id, "me", lambda: datetime.now(UTC), LEASE)
    token = handoff.current.set(settled)
    try:
        with store.unit_of_work("telegram", "7") as uow:
            assert uow.claim_event(10)  # as the engine does: the event first
            uow.add_outbox("message", None, {"chat_id": "7", "messages": [{"text": "a"}]},
                           chat_key="7")
            uow.add_outbox("message", None, {"chat_id": "7", "messages": [{"text": "b"}]},
                           chat_key="7")
            # A message for the recruiters' chat (which may be unset) is never handed over.
            uow.add_outbox("message", None, {"chat_id": "recruiters", "messages": [
                {"text": "r"}]}, chat_key="recruiters")
    finally:
        handoff.current.reset(token)
    # The first is leased to this process and listed; the second waits behind it in the
    # database, for whichever sender takes it once the first is sent.
    assert [payload["messages"][0]["text"] for *_, payload in settled.outbox] == ["a"]
    with engine.connect() as connection:
        leases = connection.execute(select(outbox_table.c.lease_owner)
                                    .order_by(outbox_table.c.id)).scalars().all()
        status = connection.execute(select(inbox_table.c.status)
                                    .where(inbox_table.c.id == row.id)).scalar_one()
    assert leases == ["me", None, None]
    assert status == "done" and settled.inbox_done  # marked in the applying transaction
    outbox = SqlOutbox(engine, keyring=fixed_keyring())
    due, skip = datetime.now(UTC), ("recruiters",)  # as a sender without a recruiters' chat
    assert outbox.claim("other", due, LEASE, skip_keys=skip) == []  # a's lease holds the chat
    outbox.sent(settled.outbox[0][0], due)
    assert [item.payload["messages"][0]["text"]
            for item in outbox.claim("other", due, LEASE, skip_keys=skip)] == ["b"]


def test_nothing_is_leased_outside_a_worker(engine: Engine):
    store = SqlDossierStore(engine, keyring=fixed_keyring())
    with store.unit_of_work("telegram", "7") as uow:
        uow.add_outbox("message", None, {"chat_id": "7", "messages": [{"text": "a"}]},
                       chat_key="7")
    with engine.connect() as connection:
        assert connection.execute(select(outbox_table.c.lease_owner)).scalars().all() == [None]


async def test_updates_taken_on_arrival_are_freed_when_the_process_stops(tmp_path: Path):
    bot = BotHarness(tmp_path)
    bot.tg.add_user(7, "Eva", "nl")
    await bot.open()
    try:
        runtime = bot.runtime
        await runtime.receive([bot.tg.text_update(7, "/start")])
        with bot.store.engine.connect() as connection:
            assert connection.execute(select(inbox_table.c.lease_owner)).scalar_one() == \
                runtime.owner
        runtime.stop.set()  # stops before the worker takes the row from memory
        await runtime.serve(lambda stop: stop.wait())
        with bot.store.engine.connect() as connection:
            owner, status = connection.execute(
                select(inbox_table.c.lease_owner, inbox_table.c.status)).one()
        assert (owner, status) == (None, "pending")  # any process takes it at once
    finally:
        await bot.close()


def test_a_turn_that_rolls_back_settles_nothing(engine: Engine):
    """The update was not applied: its row stays pending for a retry, its replies never
    existed, and the sender is given nothing."""
    store = SqlDossierStore(engine, keyring=fixed_keyring())
    inbox = SqlInbox(engine, keyring=fixed_keyring())
    _, (row,) = inbox.receive_and_take([update(20, 7)], "me", LEASE)
    settled = handoff.Handoff(row.id, "me", lambda: datetime.now(UTC), LEASE)
    token = handoff.current.set(settled)
    try:
        with pytest.raises(RuntimeError), store.unit_of_work("telegram", "7") as uow:
            assert uow.claim_event(20)
            uow.add_outbox("message", None, {"chat_id": "7", "messages": [{"text": "a"}]},
                           chat_key="7")
            raise RuntimeError("a lock timeout, say")
    finally:
        handoff.current.reset(token)
    assert not settled.inbox_done and settled.outbox == []
    with engine.connect() as connection:
        assert connection.execute(select(inbox_table.c.status)).scalar_one() == "pending"
        assert connection.execute(select(outbox_table.c.id)).all() == []


async def test_handed_work_survives_a_failing_claim_and_never_starves_the_database():
    asked: list[int] = []
    failing = True

    async def stored(limit: int) -> list[str]:
        asked.append(limit)
        if failing:
            raise OSError("database away")
        return ["stored"]

    pool: LocalFirst[str] = LocalFirst(stored)
    pool.add(["a", "b"])
    with pytest.raises(OSError):
        await pool.claim(4)  # the database is asked first (never asked yet), and fails
    failing = False
    assert await pool.claim(4) == ["a", "b"]  # nothing handed over was lost
    pool.add(["c", "d"])
    assert await pool.claim(1) == ["c"]  # asked a moment ago: handed-over work first
    pool._asked -= 1.0  # a second later: the database is due, and gets the slot
    assert await pool.claim(1) == ["stored"] and asked[-1] == 1
    assert await pool.claim(1) == ["d"]
