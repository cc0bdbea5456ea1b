"""Eligibility: `evaluate(vacancy, answers, now) -> Verdict`. Pure: no clock, no I/O.

Each rule type yields a `Reason` (met, failed, condition, pending or info) that names its rule
and its source; the verdict's status follows from the reasons, the documents from the answers.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from flows.messages import Msg, Quantity
from flows.questions import applicable_answers, compile_questions
from flows.vacancy import (
    DIPLOMA_PEERS,
    CriminalRecordRule,
    DiplomaRule,
    Document,
    ExperienceRule,
    KnowledgeMatrixRule,
    LanguageRule,
    Provenance,
    ScoredRule,
    Text,
    Vacancy,
    YesNoRule,
    diploma_rank,
)


class Status(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    UNCERTAIN = "uncertain"  # only an assumed rule is not met: check with the employer
    REVIEW = "review"  # the employer judges one point itself (an unfavourable mention)
    CONDITIONAL = "conditional"
    CLOSED = "closed"
    INCOMPLETE = "incomplete"


class Outcome(StrEnum):
    MET = "met"
    FAILED = "failed"
    CONDITION = "condition"
    UNCERTAIN = "uncertain"  # an assumed rule not met: never excludes
    REVIEW = "review"  # not ours to judge: the employer weighs it (a mention on an extract)
    PENDING = "pending"
    INFO = "info"


@dataclass(frozen=True)
class Reason:
    rule_id: str
    outcome: Outcome
    message: Msg
    source: str | None = None  # the seed's words, only when they state the rule
    assumption: Text | None = None  # what we assume, as the candidate reads it
    assumed: bool = False  # the whole rule is our assumption (not only a detail of it)


@dataclass(frozen=True)
class Verdict:
    status: Status
    reasons: tuple[Reason, ...]
    documents: tuple[Document, ...]  # required for a complete application, given the answers
    closes_at: datetime | None  # aware; None: the seed states no closing date
    time_left: timedelta | None
    score: int | None = None
    max_score: int | None = None
    unknowns: tuple[Msg, ...] = field(default=())
    # Each answered criterion: (id, short name, points, maximum) — the score explained.
    score_parts: tuple[tuple[str, Text, int, int], ...] = ()
    score_assumption: Text | None = None  # how the indicative score is to be read
    # Documents whose proof is too old by a stated rule, with the first issue date that is
    # fresh enough today: a file already sent for them does not complete the dossier.
    stale: dict[str, date] = field(default_factory=dict)

    @property
    def failed(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if r.outcome is Outcome.FAILED)

    def deadline_local(self, vacancy: Vacancy) -> datetime | None:
        return self.closes_at.astimezone(vacancy.zone) if self.closes_at else None


# What a failed rule says, and what it says when the rule is only our assumption (never
# "this vacancy asks for …" about something the vacancy does not ask).
UNCERTAIN_KEYS = {
    "reason.diploma.failed": "reason.diploma.uncertain",
    "reason.experience.failed": "reason.experience.uncertain",
    "reason.yes_no.failed": "reason.yes_no.uncertain",
    "reason.language.failed": "reason.language.uncertain",
    "reason.record.mention_excluded": "reason.record.mention_uncertain",
}


def _reason(rule: Provenance, rule_id: str, outcome: Outcome, key: str, **values: Any) -> Reason:
    if outcome is Outcome.FAILED and not rule.stated:
        outcome = Outcome.UNCERTAIN  # an assumption never excludes anyone
        key = UNCERTAIN_KEYS[key]
    return Reason(rule_id, outcome, Msg(key, values), rule.source if rule.stated else None,
                  rule.assumption.says if rule.assumption else None, assumed=not rule.stated)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def extract_expired(rule: CriminalRecordRule, issued_on: date, today: date) -> bool:
    """True when an extract issued on `issued_on` is older than the rule allows on `today`.

    "max. 3 maanden oud" is read as calendar months: issued 1 May is still valid on 1 August.
    """
    if rule.max_age_months:
        return today > add_months(issued_on, rule.max_age_months)
    if rule.max_age_days:
        return (today - issued_on).days > rule.max_age_days
    return False


def _diploma(v: Vacancy, rule: DiplomaRule, a: dict[str, Any]) -> list[Reason]:
    level = a.get(f"{rule.id}.level")
    required = Msg(f"diploma.{v.country}.{rule.min_level}")
    if level is None:
        return [_reason(rule, rule.id, Outcome.PENDING, "reason.diploma.pending", required=required)]
    given = Msg(f"diploma.{v.country}.{level}")
    rank, needed = diploma_rank(v.country, level), diploma_rank(v.country, rule.min_level)
    if rank < needed:
        failed = [_reason(rule, rule.id, Outcome.FAILED, "reason.diploma.failed",
                          required=required, given=given)]
        if rule.accepted_equivalents:  # what else the vacancy accepts, in its own words
            failed.append(_reason(rule, rule.id, Outcome.INFO, "reason.diploma.equivalents",
                                  equivalents=list(rule.accepted_equivalents)))
        return failed
    if rank == needed and level in DIPLOMA_PEERS.get(v.country, {}):
        # havo/vwo where mbo-4 is asked, a graduaat where a bachelor is: not stated either way.
        out = [_reason(rule, rule.id, Outcome.UNCERTAIN, "reason.diploma.peer",
                       required=required, given=given)]
    else:
        out = [_reason(rule, rule.id, Outcome.MET, "reason.diploma.met", required=required,
                       given=given)]
    if rule.foreign:
        foreign = a.get(f"{rule.id}.foreign")
        if foreign is None:
            out.append(_reason(rule.foreign, rule.id, Outcome.PENDING, "reason.diploma.pending",
                               required=required))
        elif foreign:
            proof = v.document(rule.foreign.document).label
            has = a.get(f"{rule.id}.equivalence")
            if has is None:
                out.append(_reason(rule.foreign, rule.id, Outcome.PENDING,
                                   "reason.diploma.pending", required=required))
            else:
                # Not yet: a condition, not a wall — the dossier goes in without it.
                key = "reason.diploma.foreign" if has else "reason.diploma.foreign_obtain"
                out.append(_reason(rule.foreign, rule.id, Outcome.CONDITION, key, document=proof))
    return out


def _language(v: Vacancy, rule: LanguageRule, a: dict[str, Any]) -> list[Reason]:
    dutch = a.get(f"{rule.id}.dutch_education")
    cert_label = v.document(rule.certificate_document).label
    if dutch is None:
        return [_reason(rule, rule.id, Outcome.PENDING, "reason.language.pending")]
    if dutch:
        return [_reason(rule, rule.id, Outcome.MET, "reason.language.met_diploma")]
    cert = a.get(f"{rule.id}.certificate")
    if cert is None:
        return [_reason(rule, rule.id, Outcome.PENDING, "reason.language.pending")]
    if cert:
        return [_reason(rule, rule.id, Outcome.CONDITION, "reason.language.certificate",
                        document=cert_label)]
    if rule.without_proof == "excluded":
        return [_reason(rule, rule.id, Outcome.FAILED, "reason.language.failed")]
    return [_reason(rule, rule.id, Outcome.CONDITION, "reason.language.obtain",
                    document=cert_label)]


def _record(v: Vacancy, rule: CriminalRecordRule, a: dict[str, Any], now: datetime) -> list[Reason]:
    if rule.asked == "later":
        return [_reason(rule, rule.id, Outcome.INFO, "reason.record.later", model=rule.model,
                        employer=v.employer_ref)]
    has = a.get(f"{rule.id}.has_extract")
    age = _age_text(rule)
    if has is None:
        return [_reason(rule, rule.id, Outcome.PENDING, "reason.record.pending", model=rule.model)]
    if not has:
        return [_reason(rule, rule.id, Outcome.CONDITION, "reason.record.request",
                        model=rule.model, age=age)]
    out: list[Reason] = []
    mention = a.get(f"{rule.id}.mention")
    issued = a.get(f"{rule.id}.issued_on")
    if issued is None or mention is None:
        return [_reason(rule, rule.id, Outcome.PENDING, "reason.record.pending", model=rule.model)]
    if mention:
        if rule.unfavourable_mention == "excluded":
            return [_reason(rule, rule.id, Outcome.FAILED, "reason.record.mention_excluded")]
        explain = a.get(f"{rule.id}.explain")
        if explain is None:
            return [_reason(rule, rule.id, Outcome.PENDING, "reason.record.pending", model=rule.model)]
        # Not a condition the candidate can meet: whether the conduct fits the job is the
        # employer's judgement (Nieuwpoort: the college, after the deadline).
        key = "reason.record.mention_explained" if explain else "reason.record.mention_unexplained"
        out.append(_reason(rule, rule.id, Outcome.REVIEW, key, employer=v.employer_ref))
    today = now.astimezone(v.zone).date()
    if isinstance(issued, str):
        issued = date.fromisoformat(issued)
    if extract_expired(rule, issued, today):
        out.append(_reason(rule, rule.id, Outcome.CONDITION, "reason.record.too_old",
                           issued=issued.strftime("%d-%m-%Y"), age=age, model=rule.model,
                           fresh=fresh_from(rule, today).strftime("%d-%m-%Y")))
    else:
        if not mention:
            out.append(_reason(rule, rule.id, Outcome.MET, "reason.record.met", model=rule.model))
        too_old_from = _too_old_from(rule, issued)
        closes = v.closes_at()
        if too_old_from is not None and (
                closes is None or too_old_from < closes.astimezone(v.zone).date()):
            # Still fine today, but not for long: say from which day it is too old.
            out.append(_reason(rule, rule.id, Outcome.INFO, "reason.record.expires",
                               day=too_old_from.strftime("%d-%m-%Y")))
    return out


def fresh_from(rule: CriminalRecordRule, today: date) -> date:
    """The earliest issue date that is not too old on `today` (see extract_expired)."""
    if rule.max_age_months:
        day = add_months(today, -rule.max_age_months)
        # add_months clamps (31 May − 3 months = 28 Feb): step forward to the first valid day.
        while extract_expired(rule, day, today):
            day += timedelta(days=1)
        return day
    if rule.max_age_days:
        return today - timedelta(days=rule.max_age_days)
    return date.min


def stale_documents(vacancy: Vacancy, answers: dict[str, Any], now: datetime) -> dict[str, date]:
    """The extract documents a stated rule finds too old today (firm: an assumed rule only
    makes it a condition), each with the first issue date that would be fresh enough."""
    today = now.astimezone(vacancy.zone).date()
    stale: dict[str, date] = {}
    for rule in vacancy.requirements:
        if not (isinstance(rule, CriminalRecordRule) and rule.document and rule.stated):
            continue
        issued = answers.get(f"{rule.id}.issued_on")
        if answers.get(f"{rule.id}.has_extract") and issued:
            if isinstance(issued, str):
                issued = date.fromisoformat(issued)
            if extract_expired(rule, issued, today):
                stale[rule.document] = fresh_from(rule, today)
    return stale


def _too_old_from(rule: CriminalRecordRule, issued: date) -> date | None:
    """The first day on which an extract issued on `issued` is too old (see extract_expired)."""
    if rule.max_age_months:
        return add_months(issued, rule.max_age_months) + timedelta(days=1)
    if rule.max_age_days:
        return issued + timedelta(days=rule.max_age_days + 1)
    return None


def _age_text(rule: CriminalRecordRule) -> Msg:
    if rule.max_age_months:
        return Msg("age.months", {"n": rule.max_age_months})
    if rule.max_age_days:
        return Msg("age.days", {"n": rule.max_age_days})
    return Msg("age.any")


def _experience(rule: ExperienceRule, a: dict[str, Any]) -> list[Reason]:
    years = a.get(f"{rule.id}.years")
    # Years as a Babel quantity: "1 year", "5 years", "2,5 jaar".
    least = Quantity(rule.min_years, "duration-year")
    if years is None:
        return [_reason(rule, rule.id, Outcome.PENDING, "reason.experience.pending",
                        min=least, counts=rule.counts)]
    outcome = Outcome.MET if years >= rule.min_years else Outcome.FAILED
    return [_reason(rule, rule.id, outcome, f"reason.experience.{outcome.value}",
                    min=least, given=Quantity(years, "duration-year"), counts=rule.counts)]


def _yes_no(rule: YesNoRule, a: dict[str, Any]) -> list[Reason]:
    answer = a.get(rule.id)
    if answer is None:
        return [_reason(rule, rule.id, Outcome.PENDING, "reason.yes_no.pending", text=rule.question)]
    if answer == rule.required:
        return [_reason(rule, rule.id, Outcome.MET, "reason.yes_no.met", text=rule.question,
                        given=Msg("btn.yes" if answer else "btn.no"))]
    outcome = Outcome.FAILED if rule.on_fail == "excluded" else Outcome.CONDITION
    return [_reason(rule, rule.id, outcome, f"reason.yes_no.{outcome.value}", text=rule.question,
                    given=Msg("btn.yes" if answer else "btn.no"),
                    required=Msg("btn.yes" if rule.required else "btn.no"))]


def score(rule: ScoredRule, a: dict[str, Any]) -> tuple[int, bool]:
    """(points so far, whether every criterion is answered)."""
    total, complete = 0, True
    for crit in rule.criteria:
        qid = f"{rule.id}.{crit.id}"
        if qid in a:
            total += crit.score(a[qid])
        else:
            complete = False
    return total, complete


def _documents(v: Vacancy, answers: dict[str, Any]) -> tuple[Document, ...]:
    return tuple(d for d in v.documents if d.when is None or d.when.holds(answers))


def evaluate(vacancy: Vacancy, answers: dict[str, Any], now: datetime) -> Verdict:
    """Judge `answers` against every rule of `vacancy` at the aware instant `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    counted = applicable_answers(compile_questions_cached(vacancy), answers)
    reasons: list[Reason] = []
    points: int | None = None
    max_points: int | None = None
    parts: list[tuple[str, Text, int, int]] = []
    score_note: Text | None = None
    for rule in vacancy.requirements:
        if isinstance(rule, DiplomaRule):
            reasons += _diploma(vacancy, rule, counted)
        elif isinstance(rule, LanguageRule):
            reasons += _language(vacancy, rule, counted)
        elif isinstance(rule, CriminalRecordRule):
            reasons += _record(vacancy, rule, counted, now)
        elif isinstance(rule, ExperienceRule):
            reasons += _experience(rule, counted)
        elif isinstance(rule, YesNoRule):
            reasons += _yes_no(rule, counted)
        elif isinstance(rule, ScoredRule):
            points, complete = score(rule, counted)
            max_points = rule.max_total
            score_note = rule.assumption.says if rule.assumption else None
            parts += [(crit.id, crit.label or crit.question, crit.score(counted[qid]),
                       crit.max_points) for crit in rule.criteria
                      if (qid := f"{rule.id}.{crit.id}") in counted]
            if not complete:
                reasons.append(_reason(rule, rule.id, Outcome.PENDING, "reason.score.pending"))
        elif isinstance(rule, KnowledgeMatrixRule):
            levels = [q.id for q in compile_questions_cached(vacancy)
                      if q.rule_id == rule.id and q.id.endswith(".level")]
            if any(qid not in counted for qid in levels):
                reasons.append(_reason(rule, rule.id, Outcome.PENDING, "reason.matrix.pending"))

    closes = vacancy.closes_at()
    outcomes = {r.outcome for r in reasons}
    if not vacancy.is_open(now):
        status = Status.CLOSED
    elif Outcome.FAILED in outcomes:
        status = Status.NOT_ELIGIBLE
    elif Outcome.PENDING in outcomes:
        status = Status.INCOMPLETE
    elif Outcome.UNCERTAIN in outcomes:
        status = Status.UNCERTAIN
    elif Outcome.CONDITION in outcomes:
        status = Status.CONDITIONAL  # what the candidate can still do comes first
    elif Outcome.REVIEW in outcomes:
        status = Status.REVIEW
    else:
        status = Status.ELIGIBLE
    return Verdict(
        status=status,
        reasons=tuple(reasons),
        documents=_documents(vacancy, counted),
        closes_at=closes,
        time_left=(closes.astimezone(UTC) - now.astimezone(UTC)) if closes else None,
        score=points,
        max_score=max_points,
        unknowns=tuple(Msg("unknown", {"text": n.text}) for n in vacancy.silent_on),
        score_parts=tuple(parts),
        score_assumption=score_note,
        stale=stale_documents(vacancy, counted, now),
    )


_QUESTIONS: dict[int, tuple] = {}


def compile_questions_cached(vacancy: Vacancy) -> tuple:
    # Vacancies are frozen and live for the process: compile their questions once each.
    key = id(vacancy)
    cached = _QUESTIONS.get(key)
    if cached is None or cached[0] is not vacancy:
        cached = (vacancy, compile_questions(vacancy))
        _QUESTIONS[key] = cached
    return cached[1]
