"""Loading and saving candidates, dossiers, documents, notifications and the audit trail.

`SqlDossierStore` implements `flows.ports.DossierStore`. Each engine event runs in one
`SqlUnitOfWork`: one connection, one transaction, committed when the `with` block ends normally
and rolled back when it raises. One candidate's events are serialised:

- PostgreSQL: the transaction first takes `pg_advisory_xact_lock(hashtext('channel:external_id'))`,
  a lock on the candidate's *key* rather than a row, so it also serialises the very first event
  (before the candidate row exists). It is released by COMMIT/ROLLBACK. This needs READ
  COMMITTED (PostgreSQL's default): every later statement sees what the previous holder
  committed.
- SQLite: the transaction starts with `BEGIN IMMEDIATE`, taking the database's single write lock
  up front (other writers wait up to the 5 s busy timeout; readers carry on under WAL).

On top of that, `save_dossier` checks the row's version, so a write based on a dossier read
outside the lock (a reminder job, a recruiter command) fails with `ConcurrentUpdate` instead of
silently overwriting.

The per-event path uses prebuilt SQLAlchemy Core statements on the SQLModel tables, not the ORM
session: a couple of lean statements per event. Everything inside a unit of work is scoped to
its candidate: asking for another candidate's dossier returns nothing, writing one is refused.

Personal fields (answers, verdict, file names, questions and answers, queued replies) are sealed
with the candidate's own key (storage/crypto.py) on the way in and opened on the way out; the
engine only ever sees plain records. Rows written before encryption are read as they are.

Datetimes go in as aware datetimes (converted to UTC; naive ones are refused) and come out as
aware UTC datetimes (SQLite drops the zone; it is re-attached here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from flows.ports import (
    AnswerRecord,
    CandidateRecord,
    ConcurrentUpdate,
    DecisionRecord,
    DocumentRecord,
    DossierRecord,
    Erasure,
    QuestionRecord,
    Sealer,
)
from storage import candidate_data, funnel_queries, handoff
from storage.crypto import KeyGone, Keyring, SubjectCipher, is_sealed, process_keyring
from storage.database import BEGIN_MODE, is_postgresql, is_sqlite, writer_lock
from storage.subject_keys import cipher_of, ciphers_of
from storage.tables import (
    answer_table,
    applied_event_table,
    audit_table,
    candidate_table,
    decision_table,
    document_table,
    dossier_table,
    outbox_table,
    question_table,
    subject_key_table,
)

Clock = Callable[[], datetime]

MAX_ERROR_LENGTH = 2000


def utc_now() -> datetime:
    return datetime.now(UTC)


class PendingMessage(NamedTuple):
    """An outbox row still to send (unpacks as `id, kind, dossier_id, payload, attempts`)."""

    id: int
    kind: str
    dossier_id: int | None
    payload: dict[str, Any]
    attempts: int


class QuestionRef(NamedTuple):
    """Whose question a recruiters' chat message carries: enough to open their unit of work."""

    question_id: int
    dossier_id: int
    channel: str
    external_id: str


@dataclass(frozen=True)
class AuditEntry:
    id: int
    dossier_id: int | None
    at: datetime
    event: str
    detail: dict[str, Any]


# --------------------------------------------------------------------------- statements

READ_CHUNK = 500  # ids in one IN (...) list: well within SQLite's and PostgreSQL's limits

_C = candidate_table.c
_D = dossier_table.c
_F = document_table.c
_O = outbox_table.c
_A = audit_table.c
_Q = question_table.c
_QA = answer_table.c
_DC = decision_table.c

_PG_CANDIDATE_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")

# With their wrapped key, so that a turn reads the candidate and their key in one statement.
_SELECT_CANDIDATE = (
    select(candidate_table, subject_key_table.c.wrapped, subject_key_table.c.master)
    .outerjoin(subject_key_table, subject_key_table.c.subject == _C.subject)
    .where(_C.channel == bindparam("channel"), _C.external_id == bindparam("external_id"))
)
_INSERT_CANDIDATE = insert(candidate_table).returning(_C.id)
_UPDATE_CANDIDATE = (
    update(candidate_table)
    .where(_C.id == bindparam("b_id"))
    .values(
        chat_id=bindparam("v_chat_id"),
        language=bindparam("v_language"),
        active_dossier_id=bindparam("v_active_dossier_id"),
    )
)
_DELETE_CANDIDATE = delete(candidate_table).where(_C.id == bindparam("b_id"))
_CLEAR_ACTIVE_DOSSIER = (
    update(candidate_table)
    .where(_C.active_dossier_id == bindparam("b_dossier_id"))
    .values(active_dossier_id=None)
)

_SELECT_DOSSIER = select(dossier_table).where(
    _D.id == bindparam("id"), _D.candidate_id == bindparam("candidate_id")
)
_SELECT_DOSSIER_FOR = select(dossier_table).where(
    _D.candidate_id == bindparam("candidate_id"), _D.vacancy_id == bindparam("vacancy_id")
)
_SELECT_DOSSIERS = (
    select(dossier_table)
    .where(_D.candidate_id == bindparam("candidate_id"))
    .order_by(_D.created_at, _D.id)
)
_INSERT_DOSSIER = insert(dossier_table).returning(_D.id)
_MUTABLE_DOSSIER_COLUMNS = (
    "state",
    "status",
    "answers",
    "verdict",
    "language",
    "consented_at",
    "privacy_version",
    "awaiting_document",
    "updated_at",
    "submitted_at",
    "reminders_sent",
    "awaiting_question",
    "decision",
    "decision_version",
)
_UPDATE_DOSSIER = (
    update(dossier_table)
    .where(
        _D.id == bindparam("b_id"),
        _D.candidate_id == bindparam("b_candidate_id"),
        _D.version == bindparam("b_version"),
    )
    .values(
        {name: bindparam(f"v_{name}") for name in _MUTABLE_DOSSIER_COLUMNS}
        | {"version": _D.version + 1}
    )
)
_DELETE_DOSSIER = delete(dossier_table).where(
    _D.id == bindparam("b_id"), _D.candidate_id == bindparam("b_candidate_id")
)
_OWNED_DOSSIER_IDS = select(_D.id).where(
    _D.id == bindparam("dossier_id"), _D.candidate_id == bindparam("candidate_id")
)

