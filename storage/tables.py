"""The database tables, declared once with SQLModel.

SQLModel only defines the schema here (and feeds Alembic); the per-event path in
`dossier_repository.py` reads and writes these tables with lean SQLAlchemy Core statements and
converts rows to the plain records of `flows.ports`.

Conventions:
- every datetime column is `DateTime(timezone=True)`; Python always sees aware UTC datetimes
  (SQLite drops the zone, so the repository re-attaches UTC on load);
- JSON columns hold JSON types only: dates inside answers are ISO strings;
- constraints and indexes carry explicit names, so later (batch) migrations can refer to them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

UTC_DATETIME = DateTime(timezone=True)
FALSE = text("false")  # a boolean column's server default (a column named `text` shadows it)
# SQLite hands a deleted row's id to the next row unless told otherwise: after an erasure, a
# button or an audit entry naming the old dossier would then reach someone else's.
# (PostgreSQL's sequences never reuse an id.)
NEVER_REUSED_IDS: dict[str, Any] = {"sqlite_autoincrement": True}


# The chat_key of outbox rows for the recruiters' chat (whose id is a setting, maybe unset).
RECRUITERS = "recruiters"

class CandidateRow(SQLModel, table=True):
    """A person on one channel: (channel, external_id) is who they are there."""

    __tablename__: ClassVar[str] = "candidate"  # type: ignore[misc]
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_candidate_channel_external_id"),
        NEVER_REUSED_IDS,
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(sa_type=String(32))
    external_id: str = Field(sa_type=String(128))
    chat_id: str | None = Field(default=None, sa_type=String(128))
    language: str = Field(sa_type=String(16))
    created_at: datetime = Field(sa_type=UTC_DATETIME)
    # No foreign key (it would make candidate <-> dossier a cycle); the repository clears it
    # when the dossier it points at is deleted.
    active_dossier_id: int | None = Field(default=None)
    # The hash naming their subject key (not keyed: see storage/crypto.Keyring.subject);
    # NULL for rows written before encryption, filled on their next unit of work.
    subject: str | None = Field(default=None, sa_type=String(40))


class DossierRow(SQLModel, table=True):
    """One candidate's application to one vacancy: flow state, answers and verdict."""

    __tablename__: ClassVar[str] = "dossier"  # type: ignore[misc]
    __table_args__ = (
        UniqueConstraint("candidate_id", "vacancy_id", name="uq_dossier_candidate_vacancy"),
        Index("ix_dossier_vacancy_status", "vacancy_id", "status"),
        NEVER_REUSED_IDS,
    )

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("candidate.id", ondelete="CASCADE", name="fk_dossier_candidate_id"),
            nullable=False,
        )
    )
    vacancy_id: str = Field(sa_type=String(128))
    state: str = Field(sa_type=String(128))
    status: str = Field(sa_type=String(32))
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # none_as_null: a missing verdict is SQL NULL, not the JSON value `null`.
    verdict: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    language: str = Field(sa_type=String(16))
    consented_at: datetime = Field(sa_type=UTC_DATETIME)
    privacy_version: str = Field(sa_type=String(64))
    awaiting_document: str | None = Field(default=None, sa_type=String(128))
    created_at: datetime = Field(sa_type=UTC_DATETIME)
    updated_at: datetime = Field(sa_type=UTC_DATETIME)
    submitted_at: datetime | None = Field(default=None, sa_type=UTC_DATETIME)
    reminders_sent: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    awaiting_question: bool = Field(default=False, sa_column_kwargs={"server_default": FALSE})
    # The recruiters' current decision (`decision` rows hold every one, who and when):
    # invited | declined | document_asked | reviewed; NULL before any. `decision_version`
    # counts them: a decision button names it, so a press on an older button does nothing.
    decision: str | None = Field(default=None, sa_type=String(32))
    decision_version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})


