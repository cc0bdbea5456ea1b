"""Where a question sits in the conversation: "Vraag 3 van 8 · Diploma", fixed at the start.

The count is of the questions every candidate is asked; a follow-up (the year of an extract,
an explanation) shares the number of the question it follows, so the total never grows or
shrinks while answering. The section names the rule the question belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.questions import Question
from flows.vacancy import (
    CriminalRecordRule,
    DiplomaRule,
    ExperienceRule,
    KnowledgeMatrixRule,
    LanguageRule,
    ScoredRule,
    Vacancy,
    YesNoRule,
)

SECTION_OF_RULE = {
    DiplomaRule: "diploma",
    LanguageRule: "language",
    CriminalRecordRule: "record",
    ExperienceRule: "experience",
    YesNoRule: "conditions",
    ScoredRule: "score",
    KnowledgeMatrixRule: "matrix",
}


@dataclass(frozen=True)
class Place:
    n: int  # 1-based, among the questions always asked
    total: int
    section: str  # catalogue key suffix: section.<section>


def places(vacancy: Vacancy, questions: tuple[Question, ...]) -> dict[str, Place]:
    """Each question's place; computed once per vacancy, never from answers."""
    kinds = {rule.id: SECTION_OF_RULE[type(rule)] for rule in vacancy.requirements}
    total = sum(1 for q in questions if q.ask_if is None)
    found: dict[str, Place] = {}
    n = 0
    for q in questions:
        n += q.ask_if is None  # a follow-up shares the number of the question it follows
        found[q.id] = Place(max(n, 1), total, kinds.get(q.rule_id or "", "you"))
    return found
