"""The outbox: every message the bot sends, written with the change that caused it.

Rows are added inside a candidate's unit of work (`SqlUnitOfWork.add_outbox`), so a reply
exists exactly when its answer does. Senders `claim` rows under a lease: only the oldest unsent
row of a chat (`chat_key`) and only while nobody holds it, so a chat's messages leave in order
and one worker at a time sends them; on PostgreSQL `FOR UPDATE SKIP LOCKED` keeps two claims
apart. A row is sent part by part and its progress saved after each part, so a retry resumes
where it stopped instead of repeating what already went out.

A reply to a candidate is sealed with their key (`subject`); it is opened when claimed and its
progress sealed again. Once delivered, only ids stay, unsealed.

Two clocks: `due` is the product's clock (a notification may wait for an album's last page);
leases run on the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, bindparam, delete, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.crypto import KeyGone, Keyring, process_keyring
from storage.database import is_postgresql
from storage.dossier_repository import MAX_ERROR_LENGTH, write_transaction
from storage.leases import lease_owners, release_leases
from storage.subject_keys import cipher_of, ciphers_of
from storage.tables import RECRUITERS as RECRUITERS  # the recruiters' chat_key, re-exported
from storage.tables import applied_event_table, outbox_table

Clock = Callable[[], datetime]
_O = outbox_table.c


def wall_clock() -> datetime:
    return datetime.now(UTC)


class OutboxItem(NamedTuple):
    id: int
    kind: str
    chat_key: str
    dossier_id: int | None
    payload: dict[str, Any]
    attempts: int  # failed attempts so far
    created_at: datetime | None = None  # when it was queued (the metrics' lag)


def insert_messages(connection: Connection, chat_id: str, messages: list[dict[str, Any]],
                    now: datetime, keyring: Keyring | None = None) -> None:
    """Queue messages (`flows.events.outgoing` form) to one chat, in the caller's transaction.

    With a keyring they are sealed with the day's transient key (a recruiter's /dossier or
    /export answer holds candidates' data, and no one person's key fits a list of them): once
    sent the row keeps nothing, and the key is forgotten two days later, so no copy of the
    text stays readable anywhere. Messages about one dossier name it on the row, so erasing
    its candidate deletes them while they wait."""
    payload: Any = {"chat_id": chat_id, "messages": messages}
    subject = None
    if keyring is not None:
        subject = f"transient:{now.astimezone(UTC):%Y-%m-%d}"
        cipher = cipher_of(connection, keyring, subject, create=True, lock=True)
        assert cipher is not None
        payload = cipher.seal_json(payload)
    about = {m.get("dossier_id") for m in messages}
    connection.execute(insert(outbox_table).values(
        kind="message", chat_key=chat_id,
        dossier_id=next(iter(about)) if len(about) == 1 else None,
        payload=payload, subject=subject, created_at=now.astimezone(UTC),
        next_attempt_at=now.astimezone(UTC), attempts=0))


# Built once: a statement built per call costs more than running it on SQLite.
_SENT = (update(outbox_table).where(_O.id == bindparam("row_id"))
         .values(sent_at=bindparam("at"), lease_owner=None, lease_until=None, last_error=None))
_SENT_KEEPING = _SENT.values(payload=bindparam("keep", type_=_O.payload.type), subject=None)


class SqlOutbox:
    def __init__(self, engine: Engine, lease_clock: Clock = wall_clock,
                 keyring: Keyring | None = None) -> None:
        self._engine = engine
        self._keyring = keyring or process_keyring()
        self._clock = lease_clock
        self._postgresql = is_postgresql(engine)
        insert_ = pg_insert if self._postgresql else sqlite_insert
        self._insert_event = insert_(applied_event_table).on_conflict_do_nothing(
            index_elements=["channel", "event_id"])
        # Built once: the oldest unsent row of each chat, due, with no live lease.
        o, p = outbox_table.alias("o"), outbox_table.alias("p")
        now = bindparam("now", type_=_O.created_at.type)
        earlier = (select(p.c.id).where(p.c.chat_key == o.c.chat_key, p.c.sent_at.is_(None),
                                        p.c.id < o.c.id).exists())
        self._claimable = (
            select(o.c.id, o.c.kind, o.c.chat_key, o.c.dossier_id, o.c.payload, o.c.attempts,
                   o.c.subject, o.c.created_at)
            .where(o.c.sent_at.is_(None),
                   o.c.next_attempt_at <= bindparam("due", type_=_O.created_at.type),
                   or_(o.c.lease_until.is_(None), o.c.lease_until < now), ~earlier,
                   o.c.chat_key.not_in(bindparam("skip", expanding=True)))
            .order_by(o.c.next_attempt_at, o.c.id).limit(bindparam("limit")))
        self._claim = (self._claimable.with_for_update(skip_locked=True, of=o)
                       if self._postgresql else self._claimable)

    def claim(self, owner: str, due: datetime, lease: timedelta, limit: int = 64,
              skip_keys: tuple[str, ...] = ()) -> list[OutboxItem]:
        """Lease up to `limit` rows, each the oldest unsent row of its chat, due at `due`."""
        params = {"now": self._clock(), "due": due.astimezone(UTC), "limit": limit,
                  "skip": list(skip_keys) or [""]}
        # Most polls find nothing: look without taking the write lock first.
        with self._engine.connect() as connection:
            if connection.execute(self._claimable, {**params, "limit": 1}).first() is None:
                return []
        with write_transaction(self._engine) as connection:
            rows = connection.execute(self._claim, params).all()
            if not rows:
                return []
            connection.execute(update(outbox_table).where(_O.id.in_([r.id for r in rows]))
                               .values(lease_owner=owner, lease_until=params["now"] + lease))
            ciphers = ciphers_of(connection, self._keyring, (r.subject for r in rows))
        return [OutboxItem(r.id, r.kind, r.chat_key, r.dossier_id,
                           self._opened(r.payload, ciphers.get(r.subject or "")), r.attempts,
                           r.created_at)
                for r in rows]

    @staticmethod
    def _opened(payload: Any, cipher: Any) -> dict[str, Any]:
        if not isinstance(payload, str):
            return dict(payload or {})
        try:
            # Its candidate was erased meanwhile: nothing to send (an empty message list).
            return dict(cipher.open_json(payload)) if cipher is not None else {}
        except KeyGone:
            return {}

    def queue(self, chat_id: str, messages: list[dict[str, Any]], now: datetime) -> None:
        """Queue messages that answer no change of their own (a notice), in a transaction."""
        with write_transaction(self._engine) as connection:
            insert_messages(connection, chat_id, messages, now, self._keyring)

    def queue_for_event(self, channel: str, event_id: int, chat_id: str,
                        messages: list[dict[str, Any]], now: datetime) -> bool:
        """Queue the answer to one update exactly once: recorded as applied and queued in one
        transaction. False (nothing queued) when that update was answered before."""
        statement = (self._insert_event.values(channel=channel, event_id=event_id,
                                               at=now.astimezone(UTC))
                     .returning(applied_event_table.c.event_id))
        with write_transaction(self._engine) as connection:
            if connection.execute(statement).first() is None:
                return False
            insert_messages(connection, chat_id, messages, now, self._keyring)
            return True

    def renew(self, owner: str, lease: timedelta) -> None:
        with write_transaction(self._engine) as connection:
            connection.execute(update(outbox_table)
                               .where(_O.lease_owner == owner, _O.sent_at.is_(None))
                               .values(lease_until=self._clock() + lease))

    def lease_owners(self) -> set[str]:
        return lease_owners(self._engine, outbox_table, self._clock())

    def release(self, owners: set[str]) -> None:
        release_leases(self._engine, outbox_table, owners)

    def progress(self, item_id: int, payload: dict[str, Any]) -> None:
        """Save how far a row got (parts sent), so a retry resumes and never repeats."""
        with write_transaction(self._engine) as connection:
            subject = connection.execute(
                select(_O.subject).where(_O.id == item_id)).scalar_one_or_none()
            stored: Any = payload
            if subject is not None:
                cipher = cipher_of(connection, self._keyring, subject)
                stored = cipher.seal_json(payload) if cipher is not None else {}
            connection.execute(update(outbox_table).where(_O.id == item_id).values(payload=stored))

    def sent(self, item_id: int, at: datetime, keep: dict[str, Any] | None = None) -> None:
        """Delivered. The payload is replaced by `keep` (ids only): the texts sent to a candidate
        are personal and need not outlive their delivery."""
        with write_transaction(self._engine) as connection:
            if keep is None:
                connection.execute(_SENT, {"row_id": item_id, "at": at.astimezone(UTC)})
            else:
                connection.execute(_SENT_KEEPING, {"row_id": item_id, "at": at.astimezone(UTC),
                                                   "keep": keep})

    def prune(self, sent_before: datetime) -> int:
        """Forget rows delivered (or dropped) before `sent_before`: once sent they hold ids
        only, but their chat key is a person's Telegram id, kept no longer than needed."""
        with write_transaction(self._engine) as connection:
            return connection.execute(delete(outbox_table).where(
                _O.sent_at.is_not(None), _O.sent_at < sent_before.astimezone(UTC))).rowcount

    def failed(self, item_id: int, error: str, retry_at: datetime) -> None:
        """Count a failed attempt and let go of the row until `retry_at` (product clock)."""
        stamped = f"{self._clock():%Y-%m-%dT%H:%M:%SZ} {error}"[:MAX_ERROR_LENGTH]
        with write_transaction(self._engine) as connection:
            connection.execute(update(outbox_table).where(_O.id == item_id).values(
                attempts=_O.attempts + 1, last_error=stamped, lease_owner=None, lease_until=None,
                next_attempt_at=retry_at.astimezone(UTC)))

    def dropped(self, item_id: int, at: datetime, error: str) -> None:
        """Undeliverable for good (the user blocked the bot, the chat is gone): closed, so the
        chat's later messages are not held up behind it."""
        with write_transaction(self._engine) as connection:
            connection.execute(update(outbox_table).where(_O.id == item_id).values(
                sent_at=at.astimezone(UTC), payload={}, subject=None, lease_owner=None,
                lease_until=None,
                last_error=f"dropped: {error}"[:MAX_ERROR_LENGTH]))
