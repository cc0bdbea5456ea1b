"""The question flow of one vacancy: a `transitions` state machine, built once per vacancy.

States are `privacy`, one `q:<question id>` per question, and the dossier's lifecycle states.
The machine is static (the "static machine" pattern of the transitions FAQ): no model is ever
attached; each event fires on a throw-away `_Step` whose state comes from the dossier row and
whose `target` the engine computed from the answers. The machine's conditions are pure
predicates on that step, so the machine is the single place that says which moves are legal.

The machine is built on the first move, not with the flow: a long questionnaire has thousands
of transitions (tens of milliseconds), and a catalogue of many vacancies would pay that for
each at start-up, whether or not anyone applies to it that day.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from transitions import Machine

from flows.questions import Question, compile_questions, next_question
from flows.sections import Place, places
from flows.vacancy import Vacancy

PRIVACY = "privacy"
DECLINED = "declined"
KNOCKED_OUT = "knocked_out"
COLLECTING = "collecting"
SUBMITTED = "submitted"
WITHDRAWN = "withdrawn"
EXPIRED = "expired"
FIXED_STATES = (PRIVACY, DECLINED, KNOCKED_OUT, COLLECTING, SUBMITTED, WITHDRAWN, EXPIRED)

# The dossier lifecycle (ARCHITECTURE.md) as seen from the machine's state.
STATUS_OF = {
    KNOCKED_OUT: "ineligible",
    COLLECTING: "collecting",
    SUBMITTED: "submitted",
    WITHDRAWN: "withdrawn",
    EXPIRED: "expired",
}


def status_of(state: str) -> str:
    return STATUS_OF.get(state, "draft")


def q_state(question: Question) -> str:
    return f"q:{question.id}"


class IllegalMove(Exception):
    def __init__(self, trigger: str, state: str, target: str) -> None:
        super().__init__(f"{trigger!r} cannot move from {state!r} to {target!r}")


@dataclass
class _Step:
    state: str
    target: str


def _to(dest: str) -> Any:
    return lambda event: event.model.target == dest


class Flow:
    """One vacancy's questions and the machine that moves a dossier through them."""

    def __init__(self, vacancy: Vacancy) -> None:
        self.vacancy = vacancy
        self.questions: tuple[Question, ...] = compile_questions(vacancy)
        self.by_id = {q.id: q for q in self.questions}
        self.index = {q.id: i for i, q in enumerate(self.questions)}
        self.places: dict[str, Place] = places(vacancy, self.questions)
        self.states = [PRIVACY, *(q_state(q) for q in self.questions), *FIXED_STATES[1:]]

    @cached_property
    def machine(self) -> Machine:
        # Two threads may both build it once: equal machines, one kept; nothing is attached.
        return Machine(
            model=None,
            states=self.states,
            transitions=self.transitions,
            initial=None,
            auto_transitions=False,
            send_event=True,
        )

    @cached_property
    def transitions(self) -> list[dict[str, Any]]:
        qs = [q_state(q) for q in self.questions]
        t: list[dict[str, Any]] = []

        def add(trigger: str, source: str | list[str], dest: str) -> None:
            t.append({"trigger": trigger, "source": source, "dest": dest,
                      "conditions": _to(dest)})

        add("accept", PRIVACY, qs[0])
        add("decline", PRIVACY, DECLINED)
        for i, source in enumerate(qs):
            # Follow-ups only depend on earlier answers, so the next question is always later.
            for dest in qs[i + 1:]:
                add("answer", source, dest)
            add("answer", source, KNOCKED_OUT)
            add("answer", source, COLLECTING)
            for dest in qs[:i]:
                add("back", source, dest)
        for dest in qs:
            add("back", [KNOCKED_OUT, COLLECTING], dest)
            add("restart", [*qs, KNOCKED_OUT, COLLECTING, WITHDRAWN], dest)
        add("withdraw", [*qs, KNOCKED_OUT, COLLECTING, SUBMITTED, EXPIRED], WITHDRAWN)
        add("submit", COLLECTING, SUBMITTED)
        add("expire", [*qs, COLLECTING], EXPIRED)
        return t

    # ------------------------------------------------------------------ moves

    def fire(self, trigger: str, state: str, target: str) -> str:
        """Move from `state` to `target` by `trigger`, or raise IllegalMove."""
        step = _Step(state, target)
        event = self.machine.events.get(trigger)
        if event is None or state not in self.machine.states or not event.trigger(step):
            raise IllegalMove(trigger, state, target)
        return step.state

    def can(self, trigger: str, state: str) -> bool:
        event = self.machine.events.get(trigger)
        return event is not None and state in event.transitions

    def question_at(self, state: str) -> Question | None:
        return self.by_id.get(state[2:]) if state.startswith("q:") else None

    def forward_target(self, answers: dict[str, Any], knocked_out: bool) -> str:
        if knocked_out:
            return KNOCKED_OUT
        nxt = next_question(self.questions, answers)
        return q_state(nxt) if nxt else COLLECTING

    def back_target(self, state: str, answers: dict[str, Any]) -> str | None:
        """The previous question that applies and was answered, before `state`."""
        end = self.index[state[2:]] if state.startswith("q:") else len(self.questions)
        counted: dict[str, Any] = {}
        previous: str | None = None
        for q in self.questions[:end]:
            if q.applies(counted) and q.id in answers:
                counted[q.id] = answers[q.id]
                previous = q_state(q)
        return previous

    # ------------------------------------------------------------------ checks

    def unreachable_states(self) -> list[str]:
        """States no sequence of moves reaches from the privacy notice."""
        edges: dict[str, set[str]] = {}
        for t in self.transitions:
            sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
            for s in sources:
                edges.setdefault(s, set()).add(t["dest"])
        seen, todo = {PRIVACY}, deque([PRIVACY])
        while todo:
            for nxt in edges.get(todo.popleft(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return [s for s in self.states if s not in seen]
