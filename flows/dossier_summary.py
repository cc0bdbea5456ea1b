"""What recruiters see of a dossier: a readable summary and CSV rows, and what they are told when
a dossier is withdrawn or erased. Pure: records in, data out."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from babel.lists import format_list

from flows import replies as R
from flows.eligibility import Outcome, Reason, Verdict, evaluate, score
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
from flows.vacancy import (
    CriminalRecordRule,
    Criterion,
    KnowledgeMatrixRule,
    ScoredRule,
    Text,
    Vacancy,
)

IDENTITY_IDS = {q.id for q in IDENTITY}


def local_time(vacancy: Vacancy, moment: datetime | None) -> str:
    """A moment as the vacancy's zone reads it, dd-mm-yyyy hh:mm ("" for none)."""
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


def recruiter_locale(vacancy: Vacancy, lang: str = "nl") -> str:
    """What recruiters read about this vacancy: their language (setting RECRUITER_LANGUAGE,
    "nl" or "en"), Dutch as the employer's country speaks it (nl_NL for a Dutch vacancy)."""
    return R.locale_of(vacancy, lang)


def status_text(status: str) -> Any:
    """A dossier's status as recruiters read it ("ingediend"), from the catalogue."""
    return Msg(f"rec.status.{status}") if f"rec.status.{status}" in catalogue("nl") else status


def document_label(vacancy: Vacancy | None, kind: str) -> Any:
    """A document as recruiters name it: the catalogue's wording where the vacancy's label
    speaks to the candidate ("kopie van je diploma" -> "diploma (kopie)"), else the vacancy's
    label, else its id (a vacancy file changed since)."""
    if f"rec.doc.{kind}" in catalogue("nl"):
        return Msg(f"rec.doc.{kind}")
    if vacancy is not None and any(d.id == kind for d in vacancy.documents):
        return vacancy.document(kind).label
    return kind


def document_caption(vacancy: Vacancy | None, dossier_id: int | None, name: Any, kind: str,
                     lang: str) -> str:
    """ "#12 · Lena Peeters · diploma (kopie)": what a document sent to recruiters is
    captioned with."""
    return clean_text(render(Msg("rec.document.caption", {
        "id": dossier_id, "name": name or "?", "label": document_label(vacancy, kind)}), lang))


def _for_recruiters(vacancy: Vacancy, value: Any) -> Any:
    """A value of a candidate-facing message as recruiters read it: a document by its
    recruiter label."""
    if isinstance(value, Text):
        for doc in vacancy.documents:
            if doc.label == value:
                return document_label(vacancy, doc.id)
    return value


def reason_line(vacancy: Vacancy, reason: Reason) -> Msg:
    """A reason in the third person ("rec.reason.*"), marked as the candidate sees it, and
    flagged when the rule is the bot's assumption, not the vacancy's, or when one detail of a
    stated rule is (the candidate reads what was assumed; the recruiters know their vacancy)."""
    values = {k: _for_recruiters(vacancy, v) for k, v in reason.message.values.items()}
    text: Msg = Msg(f"rec.{reason.message.key}", values)
    if reason.assumed:
        text = Msg("rec.reason.assumed", {"text": text})
    elif reason.assumption is not None:
        text = Msg("rec.reason.assumed_detail", {"text": text})
    return Msg(f"reason.mark.{reason.outcome.value}", {"text": text})


REASON_ORDER = (Outcome.FAILED, Outcome.UNCERTAIN, Outcome.CONDITION, Outcome.REVIEW,
                Outcome.PENDING, Outcome.MET, Outcome.INFO)
OPEN = (Outcome.FAILED, Outcome.UNCERTAIN, Outcome.CONDITION, Outcome.REVIEW, Outcome.PENDING)


def reason_lines(vacancy: Vacancy, verdict: Verdict, only: tuple[Outcome, ...] = REASON_ORDER
                 ) -> list[Msg]:
    """What is still open first (not met, to check, conditions, for the employer to judge),
    then what is in order."""
    return [reason_line(vacancy, r) for outcome in only for r in verdict.reasons
            if r.outcome is outcome]


