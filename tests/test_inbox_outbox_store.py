"""storage.inbox, storage.outbox and storage.job_lease on a real SQLite file and PostgreSQL.

The inbox and the outbox are what makes delivery durable: every update stored before Telegram
hears it arrived, every reply stored with the answer. These tests drive the SQL classes
directly, with a lease clock the test moves (leases never run on the product's clock), and
with several threads on separate connections claiming at once.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

import storage.inbox as inbox_module
from storage.inbox import Received, SqlInbox
from storage.job_lease import take_job_lease
from storage.outbox import RECRUITERS, SqlOutbox
from storage.tables import inbox_table, job_lease_table, outbox_table
from tests.db_fixtures import opened

T0 = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


# --------------------------------------------------------------------------- fixtures


class LeaseClock:
    """The wall clock of leases and retries, moved by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def lease_clock() -> LeaseClock:
    return LeaseClock()


@pytest.fixture
def inbox(engine: Engine, lease_clock: LeaseClock) -> SqlInbox:
    return SqlInbox(engine, lease_clock=lease_clock)


@pytest.fixture
def outbox(engine: Engine, lease_clock: LeaseClock) -> SqlOutbox:
    return SqlOutbox(engine, lease_clock=lease_clock)


def text_update(update_id: int, user: int, text: str) -> dict[str, Any]:
    return {"update_id": update_id,
            "message": {"message_id": update_id * 10, "date": 1_790_000_000,
                        "chat": {"id": user, "type": "private", "first_name": "Jan"},
                        "from": {"id": user, "is_bot": False, "first_name": "Jan"},
                        "text": text}}


def reversed_keys(value: Any) -> Any:
    """The same JSON with every object's keys in the opposite order."""
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    return value


def received(update_id: int, user: int, text: str = "hallo") -> Received:
    return Received(update_id, f"u:{user}", text_update(update_id, user, text))


def naive_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without a zone; compare both databases in UTC."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def inbox_rows(engine: Engine) -> dict[int, Any]:
    """Every inbox row by update id (ids are unique in these tests unless said otherwise)."""
    with engine.connect() as connection:
        return {row.update_id: row for row in connection.execute(
            select(inbox_table).order_by(inbox_table.c.id))}


def outbox_rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(outbox_table).order_by(outbox_table.c.id)))


def claimed_ids(items: list[Any]) -> list[int]:
    return [item.update_id for item in items]


# --------------------------------------------------------------------------- inbox: receive


def test_receive_stores_a_redelivered_update_once_but_a_reused_id_with_new_content(
        inbox: SqlInbox, engine: Engine):
    first = received(1, 111, "Jan Peeters")
    assert inbox.receive([first]) == 1
    assert inbox.receive([first]) == 0, "the same update re-delivered was stored twice"
    # Telegram's JSON may come with its keys in another order: still the same update.
    reordered = Received(1, "u:111", reversed_keys(first.raw))
    assert list(reordered.raw) != list(first.raw)
    assert inbox.receive([reordered]) == 0
    # After a quiet week Telegram may reuse an update id for a different update: kept.
    assert inbox.receive([received(1, 111, "jan@example.be")]) == 1
    # In one batch: the known one ignored, the new one stored.
    assert inbox.receive([first, received(2, 112)]) == 1
    assert inbox.receive([]) == 0

    with engine.connect() as connection:
        rows = connection.execute(select(inbox_table.c.update_id, inbox_table.c.raw)
                                  .order_by(inbox_table.c.id)).all()
    assert [(r.update_id, opened(engine, r.raw)["message"]["text"]) for r in rows] == [
        (1, "Jan Peeters"), (1, "jan@example.be"), (2, "hallo")]
    assert inbox.counts() == {"pending": 3}


def test_receive_stores_the_raw_update_as_it_came(inbox: SqlInbox, engine: Engine):
    update = received(7, 111, "zeg het met 🌷 en \u00e9")
    inbox.receive([update])
    row = inbox_rows(engine)[7]
    assert opened(engine, row.raw) == update.raw
    assert "zeg het" not in str(row.raw), "the raw update is stored sealed"
    assert (row.key, row.status, row.attempts, row.lease_owner) == ("u:111", "pending", 0, None)


