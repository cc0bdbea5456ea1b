"""Which questions a vacancy asks, in order, and which of them apply to given answers.

Each generic rule type expands to a fixed set of questions with ids `<rule id>.<part>`; a
follow-up only depends on earlier answers, so one pass in order decides what applies.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from flows.vacancy import Vacancy

Kind = Literal["choice", "yes_no", "number", "date", "text", "email"]
Answers = Mapping[str, Any]


@dataclass(frozen=True)
class Option:
    value: Any
    label: Any  # a Msg or a vacancy Text


@dataclass(frozen=True)
class Question:
    id: str
    kind: Kind
    prompt: Any  # a Msg (flows.messages) built lazily by the engine from prompt_key/values
    prompt_key: str
    prompt_values: dict[str, Any] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    ask_if: Condition | None = None
    rule_id: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    optional: bool = False
    rest_none: bool = False  # a knowledge-matrix level: "no knowledge of the rest" in one tap

    def applies(self, answers: Answers) -> bool:
        return self.ask_if is None or self.ask_if(answers)

    def option_values(self) -> tuple[Any, ...] | None:
        if self.kind == "yes_no":
            return (True, False)
        if self.kind == "choice":
            return tuple(o.value for o in self.options)
        return None


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:40] or "item"


def _q(qid: str, kind: Kind, key: str, **kw: Any) -> Question:
    return Question(id=qid, kind=kind, prompt=None, prompt_key=key, **kw)


@dataclass(frozen=True)
class Condition:
    """When a follow-up is asked: a pure predicate on earlier answers that can say itself."""

    question: str
    value: Any
    negate: bool = False

    def __call__(self, answers: Answers) -> bool:
        if self.negate:
            return self.question in answers and answers[self.question] != self.value
        return answers.get(self.question) == self.value

    def describe(self) -> str:
        shown = ("ja" if self.value else "nee") if isinstance(self.value, bool) else self.value
        return f"{self.question} {'≠' if self.negate else '='} {shown}"


def _is(qid: str, value: Any) -> Condition:
    return Condition(qid, value)


def _is_not(qid: str, value: Any) -> Condition:
    return Condition(qid, value, negate=True)


IDENTITY = (
    _q("candidate.name", "text", "q.name", maximum=120),
    _q("candidate.email", "email", "q.email"),
)


def _rule_questions(vacancy: Vacancy) -> list[Question]:
    from flows.messages import Msg
    from flows.vacancy import (
        DIPLOMA_SCALES,
        CriminalRecordRule,
        DiplomaRule,
        ExperienceRule,
        KnowledgeMatrixRule,
        LanguageRule,
        ScoredRule,
        YesNoRule,
    )

    out: list[Question] = []
    for rule in vacancy.requirements:
        rid = rule.id
        if isinstance(rule, DiplomaRule):
            scale = DIPLOMA_SCALES[vacancy.country]
            options = tuple(
                Option(level, Msg(f"diploma.{vacancy.country}.{level}")) for level in scale
            )
            out.append(_q(f"{rid}.level", "choice", "q.diploma.level", options=options,
                          rule_id=rid))
            if rule.foreign:
                out.append(_q(f"{rid}.foreign", "yes_no", "q.diploma.foreign", rule_id=rid,
                              ask_if=_is_not(f"{rid}.level", "none")))
                # A proof that takes months: have it → upload it; not yet → a condition.
                # (An unknown document id is reported by the vacancy's own validation.)
                known = {d.id: d.label for d in vacancy.documents}
                proof = {"document": known.get(rule.foreign.document, rule.foreign.document)}
                out.append(_q(f"{rid}.equivalence", "yes_no", "q.diploma.equivalence",
                              prompt_values=proof, rule_id=rid,
                              ask_if=_is(f"{rid}.foreign", True)))
        elif isinstance(rule, LanguageRule):
            out.append(_q(f"{rid}.dutch_education", "yes_no", "q.language.dutch_education",
                          rule_id=rid))
            out.append(_q(f"{rid}.certificate", "yes_no", "q.language.certificate",
                          rule_id=rid, ask_if=_is(f"{rid}.dutch_education", False)))
        elif isinstance(rule, CriminalRecordRule):
            if rule.asked != "at_application":
                continue
            values = {"model": rule.model}
            out.append(_q(f"{rid}.has_extract", "yes_no", "q.record.has_extract",
                          prompt_values=values, rule_id=rid))
            out.append(_q(f"{rid}.issued_on", "date", "q.record.issued_on", rule_id=rid,
                          ask_if=_is(f"{rid}.has_extract", True)))
            out.append(_q(f"{rid}.mention", "yes_no", "q.record.mention", rule_id=rid,
                          ask_if=_is(f"{rid}.has_extract", True)))
            if rule.unfavourable_mention == "explanation_allowed":
                # The candidate *may* explain a mention: their choice, then the document.
                out.append(_q(f"{rid}.explain", "yes_no", "q.record.explain", rule_id=rid,
                              ask_if=_is(f"{rid}.mention", True)))
        elif isinstance(rule, ExperienceRule):
            out.append(_q(f"{rid}.years", "number", "q.experience.years",
                          prompt_values={"counts": rule.counts}, rule_id=rid,
                          minimum=0, maximum=60))
        elif isinstance(rule, YesNoRule):
            out.append(_q(rid, "yes_no", "q.vacancy_text", prompt_values={"text": rule.question},
                          rule_id=rid))
        elif isinstance(rule, ScoredRule):
            for crit in rule.criteria:
                kind: Kind = "yes_no" if crit.answer == "yes_no" else "number"
                key = "q.vacancy_text" if kind == "yes_no" else "q.vacancy_years"
                out.append(_q(f"{rid}.{crit.id}", kind, key,
                              prompt_values={"text": crit.question}, rule_id=rid,
                              minimum=0 if kind == "number" else None,
                              maximum=60 if kind == "number" else None))
        elif isinstance(rule, KnowledgeMatrixRule):
            none_level = rule.levels[0].id
            options = tuple(Option(level.id, level.label) for level in rule.levels)
            for group in rule.groups:
                for item in group.items:
                    base = f"{rid}.{slug(item)}"
                    values = {"item": item, "group": group.name}
                    out.append(_q(f"{base}.level", "choice", "q.matrix.level",
                                  prompt_values=values, options=options, rule_id=rid,
                                  rest_none=True))
                    if rule.ask_years:
                        out.append(_q(f"{base}.years", "number", "q.matrix.years",
                                      prompt_values=values, rule_id=rid, minimum=0, maximum=60,
                                      ask_if=_is_not(f"{base}.level", none_level)))
            if rule.free_text:
                out.append(_q(f"{rid}.extra", "text", "q.matrix.extra", rule_id=rid,
                              optional=True, maximum=1000))
    return out


def compile_questions(vacancy: Vacancy) -> tuple[Question, ...]:
    """The identity questions, then each rule's questions in the order of the vacancy file."""
    from flows.messages import Msg

    questions = [*IDENTITY, *_rule_questions(vacancy)]
    ids = [q.id for q in questions]
    if len(ids) != len(set(ids)):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"two questions share an id: {', '.join(dup)}")
    return tuple(
        Question(**{**q.__dict__, "prompt": Msg(q.prompt_key, dict(q.prompt_values))})
        for q in questions
    )


def question_ids_and_values(vacancy: Vacancy) -> dict[str, tuple[Any, ...] | None]:
    """Every question id with its allowed values (None: free input). Used to check conditions."""
    return {q.id: q.option_values() for q in [*IDENTITY, *_rule_questions(vacancy)]}


def applicable_answers(questions: tuple[Question, ...], answers: Answers) -> dict[str, Any]:
    """The answers that count: those to questions that apply given the earlier answers.

    After 'back' a candidate may change an answer that a follow-up depended on; the stale
    follow-up answer stays stored (so switching back restores it) but no longer counts.
    """
    counted: dict[str, Any] = {}
    for q in questions:
        if q.id in answers and q.applies(counted):
            counted[q.id] = answers[q.id]
    return counted


def next_question(questions: tuple[Question, ...], answers: Answers) -> Question | None:
    counted: dict[str, Any] = {}
    for q in questions:
        if not q.applies(counted):
            continue
        if q.id not in answers:
            return q
        counted[q.id] = answers[q.id]
    return None
