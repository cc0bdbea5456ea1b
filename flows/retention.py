"""How long a dossier is kept: the promise of the privacy notice, as a pure function.

Each vacancy says it in one of two ways (`Vacancy` checks that it does, exactly once):

- `reserve`, the seed's recruitment reserve (Nieuwpoort: "Een wervingsreserve wordt aangelegd
  voor twee jaar"): a submitted application is kept until the reserve ends, its months after
  the end of the procedure. We cannot tell who is in the reserve, so every submitted one is.
- `retention`, where the seed names no reserve: a submitted application is kept that many
  months after it was made — the vacancy's own period when quoted, else the employer's setting,
  which the notice calls ours.

An application never submitted (a draft, one ruled out, withdrawn or expired) has served once
the procedure is over: it goes when the procedure ends where the vacancy dates that (the last
dated selection step, else the deadline), and otherwise after the `retention` period.
Periods count from the latest application: a re-application after a withdrawal reuses the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from flows.eligibility import add_months
from flows.vacancy import Vacancy


class Applied(Protocol):
    """What the retention of a dossier depends on (a `DossierRecord`, or a light row of the
    retention job that never opens the sealed fields)."""

    @property
    def status(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def consented_at(self) -> datetime: ...


@dataclass(frozen=True)
class Kept:
    """Until when a dossier is kept, and by which promise of the notice."""

    until: datetime
    # reserve: submitted, kept through the reserve; procedure: never submitted, kept until the
    # procedure ended; period: the vacancy file's retention after the application.
    rule: Literal["reserve", "procedure", "period"]
    since: datetime  # the end of the procedure (reserve, procedure) or the application (period)
    months: int = 0
    ours: bool = False  # a period the vacancy text does not give (said as ours in the notice)

    def reason(self, status: str) -> str:
        """Why the dossier goes, for the operator (no personal data: dates and a status)."""
        until, since = f"{self.until:%Y-%m-%d}", f"{self.since:%Y-%m-%d}"
        if self.rule == "reserve":
            return (f"submitted; the recruitment reserve of {self.months} months after the "
                    f"procedure ({since}) ended {until}")
        if self.rule == "procedure":
            return f"{status}, never submitted; the procedure ended {until}"
        whose = "our setting, not in the vacancy text" if self.ours else "the vacancy's own"
        return (f"{status}; the retention of {self.months} months after the application "
                f"({since}; {whose}) ended {until}")


def _plus_months(moment: datetime, months: int) -> datetime:
    return datetime.combine(add_months(moment.date(), months), moment.timetz())


@dataclass(frozen=True)
class Promise:
    """What the privacy notice of a vacancy promises, before there is any dossier."""

    procedure_end: datetime | None  # where the vacancy dates it
    reserve_months: int | None  # the seed's reserve: submitted ones, this long after the end
    period_months: int | None  # else: this long after the application
    ours: bool  # the period is not the vacancy text's (said as ours)

    @property
    def reserve_ends(self) -> datetime | None:
        """The day a submitted application goes, where the reserve fixes it."""
        if self.reserve_months is None or self.procedure_end is None:
            return None
        return _plus_months(self.procedure_end, self.reserve_months)


def promise(vacancy: Vacancy) -> Promise:
    if vacancy.reserve is not None:
        return Promise(vacancy.procedure_end(), vacancy.reserve.months, None, False)
    assert vacancy.retention is not None  # one of the two (Vacancy checks it)
    return Promise(vacancy.procedure_end(), None, vacancy.retention.months,
                   not vacancy.retention.stated)


def kept(vacancy: Vacancy, dossier: Applied) -> Kept:
    """How long this dossier is kept, and why; times in the vacancy's zone."""
    said = promise(vacancy)
    started = max(dossier.created_at, dossier.consented_at).astimezone(vacancy.zone)
    ended = max(said.procedure_end, started) if said.procedure_end is not None else None
    if said.reserve_months is not None:
        assert ended is not None  # a reserve needs a dated procedure (Vacancy checks it)
        if dossier.status == "submitted":
            return Kept(_plus_months(ended, said.reserve_months), "reserve", ended,
                        said.reserve_months)
        return Kept(ended, "procedure", ended)
    assert said.period_months is not None
    period = Kept(_plus_months(started, said.period_months), "period", started,
                  said.period_months, ours=said.ours)
    if dossier.status != "submitted" and ended is not None and ended < period.until:
        return Kept(ended, "procedure", ended)
    return period


def keep_until(vacancy: Vacancy, dossier: Applied) -> datetime:
    """The moment after which the dossier, its answers and files are deleted."""
    return kept(vacancy, dossier).until
