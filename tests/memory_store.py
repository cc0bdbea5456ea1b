"""An in-memory DossierStore and FileStore for fast engine tests.

Records are copied through JSON on the way in and out, so the engine gets what a database
would give it back (no shared objects, dates in answers as strings), and a failed unit of work
leaves nothing behind.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

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
    StoredFile,
)


@dataclass
class RecruiterMessage:
    """A message about a dossier in the recruiters' chat; `recent` ones (under 48 hours old)
    the bot may still delete itself. Tests add them; the memory store has no sender."""

    dossier_id: int
    chat_id: int
    message_id: int
    recent: bool = True


class MemoryData:
    def __init__(self) -> None:
        self.candidates: dict[int, CandidateRecord] = {}
        self.dossiers: dict[int, DossierRecord] = {}
        self.documents: dict[int, DocumentRecord] = {}
        self.questions: dict[int, QuestionRecord] = {}
        self.answers: dict[int, AnswerRecord] = {}
        self.decisions: dict[int, DecisionRecord] = {}
        self.outbox: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.notices_shown: dict[tuple[str, date], int] = {}  # anonymous, per vacancy and day
        self.applied: set[tuple[str, int]] = set()
        self.recruiter_messages: list[RecruiterMessage] = []
        self.next_id = 1


class MemoryUnitOfWork:
    def __init__(self, data: MemoryData, channel: str, external_id: str) -> None:
        self.d = data
        self.channel = channel
        self.external_id = external_id

    def _id(self) -> int:
        self.d.next_id += 1
        return self.d.next_id

    def candidate(self) -> CandidateRecord | None:
        for c in self.d.candidates.values():
            if (c.channel, c.external_id) == (self.channel, self.external_id):
                return copy.deepcopy(c)
        return None

    def add_candidate(self, candidate: CandidateRecord) -> CandidateRecord:
        candidate = replace(candidate, id=self._id())
        self.d.candidates[candidate.id] = copy.deepcopy(candidate)
        return candidate

    def save_candidate(self, candidate: CandidateRecord) -> None:
        self.d.candidates[candidate.id] = copy.deepcopy(candidate)

    def _mine(self) -> list[DossierRecord]:
        me = self.candidate()
        return [x for x in self.d.dossiers.values() if me and x.candidate_id == me.id]

    def dossier(self, dossier_id: int) -> DossierRecord | None:
        found = self.d.dossiers.get(dossier_id)
        return _roundtrip(found) if found else None

    def dossier_for(self, vacancy_id: str) -> DossierRecord | None:
        found = [x for x in self._mine() if x.vacancy_id == vacancy_id]
        return _roundtrip(found[0]) if found else None

    def dossiers(self) -> list[DossierRecord]:
        return [_roundtrip(x) for x in self._mine()]

    def add_dossier(self, dossier: DossierRecord) -> DossierRecord:
        if any(x.candidate_id == dossier.candidate_id and x.vacancy_id == dossier.vacancy_id
               for x in self.d.dossiers.values()):
            raise ValueError("one dossier per candidate per vacancy")
        dossier = replace(dossier, id=self._id())
        self.d.dossiers[dossier.id] = _roundtrip(dossier)
        return dossier

    def save_dossier(self, dossier: DossierRecord) -> None:
        stored = self.d.dossiers.get(dossier.id)
        if stored is None or stored.version != dossier.version:
            raise ConcurrentUpdate(dossier.id)
        dossier.version += 1
        self.d.dossiers[dossier.id] = _roundtrip(dossier)

    def delete_dossier(self, dossier_id: int) -> list[str]:
        paths = self.remove_all(dossier_id)
        self.erase_questions(dossier_id)  # the database cascades
        for k in [k for k, v in self.d.decisions.items() if v.dossier_id == dossier_id]:
            self.d.decisions.pop(k)
        self.d.dossiers.pop(dossier_id, None)
        return paths

    def remove_all(self, dossier_id: int) -> list[str]:
        gone = [k for k, v in self.d.documents.items() if v.dossier_id == dossier_id]
        return [self.d.documents.pop(k).stored_path for k in gone]

    def delete_candidate(self, candidate_id: int) -> None:
        for k in [k for k, v in self.d.dossiers.items() if v.candidate_id == candidate_id]:
            self.delete_dossier(k)
        self.d.candidates.pop(candidate_id, None)

    def documents(self, dossier_id: int) -> list[DocumentRecord]:
        return [copy.deepcopy(v) for v in self.d.documents.values() if v.dossier_id == dossier_id]

    def add_document(self, document: DocumentRecord) -> DocumentRecord:
        document = replace(document, id=self._id())
        self.d.documents[document.id] = copy.deepcopy(document)
        return document

    def remove_documents(self, dossier_id: int, kind: str) -> list[str]:
        gone = [k for k, v in self.d.documents.items()
                if v.dossier_id == dossier_id and v.kind == kind]
        return [self.d.documents.pop(k).stored_path for k in gone]

    def _own_question(self, question_id: int) -> QuestionRecord | None:
        found = self.d.questions.get(question_id)
        mine = {x.id for x in self._mine()}
        return found if found is not None and found.dossier_id in mine else None

    def draft_question(self, dossier_id: int) -> QuestionRecord | None:
        mine = {x.id for x in self._mine()}
        drafts = [q for q in self.d.questions.values()
                  if q.dossier_id == dossier_id and q.status == "draft" and dossier_id in mine]
        return copy.deepcopy(max(drafts, key=lambda q: q.id)) if drafts else None

    def question(self, question_id: int) -> QuestionRecord | None:
        return copy.deepcopy(self._own_question(question_id))

    def add_question(self, question: QuestionRecord) -> QuestionRecord:
        if question.dossier_id not in {x.id for x in self._mine()}:
            raise ValueError("not this candidate's dossier")
        question = replace(question, id=self._id())
        self.d.questions[question.id] = copy.deepcopy(question)
        return question

    def save_question(self, question: QuestionRecord) -> None:
        stored = self._own_question(question.id)
        if stored is None:
            raise ValueError("not this candidate's question")
        self.d.questions[question.id] = replace(
            copy.deepcopy(question), recruiter_chat_id=stored.recruiter_chat_id,
            recruiter_message_id=stored.recruiter_message_id)

    def delete_question(self, question_id: int) -> None:
        if self._own_question(question_id) is not None:
            self.d.questions.pop(question_id)
            for k in [k for k, a in self.d.answers.items() if a.question_id == question_id]:
                self.d.answers.pop(k)

    def erase_questions(self, dossier_id: int) -> int:
        gone = [q for q in self.d.questions.values() if q.dossier_id == dossier_id]
        for q in gone:
            self.d.questions.pop(q.id)  # type: ignore[arg-type]
            for k in [k for k, a in self.d.answers.items() if a.question_id == q.id]:
                self.d.answers.pop(k)
        return sum(1 for q in gone if q.status == "asked")

    def add_answer(self, answer: AnswerRecord) -> AnswerRecord:
        if self._own_question(answer.question_id) is None:
            raise ValueError("not this candidate's question")
        answer = replace(answer, id=self._id())
        self.d.answers[answer.id] = copy.deepcopy(answer)
        return answer

    def decisions(self, dossier_id: int) -> list[DecisionRecord]:
        if self.dossier(dossier_id) is None:
            return []
        return [copy.deepcopy(d) for d in self.d.decisions.values() if d.dossier_id == dossier_id]

    def add_decision(self, decision: DecisionRecord) -> DecisionRecord:
        if self.dossier(decision.dossier_id) is None:
            raise ValueError("not this candidate's dossier")
        decision = replace(decision, id=self._id())
        self.d.decisions[decision.id] = copy.deepcopy(decision)  # type: ignore[index]
        return decision

    def add_outbox(self, kind: str, dossier_id: int | None, payload: dict[str, Any],
                   not_before: Any = None, chat_key: str = "recruiters") -> None:
        row = {"kind": kind, "dossier_id": dossier_id, "payload": payload}
        if chat_key != "recruiters":
            row["chat_key"] = chat_key
        if not_before is not None:  # only a delayed notification says when it is due
            row["not_before"] = not_before
        self.d.outbox.append(row)

    def claim_event(self, event_id: int) -> bool:
        key = (self.channel, event_id)
        if key in self.d.applied:
            return False
        self.d.applied.add(key)
        return True

    def count_notice_shown(self, vacancy_id: str, day: date) -> None:
        key = (vacancy_id, day)
        self.d.notices_shown[key] = self.d.notices_shown.get(key, 0) + 1

    def audit(self, dossier_id: int | None, event: str, detail: dict[str, Any]) -> None:
        self.d.audit.append({"dossier_id": dossier_id, "event": event, "detail": detail})

    # ------------------------------------------------------------------ privacy

    def sealer(self) -> Sealer | None:
        return None  # nothing is encrypted in memory

    def _outbox_mine(self, row: dict[str, Any], dossier_ids: set[int], chat: str | None) -> bool:
        return row["dossier_id"] in dossier_ids or (chat is not None
                                                    and row.get("chat_key") == chat)

    def export_data(self) -> dict[str, Any]:
        """As storage/candidate_data.export: {"candidate", "applications": [... "documents",
        "questions": [... "answers"], "audit"], "messages"}, JSON-ready."""
        me = self.candidate()
        out: dict[str, Any] = {"candidate": None, "applications": [], "messages": []}
        if me is None:
            return out
        mine = sorted(self._mine(), key=lambda x: x.id or 0)
        ids = {x.id for x in mine if x.id is not None}
        for x in mine:
            questions = []
            for q in sorted(self.d.questions.values(), key=lambda q: q.id or 0):
                if q.dossier_id == x.id:
                    answers = [_json(a) for a in self.d.answers.values() if a.question_id == q.id]
                    questions.append({**_json(q), "answers": answers})
            documents = [{k: v for k, v in _json(doc).items() if k != "stored_path"}
                         for doc in self.d.documents.values() if doc.dossier_id == x.id]
            out["applications"].append({
                **_json(x), "documents": documents, "questions": questions,
                "audit": [_plain(row) for row in self.d.audit if row["dossier_id"] == x.id]})
        out["candidate"] = _json(me)
        out["messages"] = [_plain(row) for row in self.d.outbox
                           if self._outbox_mine(row, ids, me.chat_id)]
        return out

    def erase_candidate(self) -> Erasure:
        me = self.candidate()
        if me is None:
            return Erasure()
        mine = sorted(self._mine(), key=lambda x: x.id or 0)
        ids = {x.id for x in mine if x.id is not None}
        erasure = Erasure(dossiers=[(x.id, x.vacancy_id, x.status) for x in mine
                                    if x.id is not None])
        for dossier_id in sorted(ids):
            recent, older = self.take_back_messages(dossier_id)
            erasure.recent_messages += recent
            erasure.older_messages += older
            erasure.stored_paths += [p for p in self.delete_dossier(dossier_id) if p]
        self.d.outbox = [row for row in self.d.outbox
                         if not self._outbox_mine(row, ids, me.chat_id)]
        self.d.audit = [row for row in self.d.audit if row["dossier_id"] not in ids]
        self.d.candidates.pop(me.id, None)  # type: ignore[arg-type]
        return erasure

    def take_back_messages(self, dossier_id: int) -> tuple[list[tuple[int, int]], int]:
        if dossier_id not in {x.id for x in self._mine()}:
            return [], 0
        found = [m for m in self.d.recruiter_messages if m.dossier_id == dossier_id]
        self.d.recruiter_messages = [m for m in self.d.recruiter_messages
                                     if m.dossier_id != dossier_id]
        return ([(m.chat_id, m.message_id) for m in found if m.recent],
                sum(1 for m in found if not m.recent))


def _plain(value: Any) -> Any:
    """A value as JSON gives it back: dates as ISO text, tuples as lists."""
    return json.loads(json.dumps(value, default=_iso))


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _json(record: Any) -> dict[str, Any]:
    return _plain(asdict(record))


def _roundtrip(dossier: DossierRecord) -> DossierRecord:
    # What a JSON column gives back: no tuples, no dates, no shared references.
    return replace(copy.deepcopy(dossier),
                   answers=json.loads(json.dumps(dossier.answers)),
                   verdict=json.loads(json.dumps(dossier.verdict)) if dossier.verdict else None)


class MemoryStore:
    def __init__(self) -> None:
        self.data = MemoryData()
        self.lock = threading.RLock()

    @contextmanager
    def unit_of_work(self, channel: str, external_id: str) -> Iterator[MemoryUnitOfWork]:
        with self.lock:
            snapshot = copy.deepcopy(self.data)
            try:
                yield MemoryUnitOfWork(self.data, channel, external_id)
            except BaseException:
                self.data.__dict__.update(snapshot.__dict__)
                raise


class MemoryFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def put(self, source: Path, sealer: Sealer | None = None) -> StoredFile:
        data = source.read_bytes()
        name = uuid.uuid4().hex + source.suffix.lower()[:6]
        (self.root / name).write_bytes(sealer.seal_file(data) if sealer else data)
        return StoredFile(name, len(data), hashlib.sha256(data).hexdigest())

    def read(self, stored_path: str, sealer: Sealer | None = None) -> bytes:
        data = (self.root / stored_path).read_bytes()
        return sealer.open_file(data) if sealer else data

    def delete(self, stored_path: str) -> None:
        (self.root / stored_path).unlink(missing_ok=True)

    def inspect(self, source: Path, declared_name: str, media_type: str | None) -> Any:
        from storage.file_inspection import inspect_file

        return inspect_file(source, declared_name, media_type)

    def path(self, stored_path: str) -> Path:
        return self.root / stored_path