_SELECT_DOCUMENTS = (
    select(document_table)
    .where(_F.dossier_id.in_(_OWNED_DOSSIER_IDS))
    .order_by(_F.uploaded_at, _F.id)
)
_SELECT_DOCUMENT_PATHS = select(_F.stored_path).where(
    _F.dossier_id.in_(_OWNED_DOSSIER_IDS)
)
_INSERT_DOCUMENT = insert(document_table).returning(_F.id)
_REMOVE_DOCUMENTS = (
    delete(document_table)
    .where(
        _F.dossier_id.in_(_OWNED_DOSSIER_IDS),
        _F.kind == bindparam("kind"),
    )
    .returning(_F.stored_path)
)

# Questions belong to the candidate's dossiers: `candidate_id` scopes every statement.
_OWN_DOSSIERS = select(_D.id).where(_D.candidate_id == bindparam("candidate_id"))
_SELECT_QUESTION = select(question_table).where(
    _Q.id == bindparam("question_id"), _Q.dossier_id.in_(_OWN_DOSSIERS)
)
_SELECT_DRAFT_QUESTION = (
    select(question_table)
    .where(_Q.dossier_id.in_(_OWNED_DOSSIER_IDS), _Q.status == "draft")
    .order_by(_Q.id.desc())
    .limit(1)
)
_INSERT_QUESTION = insert(question_table).returning(_Q.id)
_UPDATE_QUESTION = (
    update(question_table)
    .where(_Q.id == bindparam("b_id"), _Q.dossier_id.in_(_OWN_DOSSIERS))
    .values(status=bindparam("v_status"), text=bindparam("v_text"), step=bindparam("v_step"),
            include_answers=bindparam("v_include_answers"), asked_at=bindparam("v_asked_at"))
)
_DELETE_QUESTION = delete(question_table).where(
    _Q.id == bindparam("question_id"), _Q.dossier_id.in_(_OWN_DOSSIERS)
)
_ERASE_QUESTIONS = (
    delete(question_table)
    .where(_Q.dossier_id.in_(_OWNED_DOSSIER_IDS))
    .returning(_Q.status)
)
_INSERT_ANSWER = insert(answer_table).returning(_QA.id)

_SELECT_DECISIONS = (
    select(decision_table)
    .where(_DC.dossier_id.in_(_OWNED_DOSSIER_IDS))
    .order_by(_DC.id)
)
_INSERT_DECISION = insert(decision_table).returning(_DC.id)

_INSERT_OUTBOX = insert(outbox_table)
_CLAIM_EVENT_SQLITE, _CLAIM_EVENT_PG = (
    insert_(applied_event_table).on_conflict_do_nothing(index_elements=["channel", "event_id"])
    .returning(applied_event_table.c.event_id) for insert_ in (sqlite_insert, pg_insert))
_INSERT_OUTBOX_LEASED = insert(outbox_table).returning(outbox_table.c.id)
_INSERT_AUDIT = insert(audit_table)


def _with_keys(query: Any) -> Any:
    """A dossier query joined to its candidate's wrapped key, in the same statement (no list
    of ids: a list of every candidate would exceed PostgreSQL's parameter limit)."""
    return (query.add_columns(subject_key_table.c.wrapped.label("k_wrapped"),
                              subject_key_table.c.master.label("k_master"),
                              subject_key_table.c.subject.label("k_subject"))
            .join(candidate_table, _C.id == _D.candidate_id)
            .outerjoin(subject_key_table, subject_key_table.c.subject == _C.subject))


# --------------------------------------------------------------------------- conversions


def _to_utc(value: datetime) -> datetime:
    """An aware datetime in UTC, for writing. SQLite would keep the wall time and drop the zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: pass an aware (UTC) datetime")
    return value.astimezone(UTC)


def _to_utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _to_utc(value)


def _loaded(value: datetime) -> datetime:
    """An aware UTC datetime from a row: SQLite returns naive UTC, PostgreSQL the session zone."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _loaded_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _loaded(value)


def _open_json(cipher: SubjectCipher | None, value: Any) -> Any:
    if not is_sealed(value):
        return value
    if cipher is None:
        raise KeyGone("the candidate's key is gone")
    return cipher.open_json(value)


def _open_text(cipher: SubjectCipher | None, value: str) -> str:
    if not is_sealed(value):
        return value
    if cipher is None:
        raise KeyGone("the candidate's key is gone")
    return cipher.open_text(value)


def _seal_json(cipher: SubjectCipher | None, value: Any) -> Any:
    return value if cipher is None or value is None else cipher.seal_json(value)


def _seal_text(cipher: SubjectCipher | None, value: str) -> str:
    return value if cipher is None else cipher.seal_text(value)


def _candidate_record(row: Mapping[str, Any]) -> CandidateRecord:
    return CandidateRecord(
        id=row["id"],
        channel=row["channel"],
        external_id=row["external_id"],
        chat_id=row["chat_id"],
        language=row["language"],
        created_at=_loaded(row["created_at"]),
        active_dossier_id=row["active_dossier_id"],
    )


