"""Everything stored about one person: export it (the right of access) and erase it (the right
to erasure, made to hold in copies by deleting their key)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, or_, select, text, union, update
from sqlalchemy.exc import DBAPIError

from flows.ports import Erasure
from storage.crypto import KeyGone, Keyring, SubjectCipher, is_sealed
from storage.subject_keys import cipher_of, erase_key
from storage.tables import (
    answer_table,
    audit_table,
    candidate_table,
    decision_table,
    document_table,
    dossier_table,
    inbox_table,
    outbox_table,
    question_table,
)

_C, _D, _F = candidate_table.c, dossier_table.c, document_table.c
_Q, _QA, _A = question_table.c, answer_table.c, audit_table.c
_O, _I = outbox_table.c, inbox_table.c


SWEEP_BATCH = 5000  # keys forgotten per run at most (the job runs every few hours)


def inbox_key(external_id: str) -> str:
    """The inbox's ordering key of a user's updates (bot/inbox_worker.received)."""
    return f"u:{external_id}"


def _plain(value: Any) -> Any:
    """JSON-ready: datetimes as ISO 8601 in UTC."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if isinstance(value, bytes):
        return None
    return value


def _opened(cipher: SubjectCipher | None, value: Any, as_json: bool) -> Any:
    if not is_sealed(value):
        return value
    if cipher is None:
        return "(sealed with a key that no longer exists)"
    try:
        return cipher.open_json(value) if as_json else cipher.open_text(value)
    except KeyGone:
        return "(sealed with a key that no longer exists)"


def _rows(connection: Connection, query: Any) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in connection.execute(query).mappings()]


def export(connection: Connection, candidate_id: int | None, subject: str,
           cipher: SubjectCipher | None) -> dict[str, Any]:
    """Every row about the candidate, opened, as JSON-ready data."""
    out: dict[str, Any] = {"exported_at": _plain(datetime.now(UTC)), "candidate": None,
                           "applications": [], "messages": [], "updates_received": []}
    if candidate_id is None:
        return out
    candidate = _rows(connection, select(candidate_table).where(_C.id == candidate_id))
    if candidate:
        out["candidate"] = {k: v for k, v in candidate[0].items() if k != "subject"}
    dossiers = _rows(connection, select(dossier_table).where(_D.candidate_id == candidate_id)
                     .order_by(_D.id))
    ids = [d["id"] for d in dossiers]
    for dossier in dossiers:
        dossier["answers"] = _opened(cipher, dossier["answers"], True)
        dossier["verdict"] = _opened(cipher, dossier["verdict"], True)
        documents = _rows(connection, select(document_table).where(_F.dossier_id == dossier["id"])
                          .order_by(_F.id))
        for document in documents:
            document["original_name"] = _opened(cipher, document["original_name"], False)
            document.pop("stored_path", None)  # where on our disk: not about the person
        questions = _rows(connection, select(question_table)
                          .where(_Q.dossier_id == dossier["id"]).order_by(_Q.id))
        for question in questions:
            question["text"] = _opened(cipher, question["text"], False)
            question["answers"] = [
                {**answer, "text": _opened(cipher, answer["text"], False)}
                for answer in _rows(connection, select(answer_table)
                                    .where(_QA.question_id == question["id"]).order_by(_QA.id))]
        dossier["documents"] = documents
        dossier["questions"] = questions
        # The recruiters' decisions as the candidate was told them (who decided: not theirs).
        dossier["decisions"] = _rows(connection, select(
            decision_table.c.kind, decision_table.c.reason, decision_table.c.step,
            decision_table.c.decided_at).where(decision_table.c.dossier_id == dossier["id"])
            .order_by(decision_table.c.id))
        dossier["audit"] = _rows(connection, select(audit_table.c.at, _A.event, _A.detail)
                                 .where(_A.dossier_id == dossier["id"]).order_by(_A.at, _A.id))
        out["applications"].append(dossier)
    messages = _rows(connection, select(_O.id, _O.kind, _O.dossier_id, _O.payload, _O.created_at,
                                        _O.sent_at)
                     .where(or_(_O.subject == subject, _O.dossier_id.in_(ids or [-1])))
                     .order_by(_O.id))
    for message in messages:
        message["payload"] = _opened(cipher, message["payload"], True)
    out["messages"] = messages
    out["updates_received"] = _rows(connection, select(_I.update_id, _I.received_at, _I.status,
                                                       _I.handled_at)
                                    .where(or_(_I.subject == subject,
                                               _I.key == inbox_key(candidate[0]["external_id"])
                                               if candidate else False))
                                    .order_by(_I.id))
    return out