# --------------------------------------------------------------------------- inbox: claim


def test_claim_takes_only_the_oldest_pending_row_of_each_key(inbox: SqlInbox,
                                                              lease_clock: LeaseClock):
    # a1 b1 a2 c1 a3 b2, in this order
    inbox.receive([received(1, 1), received(2, 2), received(3, 1), received(4, 3),
                   received(5, 1), received(6, 2)])
    first = inbox.claim("w1", LEASE)
    assert claimed_ids(first) == [1, 2, 4]  # one per user, the oldest, in arrival order
    assert [item.attempts for item in first] == [1, 1, 1]
    assert first[0].raw == text_update(1, 1, "hallo")
    # Each user's next row waits for the one being handled.
    assert inbox.claim("w2", LEASE) == []
    assert inbox.claim("w1", LEASE) == [], "a row leased by its own claimant was claimed again"

    inbox.done(first[0].id)
    assert claimed_ids(inbox.claim("w2", LEASE)) == [3]

    # A row waiting for a retry holds back its user's later rows too.
    inbox.retry(first[1].id, timedelta(seconds=10), "OperationalError")
    assert inbox.claim("w2", LEASE) == []
    lease_clock.advance(seconds=9)
    assert inbox.claim("w2", LEASE) == []
    lease_clock.advance(seconds=1)
    [again] = inbox.claim("w2", LEASE)
    assert (again.update_id, again.attempts) == (2, 2)
    inbox.done(again.id)
    assert claimed_ids(inbox.claim("w2", LEASE)) == [6]


def test_claim_respects_the_limit_oldest_first(inbox: SqlInbox):
    inbox.receive([received(update_id, user) for update_id, user in
                   ((10, 5), (11, 4), (12, 3), (13, 2))])
    assert claimed_ids(inbox.claim("w1", LEASE, limit=2)) == [10, 11]
    assert claimed_ids(inbox.claim("w1", LEASE, limit=5)) == [12, 13]


def test_a_lease_runs_out_and_another_worker_takes_the_row_over(inbox: SqlInbox, engine: Engine,
                                                                lease_clock: LeaseClock):
    inbox.receive([received(1, 111), received(2, 111)])
    [mine] = inbox.claim("w1", LEASE)
    assert inbox.lease_owners() == {"w1"}

    lease_clock.advance(seconds=29)
    inbox.renew("w1", LEASE)  # still working: the lease now runs to t0 + 59 s
    lease_clock.advance(seconds=29)
    assert inbox.claim("w2", LEASE) == [], "a renewed lease was taken over"

    lease_clock.advance(seconds=2)  # w1 died: its lease ran out at t0 + 59 s
    assert inbox.lease_owners() == set()
    [taken] = inbox.claim("w2", LEASE)
    assert (taken.id, taken.attempts) == (mine.id, 2)
    assert inbox.lease_owners() == {"w2"}
    inbox.renew("w1", LEASE)  # the old owner's renewal no longer reaches the row
    assert inbox_rows(engine)[1].lease_owner == "w2"

    # A process known to be gone: its leases are freed at once, not when they run out.
    inbox.release({"w2"})
    assert inbox.lease_owners() == set()
    [freed] = inbox.claim("w3", LEASE)
    assert (freed.id, freed.attempts) == (mine.id, 3)
    inbox.release(set())  # nothing to free: no statement, no error


def test_done_clears_the_raw_update(inbox: SqlInbox, engine: Engine, lease_clock: LeaseClock):
    inbox.receive([received(1, 111, "Jan Peeters"), received(2, 112)])
    first, second = inbox.claim("w1", LEASE)
    lease_clock.advance(seconds=3)
    inbox.done(first.id)
    inbox.done(second.id, "failed", "ValueError: " + "x" * 500)
    rows = inbox_rows(engine)
    assert rows[1].raw is None, "the candidate's words outlived their handling"
    assert (rows[1].status, rows[1].lease_owner, rows[1].lease_until, rows[1].error) == (
        "done", None, None, None)
    assert naive_utc(rows[1].handled_at) == naive_utc(T0 + timedelta(seconds=3))
    assert rows[2].raw is None and rows[2].status == "failed"
    assert rows[2].error.startswith("ValueError") and len(rows[2].error) == 200
    assert inbox.claim("w1", LEASE) == []
    assert inbox.counts() == {"done": 1, "failed": 1}