class DocumentRow(SQLModel, table=True):
    """One uploaded file of a dossier; the bytes live in the file store under `stored_path`."""

    __tablename__: ClassVar[str] = "document"  # type: ignore[misc]
    __table_args__ = (Index("ix_document_dossier_id", "dossier_id"),
                      Index("ix_document_stored_path", "stored_path"), NEVER_REUSED_IDS)

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("dossier.id", ondelete="CASCADE", name="fk_document_dossier_id"),
            nullable=False,
        )
    )
    kind: str = Field(sa_type=String(128))
    original_name: str = Field(sa_type=String)  # unbounded: as the sender named it
    stored_path: str = Field(sa_type=String(255))
    size: int
    sha256: str = Field(sa_type=String(64))
    media_type: str = Field(sa_type=String(128))
    uploaded_at: datetime = Field(sa_type=UTC_DATETIME)
    # Telegram album id: the pages of one album belong to one document.
    media_group: str | None = Field(default=None, sa_type=String(64))
    # Data reduction: when the file was deleted once it had served (a criminal-record extract
    # the recruiters received); the row keeps the facts, `stored_path` is then empty.
    file_deleted_at: datetime | None = Field(default=None, sa_type=UTC_DATETIME)


class QuestionRow(SQLModel, table=True):
    """A candidate's question to the recruiters (personal data: deleted with the dossier, and
    erased by a withdrawal). A reply to `recruiter_message_id` in the recruiters' chat is an
    answer to it."""

    __tablename__: ClassVar[str] = "candidate_question"  # type: ignore[misc]
    __table_args__ = (
        Index("ix_candidate_question_dossier_id", "dossier_id"),
        Index("ix_candidate_question_message", "recruiter_chat_id", "recruiter_message_id"),
        NEVER_REUSED_IDS,
    )

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("dossier.id", ondelete="CASCADE", name="fk_candidate_question_dossier_id"),
            nullable=False,
        )
    )
    status: str = Field(sa_type=String(16))  # draft | asked
    text: str = Field(sa_type=String)
    step: str = Field(sa_type=String(128))  # the dossier's state when it was typed
    include_answers: bool = Field(default=False, sa_column_kwargs={"server_default": FALSE})
    created_at: datetime = Field(sa_type=UTC_DATETIME)
    asked_at: datetime | None = Field(default=None, sa_type=UTC_DATETIME)
    recruiter_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    recruiter_message_id: int | None = Field(default=None, sa_type=BigInteger)


class AnswerRow(SQLModel, table=True):
    """A recruiter's answer to a candidate's question; goes with its question."""

    __tablename__: ClassVar[str] = "question_answer"  # type: ignore[misc]
    __table_args__ = (Index("ix_question_answer_question_id", "question_id"), NEVER_REUSED_IDS)

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("candidate_question.id", ondelete="CASCADE",
                       name="fk_question_answer_question_id"),
            nullable=False,
        )
    )
    text: str = Field(sa_type=String)
    answered_by: str | None = Field(default=None, sa_type=String(128))
    answered_at: datetime = Field(sa_type=UTC_DATETIME)


class DecisionRow(SQLModel, table=True):
    """A recruiter's decision on a submitted dossier, as the candidate was told it: goes with
    the dossier. `reason` is the decline's category or the document asked for; `step` the
    index of the selection step invited to."""

    __tablename__: ClassVar[str] = "decision"  # type: ignore[misc]
    __table_args__ = (Index("ix_decision_dossier_id", "dossier_id"),)

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("dossier.id", ondelete="CASCADE", name="fk_decision_dossier_id"),
            nullable=False,
        )
    )
    kind: str = Field(sa_type=String(32))
    reason: str | None = Field(default=None, sa_type=String(128))
    step: int | None = Field(default=None)
    decided_by: str = Field(sa_type=String(128))  # the recruiter's id on the channel
    decided_at: datetime = Field(sa_type=UTC_DATETIME)


class OutboxRow(SQLModel, table=True):
    """A message to send after the transaction that decided it has committed: a reply to a
    candidate, a recruiter notification. Sent in order per `chat_key`, by one worker at a time
    (the lease), part by part (progress in the payload)."""

    __tablename__: ClassVar[str] = "outbox"  # type: ignore[misc]
    __table_args__ = (
        Index("ix_outbox_pending", "sent_at", "next_attempt_at"),
        Index("ix_outbox_dossier_id", "dossier_id"),
        Index("ix_outbox_chat_key", "chat_key", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(64))
    # Messages to one chat leave in the order they were written: "recruiters" or a chat id.
    chat_key: str = Field(sa_type=String(64), sa_column_kwargs={"server_default": "recruiters"})
    lease_owner: str | None = Field(default=None, sa_type=String(64))
    lease_until: datetime | None = Field(default=None, sa_type=UTC_DATETIME)
    # No foreign key: queuing a reply must never wait for a lock on the dossier table (a
    # newcomer's answer would freeze with it). A notification whose dossier is gone sends nothing.
    dossier_id: int | None = Field(default=None)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UTC_DATETIME)
    next_attempt_at: datetime = Field(sa_type=UTC_DATETIME)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    sent_at: datetime | None = Field(default=None, sa_type=UTC_DATETIME)
    last_error: str | None = Field(default=None, sa_type=String)
    # Whose subject key seals `payload` (a reply that may quote what they typed); NULL: plain
    # (ids only, or a text with nothing personal in it).
    subject: str | None = Field(default=None, sa_type=String(40))


