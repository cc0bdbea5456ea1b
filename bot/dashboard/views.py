"""What each dashboard page shows, read with the same store functions as /dossiers, /dossier,
/export and /stats (`list_dossiers`, `get_dossier`, `funnel_of`, `csv_export`), and rendered with
the same catalogue texts, so that the chat and the screen never disagree. Blocking: the web
app runs these in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.recruiter_commands import STATUSES
from flows import decisions as D
from flows.dossier_summary import (
    REASON_ORDER,
    answer_lines,
    criterion_label,
    criterion_points,
    document_label,
    dossier_facts,
    file_deleted,
    file_deleted_text,
    local_time,
    outstanding_text,
    question_label,
    reason_line,
    recruiter_locale,
    status_text,
    step_label,
)
from flows.flow import Flow
from flows.funnel import STEPS, summary_lines
from flows.funnel import step_label as funnel_step
from flows.messages import Msg, render
from flows.ports import DocumentRecord, DossierRecord
from flows.questions import Question, applicable_answers, compile_questions
from flows.text_cleaning import clean_text
from flows.vacancy import ScoredRule, Vacancy
from storage.dossier_repository import SqlDossierStore
from storage.funnel_queries import funnel_of

VERDICTS = ("eligible", "eligible_assumed", "conditional", "conditional_assumed", "uncertain",
            "review", "not_eligible", "incomplete", "closed")
SORTS = ("updated", "created", "score", "name", "status")
# Files a browser may show in the page; anything else is only offered as a download.
VIEWABLE = {"application/pdf": "pdf", "image/jpeg": "image", "image/png": "image"}


def _text(value: Any, lang: str) -> str:
    """A catalogue text, or what a candidate typed, ready for a page (autoescaped there)."""
    return clean_text(render(value, lang))



def dossier_name(dossier: DossierRecord, locale: str) -> str:
    return _text(str(dossier.answers.get("candidate.name") or "—"), locale)


# --------------------------------------------------------------------------- the overview


@dataclass
class FunnelCard:
    vacancy_id: str
    title: str
    employer: str
    steps: list[tuple[str, str, int]]  # (step, label, how many)
    top: int
    lines: tuple[str, str]
    dossiers: int


def overview(store: SqlDossierStore, vacancies: dict[str, Vacancy], lang: str) -> list[FunnelCard]:
    """Every vacancy with its funnel: the figures /stats draws, from `funnel_of`."""
    cards = []
    for vacancy_id in sorted(vacancies):
        vacancy = vacancies[vacancy_id]
        flow = Flow(vacancy)
        figures = funnel_of(store, flow)
        locale = recruiter_locale(vacancy, lang)
        steps = [(step, render(funnel_step(step), locale), figures.figure(step)) for step in STEPS]
        cards.append(FunnelCard(vacancy.id, render(vacancy.title, locale),
                                render(vacancy.employer, locale), steps,
                                max([n for _, _, n in steps] + [1]),
                                summary_lines(flow, figures, locale), figures.accepted))
    return cards


# --------------------------------------------------------------------------- the list


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    verdict: str | None = None
    decision: str | None = None  # a decision kind, or "none"
    open: bool | None = None  # conditions outstanding
    assumed: bool | None = None  # an outstanding point rests on our assumption
    min_score: int | None = None
    sort: str = "updated"
    descending: bool = True

    @classmethod
    def parse(cls, query: dict[str, str]) -> Filters:
        """From a query string; anything not understood is left out, not an error."""
        def flag(name: str) -> bool | None:
            return {"yes": True, "no": False}.get(query.get(name, ""))

        score = query.get("min_score", "")
        decision = query.get("decision")
        return cls(
            status=query.get("status") if query.get("status") in STATUSES else None,
            verdict=query.get("verdict") if query.get("verdict") in VERDICTS else None,
            decision=decision if decision in (*D.KINDS, "none") else None,
            open=flag("open"), assumed=flag("assumed"),
            min_score=int(score) if score.isdecimal() and len(score) < 6 else None,
            sort=query.get("sort") if query.get("sort") in SORTS else "updated",
            descending=query.get("order") != "asc")


@dataclass
class Row:
    id: int
    name: str
    status: str
    status_label: str
    verdict: str
    verdict_label: str
    outstanding: str
    open: int
    assumed: bool
    score: int | None
    max_score: int | None
    decision: str | None
    decision_label: str
    created: datetime
    updated: datetime
    updated_label: str


def dossier_rows(store: SqlDossierStore, vacancy: Vacancy, filters: Filters,
                 lang: str) -> list[Row]:
    """The vacancy's dossiers (`list_dossiers`, as /dossiers reads them), filtered and sorted."""
    locale = recruiter_locale(vacancy, lang)
    decision = filters.decision if filters.decision in D.KINDS else None
    rows = []
    for d in store.list_dossiers(vacancy.id, filters.status, decision):
        assert d.id is not None
        if filters.decision == "none" and d.decision is not None:
            continue
        facts = dossier_facts(vacancy, d)
        heading = facts.heading.removeprefix("verdict.")
        if filters.verdict is not None and heading != filters.verdict:
            continue
        if filters.open is not None and bool(facts.outstanding) != filters.open:
            continue
        if filters.assumed is not None and facts.assumed != filters.assumed:
            continue
        if filters.min_score is not None and (facts.score or 0) < filters.min_score:
            continue
        rows.append(Row(
            d.id, dossier_name(d, locale), d.status,
            _text(status_text(d.status), locale), heading,
            _text(Msg(f"rec.{facts.heading}"), locale),
            clean_text(outstanding_text(vacancy, facts, locale)), len(facts.outstanding),
            facts.assumed, facts.score, facts.max_score, d.decision,
            _text(Msg(f"dash.decision.{d.decision}"), lang) if d.decision else "",
            d.created_at, d.updated_at, local_time(vacancy, d.updated_at)))
    keys = {"updated": lambda r: (r.updated, r.id), "created": lambda r: (r.created, r.id),
            "score": lambda r: (r.score if r.score is not None else -1, r.id),
            "name": lambda r: (r.name.casefold(), r.id),
            "status": lambda r: (STATUSES.index(r.status), r.id)}
    rows.sort(key=keys[filters.sort], reverse=filters.descending)
    return rows


