"""What the engine needs from the outside world, as plain records and Protocols.

`storage/` implements `DossierStore`; tests may use an in-memory one. Records are plain
dataclasses so the engine never sees an ORM object or a database session.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol


@dataclass
class CandidateRecord:
    id: int | None
    channel: str  # "telegram", "terminal", ...
    external_id: str  # the user's id on that channel
    chat_id: str | None
    language: str
    created_at: datetime
    active_dossier_id: int | None = None


@dataclass
class DossierRecord:
    id: int | None
    candidate_id: int
    vacancy_id: str
    state: str  # the flow machine's state, e.g. "q:diploma.level", "collecting"
    status: str  # lifecycle: draft | ineligible | collecting | submitted | withdrawn | expired
    answers: dict[str, Any]
    language: str
    consented_at: datetime
    privacy_version: str
    created_at: datetime
    updated_at: datetime
    version: int = 0
    verdict: dict[str, Any] | None = None
    awaiting_document: str | None = None
    submitted_at: datetime | None = None
    reminders_sent: list[str] = field(default_factory=list)
    # After /vraag without a text: the candidate's next typed message is their question.
    awaiting_question: bool = False
    # The recruiters' current decision (flows/decisions.py), and how many were taken: a
    # decision button carries the count, so a press on an older one does nothing.
    decision: str | None = None
    decision_version: int = 0


@dataclass
class DecisionRecord:
    """A recruiter's decision on a submitted dossier: invited (to selection step `step`),
    declined (`reason`: the category), document_asked (`reason`: the document's id) or
    reviewed. Kept with the dossier, erased with it."""

    id: int | None
    dossier_id: int
    kind: str
    decided_by: str  # the recruiter's id on the channel
    decided_at: datetime
    reason: str | None = None
    step: int | None = None


@dataclass
class DocumentRecord:
    id: int | None
    dossier_id: int
    kind: str  # the vacancy's document id
    original_name: str  # as the sender named it: data only, never a path
    stored_path: str  # relative to the upload folder
    size: int
    sha256: str
    media_type: str
    uploaded_at: datetime
    media_group: str | None = None  # the client's album id: one album, one document
    # Set once the file was deleted after it had served (a criminal-record extract the
    # recruiters received): the row keeps the facts, `stored_path` is then "".
    file_deleted_at: datetime | None = None


@dataclass
class QuestionRecord:
    """A candidate's question to the recruiters, kept with the dossier and erased with it.

    `draft` while the candidate is shown what would be sent; `asked` once they confirmed (the
    recruiters' notification is queued with that change). `step` is the dossier's state when
    it was typed: what the recruiters see as where the candidate is.
    """

    id: int | None
    dossier_id: int
    status: str  # draft | asked
    text: str
    step: str
    created_at: datetime
    include_answers: bool = False  # only when the candidate ticked it
    asked_at: datetime | None = None
    # Where the recruiters' copy landed: a reply to that message is an answer.
    recruiter_chat_id: int | None = None
    recruiter_message_id: int | None = None


@dataclass
class AnswerRecord:
    """A recruiter's answer to a question, as relayed to the candidate."""

    id: int | None
    question_id: int
    text: str
    answered_at: datetime
    answered_by: str | None = None  # the recruiter's id on the channel


@dataclass
class Erasure:
    """What erasing a candidate removed, for the files to delete and the recruiters to tell.

    `dossiers` are (id, vacancy id, status) of the erased applications: no personal data.
    `recent_messages` are the recruiters' chat messages about them the bot may still delete
    itself (Telegram allows that for 48 hours); `older_messages` counts the ones the recruiters
    must delete by hand."""

    dossiers: list[tuple[int, str, str]] = field(default_factory=list)
    stored_paths: list[str] = field(default_factory=list)
    recent_messages: list[tuple[int, int]] = field(default_factory=list)
    older_messages: int = 0


class Sealer(Protocol):
    """Seals a candidate's file bytes with their own key (and opens them again)."""

    def seal_file(self, data: bytes) -> bytes: ...

    def open_file(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class StoredFile:
    stored_path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class FileCheck:
    """What a file's bytes are, whatever its name says.

    `kind` is a document type of the vacancy format (pdf, jpg, png, docx, doc, odt) when the
    content is one; `problem` says why the file cannot be taken: "empty", "executable"
    (a program or script), "mismatch" (the name or declared media type says another type than
    the content), "unreadable" (claims a type but is broken), "unknown" (no type we take).
    """

    kind: str | None
    problem: str | None = None


class FileStore(Protocol):
    def put(self, source: Path, sealer: Sealer | None = None) -> StoredFile:
        """Take `source` in under a generated name, sealed with the candidate's key when a
        sealer is given; return where, and the size and digest of the original bytes."""
        ...

    def read(self, stored_path: str, sealer: Sealer | None = None) -> bytes:
        """The original bytes of a stored file (opened with the sealer when sealed)."""
        ...

    def delete(self, stored_path: str) -> None: ...

    def path(self, stored_path: str) -> Path: ...

    def inspect(self, source: Path, declared_name: str, media_type: str | None) -> FileCheck:
        """Judge a received file by its bytes (before it is taken in)."""
        ...


class UnitOfWork(Protocol):
    """One transaction for one candidate's event; the candidate's updates are serialised."""

    def candidate(self) -> CandidateRecord | None: ...

    def add_candidate(self, candidate: CandidateRecord) -> CandidateRecord: ...

    def save_candidate(self, candidate: CandidateRecord) -> None: ...

    def dossier(self, dossier_id: int) -> DossierRecord | None: ...

    def dossier_for(self, vacancy_id: str) -> DossierRecord | None: ...

    def dossiers(self) -> list[DossierRecord]: ...

    def add_dossier(self, dossier: DossierRecord) -> DossierRecord: ...

    def save_dossier(self, dossier: DossierRecord) -> None:
        """Write the dossier; raises ConcurrentUpdate if its version moved underneath us."""
        ...

    def delete_dossier(self, dossier_id: int) -> list[str]:
        """Delete the dossier and its document rows; return the stored paths to remove."""
        ...

    def delete_candidate(self, candidate_id: int) -> None: ...

    def documents(self, dossier_id: int) -> list[DocumentRecord]: ...

    def add_document(self, document: DocumentRecord) -> DocumentRecord: ...

    def remove_documents(self, dossier_id: int, kind: str) -> list[str]:
        """Remove the rows of one kind (a replaced upload); return their stored paths."""
        ...

    def draft_question(self, dossier_id: int) -> QuestionRecord | None:
        """The dossier's question not yet confirmed (at most one), if any."""
        ...

    def question(self, question_id: int) -> QuestionRecord | None:
        """One of this candidate's questions (None for anyone else's)."""
        ...

    def add_question(self, question: QuestionRecord) -> QuestionRecord: ...

    def save_question(self, question: QuestionRecord) -> None: ...

    def delete_question(self, question_id: int) -> None: ...

    def erase_questions(self, dossier_id: int) -> int:
        """Delete every question of the dossier with its answers; return how many had been
        asked (relayed to the recruiters)."""
        ...

    def add_answer(self, answer: AnswerRecord) -> AnswerRecord: ...

    def decisions(self, dossier_id: int) -> list[DecisionRecord]:
        """The recruiters' decisions on one of this candidate's dossiers, oldest first."""
        ...

    def add_decision(self, decision: DecisionRecord) -> DecisionRecord: ...

    def sealer(self) -> Sealer | None:
        """This candidate's sealer for files (None where nothing is encrypted)."""
        ...

    def export_data(self) -> dict[str, Any]:
        """Everything stored about this candidate, JSON-ready: the candidate row, every
        dossier with answers, verdict and documents' facts, questions with answers, audit
        entries, queued messages (the right of access)."""
        ...

    def erase_candidate(self) -> Erasure:
        """Erase everything of this candidate: dossiers, answers, documents, questions, queued
        messages, handled inbox rows, the personal part of the audit, the candidate row and
        their key (so copies anywhere become unreadable). Returns what the caller still has to
        do: delete the files, take back the recruiters' messages."""
        ...

    def take_back_messages(self, dossier_id: int) -> tuple[list[tuple[int, int]], int]:
        """Forget the recruiters' chat messages about one dossier (a withdrawal): returns
        those the bot may still delete (under 48 hours old) and how many are older."""
        ...

    def add_outbox(self, kind: str, dossier_id: int | None, payload: dict[str, Any],
                   not_before: datetime | None = None, chat_key: str = "recruiters") -> None:
        """Queue a message to send after commit, in order per `chat_key`."""
        ...

    def claim_event(self, event_id: int) -> bool:
        """Record that this channel event (Telegram's update_id) is applied, in this
        transaction; False when it already was (a re-delivery)."""
        ...

    def count_notice_shown(self, vacancy_id: str, day: date) -> None:
        """One more privacy notice of this vacancy shown on `day`: a number per vacancy and
        day, never who (the funnel's "started")."""
        ...

    def audit(self, dossier_id: int | None, event: str, detail: dict[str, Any]) -> None:
        """Record what happened; `detail` holds ids and states only, never personal data."""
        ...


class DossierStore(Protocol):
    def unit_of_work(self, channel: str, external_id: str) -> AbstractContextManager[UnitOfWork]:
        """Begin a transaction that locks this candidate; commit on success, roll back on error."""
        ...


class ConcurrentUpdate(Exception):
    """Another process changed the dossier between our read and our write."""
