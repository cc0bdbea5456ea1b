"""The `subject_key` table: find, create and erase a person's data key inside a transaction.

Creation races (two workers receiving a new person's first updates) end in one key: insert if
absent, then read what is there. A key is never updated in place, only created, re-wrapped by
a master key rotation, or deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.crypto import Keyring, SubjectCipher
from storage.tables import subject_key_table

_K = subject_key_table.c
_KEY = select(_K.wrapped, _K.master).where(_K.subject == bindparam("subject"))
_KEY_LOCKED = _KEY.with_for_update(read=True)


def cipher_of(connection: Connection, keyring: Keyring, subject: str, *,
              create: bool = False, lock: bool = False) -> SubjectCipher | None:
    """The person's cipher; with `create`, a new key when they have none.

    `lock` (PostgreSQL: FOR SHARE) holds the key until the caller commits, for a writer that
    is not under the person's lock (the inbox): an erasure deleting the key waits for it, or
    it waits for the erasure and then makes a fresh key — never seals with a key being
    deleted."""
    row = connection.execute(_KEY_LOCKED if lock else _KEY, {"subject": subject}).first()
    if row is not None:
        return keyring.cipher(row.wrapped, row.master, subject)
    if not create:
        return None
    wrapped, master, cipher = keyring.new_key(subject)
    insert_ = sqlite_insert if connection.dialect.name == "sqlite" else pg_insert
    inserted = connection.execute(
        insert_(subject_key_table)
        .values(subject=subject, wrapped=wrapped, master=master, created_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=["subject"])
        .returning(_K.subject)).first()
    if inserted is not None:
        return cipher
    return cipher_of(connection, keyring, subject, lock=lock)  # another worker made it first


def ciphers_of(connection: Connection, keyring: Keyring,
               subjects: Iterable[str | None]) -> dict[str, SubjectCipher]:
    """The ciphers of several people at once (those whose key still exists)."""
    wanted = {s for s in subjects if s}
    if not wanted:
        return {}
    rows = connection.execute(
        select(_K.subject, _K.wrapped, _K.master).where(_K.subject.in_(wanted)))
    return {row.subject: keyring.cipher(row.wrapped, row.master, row.subject) for row in rows}


def erase_key(connection: Connection, keyring: Keyring, subject: str) -> bool:
    """Delete the person's key: whatever is still sealed with it can no longer be opened."""
    row = connection.execute(
        delete(subject_key_table).where(_K.subject == subject).returning(_K.wrapped)).first()
    if row is None:
        return False
    keyring.forget(row.wrapped, subject)
    return True


def rewrap_all(connection: Connection, keyring: Keyring) -> int:
    """Re-wrap every key not wrapped by the current master key; return how many."""
    rows = connection.execute(select(_K.subject, _K.wrapped, _K.master)
                              .where(_K.master != keyring.current_master)).all()
    for row in rows:
        key = keyring.unwrap_key(row.wrapped, row.master, row.subject)
        connection.execute(update(subject_key_table).where(_K.subject == row.subject)
                           .values(wrapped=keyring.wrap(key, row.subject),
                                   master=keyring.current_master))
    return len(rows)
