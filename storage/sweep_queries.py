"""The periodic jobs' reads: only what is due, a bounded batch at a time.

The reminder/expiry sweep and the retention job used to load every dossier (decrypting each)
to decide in Python which ones needed them. Here each vacancy's rules become SQL conditions —
a vacancy that closed, a reminder day that has come and not yet been recorded, a retention
that may have ended — so a database of 100,000 dossiers costs an index scan of the few due.
Batches are keyset-paginated on the dossier id (`after`, `limit`): memory stays bounded
whatever the table holds, and a job can stop between batches.

These are pre-filters: each returns at least every dossier its job must act on (a retention
bound leaves a week's slack for month lengths and time zones); the job then decides exactly
under the candidate's lock, as before. Nothing here opens a sealed field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    String,
    and_,
    cast,
    false,
    func,
    not_,
    or_,
    select,
)

from flows.eligibility import add_months
from flows.retention import promise
from flows.turn import DEADLINE_GRACE
from flows.turn_deadlines import REMINDER_IDLE, reminder_at
from flows.vacancy import Vacancy
from storage.tables import candidate_table, document_table, dossier_table

BATCH = 500  # dossiers per query: a few hundred KB of light rows at most
UNFINISHED = ("draft", "collecting")
# A retention bound is "now minus the period" in calendar months, in the vacancy's zone, with
# month ends clamped: a week of slack makes the SQL bound a superset of the exact rule.
RETENTION_SLACK = timedelta(days=7)

_D = dossier_table.c
_C = candidate_table.c
_F = document_table.c


def _utc(moment: datetime) -> datetime:
    """SQLite keeps the wall time and drops the zone: compare in UTC, as rows are written."""
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class SweepRow:
    """A dossier the reminder/expiry sweep must look at, and whose chat it is."""

    dossier_id: int
    channel: str
    external_id: str
    chat_id: str | None


@dataclass(frozen=True)
class RetentionRow:
    """A dossier whose retention may have ended: enough for `flows.retention.kept`."""

    dossier_id: int
    candidate_id: int
    vacancy_id: str
    status: str
    created_at: datetime
    consented_at: datetime
    channel: str
    external_id: str


# --------------------------------------------------------------------------- the sweep


def _sweep_condition(vacancy: Vacancy, now: datetime,
                     reminder_days: Sequence[int]) -> ColumnElement[bool] | None:
    """Which unfinished dossiers of this vacancy the sweep has something to do for at `now`
    (`flows.turn_deadlines.Deadlines.sweep`), or None: none."""
    of_vacancy = _D.vacancy_id == vacancy.id
    if not vacancy.is_open(now - DEADLINE_GRACE):
        return of_vacancy  # closed: every unfinished one expires
    if not vacancy.is_open(now) or vacancy.closes_at() is None:
        return None  # the grace hour, or nothing ever closes: no reminder
    due = [n for n in reminder_days if _utc(now) >= reminder_at(vacancy, n)]
    if not due:
        return None
    # `reminders_sent` is a JSON list such as ["3d"]: a due day not in its text is unsent.
    sent = cast(_D.reminders_sent, String)
    unsent = or_(*(not_(sent.like(f'%"{n}d"%')) for n in due))
    return and_(of_vacancy, unsent, _D.updated_at <= _utc(now - REMINDER_IDLE))


def due_for_sweep(engine: Engine, vacancies: Iterable[Vacancy], now: datetime,
                  reminder_days: Sequence[int], after: int = 0,
                  limit: int = BATCH) -> list[SweepRow]:
    """The next batch (ids above `after`) of unfinished Telegram dossiers to remind or expire."""
    conditions = [c for v in vacancies
                  if (c := _sweep_condition(v, now, reminder_days)) is not None]
    if not conditions:
        return []
    query = (select(_D.id, _C.channel, _C.external_id, _C.chat_id)
             .join(candidate_table, _C.id == _D.candidate_id)
             .where(_D.status.in_(UNFINISHED), _C.channel == "telegram", _D.id > after,
                    or_(*conditions))
             .order_by(_D.id).limit(limit))
    with engine.connect() as connection:
        return [SweepRow(*row) for row in connection.execute(query)]


# --------------------------------------------------------------------------- retention


def _started_before(bound: datetime) -> ColumnElement[bool]:
    """The application (the later of created and consented) is not after `bound`."""
    return and_(_D.created_at <= _utc(bound), _D.consented_at <= _utc(bound))


def _months_back(now: datetime, months: int) -> datetime:
    """The latest start a period of `months` can have ended for by `now` (with slack)."""
    back = datetime.combine(add_months(now.date(), -months), now.timetz())
    return back + RETENTION_SLACK


def _retention_condition(vacancy: Vacancy, now: datetime) -> ColumnElement[bool] | None:
    """Which of this vacancy's dossiers may be past their retention at `now`
    (`flows.retention.kept`): a superset, decided exactly afterwards."""
    said = promise(vacancy)
    submitted = _D.status == "submitted"
    parts: list[ColumnElement[bool]] = []
    # Never submitted: gone when the procedure has ended, or else after the period.
    if said.procedure_end is not None and now >= said.procedure_end:
        parts.append(not_(submitted))
    elif said.period_months is not None:
        parts.append(and_(not_(submitted), _started_before(_months_back(now, said.period_months))))
    # Submitted: through the reserve after the procedure, or the period after applying.
    if said.reserve_months is not None:
        ends = said.reserve_ends
        if ends is not None and now >= ends:
            parts.append(and_(submitted,
                              _started_before(_months_back(now, said.reserve_months))))
    elif said.period_months is not None:
        parts.append(and_(submitted, _started_before(_months_back(now, said.period_months))))
    if not parts:
        return None
    return and_(_D.vacancy_id == vacancy.id, or_(*parts))


def maybe_expired(engine: Engine, vacancies: Iterable[Vacancy], now: datetime,
                  after: int = 0, limit: int = BATCH) -> list[RetentionRow]:
    """The next batch (ids above `after`) of dossiers whose retention may have ended."""
    conditions = [c for v in vacancies if (c := _retention_condition(v, now)) is not None]
    if not conditions:
        return []
    query = (select(_D.id, _D.candidate_id, _D.vacancy_id, _D.status, _D.created_at,
                    _D.consented_at, _C.channel, _C.external_id)
             .join(candidate_table, _C.id == _D.candidate_id)
             .where(_D.id > after, or_(*conditions))
             .order_by(_D.id).limit(limit))
    with engine.connect() as connection:
        return [RetentionRow(row[0], row[1], row[2], row[3], _loaded(row[4]), _loaded(row[5]),
                             row[6], row[7])
                for row in connection.execute(query)]


def batches(fetch: Any, *args: Any, limit: int = BATCH) -> Iterator[list[Any]]:
    """Every batch of `fetch(*args, after=, limit=)`, keyset-paginated on the dossier id.

    The next batch starts after the last id seen, so rows the caller deleted or changed
    meanwhile neither repeat nor shift the window."""
    after = 0
    while True:
        rows = fetch(*args, after=after, limit=limit)
        if rows:
            yield rows
        if len(rows) < limit:
            return
        after = rows[-1].dossier_id


def document_counts(engine: Engine, dossier_ids: Sequence[int]) -> dict[int, int]:
    """How many document rows each of these dossiers has (for `purge --dry-run`)."""
    if not dossier_ids:
        return {}
    query = (select(_F.dossier_id, func.count()).where(_F.dossier_id.in_(dossier_ids))
             .group_by(_F.dossier_id))
    with engine.connect() as connection:
        return {row[0]: row[1] for row in connection.execute(query)}


def dossier_counts(engine: Engine, candidate_ids: Sequence[int]) -> dict[int, int]:
    """How many dossiers each of these candidates has, in chunks of `BATCH`."""
    found: dict[int, int] = {}
    ids = list(candidate_ids)
    with engine.connect() as connection:
        for start in range(0, len(ids), BATCH):
            query = (select(_D.candidate_id, func.count())
                     .where(_D.candidate_id.in_(ids[start:start + BATCH]))
                     .group_by(_D.candidate_id))
            found.update({row[0]: row[1] for row in connection.execute(query)})
    return found


def retired_count(engine: Engine, vacancy_ids: Iterable[str]) -> int:
    """Dossiers of vacancies no longer in the catalogue (their retention is unknown)."""
    known = list(vacancy_ids)
    query = select(func.count()).select_from(dossier_table).where(
        _D.vacancy_id.not_in(known) if known else ~false())
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


# --------------------------------------------------------------------------- files


def owned_paths(engine: Engine, stored_paths: Sequence[str]) -> set[str]:
    """Which of these stored paths a document row owns (indexed: ix_document_stored_path)."""
    if not stored_paths:
        return set()
    query = select(_F.stored_path).where(_F.stored_path.in_(stored_paths))
    with engine.connect() as connection:
        return set(connection.execute(query).scalars())


def _loaded(value: datetime) -> datetime:
    """An aware UTC datetime from a row: SQLite returns naive UTC, PostgreSQL the session zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
