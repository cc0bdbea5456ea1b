"""How long the bot's messages to candidates are, per simulated conversation: the figures a
phone-first conversation is held to (no message over 1,000 characters, a median under 300,
every verdict at most 600)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from flows.messages import LANGUAGES, catalogue

LIMIT_ANY, LIMIT_MEDIAN, LIMIT_VERDICT = 1000, 300, 600


def verdict_openings() -> tuple[str, ...]:
    """How every verdict message begins, in every language (the heading up to the title)."""
    openings = set()
    for lang in LANGUAGES:
        for key, text in catalogue(lang).items():
            if key.startswith("verdict.") or key == "knockout.intro":
                opening = text.split("{", 1)[0]
                if len(opening) > 8:
                    openings.add(opening)
    return tuple(sorted(openings))


@dataclass(frozen=True)
class Figures:
    name: str
    count: int
    longest: int
    median: float
    verdict_longest: int  # 0: no verdict in this conversation

    def line(self) -> str:
        verdict = str(self.verdict_longest) if self.verdict_longest else "—"
        return (f"{self.count:5d} {self.longest:7d} {self.median:7.0f} {verdict:>8}  "
                f"{self.name}")


def figures(name: str, texts: list[str], openings: tuple[str, ...]) -> Figures:
    lengths = [len(t) for t in texts]
    verdicts = [len(t) for t in texts if t.startswith(openings)]
    return Figures(name, len(lengths), max(lengths, default=0),
                   statistics.median(lengths) if lengths else 0.0, max(verdicts, default=0))


def report(per_script: list[tuple[str, list[str]]]) -> tuple[str, bool]:
    """The table, the totals, and whether every limit holds."""
    openings = verdict_openings()
    rows = [figures(name, texts, openings) for name, texts in per_script]
    every = [len(t) for _, texts in per_script for t in texts]
    verdicts = [r.verdict_longest for r in rows if r.verdict_longest]
    over = sum(1 for n in every if n > LIMIT_ANY)
    median = statistics.median(every) if every else 0.0
    worst_verdict = max(verdicts, default=0)
    ok = over == 0 and median < LIMIT_MEDIAN and worst_verdict <= LIMIT_VERDICT
    lines = ["  sent longest  median  verdict  conversation",
             *(r.line() for r in rows),
             f"\nall conversations: {len(every)} messages to candidates; longest "
             f"{max(every, default=0)}, median {median:.0f}; {over} over {LIMIT_ANY} characters; "
             f"longest verdict {worst_verdict} (limit {LIMIT_VERDICT}) — "
             + ("within the limits" if ok else "NOT within the limits")]
    return "\n".join(lines), ok