def criterion_label(criterion: Criterion) -> Any:
    """A scored criterion by its short name, else the vacancy's question, quoted."""
    return criterion.label or Msg("rec.quoted", {"text": criterion.question})


def criterion_points(rule: ScoredRule, counted: dict[str, Any]) -> list[tuple[Criterion, int | None]]:
    """Each criterion with the points its answer gives (None: not answered)."""
    return [(c, c.score(counted[f"{rule.id}.{c.id}"]) if f"{rule.id}.{c.id}" in counted else None)
            for c in rule.criteria]


def summary(vacancy: Vacancy, dossier: DossierRecord, documents: list[DocumentRecord],
            lang: str = "nl") -> str:
    """The recruiter notification text, written for recruiters in their language (`lang`:
    "nl" or "en"; Dutch as the employer's country speaks it): the vacancy, the candidate, the
    verdict with what is still open and what rests on the bot's assumptions, the score per
    criterion, the answers by question label and the documents."""
    lang = recruiter_locale(vacancy, lang)
    moment = dossier.submitted_at or dossier.updated_at
    verdict = evaluate(vacancy, dossier.answers, moment)
    questions = compile_questions(vacancy)
    counted = applicable_answers(questions, dossier.answers)
    lines: list[Any] = [
        Msg("rec.title", {"id": dossier.id, "title": vacancy.title, "employer": vacancy.employer}),
        Msg("rec.candidate", {"name": counted.get("candidate.name", "?"),
                              "email": counted.get("candidate.email", "?")}),
        Msg("rec.status", {"status": status_text(dossier.status),
                           "when": local_time(vacancy, dossier.submitted_at)}),
        Msg("rec.verdict", {"verdict": Msg(f"rec.{R.verdict_heading(verdict)}")}),
        *reason_lines(vacancy, verdict),
    ]
    for rule in vacancy.requirements:
        if isinstance(rule, ScoredRule):
            points, _ = score(rule, counted)
            lines.append(Msg("rec.score", {"score": points, "max": rule.max_total}))
            lines += [Msg("rec.score.criterion", {"label": criterion_label(c), "points": p,
                                                  "max": c.max_points})
                      for c, p in criterion_points(rule, counted) if p is not None]
    lines += answer_lines(vacancy, questions, counted, lang)
    lines.append(Msg("rec.documents", {"n": len(documents)}))
    for doc in documents:
        values: dict[str, Any] = {"label": document_label(vacancy, doc.kind),
                                  "name": doc.original_name, "kb": max(1, doc.size // 1024)}
        if file_deleted(doc):
            lines.append(Msg("rec.document_reduced",
                             {**values, "deleted": file_deleted_text(vacancy, doc)}))
        else:
            lines.append(Msg("rec.document", values))
    # What candidates typed reaches a recruiter's screen or terminal: no escape sequences or
    # bidi overrides, even from rows stored before input was cleaned on arrival.
    return clean_text("\n".join(render(line, lang).rstrip() for line in lines))


def recruiter_label(question: Question, lang: str) -> Any:
    """A question as recruiters read it: a label, not the candidate's input hint ("een getal,
    bijvoorbeeld 3")."""
    if f"rq.{question.prompt_key}" in catalogue(lang):
        return Msg(f"rq.{question.prompt_key}", question.prompt_values)
    return question.prompt


def question_label(vacancy: Vacancy, question: Question) -> Any:
    """A question as recruiters read it, in the third person: "Hoogste diploma", a scored
    criterion by its short name, a question of the vacancy's own quoted."""
    rule = next((r for r in vacancy.requirements if r.id == question.rule_id), None)
    if isinstance(rule, ScoredRule):
        criterion = next((c for c in rule.criteria if f"{rule.id}.{c.id}" == question.id), None)
        if criterion is not None and criterion.label is not None:
            key = "rec.criterion_years" if question.kind == "number" else "rec.criterion"
            return Msg(key, {"label": criterion.label})
    values = {k: _for_recruiters(vacancy, v) for k, v in question.prompt_values.items()}
    return Msg(f"rec.{question.prompt_key}", values)


def answer_value(question: Question, value: Any) -> Any:
    """An answer as recruiters read it: the option's label, "Ja"/"Nee", a date dd-mm-yyyy."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime("%d-%m-%Y")
    return R.answer_label(question, value)


def answer_lines(vacancy: Vacancy, questions: tuple[Question, ...], counted: dict[str, Any],
                 lang: str) -> list[Any]:
    """ "Antwoorden van de kandidaat:" and one line per answer that counts; the knowledge
    matrix as a table."""
    lines: list[Any] = [Msg("rec.answers")]
    matrix_ids = {r.id for r in vacancy.requirements if isinstance(r, KnowledgeMatrixRule)}
    matrix: list[Any] = []
    for q in questions:
        if q.id in IDENTITY_IDS or q.id not in counted or counted[q.id] == "":
            continue  # skipped optional answers say nothing to a recruiter
        value = answer_value(q, counted[q.id])
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
        lines.append(Msg("rec.answer", {"question": question_label(vacancy, q), "answer": value}))
    if matrix:
        lines += [Msg("rec.matrix"), *matrix]
    return lines


def step_label(vacancy: Vacancy, questions: tuple[Question, ...], state: str) -> Any:
    """Where a dossier stands, for recruiters: the question it was at, or its status."""
    if state.startswith("q:"):
        question = next((q for q in questions if q.id == state[2:]), None)
        if question is not None:
            return Msg("rec.question.step_question", {"question": question_label(vacancy, question)})
    return status_text(status_of(state))


def question_notice(vacancy: Vacancy, dossier: DossierRecord, question: QuestionRecord,
                    lang: str = "nl") -> str:
    """A candidate's question as the recruiters' chat reads it: the dossier number, vacancy and
    step, the question — and the candidate's name and answers only when they ticked that."""
    lang = recruiter_locale(vacancy, lang)
    questions = compile_questions(vacancy)
    title = Msg("rec.question.title", {"id": dossier.id, "title": vacancy.title,
                                       "step": step_label(vacancy, questions, question.step)})
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
    lang = recruiter_locale(vacancy, lang)
    lines: list[Any] = [Msg("rec.questions.title", {"n": len(asked)})]
    for question, answers in asked:
        lines.append(Msg("rec.questions.question", {"when": local_time(vacancy, question.asked_at),
                                                    "text": question.text}))
        lines += [Msg("rec.questions.answer", {"when": local_time(vacancy, a.answered_at),
                                               "text": a.text}) for a in answers]
        if not answers:
            lines.append(Msg("rec.questions.unanswered"))
    return clean_text("\n".join(render(line, lang) for line in lines))


@dataclass(frozen=True)
class Facts:
    """What a list of dossiers shows and filters on, from the dossier's answers as they stand:
    the verdict's heading key, the conditions still open, whether one of those rests on our
    assumption, and the indicative score (None where the vacancy scores nothing)."""

    verdict: Verdict
    heading: str
    outstanding: tuple[Reason, ...]
    assumed: bool
    score: int | None
    max_score: int | None


def dossier_facts(vacancy: Vacancy, dossier: DossierRecord) -> Facts:
    verdict = evaluate(vacancy, dossier.answers, dossier.submitted_at or dossier.updated_at)
    outstanding = tuple(r for r in verdict.reasons if r.outcome in OPEN)
    scored = any(isinstance(rule, ScoredRule) for rule in vacancy.requirements)
    return Facts(verdict, R.verdict_heading(verdict), outstanding,
                 any(r.assumed for r in outstanding),
                 verdict.score if scored else None, verdict.max_score if scored else None)


def outstanding_text(vacancy: Vacancy, facts: Facts, lang: str) -> str:
    """The open conditions, " | "-separated, as recruiters read them."""
    return " | ".join(render(Msg(f"rec.{r.message.key}", {
        k: _for_recruiters(vacancy, v) for k, v in r.message.values.items()}), lang)
        for r in facts.outstanding)


CSV_HEADERS = ("rec.csv.dossier", "rec.csv.status", "rec.csv.name", "rec.csv.email",
               "rec.csv.created", "rec.csv.submitted", "rec.csv.verdict", "rec.csv.open",
               "rec.csv.assumed", "rec.csv.score")


def csv_export(vacancy: Vacancy,
               rows: list[tuple[DossierRecord, CandidateRecord | None, list[DocumentRecord]]],
               lang: str = "nl") -> bytes:
    """All dossiers of a vacancy as CSV, one row per dossier, for a spreadsheet (`;`, UTF-8
    with a BOM so that it reads accents), in the recruiters' language: readable headers (the
    question labels), the status and verdict as words, what is still open, the points of each
    scored criterion ("20/30") and the total, the documents provided, every answer as its
    option label and dates as dd-mm-yyyy."""
    lang = recruiter_locale(vacancy, lang)
    every = compile_questions(vacancy)
    questions = [q for q in every if q.id not in IDENTITY_IDS]
    scored = [rule for rule in vacancy.requirements if isinstance(rule, ScoredRule)]
    criteria = [(rule, c) for rule in scored for c in rule.criteria]
    header = [render(Msg(key), lang) for key in CSV_HEADERS]
    header += [render(Msg("rec.csv.points", {"label": criterion_label(c)}), lang)
               for _rule, c in criteria]
    header.append(render(Msg("rec.csv.documents"), lang))
    header += [render(question_label(vacancy, q), lang) for q in questions]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_cell(h, lang) for h in header])
    for dossier, _candidate, documents in rows:
        counted = applicable_answers(every, dossier.answers)
        facts = dossier_facts(vacancy, dossier)
        points = {c.id: p for rule in scored for c, p in criterion_points(rule, counted)}
        total = f"{facts.score}/{facts.max_score}" if facts.score is not None else ""
        writer.writerow([_cell(value, lang) for value in [
            dossier.id, status_text(dossier.status),
            counted.get("candidate.name", ""), counted.get("candidate.email", ""),
            local_time(vacancy, dossier.created_at), local_time(vacancy, dossier.submitted_at),
            Msg(f"rec.{facts.heading}"), outstanding_text(vacancy, facts, lang),
            Msg("btn.yes") if facts.assumed else Msg("btn.no"),
            total,
            *("" if points.get(c.id) is None else f"{points[c.id]}/{c.max_points}"
              for _rule, c in criteria),
            ", ".join(sorted(_document_cell(vacancy, d, lang) for d in documents)),
            *(answer_value(q, counted[q.id]) if q.id in counted else "" for q in questions),
        ]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _document_cell(vacancy: Vacancy, doc: DocumentRecord, lang: str) -> str:
    """The document's label; "uittreksel uit het strafregister (bestand verwijderd na levering
    op 22-11-2026)" for one whose file went once the recruiters had it."""
    label = render(document_label(vacancy, doc.kind), lang)
    if not file_deleted(doc):
        return label
    return f"{label} ({render(file_deleted_text(vacancy, doc), lang)})"


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


def _cell(value: Any, lang: str) -> Any:
    """A CSV cell: catalogue texts rendered, what candidates typed cleaned and neutralised."""
    if isinstance(value, bool):
        value = Msg("btn.yes" if value else "btn.no")
    if isinstance(value, Msg | Text | Quantity | float):
        value = render(value, lang)
    if isinstance(value, str):
        value = clean_text(value)
    # Spreadsheets run cells starting with = + - @ as formulas: neutralise typed text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
