"""One worker at a time for a periodic job (reminders, retention, pruning), across processes.

A row per job names its holder and until when; taking it is one conditional write, so it works
the same on SQLite and PostgreSQL. A holder that dies simply lets the lease run out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, or_, select, update

from storage.database import is_sqlite
from storage.dossier_repository import write_transaction
from storage.tables import job_lease_table

_J = job_lease_table.c


def take_job_lease(engine: Engine, name: str, owner: str, ttl: timedelta,
                   clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> bool:
    """True when `owner` now holds the job `name` for `ttl` (newly, or renewed)."""
    now = clock()
    with write_transaction(engine) as connection:
        taken = connection.execute(
            update(job_lease_table)
            .where(_J.name == name, or_(_J.owner == owner, _J.until < now))
            .values(owner=owner, until=now + ttl)).rowcount
        if taken:
            return True
        if connection.execute(select(_J.name).where(_J.name == name)).first() is not None:
            return False
        if is_sqlite(engine):
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        # A row comes back only when this insert made it (rowcount is -1 on PostgreSQL here).
        inserted = connection.execute(
            insert(job_lease_table).values(name=name, owner=owner, until=now + ttl)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(job_lease_table.c.name)).first()
        return inserted is not None