def test_quarantine_keeps_the_raw_update_and_queues_the_notice_with_it(
        inbox: SqlInbox, engine: Engine):
    update = received(1, 111, "iets onleesbaars")
    inbox.receive([update, received(2, 111)])
    [item] = inbox.claim("w1", LEASE)
    notice = [{"text": "Dat bericht kon ik niet lezen.", "choices": []}]
    inbox.quarantine(item.id, "ValueError", ("111", notice))

    row = inbox_rows(engine)[1]
    assert (row.status, row.error, row.lease_owner) == ("quarantined", "ValueError", None)
    assert opened(engine, row.raw) == update.raw, "the operator needs the raw update"
    [queued] = outbox_rows(engine)
    assert (queued.chat_key, queued.kind, queued.sent_at) == ("111", "message", None)
    assert queued.payload == {"chat_id": "111", "messages": notice}
    # Never retried, and it no longer holds back the user's next update.
    assert claimed_ids(inbox.claim("w1", LEASE)) == [2]
    # The operator's view: ids, time, error and size — never the content.
    [(update_id, _received_at, error, size)] = inbox.quarantined()
    assert (update_id, error) == (1, "ValueError") and size > 0
    assert "onleesbaars" not in repr(inbox.quarantined())


def test_quarantine_and_its_notice_commit_together(inbox: SqlInbox, engine: Engine,
                                                   monkeypatch: pytest.MonkeyPatch):
    inbox.receive([received(1, 111)])
    [item] = inbox.claim("w1", LEASE)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the notice could not be written")

    monkeypatch.setattr(inbox_module, "insert_messages", broken)
    with pytest.raises(RuntimeError):
        inbox.quarantine(item.id, "ValueError", ("111", [{"text": "x", "choices": []}]))
    row = inbox_rows(engine)[1]
    assert (row.status, row.lease_owner) == ("pending", "w1"), "quarantined without its notice"
    assert outbox_rows(engine) == []
    # Without a chat to tell (a channel post, a group): quarantined, nothing queued.
    monkeypatch.undo()
    inbox.quarantine(item.id, "ValueError")
    assert inbox_rows(engine)[1].status == "quarantined"
    assert outbox_rows(engine) == []


def test_prune_forgets_handled_rows_then_quarantined_ones_never_pending(
        inbox: SqlInbox, lease_clock: LeaseClock):
    inbox.receive([received(1, 1), received(2, 2), received(3, 3), received(4, 4)])
    done, failed, quarantined, _pending = inbox.claim("w1", LEASE)
    inbox.done(done.id)
    inbox.done(failed.id, "failed", "ValueError")
    inbox.quarantine(quarantined.id, "ValueError")
    assert inbox.counts() == {"done": 1, "failed": 1, "quarantined": 1, "pending": 1}

    assert inbox.prune(handled_before=T0, quarantined_before=T0) == 0  # not older than T0
    lease_clock.advance(days=3)
    assert inbox.prune(handled_before=T0 + timedelta(seconds=1), quarantined_before=T0) == 2
    assert inbox.counts() == {"quarantined": 1, "pending": 1}
    assert inbox.prune(handled_before=lease_clock.now,
                       quarantined_before=T0 + timedelta(seconds=1)) == 1
    assert inbox.counts() == {"pending": 1}
    assert inbox.prune(handled_before=lease_clock.now, quarantined_before=lease_clock.now) == 0
    assert inbox.counts() == {"pending": 1}


def test_counts_by_status(inbox: SqlInbox):
    assert inbox.counts() == {}
    inbox.receive([received(n, n) for n in range(1, 6)])
    items = inbox.claim("w1", LEASE)
    inbox.done(items[0].id)
    inbox.done(items[1].id)
    inbox.done(items[2].id, "failed", "ValueError")
    inbox.quarantine(items[3].id, "KeyError")
    assert inbox.counts() == {"pending": 1, "done": 2, "failed": 1, "quarantined": 1}


