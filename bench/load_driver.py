"""The simulated candidates of a load run: N at once, interleaved, each replaying one full
application and sending its next update only when the previous one's replies arrived (a
closed loop). It checks what arrives: each candidate's replies in order, none twice.

The driver knows nothing of the system under test: `submit(raw update)` hands an update in,
and the system's request layer calls `on_sent` for every message it sends to a chat.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.load_scripts import Application

FIRST_USER = 1_000_000
RECRUITERS = -100_100  # the recruiters' chat (a group)
STALL = 600.0  # seconds a candidate may wait for a reply before the run counts as stuck
DIGITS = re.compile(r"\d+")


def user_id(index: int) -> int:
    return FIRST_USER + index


def application_of(user: int, applications: list[Application]) -> Application:
    """Candidate i applies to vacancy i mod V: every vacancy, interleaved."""
    return applications[(user - FIRST_USER) % len(applications)]


def normalised(text: str) -> str:
    """Dossier numbers and message ids differ between candidates; the rest may not."""
    return DIGITS.sub("#", text)


@dataclass
class Expected:
    """What one application's steps answer: how many messages each step's replies are, and
    each message's text (normalised), or for a reference the step number it starts with."""

    counts: list[int]
    texts: list[str]
    prefix_only: bool = False

    @classmethod
    def one_reply_each(cls, steps: int) -> Expected:
        return cls([1] * steps, [f"{n}|" for n in range(1, steps + 1)], prefix_only=True)

    def as_json(self) -> dict[str, Any]:
        return {"counts": self.counts, "texts": self.texts, "prefix_only": self.prefix_only}


@dataclass
class Candidate:
    user: int
    application: Application
    expected: Expected
    received: list[tuple[str, list[tuple[str, str]], int]] = field(default_factory=list)
    target: int = 0
    waiter: asyncio.Future[None] | None = None


@dataclass
class Timing:
    vacancy: int
    step: int
    kind: str
    micros: float