def _dossier_record(row: Mapping[str, Any], cipher: SubjectCipher | None) -> DossierRecord:
    return DossierRecord(
        id=row["id"],
        candidate_id=row["candidate_id"],
        vacancy_id=row["vacancy_id"],
        state=row["state"],
        status=row["status"],
        answers=_open_json(cipher, row["answers"]),
        language=row["language"],
        consented_at=_loaded(row["consented_at"]),
        privacy_version=row["privacy_version"],
        created_at=_loaded(row["created_at"]),
        updated_at=_loaded(row["updated_at"]),
        version=row["version"],
        verdict=_open_json(cipher, row["verdict"]),
        awaiting_document=row["awaiting_document"],
        submitted_at=_loaded_or_none(row["submitted_at"]),
        reminders_sent=list(row["reminders_sent"]),
        awaiting_question=bool(row["awaiting_question"]),
        decision=row["decision"],
        decision_version=row["decision_version"],
    )


def _document_record(row: Mapping[str, Any], cipher: SubjectCipher | None) -> DocumentRecord:
    return DocumentRecord(
        id=row["id"],
        dossier_id=row["dossier_id"],
        kind=row["kind"],
        original_name=_open_text(cipher, row["original_name"]),
        stored_path=row["stored_path"],
        size=row["size"],
        sha256=row["sha256"],
        media_type=row["media_type"],
        uploaded_at=_loaded(row["uploaded_at"]),
        media_group=row["media_group"],
        file_deleted_at=_loaded_or_none(row["file_deleted_at"]),
    )


def _question_record(row: Mapping[str, Any], cipher: SubjectCipher | None) -> QuestionRecord:
    return QuestionRecord(
        id=row["id"],
        dossier_id=row["dossier_id"],
        status=row["status"],
        text=_open_text(cipher, row["text"]),
        step=row["step"],
        created_at=_loaded(row["created_at"]),
        include_answers=bool(row["include_answers"]),
        asked_at=_loaded_or_none(row["asked_at"]),
        recruiter_chat_id=row["recruiter_chat_id"],
        recruiter_message_id=row["recruiter_message_id"],
    )


def _answer_record(row: Mapping[str, Any], cipher: SubjectCipher | None) -> AnswerRecord:
    return AnswerRecord(
        id=row["id"],
        question_id=row["question_id"],
        text=_open_text(cipher, row["text"]),
        answered_at=_loaded(row["answered_at"]),
        answered_by=row["answered_by"],
    )


def _dossier_values(dossier: DossierRecord, cipher: SubjectCipher | None) -> dict[str, Any]:
    return {
        "state": dossier.state,
        "status": dossier.status,
        "answers": _seal_json(cipher, dossier.answers),
        "verdict": _seal_json(cipher, dossier.verdict),
        "language": dossier.language,
        "consented_at": _to_utc(dossier.consented_at),
        "privacy_version": dossier.privacy_version,
        "awaiting_document": dossier.awaiting_document,
        "updated_at": _to_utc(dossier.updated_at),
        "submitted_at": _to_utc_or_none(dossier.submitted_at),
        "reminders_sent": list(dossier.reminders_sent),
        "awaiting_question": dossier.awaiting_question,
        "decision": dossier.decision,
        "decision_version": dossier.decision_version,
    }


def _decision_record(row: Mapping[str, Any]) -> DecisionRecord:
    return DecisionRecord(
        id=row["id"], dossier_id=row["dossier_id"], kind=row["kind"],
        decided_by=row["decided_by"], decided_at=_loaded(row["decided_at"]),
        reason=row["reason"], step=row["step"])


_AUDIT_SCALARS = (str, int, float, bool, type(None))


def _check_audit_detail(detail: dict[str, Any]) -> None:
    """Ids and states only: scalars or flat lists of scalars, never a nested object.

    It cannot tell an id from an answer, but it stops the easy mistake of logging
    `dossier.answers` (or a verdict) wholesale.
    """
    for key, value in detail.items():
        if isinstance(value, list):
            if all(isinstance(item, _AUDIT_SCALARS) for item in value):
                continue
        elif isinstance(value, _AUDIT_SCALARS):
            continue
        raise ValueError(
            f"audit detail {key!r} must be a scalar or a list of scalars (ids and states only)"
        )


# --------------------------------------------------------------------------- unit of work