def test_inbox_channels_are_kept_apart(engine: Engine, lease_clock: LeaseClock):
    telegram = SqlInbox(engine, lease_clock=lease_clock)
    other = SqlInbox(engine, channel="other", lease_clock=lease_clock)
    assert telegram.receive([received(1, 111)]) == 1
    assert other.receive([received(1, 111)]) == 1  # the same id on another channel is another
    assert claimed_ids(telegram.claim("w1", LEASE)) == [1]
    assert claimed_ids(other.claim("w1", LEASE)) == [1], "one channel's row blocked the other's"


# --------------------------------------------------------------------------- outbox


def message(text: str) -> list[dict[str, Any]]:
    return [{"text": text, "choices": []}]


def texts(items: list[Any]) -> list[str]:
    return [item.payload["messages"][0]["text"] for item in items]


def test_outbox_claims_one_row_per_chat_in_order(outbox: SqlOutbox):
    for chat, text in (("111", "a1"), ("112", "b1"), ("111", "a2"), ("111", "a3"),
                       ("112", "b2")):
        outbox.queue(chat, message(text), T0)
    first = outbox.claim("s1", T0, LEASE)
    assert texts(first) == ["a1", "b1"]
    assert [(item.kind, item.chat_key, item.attempts) for item in first] == [
        ("message", "111", 0), ("message", "112", 0)]
    assert outbox.claim("s2", T0, LEASE) == [], "a chat's next message overtook the one in hand"

    outbox.sent(first[0].id, T0)
    assert texts(outbox.claim("s2", T0, LEASE)) == ["a2"]
    outbox.sent(first[1].id, T0)
    assert texts(outbox.claim("s2", T0, LEASE)) == ["b2"]
    assert outbox.claim("s2", T0, LEASE) == []


def test_outbox_skip_keys_leaves_the_recruiters_rows_waiting(outbox: SqlOutbox):
    outbox.queue(RECRUITERS, message("notification"), T0)
    outbox.queue("111", message("reply"), T0)
    assert texts(outbox.claim("s1", T0, LEASE, skip_keys=(RECRUITERS,))) == ["reply"]
    assert outbox.claim("s1", T0, LEASE, skip_keys=(RECRUITERS,)) == []
    assert texts(outbox.claim("s1", T0, LEASE)) == ["notification"]


def test_outbox_retry_waits_for_retry_at_on_the_product_clock(outbox: SqlOutbox, engine: Engine,
                                                              lease_clock: LeaseClock):
    outbox.queue("111", message("first"), T0)
    outbox.queue("111", message("second"), T0)
    outbox.queue("112", message("other chat"), T0)
    first, other = outbox.claim("s1", T0, LEASE)
    outbox.failed(first.id, "RetryAfter", T0 + timedelta(seconds=7))
    outbox.sent(other.id, T0)
    # The lease clock (wall time) moving on changes nothing: `due` is the product's time.
    lease_clock.advance(hours=1)
    assert outbox.claim("s1", T0 + timedelta(seconds=6), LEASE) == [], "retried too early"
    [again] = outbox.claim("s1", T0 + timedelta(seconds=7), LEASE)
    assert (texts([again]), again.attempts) == (["first"], 1)
    [row] = [r for r in outbox_rows(engine) if r.id == first.id]
    assert row.last_error.endswith("RetryAfter")
    outbox.sent(again.id, T0 + timedelta(seconds=7))
    assert texts(outbox.claim("s1", T0 + timedelta(seconds=7), LEASE)) == ["second"]


def test_outbox_rows_due_later_wait_for_their_time(engine: Engine, outbox: SqlOutbox):
    outbox.queue("111", message("later"), T0 + timedelta(minutes=5))
    assert outbox.claim("s1", T0, LEASE) == []
    assert texts(outbox.claim("s1", T0 + timedelta(minutes=5), LEASE)) == ["later"]


