"""The funnel of one vacancy at a glance: how many started, accepted the notice, were excluded
(per rule), qualified, submitted, expired or withdrew, and the question where most stop.

Pure: figures from plain records, texts as message keys. `storage/funnel_queries.py` reads the
records, `bot/stats_chart.py` draws the picture, `/stats` and `main.py stats` show both.

"Started" cannot be a count of people: nothing about anyone is stored before they accept the
privacy notice. It is the number of times the vacancy's notice was shown (`notice_shown`),
counted per day without who — one person opening it twice counts twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flows.flow import COLLECTING, Flow
from flows.messages import Msg, render
from flows.ports import DossierRecord

# The bars of the chart and the figures of the text, in funnel order.
STEPS = ("started", "accepted", "excluded", "eligible", "conditional", "to_check",
         "submitted", "expired", "withdrawn")
TO_CHECK = ("uncertain", "review")  # "❓ maybe" and "the employer judges": to check


@dataclass(frozen=True)
class Funnel:
    vacancy_id: str
    started: int  # privacy notices shown (counted without who)
    accepted: int  # applications: each began with an accepted notice
    excluded: int  # stopped by a stated rule (status ineligible)
    eligible: int  # past the questions, by the verdict: eligible,
    conditional: int  # eligible on conditions,
    to_check: int  # or uncertain / for the employer to judge
    submitted: int
    expired: int
    withdrawn: int
    in_progress: int  # still answering the questions
    excluded_by: tuple[tuple[str, int], ...] = ()  # (rule id, how many), most first
    stops: tuple[tuple[str, int], ...] = ()  # (question id, how many stopped there), most first

    @property
    def stop(self) -> tuple[str, int] | None:
        """The question where most candidates stop (the earliest one on a tie)."""
        return self.stops[0] if self.stops else None

    def figure(self, step: str) -> int:
        value = getattr(self, step)
        assert isinstance(value, int)
        return value


def _ordered(counts: Counter[str], order: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)),
                                                        kv[0])))


def funnel(flow: Flow, dossiers: Iterable[DossierRecord], notices_shown: int,
           left_from: Mapping[int, str]) -> Funnel:
    """The figures of `flow`'s vacancy from its applications.

    `left_from`: for an expired or withdrawn application, the state it left (from the audit
    trail), so that one who gave up halfway counts at the question they stopped at."""
    status: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    stops: Counter[str] = Counter()
    accepted = 0
    for d in dossiers:
        if d.vacancy_id != flow.vacancy.id:
            continue
        accepted += 1
        status[d.status] += 1
        verdict: dict[str, Any] = d.verdict or {}
        state = left_from.get(d.id or 0, d.state) if d.status in ("expired", "withdrawn") \
            else d.state
        question = flow.question_at(state)
        if question is not None:
            stops[question.id] += 1
        if d.status == "ineligible":
            failed = list(verdict.get("failed") or [])
            if not failed and verdict.get("knocked_by") in flow.by_id:
                failed = [flow.by_id[verdict["knocked_by"]].rule_id or verdict["knocked_by"]]
            rules.update(set(failed))
        elif d.status in ("collecting", "submitted") or (d.status == "expired"
                                                          and state == COLLECTING):
            verdicts[verdict.get("status", "")] += 1
    question_order = flow.index
    rule_order = {rule.id: i for i, rule in enumerate(flow.vacancy.requirements)}
    return Funnel(
        vacancy_id=flow.vacancy.id, started=notices_shown, accepted=accepted,
        excluded=status["ineligible"], eligible=verdicts["eligible"],
        conditional=verdicts["conditional"], to_check=sum(verdicts[s] for s in TO_CHECK),
        submitted=status["submitted"], expired=status["expired"],
        withdrawn=status["withdrawn"], in_progress=status["draft"],
        excluded_by=_ordered(rules, rule_order), stops=_ordered(stops, question_order))


# --------------------------------------------------------------------------- as texts


def question_label(flow: Flow, question_id: str) -> Msg:
    """ "vraag 3 · Diploma": where a question sits, as the candidate saw it."""
    place = flow.places[question_id]
    return Msg("rec.stats.question", {"n": place.n, "section": Msg(f"section.{place.section}")})


def rule_label(flow: Flow, rule_id: str) -> Msg | str:
    """A rule by where its first question sits ("vraag 3 · Diploma")."""
    first = next((q for q in flow.questions if q.rule_id == rule_id), None)
    return question_label(flow, first.id) if first is not None else rule_id


def step_label(step: str) -> Msg:
    return Msg(f"rec.stats.{step}")


def summary_lines(flow: Flow, figures: Funnel, lang: str) -> tuple[str, str]:
    """The two lines under the picture, in `lang` (a language or a locale): every figure, the
    exclusions per rule and the question where most stop."""
    f = figures
    per_rule = ""
    if f.excluded_by:
        rules = "; ".join(render(Msg("rec.stats.rule", {"rule": rule_label(flow, rule), "n": n}),
                                 lang) for rule, n in f.excluded_by)
        per_rule = render(Msg("rec.stats.excluded_by", {"rules": rules}), lang)
    stop = Msg("rec.stats.no_stop")
    if f.stop is not None:
        stop = Msg("rec.stats.stop", {"question": question_label(flow, f.stop[0]),
                                      "n": f.stop[1]})
    first = Msg("rec.stats.line1", {"title": flow.vacancy.title, "started": f.started,
                                    "accepted": f.accepted, "excluded": f.excluded,
                                    "per_rule": per_rule})
    second = Msg("rec.stats.line2", {"eligible": f.eligible, "conditional": f.conditional,
                                     "to_check": f.to_check, "submitted": f.submitted,
                                     "expired": f.expired, "withdrawn": f.withdrawn,
                                     "in_progress": f.in_progress, "stop": stop})
    return render(first, lang), render(second, lang)
