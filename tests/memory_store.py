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
from dataclasses import replace
from pathlib import Path
from typing import Any

from flows.ports import (
    AnswerRecord,
    CandidateRecord,
    ConcurrentUpdate,
    DocumentRecord,
    DossierRecord,
    QuestionRecord,
    StoredFile,
)


class MemoryData:
    def __init__(self) -> None:
        self.candidates: dict[int, CandidateRecord] = {}
        self.dossiers: dict[int, DossierRecord] = {}
        self.documents: dict[int, DocumentRecord] = {}
        self.questions: dict[int, QuestionRecord] = {}
        self.answers: dict[int, AnswerRecord] = {}
        self.outbox: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.applied: set[tuple[str, int]] = set()
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

    def audit(self, dossier_id: int | None, event: str, detail: dict[str, Any]) -> None:
        self.d.audit.append({"dossier_id": dossier_id, "event": event, "detail": detail})


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

    def put(self, source: Path) -> StoredFile:
        data = source.read_bytes()
        name = uuid.uuid4().hex + source.suffix.lower()[:6]
        (self.root / name).write_bytes(data)
        return StoredFile(name, len(data), hashlib.sha256(data).hexdigest())

    def delete(self, stored_path: str) -> None:
        (self.root / stored_path).unlink(missing_ok=True)

    def inspect(self, source: Path, declared_name: str, media_type: str | None) -> Any:
        from storage.file_inspection import inspect_file

        return inspect_file(source, declared_name, media_type)

    def path(self, stored_path: str) -> Path:
        return self.root / stored_path