def test_outbox_progress_survives_a_lost_lease(outbox: SqlOutbox, lease_clock: LeaseClock):
    outbox.queue("111", [{"text": "one", "choices": []}, {"text": "two", "choices": []}], T0)
    [item] = outbox.claim("s1", T0, LEASE)
    outbox.progress(item.id, {**item.payload, "parts_sent": 1})
    lease_clock.advance(seconds=31)  # s1 died after the first part
    [resumed] = outbox.claim("s2", T0, LEASE)
    assert resumed.id == item.id and resumed.payload["parts_sent"] == 1
    assert resumed.attempts == 0  # a lost lease is not a failed attempt


def test_outbox_sent_replaces_the_payload_with_what_is_kept(outbox: SqlOutbox, engine: Engine):
    outbox.queue("111", message("personal words"), T0)
    outbox.queue("112", message("kept as it was"), T0)
    first, second = outbox.claim("s1", T0, LEASE)
    outbox.failed(first.id, "NetworkError", T0)  # an earlier failure leaves its error...
    [first] = outbox.claim("s1", T0, LEASE)
    outbox.sent(first.id, T0 + timedelta(seconds=1), keep={})
    outbox.sent(second.id, T0 + timedelta(seconds=1))
    rows = {row.chat_key: row for row in outbox_rows(engine)}
    assert rows["111"].payload == {}, "a delivered reply's texts were kept"
    assert rows["111"].last_error is None  # ...which delivery clears
    assert rows["111"].lease_owner is None and rows["111"].attempts == 1
    assert naive_utc(rows["111"].sent_at) == naive_utc(T0 + timedelta(seconds=1))
    # Without `keep` the payload stays as stored: sealed (with the day's transient key).
    assert opened(engine, rows["112"].payload) == {"chat_id": "112",
                                                   "messages": message("kept as it was")}
    assert "kept as it was" not in str(rows["112"].payload)
    assert outbox.claim("s1", T0 + timedelta(days=1), LEASE) == []


def test_outbox_dropped_row_unblocks_the_chat(outbox: SqlOutbox, engine: Engine):
    outbox.queue("111", message("to a blocked user"), T0)
    outbox.queue("111", message("after unblocking"), T0)
    [item] = outbox.claim("s1", T0, LEASE)
    outbox.dropped(item.id, T0, "Forbidden")
    [row, _] = outbox_rows(engine)
    assert row.sent_at is not None and row.payload == {}
    assert row.last_error == "dropped: Forbidden"
    assert texts(outbox.claim("s1", T0, LEASE)) == ["after unblocking"]


def test_outbox_release_and_lease_owners(outbox: SqlOutbox, lease_clock: LeaseClock):
    outbox.queue("111", message("a"), T0)
    outbox.queue("112", message("b"), T0)
    [a] = outbox.claim("s1", T0, LEASE, limit=1)
    [b] = outbox.claim("s2", T0, LEASE, limit=1)
    assert outbox.lease_owners() == {"s1", "s2"}
    outbox.release({"s1"})  # s1's process is known to be gone
    assert outbox.lease_owners() == {"s2"}
    [again] = outbox.claim("s3", T0, LEASE)
    assert again.id == a.id
    lease_clock.advance(seconds=20)
    outbox.renew("s2", LEASE)  # b now leased until t0 + 50 s
    lease_clock.advance(seconds=20)  # s3's lease (t0 + 30 s) ran out, s2's did not
    assert outbox.lease_owners() == {"s2"}
    assert [item.id for item in outbox.claim("s4", T0, LEASE)] == [a.id]
    lease_clock.advance(seconds=11)
    assert [item.id for item in outbox.claim("s5", T0, LEASE)] == [b.id]
    assert outbox.lease_owners() == {"s4", "s5"}


def test_queue_for_event_answers_an_update_once(outbox: SqlOutbox, engine: Engine):
    assert outbox.queue_for_event("telegram", 41, "111", message("answer"), T0) is True
    assert outbox.queue_for_event("telegram", 41, "111", message("answer"), T0) is False
    assert outbox.queue_for_event("other", 41, "111", message("answer"), T0) is True
    assert len(outbox_rows(engine)) == 2


# --------------------------------------------------------------------------- job lease