# --------------------------------------------------------------------------- one dossier


@dataclass
class DocumentView:
    id: int
    label: str
    name: str
    kb: int
    kind: str  # "pdf", "image" or "download"
    deleted: str  # why the file is gone, or ""


@dataclass
class DecisionView:
    kind: str
    label: str
    by: str
    at: str
    detail: str


@dataclass
class DossierPage:
    id: int
    vacancy_id: str
    title: str
    employer: str
    name: str
    email: str
    status: str
    status_label: str
    submitted: str
    updated: str
    verdict_label: str
    reasons: list[tuple[str, str, bool]]  # (line, the vacancy's own words or "", assumed)
    score: tuple[int, int] | None
    criteria: list[tuple[str, int, int]]
    answers: list[str]
    documents: list[DocumentView]
    questions: list[tuple[str, str, list[tuple[str, str]]]]  # (when, text, [(when, answer)])
    history: list[tuple[str, str]]
    decisions: list[DecisionView]
    decision: str | None
    version: int
    can_decide: bool
    offered: tuple[str, ...] = field(default=())


def document_view(vacancy: Vacancy, doc: DocumentRecord, locale: str) -> DocumentView:
    assert doc.id is not None
    deleted = _text(file_deleted_text(vacancy, doc), locale) if file_deleted(doc) else ""
    return DocumentView(doc.id, _text(document_label(vacancy, doc.kind), locale),
                        clean_text(doc.original_name), max(1, doc.size // 1024),
                        VIEWABLE.get(doc.media_type, "download"), deleted)


def dossier_page(store: SqlDossierStore, vacancy: Vacancy, dossier: DossierRecord,
                 documents: list[DocumentRecord], lang: str,
                 names: dict[str, str] | None = None) -> DossierPage:
    """A dossier as /dossier tells it (the summary's parts), with its questions, decisions and
    history (the audit trail) beside it. `names`: recruiters' names by their Telegram id
    (records keep the id only; the reader's own name is known)."""
    names = names or {}
    assert dossier.id is not None
    locale = recruiter_locale(vacancy, lang)
    facts = dossier_facts(vacancy, dossier)
    questions = compile_questions(vacancy)
    counted = applicable_answers(questions, dossier.answers)
    reasons = [(_text(reason_line(vacancy, r), locale), clean_text(r.source or ""), r.assumed)
               for outcome in REASON_ORDER for r in facts.verdict.reasons if r.outcome is outcome]
    criteria = [(_text(criterion_label(c), locale), points, c.max_points)
                for rule in vacancy.requirements if isinstance(rule, ScoredRule)
                for c, points in criterion_points(rule, counted) if points is not None]
    asked = [(q, answers) for q, answers in store.questions(dossier.id) if q.status == "asked"]
    decisions = [DecisionView(d.kind, _text(Msg(f"dash.decision.{d.kind}"), lang),
                              names.get(d.decided_by, d.decided_by),
                              local_time(vacancy, d.decided_at), decision_detail(vacancy, d, locale))
                 for d in store.decisions(dossier.id)]
    can_decide = dossier.status == "submitted" and dossier.decision not in D.FINAL
    return DossierPage(
        id=dossier.id, vacancy_id=vacancy.id, title=render(vacancy.title, locale),
        employer=render(vacancy.employer, locale),
        name=dossier_name(dossier, locale),
        email=_text(str(counted.get("candidate.email") or "—"), locale),
        status=dossier.status, status_label=_text(status_text(dossier.status), locale),
        submitted=local_time(vacancy, dossier.submitted_at), updated=local_time(vacancy, dossier.updated_at),
        verdict_label=_text(Msg(f"rec.{facts.heading}"), locale), reasons=reasons,
        score=(facts.score, facts.max_score or 0) if facts.score is not None else None,
        criteria=criteria,
        # The chat's "• " bullets: the page lists them itself.
        answers=[_text(line, locale).removeprefix("• ")
                 for line in answer_lines(vacancy, questions, counted, locale)[1:]],
        documents=[document_view(vacancy, doc, locale) for doc in documents],
        questions=[(local_time(vacancy, q.asked_at), clean_text(q.text),
                    [(local_time(vacancy, a.answered_at), clean_text(a.text)) for a in answers])
                   for q, answers in asked],
        history=[(local_time(vacancy, e.at),
                  clean_text(history_line(vacancy, questions, e.event, e.detail, locale,
                                          names)))
                 for e in store.audit_trail(dossier.id)],
        decisions=decisions, decision=dossier.decision, version=dossier.decision_version,
        can_decide=can_decide, offered=D.KINDS if can_decide else ())


def decision_detail(vacancy: Vacancy, decision: Any, locale: str) -> str:
    """The step invited to, the reason declined for, or the document asked."""
    if decision.kind == D.INVITED and decision.step is not None \
            and decision.step < len(vacancy.selection):
        return render(vacancy.selection[decision.step].name, locale)
    if decision.kind == D.DECLINED and decision.reason in D.REASONS:
        return render(Msg(f"rec.decide.reason_{D.REASONS[decision.reason]}"), locale)
    if decision.kind == D.DOCUMENT_ASKED and decision.reason:
        return _text(document_label(vacancy, decision.reason), locale)
    return ""


def history_line(vacancy: Vacancy, questions: tuple[Question, ...], event: str,
                 detail: dict[str, Any], lang: str, names: dict[str, str] | None = None) -> str:
    """An audit entry as a recruiter reads it: what happened, in words ("beantwoord: Hoogste
    diploma → Diploma behaald in het buitenland?"); its detail holds ids and states only."""
    base, _, about = event.partition(":")
    values: dict[str, Any] = {}
    if base == "answer":
        question = next((q for q in questions if q.id == about), None)
        values["question"] = question_label(vacancy, question) if question else about
    key = f"dash.audit.{base}"
    label = render(Msg(key, values), lang) if key in AUDIT_KEYS else event.replace("_", " ")
    if "to" in detail:  # a move of the conversation: where it went
        return f"{label} → {render(step_label(vacancy, questions, str(detail['to'])), lang)}"
    # Of the detail (ids, flags and states), what a recruiter reads: the document, the decision
    # and its reason, who did it. Internal ids and flags stay out.
    facts = []
    document = detail.get("document")
    if isinstance(document, str) and document:
        facts.append(render(document_label(vacancy, document), lang))
    if detail.get("kind") in D.KINDS:
        facts.append(render(Msg(f"dash.decision.{detail['kind']}"), lang))
    if detail.get("reason") in D.REASONS:
        facts.append(render(Msg(f"rec.decide.reason_{D.REASONS[detail['reason']]}"), lang))
    if detail.get("by") is not None:
        by = (names or {}).get(str(detail["by"]), detail["by"])
        facts.append(render(Msg("dash.by", {"by": by}), lang))
    return f"{label} ({', '.join(facts)})" if facts else label


AUDIT_KEYS = {f"dash.audit.{e}" for e in (
    "accept", "reapply", "answer", "back", "restart", "withdraw", "expire", "extract_date",
    "submit", "decision", "question_asked", "question_answered", "reminder", "upload",
    "retention_purge", "dashboard_view", "dashboard_document", "dashboard_export")}