class SqlUnitOfWork:
    """One candidate's transaction over one connection (see the module docstring)."""

    def __init__(
        self, connection: Connection, channel: str, external_id: str, clock: Clock,
        keyring: Keyring | None = None,
    ) -> None:
        self._connection = connection
        self._channel = channel
        self._external_id = external_id
        self._clock = clock
        self._keyring = keyring or process_keyring()
        self._subject = self._keyring.subject(channel, external_id)
        self._candidate_id: int | None = None
        self._candidate_known = False  # whether _candidate_id reflects the database
        self._cipher_found: SubjectCipher | None = None
        self._cipher_looked = False
        self.erased = False  # set by erase_candidate: nothing personal is written after it
        self._event_id: int | None = None

    def _cipher(self, create: bool = False) -> SubjectCipher | None:
        """This person's cipher (their key is made by the first write that needs one)."""
        if self.erased:
            return None
        if self._cipher_found is None and (create or not self._cipher_looked):
            self._cipher_found = cipher_of(self._connection, self._keyring, self._subject,
                                           create=create)
            self._cipher_looked = True
        return self._cipher_found

    # candidates

    def candidate(self) -> CandidateRecord | None:
        row = (
            self._connection.execute(
                _SELECT_CANDIDATE, {"channel": self._channel, "external_id": self._external_id}
            )
            .mappings()
            .one_or_none()
        )
        self._candidate_known = True
        self._candidate_id = None if row is None else row["id"]
        if row is not None and row["subject"] is None:  # written before encryption
            self._connection.execute(update(candidate_table).where(_C.id == row["id"])
                                     .values(subject=self._subject))
        if row is not None and row["wrapped"] is not None and not self.erased:
            self._cipher_found = self._keyring.cipher(row["wrapped"], row["master"],
                                                      self._subject)
            self._cipher_looked = True
        return None if row is None else _candidate_record(row)

    def add_candidate(self, candidate: CandidateRecord) -> CandidateRecord:
        if (candidate.channel, candidate.external_id) != (self._channel, self._external_id):
            raise ValueError("this unit of work belongs to another candidate")
        candidate.id = self._connection.execute(
            _INSERT_CANDIDATE,
            {
                "channel": candidate.channel,
                "external_id": candidate.external_id,
                "chat_id": candidate.chat_id,
                "language": candidate.language,
                "created_at": _to_utc(candidate.created_at),
                "active_dossier_id": candidate.active_dossier_id,
                "subject": self._subject,
            },
        ).scalar_one()
        self._candidate_id, self._candidate_known = candidate.id, True
        return candidate

    def save_candidate(self, candidate: CandidateRecord) -> None:
        self._require_own(candidate.id)
        self._connection.execute(
            _UPDATE_CANDIDATE,
            {
                "b_id": candidate.id,
                "v_chat_id": candidate.chat_id,
                "v_language": candidate.language,
                "v_active_dossier_id": candidate.active_dossier_id,
            },
        )

    def delete_candidate(self, candidate_id: int) -> None:
        """Delete the candidate; their dossiers and document rows go with it (cascade).

        Collect the stored paths first (`delete_dossier` per dossier) to remove the files.
        """
        self._require_own(candidate_id)
        self._connection.execute(_DELETE_CANDIDATE, {"b_id": candidate_id})
        self._candidate_id = None

    # dossiers

    def dossier(self, dossier_id: int) -> DossierRecord | None:
        candidate_id = self._own_candidate_id()
        if candidate_id is None:
            return None
        row = (
            self._connection.execute(
                _SELECT_DOSSIER, {"id": dossier_id, "candidate_id": candidate_id}
            )
            .mappings()
            .one_or_none()
        )
        return None if row is None else _dossier_record(row, self._cipher())

    def dossier_for(self, vacancy_id: str) -> DossierRecord | None:
        candidate_id = self._own_candidate_id()
        if candidate_id is None:
            return None
        row = (
            self._connection.execute(
                _SELECT_DOSSIER_FOR, {"candidate_id": candidate_id, "vacancy_id": vacancy_id}
            )
            .mappings()
            .one_or_none()
        )
        return None if row is None else _dossier_record(row, self._cipher())

    def dossiers(self) -> list[DossierRecord]:
        candidate_id = self._own_candidate_id()
        if candidate_id is None:
            return []
        rows = self._connection.execute(_SELECT_DOSSIERS, {"candidate_id": candidate_id})
        cipher = self._cipher()
        return [_dossier_record(row, cipher) for row in rows.mappings()]

    def add_dossier(self, dossier: DossierRecord) -> DossierRecord:
        """Insert the dossier and set its id. A second dossier for the same vacancy violates
        the unique (candidate, vacancy) constraint (sqlalchemy.exc.IntegrityError)."""
        self._require_own(dossier.candidate_id)
        values = _dossier_values(dossier, self._cipher(create=True))
        values.update(
            candidate_id=dossier.candidate_id,
            vacancy_id=dossier.vacancy_id,
            created_at=_to_utc(dossier.created_at),
            version=dossier.version,
        )
        dossier.id = self._connection.execute(_INSERT_DOSSIER, values).scalar_one()
        return dossier

    def save_dossier(self, dossier: DossierRecord) -> None:
        """Write the dossier if its version is unchanged since it was read, then bump it."""
        self._require_own(dossier.candidate_id)
        params = {f"v_{name}": value
                  for name, value in _dossier_values(dossier, self._cipher(create=True)).items()}
        params.update(b_id=dossier.id, b_candidate_id=dossier.candidate_id, b_version=dossier.version)
        result = self._connection.execute(_UPDATE_DOSSIER, params)
        if result.rowcount != 1:
            raise ConcurrentUpdate(
                f"dossier {dossier.id} changed (or disappeared) since version {dossier.version}"
            )
        dossier.version += 1

    def delete_dossier(self, dossier_id: int) -> list[str]:
        """Delete the dossier and its document rows; return the stored paths to remove.

        Outbox rows keep their (now dangling) dossier id and send nothing; the audit trail stays.
        A candidate whose active dossier this was is left with none.
        """
        candidate_id = self._own_candidate_id()
        if candidate_id is None:
            return []
        # A reduced document ("" path: its file already went after delivery) has no file.
        paths = [path for path in self._connection.execute(
            _SELECT_DOCUMENT_PATHS, {"dossier_id": dossier_id, "candidate_id": candidate_id}
        ).scalars() if path]
        result = self._connection.execute(
            _DELETE_DOSSIER, {"b_id": dossier_id, "b_candidate_id": candidate_id}
        )
        if result.rowcount:
            self._connection.execute(_CLEAR_ACTIVE_DOSSIER, {"b_dossier_id": dossier_id})
        return paths

    # documents

    def documents(self, dossier_id: int) -> list[DocumentRecord]:
        candidate_id = self._own_candidate_id()
        if candidate_id is None:
            return []
        rows = self._connection.execute(
            _SELECT_DOCUMENTS, {"dossier_id": dossier_id, "candidate_id": candidate_id}
        )
        cipher = self._cipher()
        return [_document_record(row, cipher) for row in rows.mappings()]

    def add_document(self, document: DocumentRecord) -> DocumentRecord:
        owned = self._connection.execute(
            _OWNED_DOSSIER_IDS,
            {"dossier_id": document.dossier_id, "candidate_id": self._own_candidate_id()},
        ).first()
        if owned is None:
            raise ValueError(f"dossier {document.dossier_id} is not this candidate's")
        document.id = self._connection.execute(
            _INSERT_DOCUMENT,
            {
                "dossier_id": document.dossier_id,
                "kind": document.kind,
                "original_name": _seal_text(self._cipher(create=True), document.original_name),
                "stored_path": document.stored_path,
                "size": document.size,
                "sha256": document.sha256,
                "media_type": document.media_type,
                "uploaded_at": _to_utc(document.uploaded_at),
                "media_group": document.media_group,
            },
        ).scalar_one()
        return document

    def remove_documents(self, dossier_id: int, kind: str) -> list[str]:
        candidate_id = self._own_candidate_id()
        if candidate_id is None:
            return []
        result = self._connection.execute(
            _REMOVE_DOCUMENTS,
            {"dossier_id": dossier_id, "candidate_id": candidate_id, "kind": kind},
        )
        return [path for path in result.scalars() if path]

    # questions to the recruiters

    def draft_question(self, dossier_id: int) -> QuestionRecord | None:
        candidate_id = self._own_candidate_id()
        if candidate_id is None:
            return None
        row = (
            self._connection.execute(
                _SELECT_DRAFT_QUESTION, {"dossier_id": dossier_id, "candidate_id": candidate_id}
            )
            .mappings()
            .one_or_none()
        )
        return None if row is None else _question_record(row, self._cipher())

    def question(self, question_id: int) -> QuestionRecord | None:
        candidate_id = self._own_candidate_id()
        if candidate_id is None:
            return None
        row = (
            self._connection.execute(
                _SELECT_QUESTION, {"question_id": question_id, "candidate_id": candidate_id}
            )
            .mappings()
            .one_or_none()
        )
        return None if row is None else _question_record(row, self._cipher())

    def add_question(self, question: QuestionRecord) -> QuestionRecord:
        owned = self._connection.execute(
            _OWNED_DOSSIER_IDS,
            {"dossier_id": question.dossier_id, "candidate_id": self._own_candidate_id()},
        ).first()
        if owned is None:
            raise ValueError(f"dossier {question.dossier_id} is not this candidate's")
        question.id = self._connection.execute(
            _INSERT_QUESTION,
            {
                "dossier_id": question.dossier_id,
                "status": question.status,
                "text": _seal_text(self._cipher(create=True), question.text),
                "step": question.step,
                "include_answers": question.include_answers,
                "created_at": _to_utc(question.created_at),
                "asked_at": _to_utc_or_none(question.asked_at),
                "recruiter_chat_id": question.recruiter_chat_id,
                "recruiter_message_id": question.recruiter_message_id,
            },
        ).scalar_one()
        return question

    def save_question(self, question: QuestionRecord) -> None:
        result = self._connection.execute(
            _UPDATE_QUESTION,
            {
                "b_id": question.id,
                "candidate_id": self._own_candidate_id(),
                "v_status": question.status,
                "v_text": _seal_text(self._cipher(create=True), question.text),
                "v_step": question.step,
                "v_include_answers": question.include_answers,
                "v_asked_at": _to_utc_or_none(question.asked_at),
            },
        )
        if result.rowcount != 1:
            raise ValueError(f"question {question.id} is not this candidate's")

    def delete_question(self, question_id: int) -> None:
        self._connection.execute(
            _DELETE_QUESTION,
            {"question_id": question_id, "candidate_id": self._own_candidate_id()},
        )

    def erase_questions(self, dossier_id: int) -> int:
        """Delete the dossier's questions; their answers go with them (cascade)."""
        candidate_id = self._own_candidate_id()
        if candidate_id is None:
            return 0
        statuses = self._connection.execute(
            _ERASE_QUESTIONS, {"dossier_id": dossier_id, "candidate_id": candidate_id}
        ).scalars()
        return sum(1 for status in statuses if status == "asked")

    def add_answer(self, answer: AnswerRecord) -> AnswerRecord:
        if self.question(answer.question_id) is None:
            raise ValueError(f"question {answer.question_id} is not this candidate's")
        answer.id = self._connection.execute(
            _INSERT_ANSWER,
            {
                "question_id": answer.question_id,
                "text": _seal_text(self._cipher(create=True), answer.text),
                "answered_by": answer.answered_by,
                "answered_at": _to_utc(answer.answered_at),
            },
        ).scalar_one()
        return answer

    # the recruiters' decisions

    def decisions(self, dossier_id: int) -> list[DecisionRecord]:
        candidate_id = self._own_candidate_id()
        if candidate_id is None:
            return []
        rows = self._connection.execute(
            _SELECT_DECISIONS, {"dossier_id": dossier_id, "candidate_id": candidate_id})
        return [_decision_record(row) for row in rows.mappings()]

    def add_decision(self, decision: DecisionRecord) -> DecisionRecord:
        owned = self._connection.execute(
            _OWNED_DOSSIER_IDS,
            {"dossier_id": decision.dossier_id, "candidate_id": self._own_candidate_id()},
        ).first()
        if owned is None:
            raise ValueError(f"dossier {decision.dossier_id} is not this candidate's")
        decision.id = self._connection.execute(_INSERT_DECISION, {
            "dossier_id": decision.dossier_id, "kind": decision.kind, "reason": decision.reason,
            "step": decision.step, "decided_by": decision.decided_by,
            "decided_at": _to_utc(decision.decided_at)}).scalar_one()
        return decision

    # notifications and audit

    def add_outbox(self, kind: str, dossier_id: int | None, payload: dict[str, Any],
                   not_before: datetime | None = None, chat_key: str = "recruiters") -> None:
        """Queue a message, sent after commit (not before `not_before`) in order per
        `chat_key`. A notification keeps ids only (rendered at send time: the row outlives a
        dossier); a reply's texts are cleared once it is delivered."""
        now = _to_utc(self._clock())
        due = _to_utc(not_before) if not_before is not None else now
        # A reply to the candidate may quote them: sealed with their key. Notifications hold
        # ids only; after an erasure the goodbye is plain (their key is gone).
        cipher = self._cipher(create=True) if kind == "message" else None
        # A reply due now, written while a worker handles the update it answers, goes to the
        # sender from memory (storage/handoff.py): no claim query, no second decryption.
        lease = (handoff.lease_for_new_row(self._connection, chat_key)
                 if kind == "message" and due <= now else {})
        written = self._connection.execute(
            _INSERT_OUTBOX_LEASED if lease else _INSERT_OUTBOX,
            {
                "kind": kind,
                "chat_key": chat_key,
                "dossier_id": dossier_id,
                "payload": _seal_json(cipher, payload),
                "subject": self._subject if cipher is not None else None,
                "created_at": now,
                "next_attempt_at": due,
                "attempts": 0,
                **lease,
            },
        )
        if lease:
            handoff.hand_to_sender(written.scalar_one(), kind, chat_key, dossier_id, payload)

    def claim_event(self, event_id: int) -> bool:
        """Record that this channel event is applied; False when it already was."""
        statement = (_CLAIM_EVENT_SQLITE if self._connection.dialect.name == "sqlite"
                     else _CLAIM_EVENT_PG)
        # A row comes back only when it was inserted (rowcount is not reliable with RETURNING).
        applied = self._connection.execute(statement, {
            "channel": self._channel, "event_id": event_id, "at": _to_utc(self._clock())},
        ).first() is not None
        if applied:
            self._event_id = event_id  # the update this unit of work answers
            # This transaction applies the update: its inbox row is done with the same commit.
            handoff.settle_inbox(self._connection)
        return applied

    def count_notice_shown(self, vacancy_id: str, day: date) -> None:
        funnel_queries.count_notice_shown(self._connection, vacancy_id, day)

    def audit(self, dossier_id: int | None, event: str, detail: dict[str, Any]) -> None:
        _check_audit_detail(detail)
        self._connection.execute(
            _INSERT_AUDIT,
            {
                "dossier_id": dossier_id,
                "at": _to_utc(self._clock()),
                "event": event,
                "detail": detail,
            },
        )

    # privacy: files, access, erasure

    def sealer(self) -> Sealer | None:
        return self._cipher(create=True)

    def export_data(self) -> dict[str, Any]:
        return candidate_data.export(self._connection, self._own_candidate_id(), self._subject,
                                     self._cipher())

    def erase_candidate(self) -> Erasure:
        erasure = candidate_data.erase(self._connection, self._keyring, self._channel,
                                       self._external_id, self._own_candidate_id(),
                                       self._subject, _to_utc(self._clock()),
                                       handling=self._event_id)
        self._candidate_id, self._candidate_known, self.erased = None, True, True
        return erasure

    def take_back_messages(self, dossier_id: int) -> tuple[list[tuple[int, int]], int]:
        from storage.recruiter_messages import take_back

        if self._connection.execute(_OWNED_DOSSIER_IDS, {
                "dossier_id": dossier_id, "candidate_id": self._own_candidate_id()}).first() is None:
            return [], 0
        return take_back(self._connection, [dossier_id], _to_utc(self._clock()))

    # scoping

    def _own_candidate_id(self) -> int | None:
        if not self._candidate_known:
            self.candidate()
        return self._candidate_id

    def _require_own(self, candidate_id: int | None) -> None:
        own = self._own_candidate_id()
        if own is None or candidate_id != own:
            raise ValueError("this unit of work belongs to another candidate")