def test_job_lease_one_holder_renewal_and_takeover(engine: Engine, lease_clock: LeaseClock):
    ttl = timedelta(seconds=120)

    def take(owner: str, name: str = "reminders") -> bool:
        return take_job_lease(engine, name, owner, ttl, clock=lease_clock)

    assert take("p1") is True
    assert take("p2") is False, "two processes ran the same job"
    assert take("p2", "retention") is True  # another job is another lease
    lease_clock.advance(seconds=100)
    assert take("p1") is True  # the holder renews: until t0 + 220 s
    lease_clock.advance(seconds=100)
    assert take("p2") is False, "a renewed lease was taken over"
    lease_clock.advance(seconds=21)  # p1 stopped renewing and its lease ran out
    assert take("p2") is True
    assert take("p1") is False
    with engine.connect() as connection:
        row = connection.execute(select(job_lease_table)
                                 .where(job_lease_table.c.name == "reminders")).one()
    assert row.owner == "p2"
    assert naive_utc(row.until) == naive_utc(lease_clock.now + ttl)


def race_for_lease(engine: Engine, name: str, count: int = 6) -> dict[str, bool]:
    barrier = threading.Barrier(count)
    results: dict[str, bool] = {}

    def race(owner: str) -> None:
        barrier.wait()
        results[owner] = take_job_lease(engine, name, owner, timedelta(minutes=5))

    threads = [threading.Thread(target=race, args=(f"p{n}",)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == count
    return results


def test_job_lease_first_take_races_to_one_winner(engine: Engine):
    """Two processes start at once on a database without the lease row: both look, find no
    row, and insert; exactly one may win."""
    both_looked = threading.Barrier(2)

    def pause_after_looking(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "job_lease" in statement:
            both_looked.wait(timeout=10)  # the other process looks too before anyone inserts

    # SQLite's writers queue on one lock per engine (no interleaving to force there).
    if engine.dialect.name == "postgresql":
        event.listen(engine, "after_cursor_execute", pause_after_looking)
    try:
        results = race_for_lease(engine, "housekeeping", count=2)
    finally:
        if event.contains(engine, "after_cursor_execute", pause_after_looking):
            event.remove(engine, "after_cursor_execute", pause_after_looking)
    assert sum(results.values()) == 1, f"both processes took the new job: {results}"
    assert take_job_lease(engine, "housekeeping", "p2", timedelta(minutes=5)) is False


def test_job_lease_takeover_of_an_expired_lease_races_to_one_winner(engine: Engine):
    long_ago = lambda: datetime(2000, 1, 1, tzinfo=UTC)  # noqa: E731
    assert take_job_lease(engine, "reminders", "dead", timedelta(minutes=1), clock=long_ago)
    results = race_for_lease(engine, "reminders")
    assert sum(results.values()) == 1, f"several processes took the job over: {results}"


# --------------------------------------------------------------------------- concurrency


def run_threads(count: int, work: Any) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def runner(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=runner, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    if errors:
        raise errors[0]


def test_simultaneous_claims_never_take_the_same_row(engine: Engine):
    inbox, outbox = SqlInbox(engine), SqlOutbox(engine)
    inbox.receive([received(n, n) for n in range(1, 201)])  # 200 users, one update each
    for n in range(1, 201):
        outbox.queue(str(n), message(f"m{n}"), T0)
    claims: dict[str, list[int]] = {}

    def claim(index: int) -> None:
        claims[f"in{index}"] = [item.id for item in inbox.claim(f"w{index}", LEASE, limit=30)]
        claims[f"out{index}"] = [item.id for item in
                                 outbox.claim(f"w{index}", T0, LEASE, limit=30)]

    run_threads(4, claim)
    for side in ("in", "out"):
        taken = [row for name, rows in claims.items() if name.startswith(side) for row in rows]
        assert len(taken) == 120, claims
        assert len(set(taken)) == len(taken), f"two workers claimed the same {side}box row"


def drain_in_threads(count: int, claim: Any, finish: Any, remaining: Any,
                     deadline: float = 45.0) -> list[tuple[str, int, int]]:
    """`count` threads loop claim -> record -> finish until nothing remains; returns the
    (key, row, thread) records in the order the rows were handled."""
    handled: list[tuple[str, int, int]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + deadline

    def work(index: int) -> None:
        while time.monotonic() < stop_at:
            items = claim(index)
            if not items:
                if remaining() == 0:
                    return
                continue  # another thread holds the rows that are left
            for key, row, item_id in items:
                with lock:
                    handled.append((key, row, index))
                finish(item_id)
        raise AssertionError("the rows were not drained in time")

    run_threads(count, work)
    return handled


def assert_each_once_in_order(handled: list[tuple[str, int, int]], expected: dict[str, list[int]]):
    rows = [row for _, row, _ in handled]
    assert len(rows) == len(set(rows)), "a row was handled twice"
    per_key: dict[str, list[int]] = defaultdict(list)
    for key, row, _ in handled:
        per_key[key].append(row)
    assert dict(per_key) == expected, "a key's rows were handled out of order (or lost)"


def test_inbox_workers_in_threads_handle_each_update_once_in_order_per_user(engine: Engine):
    inbox = SqlInbox(engine)
    updates = [received(n, 1000 + n % 20, f"text {n}") for n in range(1, 201)]  # 20 users
    assert inbox.receive(updates) == 200
    expected: dict[str, list[int]] = defaultdict(list)
    for update in updates:
        expected[update.key].append(update.update_id)

    handled = drain_in_threads(
        4,
        claim=lambda index: [(item.key, item.update_id, item.id)
                             for item in inbox.claim(f"w{index}", timedelta(minutes=5), limit=7)],
        finish=inbox.done,
        remaining=lambda: inbox.counts().get("pending", 0))
    assert_each_once_in_order(handled, dict(expected))
    assert len({thread for _, _, thread in handled}) >= 2, "no concurrency happened"
    assert inbox.counts() == {"done": 200}


def test_outbox_senders_in_threads_send_each_row_once_in_order_per_chat(engine: Engine):
    outbox = SqlOutbox(engine)
    expected: dict[str, list[int]] = defaultdict(list)
    for n in range(200):
        chat = str(2000 + n % 20)
        outbox.queue(chat, message(f"m{n}"), T0)
        expected[chat].append(n)

    def claim(index: int) -> list[tuple[str, int, int]]:
        items = outbox.claim(f"s{index}", T0, timedelta(minutes=5), limit=7)
        return [(item.chat_key, int(texts([item])[0][1:]), item.id) for item in items]

    def unsent() -> int:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(outbox_table)
                                      .where(outbox_table.c.sent_at.is_(None))).scalar_one()

    handled = drain_in_threads(4, claim, finish=lambda item_id: outbox.sent(item_id, T0),
                               remaining=unsent)
    assert_each_once_in_order(handled, dict(expected))
    assert len({thread for _, _, thread in handled}) >= 2, "no concurrency happened"


def test_a_lease_holder_is_gone_only_when_provably_dead_here():
    import os
    import subprocess
    import sys

    from bot.runtime import gone, process_name

    me = process_name()
    host, namespace, pid, _ = me.split(":")
    assert not gone(me, me)
    assert gone(f"{host}:{namespace}:{pid}:previous", me)  # our pid, an earlier incarnation
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert gone(f"{host}:{namespace}:{dead}:abcd1234", me)
    assert not gone(f"{host}:{namespace}:{os.getppid()}:abcd1234", me)  # alive
    assert not gone(f"otherhost:{namespace}:{dead}:abcd1234", me)  # cannot tell there
    assert not gone(f"{host}:999999:{dead}:abcd1234", me)  # another container's pids
    assert not gone("garbage", me)


def test_outbox_forgets_rows_sent_before_a_moment(outbox: SqlOutbox, engine: Engine):
    outbox.queue("111", message("long ago"), T0)
    outbox.queue("112", message("waiting"), T0)
    first, _second = outbox.claim("s1", T0, LEASE)
    outbox.sent(first.id, T0, keep={})
    assert outbox.prune(T0 + timedelta(days=2)) == 1
    assert [row.chat_key for row in outbox_rows(engine)] == ["112"]  # unsent rows stay