class Driver:
    def __init__(self, applications: list[Application], candidates: int,
                 expected: Callable[[Application], Expected], first: int = 0) -> None:
        self.applications = applications
        self.candidates = [Candidate(user_id(i), application_of(user_id(i), applications),
                                     expected(application_of(user_id(i), applications)))
                           for i in range(first, first + candidates)]
        self.by_chat = {c.user: c for c in self.candidates}
        self.files: dict[str, bytes] = {}
        self.recruiter_messages = 0
        self.strays = 0  # messages to chats that are not a candidate's
        self.timings: list[Timing] = []
        self._ids = itertools.count(first * 1000 + 1)
        self._vacancy_index = {a.vacancy: i for i, a in enumerate(applications)}

    # ------------------------------------------------------------------ what arrives

    def on_sent(self, chat_id: int, text: str, buttons: list[tuple[str, str]],
                message_id: int) -> None:
        candidate = self.by_chat.get(chat_id)
        if candidate is None:
            if chat_id == RECRUITERS:
                self.recruiter_messages += 1
            else:
                self.strays += 1
            return
        candidate.received.append((text, buttons, message_id))
        waiter = candidate.waiter
        if waiter is not None and not waiter.done() and len(candidate.received) >= candidate.target:
            waiter.set_result(None)

    # ------------------------------------------------------------------ the closed loop

    async def run(self, submit: Callable[[dict[str, Any]], Awaitable[None]]) -> float:
        """Every candidate at once; return the seconds until the last reply arrived."""
        started = time.perf_counter()
        await asyncio.gather(*(self.apply(c, submit) for c in self.candidates))
        return time.perf_counter() - started

    async def apply(self, candidate: Candidate,
                    submit: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        vacancy = self._vacancy_index[candidate.application.vacancy]
        for index, step in enumerate(candidate.application.steps):
            candidate.target += candidate.expected.counts[index]
            raw = self.update(candidate, index)
            candidate.waiter = loop.create_future()
            started = time.perf_counter()
            await submit(raw)
            if len(candidate.received) < candidate.target:
                try:
                    await asyncio.wait_for(candidate.waiter, STALL)
                except TimeoutError:
                    raise RuntimeError(f"candidate {candidate.user - FIRST_USER} got no reply to "
                                       f"step {index} ({step.kind}) within {STALL:.0f} s") from None
            self.timings.append(Timing(vacancy, index, step.kind,
                                       (time.perf_counter() - started) * 1e6))

    # ------------------------------------------------------------------ checks

    def order_problems(self) -> list[str]:
        """Per candidate: every expected reply arrived, once, in order (no personal data)."""
        problems = []
        for c in self.candidates:
            texts = [text if c.expected.prefix_only else normalised(text)
                     for text, _, _ in c.received]
            want = c.expected.texts
            if len(texts) != len(want):
                problems.append(f"candidate {c.user - FIRST_USER}: {len(texts)} replies, "
                                f"expected {len(want)}")
                continue
            bad = next((i for i, (got, exp) in enumerate(zip(texts, want, strict=True))
                        if not (got.startswith(exp) if c.expected.prefix_only else got == exp)),
                       None)
            if bad is not None:
                problems.append(f"candidate {c.user - FIRST_USER}: reply {bad + 1} out of order "
                                f"or different")
        return problems

    # ------------------------------------------------------------------ updates

    def update(self, candidate: Candidate, index: int) -> dict[str, Any]:
        """The raw update of the candidate's step `index`, as Telegram would send it."""
        application = candidate.application
        step = application.steps[index]
        date = int(application.now.timestamp())
        user = {"id": candidate.user, "is_bot": False, "first_name": "Kandidaat",
                "language_code": application.language}
        chat = {"id": candidate.user, "type": "private", "first_name": "Kandidaat"}
        number = next(self._ids)
        message: dict[str, Any] = {"message_id": number, "date": date, "chat": chat, "from": user}
        if step.kind == "upload":
            # The id says which script file it is: any process can answer its download.
            file_id = f"f{number}-{self._vacancy_index[application.vacancy]}-{index}"
            self.files[file_id] = step.data
            size = step.declared_size if step.declared_size is not None else len(step.data)
            if step.photo:
                message["photo"] = [{"file_id": file_id, "file_unique_id": f"u{file_id}",
                                     "width": 1280, "height": 960, "file_size": size}]
            else:
                message["document"] = {"file_id": file_id, "file_unique_id": f"u{file_id}",
                                       "file_name": step.file_name, "file_size": size,
                                       **({"mime_type": step.mime} if step.mime else {})}
        elif step.kind in ("consent", "button"):
            assert step.text is not None
            found = self.button(candidate, step.text)
            pressed, data = found if found is not None else (
                candidate.received[-1][2] if candidate.received else 1, step.text[:64])
            return {"update_id": number, "callback_query": {
                "id": str(number), "from": user, "chat_instance": "1", "data": data,
                "message": {"message_id": pressed, "date": date, "chat": chat, "text": ".",
                            "from": {"id": 7000001, "is_bot": True, "first_name": "Intake"}}}}
        else:
            assert step.text is not None
            message["text"] = step.text
            if step.text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0,
                                        "length": len(step.text.split()[0])}]
        return {"update_id": number, "message": message}

    @staticmethod
    def button(candidate: Candidate, label: str) -> tuple[int, str] | None:
        """(message id, callback data) of the newest button labelled `label` — exactly, else
        the only one starting with or containing it — as `simulate` finds it. None when no
        message offers it (a reference bot takes the label itself as the data)."""
        want = label.lower()
        for _text, buttons, message_id in reversed(candidate.received):
            for matches in ([b for b in buttons if b[0] == label],
                            [b for b in buttons if b[0].lower().startswith(want)],
                            [b for b in buttons if want in b[0].lower()]):
                if len(matches) == 1:
                    return message_id, matches[0][1]
        return None
