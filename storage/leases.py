"""Row leases shared by the inbox and the outbox: who holds them, and freeing a dead holder's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, Table, select, update

from storage.dossier_repository import write_transaction


def lease_owners(engine: Engine, table: Table, now: datetime) -> set[str]:
    """Who holds live leases on `table` (to free those of processes known to be gone)."""
    c = table.c
    with engine.connect() as connection:
        return set(connection.execute(select(c.lease_owner).distinct().where(
            c.lease_owner.is_not(None), c.lease_until >= now)).scalars())


def release_leases(engine: Engine, table: Table, owners: set[str]) -> None:
    """Free the rows leased by `owners` for anyone to take."""
    if owners:
        with write_transaction(engine) as connection:
            connection.execute(update(table).where(table.c.lease_owner.in_(owners))
                               .values(lease_owner=None, lease_until=None))
