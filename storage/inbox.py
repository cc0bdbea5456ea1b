"""The inbox: every update stored as received, handled from here once, in order per key.

The receiving side (polling or the webhook) calls `receive` and only then tells Telegram the
update arrived, so a crash can no longer lose an update the library had already confirmed.
Workers `claim` rows under a lease: only the oldest pending row of a key (a user) can be
claimed, and only while nobody holds it, so one user's updates are handled in order even by
several processes; on PostgreSQL `FOR UPDATE SKIP LOCKED` keeps two claims from taking the same
row. A worker that dies leaves its lease to run out; then another worker takes the row over.

The raw update is sealed with its sender's key (storage/crypto.py) before it is stored, so an
erasure also makes the copies a backup or an unvacuumed page still holds unreadable.

Leases and retries run on the wall clock (`lease_clock`), never on the product's clock, which
a simulation moves by days.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, bindparam, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage import handoff
from storage.crypto import KeyGone, Keyring, process_keyring
from storage.database import is_postgresql, is_sqlite
from storage.dossier_repository import write_transaction
from storage.leases import lease_owners, release_leases
from storage.outbox import insert_messages
from storage.subject_keys import cipher_of, ciphers_of
from storage.tables import inbox_table

Clock = Callable[[], datetime]
_I = inbox_table.c
_PENDING_OF_KEY = (select(_I.id).where(_I.channel == bindparam("channel"),
                                       _I.status == "pending", _I.key == bindparam("key"))
                   .limit(1))
_OPEN_COUNTS = (select(_I.status, func.count())
                .where(_I.status.in_(("pending", "quarantined", "failed"))).group_by(_I.status))
# Transaction-scoped, in the one-bigint key space (storage/database.py explains the spaces).
_PG_KEY_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")
MAX_ERROR = 200


def wall_clock() -> datetime:
    return datetime.now(UTC)


def digest(raw: dict[str, Any]) -> str:
    """The same update re-delivered has the same digest, whatever the order of its keys."""
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Received(NamedTuple):
    """One update as it arrived: its id, its ordering key, the raw JSON object."""

    update_id: int
    key: str
    raw: dict[str, Any]


class InboxItem(NamedTuple):
    id: int
    update_id: int
    key: str
    raw: dict[str, Any] | None
    attempts: int  # including this one


class SqlInbox:
    def __init__(self, engine: Engine, channel: str = "telegram",
                 lease_clock: Clock = wall_clock, keyring: Keyring | None = None) -> None:
        self._engine = engine
        self._channel = channel
        self._clock = lease_clock
        self._keyring = keyring or process_keyring()
        self._postgresql = is_postgresql(engine)
        insert_ = sqlite_insert if is_sqlite(engine) else pg_insert
        self._insert = insert_(inbox_table).on_conflict_do_nothing(
            index_elements=["channel", "update_id", "digest"])
        # Built once: the oldest pending row of each key, due, with no live lease.
        i, j = inbox_table.alias("i"), inbox_table.alias("j")
        now = bindparam("now", type_=_I.received_at.type)
        earlier = (select(j.c.id).where(j.c.channel == i.c.channel, j.c.key == i.c.key,
                                        j.c.status == "pending", j.c.id < i.c.id).exists())
        self._claimable = (
            select(i.c.id, i.c.update_id, i.c.key, i.c.raw, i.c.attempts, i.c.subject)
            .where(i.c.channel == bindparam("channel"), i.c.status == "pending",
                   i.c.next_attempt_at <= now,
                   or_(i.c.lease_until.is_(None), i.c.lease_until < now), ~earlier)
            .order_by(i.c.id).limit(bindparam("limit")))
        self._claim = (self._claimable.with_for_update(skip_locked=True, of=i)
                       if self._postgresql else self._claimable)

    def receive(self, updates: Iterable[Received]) -> int:
        """Store the updates (one transaction); one already stored is ignored. Returns how many
        were new."""
        return self.receive_and_take(updates)[0]

    def receive_and_take(self, updates: Iterable[Received], owner: str | None = None,
                         lease: timedelta | None = None) -> tuple[int, list[InboxItem]]:
        """Store the updates (one transaction) and, given an `owner`, lease to it at once each
        new row that is the only pending one of its key: the receiving process handles those
        from memory, with no claim query. Returns how many were new, and the rows taken."""
        now = self._clock()
        updates = list(updates)
        if not updates:
            return 0, []
        with write_transaction(self._engine) as connection:
            rows, taken = [], set()
            busy: set[str] = set()  # keys with a pending row (stored, or earlier in the batch)
            for u in updates:
                subject = self.subject(u.key)
                cipher = cipher_of(connection, self._keyring, subject, create=True, lock=True)
                assert cipher is not None
                take = owner is not None and u.key not in busy and not self._pending(
                    connection, u.key)
                busy.add(u.key)
                if take:
                    taken.add(u.update_id)
                rows.append({"channel": self._channel, "update_id": u.update_id,
                             "digest": digest(u.raw), "key": u.key[:64],
                             "raw": cipher.seal_json(u.raw), "subject": subject,
                             "received_at": now, "status": "pending",
                             "attempts": 1 if take else 0, "next_attempt_at": now,
                             "lease_owner": owner if take else None,
                             "lease_until": now + lease if take and lease else None})
            stored = connection.execute(self._insert.returning(_I.id, _I.update_id), rows).all()
        raw = {u.update_id: u for u in updates}
        return len(stored), [InboxItem(r.id, r.update_id, raw[r.update_id].key,
                                       raw[r.update_id].raw, 1)
                             for r in stored if r.update_id in taken]

    def _pending(self, connection: Connection, key: str) -> bool:
        """Whether `key` has a pending row. On PostgreSQL the key is locked first, so that two
        processes receiving the same person's updates at once cannot both take one."""
        if self._postgresql:
            connection.execute(_PG_KEY_LOCK, {"key": f"inbox:{self._channel}:{key}"})
        return connection.execute(_PENDING_OF_KEY, {"channel": self._channel,
                                                    "key": key[:64]}).first() is not None

    def now(self) -> datetime:
        """The lease clock (leases, retries and handling times run on it)."""
        return self._clock()

    def subject(self, key: str) -> str:
        """Whose key seals an update: a user's updates (key "u:<id>") share the key of the
        candidate they are; others get one of their own."""
        kind, _, ident = key.partition(":")
        return self._keyring.subject(self._channel, ident if kind == "u" else key)

    def claim(self, owner: str, lease: timedelta, limit: int = 64) -> list[InboxItem]:
        """Lease up to `limit` rows that may be handled now: each the oldest pending row of its
        key, due, and not leased by a live worker."""
        now = self._clock()
        params = {"channel": self._channel, "now": now, "limit": limit}
        # Most polls find nothing: look without taking the write lock first.
        with self._engine.connect() as connection:
            if connection.execute(self._claimable, {**params, "limit": 1}).first() is None:
                return []
        with write_transaction(self._engine) as connection:
            rows = connection.execute(self._claim, params).all()
            if not rows:
                return []
            connection.execute(
                update(inbox_table).where(_I.id.in_([r.id for r in rows]))
                .values(lease_owner=owner, lease_until=now + lease, attempts=_I.attempts + 1))
            ciphers = ciphers_of(connection, self._keyring, (r.subject for r in rows))
        return [InboxItem(r.id, r.update_id, r.key, self._opened(r.raw, ciphers.get(r.subject)),
                          r.attempts + 1) for r in rows]

    @staticmethod
    def _opened(raw: Any, cipher: Any) -> dict[str, Any] | None:
        if not isinstance(raw, str):
            return raw  # stored before encryption (or cleared)
        if cipher is None:
            return None  # its sender was erased meanwhile: unreadable, by design
        try:
            return cipher.open_json(raw)
        except KeyGone:
            return None

    def renew(self, owner: str, lease: timedelta) -> None:
        """Extend the leases of every row this worker is handling."""
        now = self._clock()
        with write_transaction(self._engine) as connection:
            connection.execute(update(inbox_table)
                               .where(_I.lease_owner == owner, _I.status == "pending")
                               .values(lease_until=now + lease))

    def lease_owners(self) -> set[str]:
        return lease_owners(self._engine, inbox_table, self._clock())

    def release(self, owners: set[str]) -> None:
        release_leases(self._engine, inbox_table, owners)

    def done(self, item_id: int, status: str = "done", error: str | None = None) -> None:
        """Handled (or failed for good): the raw update is no longer needed, and is cleared."""
        with write_transaction(self._engine) as connection:
            connection.execute(handoff.MARK_DONE, {"row_id": item_id, "status": status,
                                       "at": self._clock(),
                                       "error": error[:MAX_ERROR] if error else None})

    def quarantine(self, item_id: int, error: str,
                   notice: tuple[str, list[dict[str, Any]]] | None = None) -> None:
        """Cannot be handled at all: kept, raw included, for the operator; never retried.
        `notice` (chat, messages) is queued in the same transaction."""
        with write_transaction(self._engine) as connection:
            connection.execute(update(inbox_table).where(_I.id == item_id).values(
                status="quarantined", handled_at=self._clock(), lease_owner=None,
                lease_until=None, error=error[:MAX_ERROR]))
            if notice is not None:
                insert_messages(connection, notice[0], notice[1], self._clock())

    def retry(self, item_id: int, after: timedelta, error: str) -> None:
        """Let go of the row and try it again later (it keeps its place in its key's order)."""
        with write_transaction(self._engine) as connection:
            connection.execute(update(inbox_table).where(_I.id == item_id).values(
                next_attempt_at=self._clock() + after, lease_owner=None, lease_until=None,
                error=error[:MAX_ERROR]))

    def prune(self, handled_before: datetime, quarantined_before: datetime) -> int:
        """Forget handled rows (and, later, quarantined ones)."""
        with write_transaction(self._engine) as connection:
            result = connection.execute(delete(inbox_table).where(or_(
                _I.status.in_(("done", "failed")) & (_I.handled_at < handled_before),
                (_I.status == "quarantined") & (_I.handled_at < quarantined_before))))
            return result.rowcount

    def counts(self) -> dict[str, int]:
        """Rows per status, for the operator."""
        with self._engine.connect() as connection:
            rows = connection.execute(select(_I.status, func.count()).group_by(_I.status))
            return {status: count for status, count in rows}

    def open_counts(self) -> dict[str, int]:
        """Rows per status except the handled ones (an index range each, however many were
        handled): for the health check, which must stay cheap under load."""
        with self._engine.connect() as connection:
            rows = connection.execute(_OPEN_COUNTS)
            return {status: count for status, count in rows}

    def quarantined(self, limit: int = 100) -> list[tuple[int, datetime, str | None, int]]:
        """(update_id, received_at, error, size of the raw JSON) — never the content."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(_I.update_id, _I.received_at, _I.error, _I.raw)
                .where(_I.status == "quarantined").order_by(_I.id).limit(limit))
            return [(r.update_id, r.received_at, r.error, len(repr(r.raw))) for r in rows]