def erase(connection: Connection, keyring: Keyring, channel: str, external_id: str,
          candidate_id: int | None, subject: str, now: datetime,
          handling: int | None = None) -> Erasure:
    """Delete every row about the person and their key, in the caller's transaction.

    `handling` is the update being answered (already read; its raw is cleared once handled),
    so it is not sealed again like the updates still waiting behind it."""
    from storage.recruiter_messages import take_back

    erasure = Erasure()
    old_cipher = cipher_of(connection, keyring, subject)
    ids: list[int] = []
    if candidate_id is not None:
        dossiers = connection.execute(select(_D.id, _D.vacancy_id, _D.status)
                                      .where(_D.candidate_id == candidate_id)
                                      .order_by(_D.id)).all()
        ids = [row.id for row in dossiers]
        erasure.dossiers = [(row.id, row.vacancy_id, row.status) for row in dossiers]
    # Queued messages first: this waits for a sender recording a part it just sent about
    # them (recruiter_messages.record), so that part is among those taken back below.
    chats = {external_id, *connection.execute(
        select(_C.chat_id).where(_C.id == (candidate_id if candidate_id is not None else -1))
        .where(_C.chat_id.is_not(None))).scalars()}
    connection.execute(delete(outbox_table).where(
        or_(_O.subject == subject, _O.dossier_id.in_(ids or [-1]), _O.chat_key.in_(chats))))
    if candidate_id is not None:
        if ids:
            erasure.stored_paths = [path for path in connection.execute(
                select(_F.stored_path).where(_F.dossier_id.in_(ids))).scalars() if path]
            erasure.recent_messages, erasure.older_messages = take_back(connection, ids, now)
            connection.execute(delete(audit_table).where(_A.dossier_id.in_(ids)))
            # Documents, questions and their answers go with the dossiers (ON DELETE CASCADE).
            connection.execute(delete(dossier_table).where(_D.id.in_(ids)))
        connection.execute(delete(candidate_table).where(_C.id == candidate_id))
    handled = or_(_I.subject == subject, _I.key == inbox_key(external_id))
    connection.execute(delete(inbox_table).where(handled, _I.channel == channel,
                                                 _I.status != "pending"))
    if handling is not None:
        # The update being answered stays until it is marked handled (then pruned): it no
        # longer names the person (its ordering key was their Telegram id).
        connection.execute(update(inbox_table).where(
            handled, _I.channel == channel, _I.update_id == handling).values(
            key=f"x:{handling}", subject=None))
    erase_key(connection, keyring, subject)
    # Updates still waiting (the press being handled, a message typed just after) must stay
    # readable: they are sealed again with a fresh key, which outlives nothing else.
    pending = connection.execute(select(_I.id, _I.raw).where(
        handled, _I.channel == channel, _I.status == "pending",
        _I.update_id != (handling if handling is not None else -1))).all()
    if pending:
        fresh = cipher_of(connection, keyring, subject, create=True)
        assert fresh is not None
        for row in pending:
            raw = _opened(old_cipher, row.raw, True) if row.raw is not None else None
            if isinstance(raw, str):  # unreadable already: nothing to keep
                raw = None
            connection.execute(update(inbox_table).where(_I.id == row.id).values(
                raw=fresh.seal_json(raw) if raw is not None else None, subject=subject))
    # Accountability without the person: that an erasure happened, and how much it removed.
    connection.execute(insert(audit_table).values(
        dossier_id=None, at=now, event="candidate_erased",
        detail={"dossiers": len(ids), "files": len(erasure.stored_paths)}))
    return erasure


def compact(engine: Engine, *, full: bool = False) -> None:
    """After an erasure: SQLite folds the WAL (old page versions) into the main file, whose
    freed space secure_delete zeroes; PostgreSQL vacuums the key table so the deleted key's
    tuple is pruned. `full` (the daily job) rewrites PostgreSQL's key table into a new file
    (VACUUM FULL: a short exclusive lock on a small table), so no erased key's bytes stay on
    disk however the pages were reused. Failing here loses nothing: the data are sealed and
    the key is deleted."""
    with contextlib.suppress(DBAPIError):
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        else:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM FULL subject_key" if full else "VACUUM subject_key"))


def sweep_unused_keys(connection: Connection, before: datetime) -> int:
    """Delete keys nothing refers to any more: made for someone's first updates who never
    agreed to the notice, or after an erasure once its last pending update was handled."""
    from storage.tables import subject_key_table

    k = subject_key_table.c
    used = union(select(_C.subject).where(_C.subject.is_not(None)),
                 select(_I.subject).where(_I.subject.is_not(None)),
                 select(_O.subject).where(_O.subject.is_not(None)))
    # Locked first, skipping any a receiving worker holds (FOR SHARE): a key being used for a
    # new update right now is not pulled from under it; one whose update arrives after this
    # lock waits, finds it gone and makes a fresh one.
    unused = list(connection.execute(
        select(k.subject).where(k.created_at < before, k.subject.not_in(used))
        .limit(SWEEP_BATCH).with_for_update(skip_locked=True)).scalars())
    if not unused:
        return 0
    result = connection.execute(delete(subject_key_table).where(
        k.subject.in_(unused), k.subject.not_in(used)))
    return result.rowcount
