"""What the bot posted in the recruiters' chat about each dossier, so that it can take it back.

The outbox sender `record`s every message it puts in the recruiters' chat about a dossier (the
summary, each document, a candidate's question), right after Telegram accepted it. When the
dossier is withdrawn or its candidate erased, `take_back` forgets those rows inside that same
transaction and says which messages the bot may still delete itself — Telegram lets a bot
delete its own messages for 48 hours — and how many are older: those the recruiters are asked
to delete by hand.

`reduce_document` is data reduction: once the recruiters have a criminal-record extract, its
file goes; the document row keeps the facts (kind, size, digest) and when the file went.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select, update

from storage.dossier_repository import write_transaction
from storage.tables import document_table, outbox_table, recruiter_message_table

# Telegram lets a bot delete its messages for 48 hours. The delete happens a little after the
# erasure (the outbox sends it), so what is older than this is left to the recruiters.
DELETABLE_FOR = timedelta(hours=47)

_R = recruiter_message_table.c
_F = document_table.c


def record(engine: Engine, dossier_id: int, chat_id: int, message_id: int,
           sent_at: datetime, outbox_id: int | None = None) -> bool:
    """Remember that message `message_id` in chat `chat_id`, sent at `sent_at`, is about the
    dossier `dossier_id`; False (nothing recorded) when the outbox row it was sent for is gone.

    The row is held (FOR SHARE) while recording: an erasure deletes the outbox rows before it
    collects what to take back, so a message is either recorded before it and taken back by
    it, or found orphaned here — then the sender deletes it at once."""
    with write_transaction(engine) as connection:
        if outbox_id is not None and connection.execute(
                select(outbox_table.c.id).where(outbox_table.c.id == outbox_id)
                .with_for_update(read=True)).first() is None:
            return False
        connection.execute(insert(recruiter_message_table).values(
            dossier_id=dossier_id, chat_id=chat_id, message_id=message_id,
            sent_at=_utc(sent_at)))
    return True


def take_back(connection: Connection, dossier_ids: list[int],
              now: datetime) -> tuple[list[tuple[int, int]], int]:
    """Forget the recruiters' chat messages about these dossiers, in the caller's transaction.

    Returns the (chat id, message id) of those the bot may still delete itself (sent less than
    `DELETABLE_FOR` before `now`), oldest first, and how many are older."""
    if not dossier_ids:
        return [], 0
    rows = connection.execute(
        select(_R.id, _R.chat_id, _R.message_id, _R.sent_at)
        .where(_R.dossier_id.in_(dossier_ids)).order_by(_R.sent_at, _R.id)).all()
    if not rows:
        return [], 0
    cutoff = _utc(now) - DELETABLE_FOR
    recent = [(int(r.chat_id), int(r.message_id)) for r in rows if _loaded(r.sent_at) > cutoff]
    connection.execute(delete(recruiter_message_table)
                       .where(_R.id.in_([r.id for r in rows])))
    return recent, len(rows) - len(recent)


def reduce_document(engine: Engine, document_id: int, now: datetime) -> str | None:
    """Keep the document's facts, drop its file: the row's stored path becomes "" and
    `file_deleted_at` is set. Returns the old stored path, for the caller to delete from disk;
    None when the row is gone or was reduced before."""
    with write_transaction(engine) as connection:
        row = connection.execute(
            select(_F.stored_path).where(_F.id == document_id, _F.file_deleted_at.is_(None))
            .with_for_update()).first()
        if row is None:
            return None
        connection.execute(update(document_table).where(_F.id == document_id)
                           .values(stored_path="", file_deleted_at=_utc(now)))
    return str(row.stored_path) or None


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: pass an aware (UTC) datetime")
    return value.astimezone(UTC)


def _loaded(value: datetime) -> datetime:
    """SQLite returns naive UTC, PostgreSQL the session's zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