class AuditRow(SQLModel, table=True):
    """What happened, by ids and states only. No foreign key: the trail outlives the dossier."""

    __tablename__: ClassVar[str] = "audit"  # type: ignore[misc]
    __table_args__ = (Index("ix_audit_dossier_id", "dossier_id"),)

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int | None = Field(default=None)
    at: datetime = Field(sa_type=UTC_DATETIME)
    event: str = Field(sa_type=String(64))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AppliedEventRow(SQLModel, table=True):
    """Channel event ids (Telegram update_id) already applied: a re-delivered update is
    recognised, in any order. Kept a couple of days: Telegram re-delivers within 24 hours."""

    __tablename__: ClassVar[str] = "applied_event"  # type: ignore[misc]
    __table_args__ = (Index("ix_applied_event_at", "at"),)

    channel: str = Field(sa_type=String(32), primary_key=True)
    event_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_type=UTC_DATETIME)


class InboxRow(SQLModel, table=True):
    """A Telegram update as received, stored before Telegram is told it arrived.

    Handled once, in order per `key` (the user, else the chat), by one worker at a time (the
    lease). The raw update is cleared once handled; an update the library cannot parse is
    quarantined with its raw content for the operator.
    """

    __tablename__: ClassVar[str] = "inbox"  # type: ignore[misc]
    __table_args__ = (
        # Telegram re-delivers an update unchanged; after a quiet week it may reuse an id for
        # a different update. So the same id with the same content is the same update.
        UniqueConstraint("channel", "update_id", "digest", name="uq_inbox_update"),
        Index("ix_inbox_status_key", "status", "key", "id"),
        Index("ix_inbox_received_at", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(sa_type=String(32))
    update_id: int = Field(sa_type=BigInteger)
    digest: str = Field(sa_type=String(64))  # sha256 of the update's canonical JSON
    key: str = Field(sa_type=String(64))
    raw: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True)))
    received_at: datetime = Field(sa_type=UTC_DATETIME)
    status: str = Field(sa_type=String(16))  # pending | done | failed | quarantined
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    next_attempt_at: datetime = Field(sa_type=UTC_DATETIME)
    lease_owner: str | None = Field(default=None, sa_type=String(64))
    lease_until: datetime | None = Field(default=None, sa_type=UTC_DATETIME)
    handled_at: datetime | None = Field(default=None, sa_type=UTC_DATETIME)
    error: str | None = Field(default=None, sa_type=String(200))  # a type name, never content
    # Whose subject key seals `raw` (the sender's); NULL for rows written before encryption.
    subject: str | None = Field(default=None, sa_type=String(40))


class JobLeaseRow(SQLModel, table=True):
    """Which worker runs a periodic job (reminders, retention, pruning) until when."""

    __tablename__: ClassVar[str] = "job_lease"  # type: ignore[misc]

    name: str = Field(sa_type=String(64), primary_key=True)
    owner: str = Field(sa_type=String(64))
    until: datetime = Field(sa_type=UTC_DATETIME)


class GroupNoticeRow(SQLModel, table=True):
    """When the bot last pointed a group to the private chat: at most once an hour per group.

    Keyed by a hash of the group's chat id; nothing about who wrote there or what."""

    __tablename__: ClassVar[str] = "group_notice"  # type: ignore[misc]
    __table_args__ = (Index("ix_group_notice_at", "at"),)

    chat_hash: str = Field(sa_type=String(64), primary_key=True)
    at: datetime = Field(sa_type=UTC_DATETIME)