# --------------------------------------------------------------------------- the store


class SqlDossierStore:
    """`flows.ports.DossierStore` on SQLite or PostgreSQL, plus read helpers for recruiters,
    reminders and the outbox sender (these run outside any candidate lock)."""

    def __init__(self, engine: Engine, *, clock: Clock = utc_now,
                 keyring: Keyring | None = None) -> None:
        if not (is_sqlite(engine) or is_postgresql(engine)):
            raise ValueError(f"unsupported database: {engine.dialect.name}")
        self._engine = engine
        self._clock = clock
        self._keyring = keyring or process_keyring()
        self._postgresql = is_postgresql(engine)
        self._sqlite = is_sqlite(engine)

    @contextmanager
    def unit_of_work(self, channel: str, external_id: str,
                     compact: bool = True) -> Iterator[SqlUnitOfWork]:
        """Lock this candidate, yield their unit of work; commit on success, roll back on error.
        `compact=False`: the caller runs `after_erasure` itself, once for many erasures."""
        with handoff.transaction(), self._write() as connection:
            if self._postgresql:
                connection.execute(_PG_CANDIDATE_LOCK, {"key": f"{channel}:{external_id}"})
            uow = SqlUnitOfWork(connection, channel, external_id, self._clock, self._keyring)
            yield uow
        if uow.erased and compact:
            self.after_erasure()

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def keyring(self) -> Keyring:
        return self._keyring

    def after_erasure(self) -> None:
        """Push the erased rows out of the places a raw copy of the database would still show
        them: SQLite's WAL (secure_delete has zeroed them in the main file), PostgreSQL's dead
        tuples of the key table. Best effort: the data were sealed, and the key is gone."""
        candidate_data.compact(self._engine)

    def forget_unused_keys(self, before: datetime) -> int:
        """Delete keys made before `before` that nothing refers to any more (someone who never
        accepted the notice; the fresh key an erasure gave to updates then pending), then
        rewrite the key table so erased keys leave no bytes behind."""
        with self._write() as connection:
            removed = candidate_data.sweep_unused_keys(connection, _to_utc(before))
        candidate_data.compact(self._engine, full=True)
        return removed

    def _ciphers(self, connection: Connection,
                 candidate_ids: set[int]) -> dict[int, SubjectCipher | None]:
        """Each candidate's cipher (None where they have no key: nothing of theirs is sealed,
        or they were erased)."""
        if not candidate_ids:
            return {}
        subjects = dict(connection.execute(
            select(_C.id, _C.subject).where(_C.id.in_(candidate_ids))).all())
        found = ciphers_of(connection, self._keyring, subjects.values())
        return {cid: found.get(subject) if subject else None for cid, subject in subjects.items()}

    def _row_cipher(self, row: Mapping[str, Any]) -> SubjectCipher | None:
        """The cipher of a row read with `_with_keys` (None: nothing of theirs is sealed)."""
        if row["k_wrapped"] is None:
            return None
        return self._keyring.cipher(row["k_wrapped"], row["k_master"], row["k_subject"])

    def _dossier_cipher(self, connection: Connection, dossier_id: int) -> SubjectCipher | None:
        candidate_id = connection.execute(
            select(_D.candidate_id).where(_D.id == dossier_id)).scalar_one_or_none()
        return None if candidate_id is None else self._ciphers(
            connection, {candidate_id}).get(candidate_id)

    # reads outside the lock

    def list_dossiers(
        self, vacancy_id: str | None = None, status: str | None = None,
        decision: str | None = None,
    ) -> list[DossierRecord]:
        query = _with_keys(select(dossier_table)).order_by(_D.created_at, _D.id)
        if vacancy_id is not None:
            query = query.where(_D.vacancy_id == vacancy_id)
        if status is not None:
            query = query.where(_D.status == status)
        if decision is not None:
            query = query.where(_D.decision == decision)
        with self._engine.connect() as connection:
            return [_dossier_record(row, self._row_cipher(row))
                    for row in connection.execute(query).mappings()]

    def dossiers_with_documents(
        self, vacancy_id: str
    ) -> list[tuple[DossierRecord, list[DocumentRecord]]]:
        """Every dossier of a vacancy with its documents (the CSV export): the documents in
        one query per READ_CHUNK dossiers, not one `get_dossier` each."""
        dossiers = self.list_dossiers(vacancy_id)
        owner = {d.id: d.candidate_id for d in dossiers}
        documents: dict[int | None, list[DocumentRecord]] = {d.id: [] for d in dossiers}
        ids = [d.id for d in dossiers]
        with self._engine.connect() as connection:
            for start in range(0, len(ids), READ_CHUNK):
                chunk = ids[start:start + READ_CHUNK]
                ciphers = self._ciphers(connection, {owner[i] for i in chunk})
                for row in connection.execute(
                        select(document_table).where(_F.dossier_id.in_(chunk))
                        .order_by(_F.uploaded_at, _F.id)).mappings():
                    cipher = ciphers.get(owner[row["dossier_id"]])
                    documents[row["dossier_id"]].append(_document_record(row, cipher))
        return [(d, documents[d.id]) for d in dossiers]

    def get_dossier(
        self, dossier_id: int
    ) -> tuple[DossierRecord, CandidateRecord, list[DocumentRecord]] | None:
        with self._engine.connect() as connection:
            row = (
                connection.execute(select(dossier_table).where(_D.id == dossier_id))
                .mappings()
                .one_or_none()
            )
            if row is None:
                return None
            cipher = self._ciphers(connection, {row["candidate_id"]}).get(row["candidate_id"])
            dossier = _dossier_record(row, cipher)
            candidate = _candidate_record(
                connection.execute(select(candidate_table).where(_C.id == dossier.candidate_id))
                .mappings()
                .one()
            )
            documents = [
                _document_record(document, cipher)
                for document in connection.execute(
                    select(document_table)
                    .where(_F.dossier_id == dossier_id)
                    .order_by(_F.uploaded_at, _F.id)
                ).mappings()
            ]
        return dossier, candidate, documents

    def document_paths(self) -> set[str]:
        """Every stored path a document row owns (to find files nobody owns)."""
        with self._engine.connect() as connection:
            return {path for path in connection.execute(select(_F.stored_path)).scalars() if path}

    def get_document(self, document_id: int) -> DocumentRecord | None:
        found = self.open_document(document_id)
        return None if found is None else found[0]

    def open_document(self, document_id: int) -> tuple[DocumentRecord, Sealer | None] | None:
        """A document with the sealer that opens its file (None once it is erased)."""
        with self._engine.connect() as connection:
            row = (connection.execute(select(document_table).where(_F.id == document_id))
                   .mappings().one_or_none())
            if row is None:
                return None
            cipher = self._dossier_cipher(connection, row["dossier_id"])
        try:
            return _document_record(row, cipher), cipher
        except KeyGone:
            return None  # its candidate was erased meanwhile

    def unfinished_dossiers(self) -> list[tuple[DossierRecord, CandidateRecord]]:
        """Dossiers still in draft or collecting, with their candidate (for reminders)."""
        query = (
            _with_keys(select(dossier_table, *[c.label(f"c_{c.name}") for c in candidate_table.c]))
            .where(_D.status.in_(("draft", "collecting")))
            .order_by(_D.id)
        )
        out: list[tuple[DossierRecord, CandidateRecord]] = []
        with self._engine.connect() as connection:
            for row in connection.execute(query).mappings():
                candidate = {k[2:]: v for k, v in row.items() if k.startswith("c_")}
                out.append((_dossier_record(row, self._row_cipher(row)),
                            _candidate_record(candidate)))
        return out

    # the recruiters' decisions (outside any candidate lock)

    def decisions(self, dossier_id: int) -> list[DecisionRecord]:
        """Every decision on the dossier, oldest first (the dossier's own row says which is
        current)."""
        with self._engine.connect() as connection:
            rows = connection.execute(select(decision_table)
                                      .where(_DC.dossier_id == dossier_id).order_by(_DC.id))
            return [_decision_record(row) for row in rows.mappings()]

    # questions to the recruiters (outside any candidate lock)

    def question_for_message(self, chat_id: int, message_id: int) -> QuestionRef | None:
        """The question whose copy is message `message_id` in chat `chat_id`, and whose it is."""
        query = (
            select(_Q.id, _Q.dossier_id, _C.channel, _C.external_id)
            .join(dossier_table, _D.id == _Q.dossier_id)
            .join(candidate_table, _C.id == _D.candidate_id)
            .where(_Q.recruiter_chat_id == chat_id, _Q.recruiter_message_id == message_id)
        )
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else QuestionRef(*row)

    def question_with_dossier(self, question_id: int) -> tuple[QuestionRecord, DossierRecord] | None:
        """A question and its dossier, to render the recruiters' copy (None once erased)."""
        with self._engine.connect() as connection:
            row = (connection.execute(select(question_table).where(_Q.id == question_id))
                   .mappings().one_or_none())
            if row is None:
                return None
            dossier = (connection.execute(select(dossier_table).where(_D.id == row["dossier_id"]))
                       .mappings().one_or_none())
            if dossier is None:
                return None
            cipher = self._ciphers(connection, {dossier["candidate_id"]}).get(
                dossier["candidate_id"])
        return _question_record(row, cipher), _dossier_record(dossier, cipher)

    def record_question_message(self, question_id: int, chat_id: int, message_id: int) -> None:
        """Where the recruiters' copy of a question landed: replies to it are answers."""
        with self._write() as connection:
            connection.execute(
                update(question_table)
                .where(_Q.id == question_id)
                .values(recruiter_chat_id=chat_id, recruiter_message_id=message_id)
            )

    def questions(self, dossier_id: int) -> list[tuple[QuestionRecord, list[AnswerRecord]]]:
        """A dossier's questions, oldest first, each with its answers in the order given."""
        with self._engine.connect() as connection:
            cipher = self._dossier_cipher(connection, dossier_id)
            questions = [
                _question_record(row, cipher)
                for row in connection.execute(
                    select(question_table).where(_Q.dossier_id == dossier_id).order_by(_Q.id)
                ).mappings()
            ]
            answers = [
                _answer_record(row, cipher)
                for row in connection.execute(
                    select(answer_table)
                    .where(_QA.question_id.in_([q.id for q in questions]))
                    .order_by(_QA.id)
                ).mappings()
            ] if questions else []
        return [(q, [a for a in answers if a.question_id == q.id]) for q in questions]

    def prune_events(self, before: datetime) -> int:
        """Forget applied event ids older than `before` (Telegram re-delivers within a day)."""
        with self._write() as connection:
            result = connection.execute(
                delete(applied_event_table).where(applied_event_table.c.at < _to_utc(before))
            )
            return result.rowcount

    def audit(self, dossier_ids: list[int], event: str, detail: dict[str, Any]) -> None:
        """Record something that happened to dossiers outside a candidate's turn (a recruiter
        read them on the dashboard), one entry each, in one transaction."""
        _check_audit_detail(detail)
        if not dossier_ids:
            return
        at = _to_utc(self._clock())
        with self._write() as connection:
            connection.execute(_INSERT_AUDIT, [
                {"dossier_id": i, "at": at, "event": event, "detail": detail}
                for i in dossier_ids])

    def audit_trail(self, dossier_id: int) -> list[AuditEntry]:
        query = select(audit_table).where(_A.dossier_id == dossier_id).order_by(_A.at, _A.id)
        with self._engine.connect() as connection:
            return [
                AuditEntry(
                    id=row["id"],
                    dossier_id=row["dossier_id"],
                    at=_loaded(row["at"]),
                    event=row["event"],
                    detail=row["detail"],
                )
                for row in connection.execute(query).mappings()
            ]

    # the outbox

    def pending_outbox(self, now: datetime, limit: int = 100,
                       chat_key: str | None = None) -> list[PendingMessage]:
        """Unsent messages due at `now` (to one chat, or to any), oldest due first."""
        query = (
            select(_O.id, _O.kind, _O.dossier_id, _O.payload, _O.attempts, _O.subject)
            .where(_O.sent_at.is_(None), _O.next_attempt_at <= _to_utc(now))
            .where(_O.chat_key == chat_key if chat_key is not None else True)
            .order_by(_O.next_attempt_at, _O.id)
            .limit(limit)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
            ciphers = ciphers_of(connection, self._keyring, (row.subject for row in rows))
        return [PendingMessage(row.id, row.kind, row.dossier_id,
                               _open_json(ciphers.get(row.subject or ""), row.payload)
                               if row.subject is None or row.subject in ciphers else {},
                               row.attempts) for row in rows]

    def _write(self) -> AbstractContextManager[Connection]:
        return write_transaction(self._engine)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction: on SQLite it takes the write lock at BEGIN (BEGIN IMMEDIATE)."""
    # SQLite: writers of this process queue on a Python lock, never on SQLite's busy handler.
    with writer_lock(engine), engine.connect() as connection:
        if is_sqlite(engine):
            connection.execution_options(**{BEGIN_MODE: "IMMEDIATE"})
        with connection.begin():
            yield connection
