"""The right of access (/mydata): what is stored about a candidate, readable on a phone, then
all of it as a JSON file, then their documents. Pure: records and the store's export in, parts
and attachments out.

The summary is made from the same records the engine works with (applications, documents);
the candidate's questions to the recruiters, with the answers relayed, come from the export
(`UnitOfWork.export_data`: `applications[].questions[].answers`, see storage/candidate_data.py).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flows import replies as R
from flows.dossier_summary import recruiter_label
from flows.flow import Flow
from flows.messages import Msg, Quantity
from flows.ports import CandidateRecord, DocumentRecord, DossierRecord
from flows.vacancy import KnowledgeMatrixRule, Vacancy

BULK = "_bulk"  # the engine's own note in the answers (flows.turn), not the candidate's


@dataclass(frozen=True)
class Application:
    """One application as the summary shows it; `vacancy`/`flow` are None when its vacancy
    file was retired (then the vacancy id stands in for the title)."""

    dossier: DossierRecord
    vacancy: Vacancy | None
    flow: Flow | None
    documents: list[DocumentRecord]

    @property
    def title(self) -> Any:
        return self.vacancy.title if self.vacancy is not None else self.dossier.vacancy_id

    @property
    def zone(self) -> ZoneInfo | None:
        return self.vacancy.zone if self.vacancy is not None else None


def day(moment: datetime | str | None, zone: ZoneInfo | None) -> str:
    """A date as the candidate reads it (dd-mm-yyyy), in the vacancy's zone."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment is None:
        return ""
    return moment.astimezone(zone or UTC).strftime("%d-%m-%Y")


def summary_blocks(candidate: CandidateRecord, applications: list[Application],
                   export: dict[str, Any], lang: str) -> list[list[Any]]:
    """Blocks of lines (`flows.replies.packed` makes messages of them): who they are to the
    bot, then each application with its answers, documents and questions."""
    zone = next((a.zone for a in applications if a.zone is not None), None)
    intro: list[Any] = [
        Msg("mydata.intro"),
        Msg("mydata.you", {"since": day(candidate.created_at, zone),
                           "language": Msg(f"language.name.{candidate.language}")}),
    ]
    blocks = [application_lines(a, questions_of(export, a.dossier.id), lang)
              for a in applications] or [[Msg("mydata.no_applications")]]
    # The heading goes with the first application, a blank line between: never a message
    # of two lines before a long application.
    blocks[0] = [*intro, "", *blocks[0]]
    documents = sum(1 for a in applications for doc in a.documents if doc.file_deleted_at is None)
    blocks.append([Msg("mydata.files", {"n": documents}) if documents
                   else Msg("mydata.file")])
    return blocks


def application_lines(application: Application, questions: list[dict[str, Any]],
                      lang: str) -> list[Any]:
    d, zone = application.dossier, application.zone
    lines: list[Any] = [
        Msg("status.title", {"title": application.title, "status": Msg(f"status.{d.status}")}),
        Msg("mydata.dates", {"started": day(d.created_at, zone), "changed": day(d.updated_at, zone)}),
    ]
    if d.submitted_at is not None:
        lines.append(Msg("mydata.submitted", {"when": day(d.submitted_at, zone)}))
    answers = answer_lines(application, lang)
    lines += [Msg("mydata.answers"), *answers] if answers else [Msg("mydata.no_answers")]
    if application.documents:
        lines.append(Msg("mydata.documents"))
        for doc in application.documents:
            values = {"label": document_label(application.vacancy, doc.kind),
                      "name": doc.original_name, "date": day(doc.uploaded_at, zone)}
            deleted = doc.file_deleted_at is not None
            lines.append(Msg("mydata.document_deleted" if deleted else "mydata.document", values))
    if questions:
        lines.append(Msg("mydata.questions"))
        for question in questions:
            text = str(question.get("text", ""))
            if question.get("status") == "asked":
                lines.append(Msg("mydata.question", {
                    "date": day(question.get("asked_at") or question.get("created_at"), zone),
                    "text": text}))
            else:
                lines.append(Msg("mydata.question_draft", {"text": text}))
            for answer in question.get("answers") or []:
                lines.append(Msg("mydata.question_answer", {
                    "date": day(answer.get("answered_at"), zone), "text": answer.get("text", "")}))
    return lines


def answer_lines(application: Application, lang: str) -> list[Any]:
    """Every stored answer, as the candidate gave it, under the question it answers; the
    knowledge matrix one line per technology."""
    answers = {k: v for k, v in application.dossier.answers.items() if k != BULK}
    flow, vacancy = application.flow, application.vacancy
    if flow is None or vacancy is None:
        return [Msg("mydata.answer", {"question": k, "answer": str(v)}) for k, v in answers.items()]
    matrix = {r.id for r in vacancy.requirements if isinstance(r, KnowledgeMatrixRule)}
    lines: list[Any] = []
    for q in flow.questions:
        if q.id not in answers:
            continue
        value = R.answer_label(q, answers[q.id])
        if q.rule_id in matrix and q.id.endswith(".years"):
            continue  # said with its level
        if q.rule_id in matrix and q.id.endswith(".level"):
            years = answers.get(q.id.removesuffix(".level") + ".years")
            item = q.prompt_values.get("item", q.id)
            lines.append(Msg("mydata.matrix_row", {"item": item, "level": value}) if years is None
                         else Msg("mydata.matrix_row_years", {
                             "item": item, "level": value,
                             "years": Quantity(float(years), "duration-year")}))
            continue
        lines.append(Msg("mydata.answer", {"question": recruiter_label(q, lang), "answer": value}))
    known = {q.id for q in flow.questions}
    # Answers to questions the vacancy no longer asks are stored all the same: shown as stored.
    lines += [Msg("mydata.answer", {"question": k, "answer": str(v)})
              for k, v in answers.items() if k not in known]
    return lines


def document_label(vacancy: Vacancy | None, kind: str) -> Any:
    if vacancy is not None and any(d.id == kind for d in vacancy.documents):
        return vacancy.document(kind).label
    return kind


def questions_of(export: dict[str, Any], dossier_id: int | None) -> list[dict[str, Any]]:
    """The dossier's questions to the recruiters, each with its `answers`, from the export."""
    for application in export.get("applications") or []:
        if application.get("id") == dossier_id:
            return list(application.get("questions") or [])
    return []


def export_file(export: dict[str, Any]) -> dict[str, Any]:
    """The export as a JSON file to send (pretty-printed, UTF-8)."""
    data = json.dumps(export, ensure_ascii=False, indent=2, default=_iso).encode("utf-8")
    return {"file_data": base64.b64encode(data).decode("ascii"),
            "file_name": Msg("mydata.file_name"), "caption": Msg("mydata.file_caption")}


def document_files(applications: list[Application]) -> list[dict[str, Any]]:
    """Every stored document (not one whose file was deleted after it had served)."""
    return [{"document_id": doc.id,
             "caption": Msg("mydata.document_caption", {
                 "label": document_label(a.vacancy, doc.kind), "title": a.title})}
            for a in applications for doc in a.documents
            if doc.file_deleted_at is None and doc.stored_path]


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")