class FunnelCountRow(SQLModel, table=True):
    """How often something happened per vacancy and day, counted without who.

    `notice_shown`: a privacy notice was shown — someone started, before anything about them
    may be stored. One number per vacancy, day and event; no id, no time of day."""

    __tablename__: ClassVar[str] = "funnel_count"  # type: ignore[misc]

    vacancy_id: str = Field(sa_type=String(128), primary_key=True)
    day: date = Field(sa_type=Date, primary_key=True)
    event: str = Field(sa_type=String(32), primary_key=True)
    n: int = Field(default=0, sa_type=Integer)


class SubjectKeyRow(SQLModel, table=True):
    """A person's data key, wrapped by a master key that is never in the database.

    Deleting the row is what makes every remaining copy of their data unreadable."""

    __tablename__: ClassVar[str] = "subject_key"  # type: ignore[misc]

    subject: str = Field(sa_type=String(40), primary_key=True)
    wrapped: bytes = Field(sa_type=LargeBinary)
    master: str = Field(sa_type=String(16))  # which master key wrapped it (a fingerprint)
    created_at: datetime = Field(sa_type=UTC_DATETIME)


class RecruiterMessageRow(SQLModel, table=True):
    """A message the bot put in the recruiters' chat about a dossier: after an erasure or a
    withdrawal the bot deletes it itself while Telegram allows (48 hours), and asks the
    recruiters to delete the older ones. No foreign key: it outlives the dossier until then."""

    __tablename__: ClassVar[str] = "recruiter_message"  # type: ignore[misc]
    __table_args__ = (Index("ix_recruiter_message_dossier_id", "dossier_id"),)

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int
    chat_id: int = Field(sa_type=BigInteger)
    message_id: int = Field(sa_type=BigInteger)
    sent_at: datetime = Field(sa_type=UTC_DATETIME)


class DashboardLinkRow(SQLModel, table=True):
    """A one-time sign-in link to the recruiters' dashboard, for a browser outside Telegram.
    Only the token's sha256 is stored: the row cannot be turned back into a working link.
    Pruned once used or expired."""

    __tablename__: ClassVar[str] = "dashboard_link"  # type: ignore[misc]
    __table_args__ = (Index("ix_dashboard_link_expires_at", "expires_at"),)

    token_hash: str = Field(sa_type=String(64), primary_key=True)
    user_id: int = Field(sa_type=BigInteger)  # the recruiter's Telegram user id
    name: str = Field(sa_type=String(64))  # their first name, as greeted on the pages
    language: str = Field(sa_type=String(16))
    created_at: datetime = Field(sa_type=UTC_DATETIME)
    expires_at: datetime = Field(sa_type=UTC_DATETIME)
    used_at: datetime | None = Field(default=None, sa_type=UTC_DATETIME)


class DashboardSessionRow(SQLModel, table=True):
    """A recruiter signed in to the dashboard: the cookie's token, hashed. It ends at
    `expires_at`, or once unused for `idle_seconds` (kept in the row: a setting changed later
    does not stretch the sessions already open)."""

    __tablename__: ClassVar[str] = "dashboard_session"  # type: ignore[misc]
    __table_args__ = (Index("ix_dashboard_session_expires_at", "expires_at"),)

    token_hash: str = Field(sa_type=String(64), primary_key=True)
    user_id: int = Field(sa_type=BigInteger)
    name: str = Field(sa_type=String(64))
    language: str = Field(sa_type=String(16))
    csrf: str = Field(sa_type=String(64))  # the forms' token; worthless without the cookie
    created_at: datetime = Field(sa_type=UTC_DATETIME)
    seen_at: datetime = Field(sa_type=UTC_DATETIME)
    expires_at: datetime = Field(sa_type=UTC_DATETIME)
    idle_seconds: int = Field(sa_type=Integer)


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


candidate_table = _table(CandidateRow)
dossier_table = _table(DossierRow)
document_table = _table(DocumentRow)
outbox_table = _table(OutboxRow)
audit_table = _table(AuditRow)
applied_event_table = _table(AppliedEventRow)
inbox_table = _table(InboxRow)
job_lease_table = _table(JobLeaseRow)
group_notice_table = _table(GroupNoticeRow)
question_table = _table(QuestionRow)
answer_table = _table(AnswerRow)
decision_table = _table(DecisionRow)
subject_key_table = _table(SubjectKeyRow)
recruiter_message_table = _table(RecruiterMessageRow)
funnel_count_table = _table(FunnelCountRow)
dashboard_link_table = _table(DashboardLinkRow)
dashboard_session_table = _table(DashboardSessionRow)

metadata = SQLModel.metadata
