"""Group notices: a group is pointed to the private chat at most once per interval.

A candidate who writes to the bot in a group gets one short answer there (apply in a private
chat), but a busy group must not get one per message. The answer is queued in the outbox, the
update recorded as applied and the group's last notice time moved, all in one transaction, so
two workers handling two messages of one group at once answer once, and a restart forgets
nothing. The row holds a hash of the chat id and a time: nothing about who wrote or what.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.database import is_postgresql
from storage.dossier_repository import write_transaction
from storage.outbox import insert_messages
from storage.tables import applied_event_table, group_notice_table

_G = group_notice_table.c


def chat_hash(channel: str, chat_id: int | str) -> str:
    return hashlib.sha256(f"{channel}:{chat_id}".encode()).hexdigest()


class SqlGroupNotices:
    def __init__(self, engine: Engine, channel: str = "telegram",
                 interval: timedelta = timedelta(hours=1)) -> None:
        self._engine = engine
        self._channel = channel
        self.interval = interval
        insert_ = pg_insert if is_postgresql(engine) else sqlite_insert
        self._insert_event = insert_(applied_event_table).on_conflict_do_nothing(
            index_elements=["channel", "event_id"]).returning(applied_event_table.c.event_id)
        self._insert = insert_(group_notice_table)

    def queue_once(self, event_id: int, chat_id: int, messages: list[dict[str, Any]],
                   now: datetime) -> bool:
        """Queue `messages` to the group unless it had a notice within the interval (or this
        update was handled before). True when queued."""
        now = now.astimezone(UTC)
        claim = (self._insert.values(chat_hash=chat_hash(self._channel, chat_id), at=now)
                 .on_conflict_do_update(index_elements=["chat_hash"], set_={"at": now},
                                        where=_G.at <= now - self.interval)
                 .returning(_G.chat_hash))
        with write_transaction(self._engine) as connection:
            applied = connection.execute(self._insert_event.values(
                channel=self._channel, event_id=event_id, at=now)).first()
            if applied is None:
                return False  # a re-delivered update: answered (or not) the first time
            if connection.execute(claim).first() is None:
                return False  # told within the interval
            insert_messages(connection, str(chat_id), messages, now)
            return True

    def prune(self, before: datetime) -> int:
        """Forget notices older than `before` (they no longer hold anything back)."""
        with write_transaction(self._engine) as connection:
            return connection.execute(delete(group_notice_table)
                                      .where(_G.at < before.astimezone(UTC))).rowcount
