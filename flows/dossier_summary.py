"""What recruiters see of a dossier: a readable summary and CSV rows, and what they are told when
a dossier is withdrawn or erased. Pure: records in, data out."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from babel.lists import format_list

from flows import replies as R
from flows.eligibility import evaluate, score
from flows.flow import status_of
from flows.messages import Msg, Quantity, babel_locale, catalogue, render
from flows.ports import (
    AnswerRecord,
    CandidateRecord,
    DocumentRecord,
    DossierRecord,
    QuestionRecord,
)
from flows.questions import IDENTITY, Question, applicable_answers, compile_questions
from flows.text_cleaning import clean_text
from flows.vacancy import CriminalRecordRule, KnowledgeMatrixRule, ScoredRule, Vacancy

IDENTITY_IDS = {q.id for q in IDENTITY}


def _local(vacancy: Vacancy, moment: datetime | None) -> str:
    return moment.astimezone(vacancy.zone).strftime("%d-%m-%Y %H:%M") if moment else ""


def _local_date(vacancy: Vacancy | None, moment: datetime | None) -> str:
    if moment is None:
        return "?"
    return moment.astimezone(vacancy.zone if vacancy else UTC).strftime("%d-%m-%Y")


def reduced_after_delivery(vacancy: Vacancy) -> frozenset[str]:
    """The documents whose file is deleted once the recruiters have it (data reduction): the
    criminal-record extracts, and what the candidate wrote about a mention on one (asked for
    by the record's own questions) — both criminal-record data (GDPR art. 10). The dossier
    keeps their facts and the answers about them."""
    records = [rule for rule in vacancy.requirements if isinstance(rule, CriminalRecordRule)]
    extracts = {rule.document for rule in records if rule.document}
    about_them = {doc.id for doc in vacancy.documents if doc.when is not None
                  and any(doc.when.question.startswith(f"{rule.id}.") for rule in records)}
    return frozenset(extracts | about_them)


def file_deleted(doc: DocumentRecord) -> bool:
    """The document's file was deleted after it had served; its row keeps the facts."""
    return doc.file_deleted_at is not None or not doc.stored_path


def file_deleted_text(vacancy: Vacancy | None, doc: DocumentRecord) -> Msg:
    """ "bestand verwijderd na levering op 22-11-2026": the vacancy's date (UTC's, should its
    file be retired)."""
    return Msg("rec.file_deleted", {"when": _local_date(vacancy, doc.file_deleted_at)})


def summary(vacancy: Vacancy, dossier: DossierRecord, documents: list[DocumentRecord],
            lang: str = "nl") -> str:
    """The recruiter notification text: who, which vacancy, verdict and reasons, answers —
    worded as people say it where the vacancy is (a Dutch dossier in Dutch of the Netherlands)."""
    lang = R.locale_of(vacancy, lang)
    moment = dossier.submitted_at or dossier.updated_at
    verdict = evaluate(vacancy, dossier.answers, moment)
    questions = compile_questions(vacancy)
    counted = applicable_answers(questions, dossier.answers)
    lines: list[Any] = [
        Msg("rec.title", {"id": dossier.id, "title": vacancy.title, "employer": vacancy.employer}),
        Msg("rec.candidate", {"name": counted.get("candidate.name", "?"),
                              "email": counted.get("candidate.email", "?")}),
        Msg("rec.status", {"status": Msg(f"status.{dossier.status}"),
                           "when": _local(vacancy, dossier.submitted_at)}),
        Msg("rec.verdict", {"verdict": Msg(f"rec.{R.verdict_heading(verdict)}")}),
        *R.reason_lines(verdict.reasons),
    ]
    for rule in vacancy.requirements:
        if isinstance(rule, ScoredRule):
            points, _ = score(rule, counted)
            lines.append(Msg("rec.score", {"score": points, "max": rule.max_total}))
            lines += R.score_lines(verdict)
    lines += answer_lines(vacancy, questions, counted, lang)
    lines.append(Msg("rec.documents", {"n": len(documents)}))
    for doc in documents:
        label = vacancy.document(doc.kind).label if any(
            d.id == doc.kind for d in vacancy.documents) else doc.kind
        values: dict[str, Any] = {"label": label, "name": doc.original_name,
                                  "kb": max(1, doc.size // 1024)}
        if file_deleted(doc):
            lines.append(Msg("rec.document_reduced",
                             {**values, "deleted": file_deleted_text(vacancy, doc)}))
        else:
            lines.append(Msg("rec.document", values))
    # What candidates typed reaches a recruiter's screen or terminal: no escape sequences or
    # bidi overrides, even from rows stored before input was cleaned on arrival.
    return clean_text("\n".join(render(line, lang) for line in lines))


def recruiter_label(question: Question, lang: str) -> Any:
    """A question as recruiters read it: a label, not the candidate's input hint ("een getal,
    bijvoorbeeld 3")."""
    if f"rq.{question.prompt_key}" in catalogue(lang):
        return Msg(f"rq.{question.prompt_key}", question.prompt_values)
    return question.prompt


def answer_lines(vacancy: Vacancy, questions: tuple[Question, ...], counted: dict[str, Any],
                 lang: str) -> list[Any]:
    """ "Antwoorden:" and one line per answer that counts; the knowledge matrix as a table."""
    lines: list[Any] = [Msg("rec.answers")]
    matrix_ids = {r.id for r in vacancy.requirements if isinstance(r, KnowledgeMatrixRule)}
    matrix: list[Any] = []
    for q in questions:
        if q.id in IDENTITY_IDS or q.id not in counted or counted[q.id] == "":
            continue  # skipped optional answers say nothing to a recruiter
        value = R.answer_label(q, counted[q.id])
        if q.rule_id in matrix_ids:
            if q.id.endswith(".level"):
                years = counted.get(q.id.removesuffix(".level") + ".years")
                matrix.append(Msg("rec.matrix_row", {
                    "item": q.prompt_values.get("item", q.id), "level": value,
                    "years": "" if years is None else Msg("rec.matrix_years", {
                        "years": Quantity(float(years), "duration-year")})}))
            elif q.id.endswith(".extra") and value:
                matrix.append(Msg("rec.matrix_extra", {"text": value}))
            continue
        lines.append(Msg("rec.answer", {"question": recruiter_label(q, lang), "answer": value}))
    if matrix:
        lines += [Msg("rec.matrix"), *matrix]
    return lines


def step_label(questions: tuple[Question, ...], state: str, lang: str) -> Any:
    """Where a dossier stands, for recruiters: the question it was at, or its status."""
    if state.startswith("q:"):
        question = next((q for q in questions if q.id == state[2:]), None)
        if question is not None:
            return Msg("rec.question.step_question", {"question": recruiter_label(question, lang)})
    return Msg(f"status.{status_of(state)}")


def question_notice(vacancy: Vacancy, dossier: DossierRecord, question: QuestionRecord,
                    lang: str = "nl") -> str:
    """A candidate's question as the recruiters' chat reads it: the dossier number, vacancy and
    step, the question — and the candidate's name and answers only when they ticked that."""
    questions = compile_questions(vacancy)
    title = Msg("rec.question.title", {"id": dossier.id, "title": vacancy.title,
                                       "step": step_label(questions, question.step, lang)})
    paragraphs: list[Any] = [[title, Msg("rec.question.text", {"text": question.text})]]
    if question.include_answers:
        counted = applicable_answers(questions, dossier.answers)
        paragraphs.append([
            Msg("rec.candidate", {"name": counted.get("candidate.name", "?"),
                                  "email": counted.get("candidate.email", "?")}),
            *answer_lines(vacancy, questions, counted, lang)])
    else:
        paragraphs.append(Msg("rec.question.no_answers"))
    paragraphs.append(Msg("rec.question.how_to_answer"))
    return clean_text("\n\n".join(render(p, lang) for p in paragraphs))


def questions_summary(vacancy: Vacancy,
                      asked: list[tuple[QuestionRecord, list[AnswerRecord]]],
                      lang: str = "nl") -> str:
    """The candidate's questions to the recruiters and the answers relayed, oldest first."""
    lines: list[Any] = [Msg("rec.questions.title", {"n": len(asked)})]
    for question, answers in asked:
        lines.append(Msg("rec.questions.question", {"when": _local(vacancy, question.asked_at),
                                                    "text": question.text}))
        lines += [Msg("rec.questions.answer", {"when": _local(vacancy, a.answered_at),
                                               "text": a.text}) for a in answers]
        if not answers:
            lines.append(Msg("rec.questions.unanswered"))
    return clean_text("\n".join(render(line, lang) for line in lines))


CSV_FIXED = ["dossier_id", "vacancy_id", "status", "name", "email", "created_at",
             "submitted_at", "verdict", "failed_rules", "uncertain_rules", "review_rules", "conditions",
             "assumed_conditions", "score", "documents"]


def csv_export(vacancy: Vacancy,
               rows: list[tuple[DossierRecord, CandidateRecord, list[DocumentRecord]]]) -> bytes:
    """All dossiers of a vacancy as CSV (UTF-8 with BOM so spreadsheet programs read accents):
    the verdict, then the points of each scored criterion, then every answer."""
    every = compile_questions(vacancy)
    questions = [q for q in every if q.id not in IDENTITY_IDS]
    criteria = [f"points.{c.id}" for rule in vacancy.requirements if isinstance(rule, ScoredRule)
                for c in rule.criteria]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(CSV_FIXED + criteria + [q.id for q in questions])
    for dossier, _candidate, documents in rows:
        counted = applicable_answers(every, dossier.answers)
        verdict = dossier.verdict or {}
        points: dict[str, int] = {}
        if criteria:
            moment = dossier.submitted_at or dossier.updated_at
            points = {f"points.{cid}": p for cid, _label, p, _max
                      in evaluate(vacancy, dossier.answers, moment).score_parts}
        writer.writerow([
            dossier.id, dossier.vacancy_id, dossier.status,
            _cell(counted.get("candidate.name", "")), _cell(counted.get("candidate.email", "")),
            _local(vacancy, dossier.created_at), _local(vacancy, dossier.submitted_at),
            verdict.get("status", ""), ",".join(verdict.get("failed", [])),
            ",".join(verdict.get("uncertain", [])), ",".join(verdict.get("review", [])),
            ",".join(verdict.get("conditions", [])),
            ",".join(verdict.get("assumed_conditions", [])),
            "" if verdict.get("score") is None else verdict["score"],
            ",".join(sorted(_document_cell(vacancy, d) for d in documents)),
            *(points.get(column, "") for column in criteria),
            *(_cell(counted.get(q.id, "")) for q in questions),
        ])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _document_cell(vacancy: Vacancy, doc: DocumentRecord) -> str:
    """The document's kind; "record_extract (bestand verwijderd na levering op 22-11-2026)"
    for one whose file went once the recruiters had it."""
    if not file_deleted(doc):
        return doc.kind
    return f"{doc.kind} ({render(file_deleted_text(vacancy, doc), R.locale_of(vacancy, 'nl'))})"


def takeback_text(deleted: int, older: int, lang: str) -> str:
    """What became of the recruiters' chat messages about an erased or withdrawn dossier: how
    many the bot deleted itself (Telegram allows that for 48 hours), how many they must delete,
    and that downloaded copies are theirs to delete."""
    parts: list[Msg] = []
    if deleted:
        parts.append(Msg("rec.takeback.deleted", {"n": deleted}))
    if older:
        parts.append(Msg("rec.takeback.older" if deleted else "rec.takeback.old_only",
                         {"n": older}))
    else:
        parts.append(Msg("rec.takeback.copies" if deleted else "rec.takeback.unknown"))
    return " ".join(render(part, lang) for part in parts)


def withdrawn_notice(dossier_id: int, title: Any, deleted: int, older: int, lang: str) -> str:
    """A withdrawal, for the recruiters' chat: the dossier by number and vacancy, no person."""
    return render(Msg("rec.withdrawn", {"id": dossier_id, "title": title,
                                        "takeback": takeback_text(deleted, older, lang)}), lang)


def erased_notice(dossiers: list[tuple[int, Any]], deleted: int, older: int, lang: str) -> str:
    """An erasure at the candidate's request, for the recruiters' chat: every erased dossier by
    number and vacancy (`dossiers`: id and vacancy title), no person."""
    names = [render(Msg("rec.erased.dossier", {"id": i, "title": t}), lang) for i, t in dossiers]
    return render(Msg("rec.erased", {
        "n": len(dossiers), "dossiers": format_list(names, locale=babel_locale(lang)),
        "takeback": takeback_text(deleted, older, lang)}), lang)


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = clean_text(value)
    # Spreadsheets run cells starting with = + - @ as formulas: neutralise typed text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    if isinstance(value, bool):
        return render(Msg("csv.yes" if value else "csv.no"), "nl")
    return value
