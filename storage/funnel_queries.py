"""What the funnel needs from the database (`flows/funnel.py` computes the figures).

- `count_notice_shown`: one more privacy notice shown for a vacancy today, in the engine's
  transaction — an anonymous counter (vacancy, day, number), the only trace of someone who
  has not accepted the notice;
- `funnel_of`: the figures of one vacancy, from its applications (opened through
  `SqlDossierStore.list_dossiers`, since verdicts are sealed), the counter, and the audit
  trail's last move of an expired or withdrawn application (where it stopped).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from flows.flow import Flow
from flows.funnel import Funnel, funnel
from storage.tables import audit_table, funnel_count_table

if TYPE_CHECKING:  # the repository calls count_notice_shown: no import cycle at run time
    from storage.dossier_repository import SqlDossierStore

NOTICE_SHOWN = "notice_shown"
LEAVING = ("expire", "withdraw")  # audit events whose "from" is where an application stopped

_N = funnel_count_table.c
_A = audit_table.c


def count_notice_shown(connection: Connection, vacancy_id: str, day: date) -> None:
    insert_ = sqlite_insert if connection.dialect.name == "sqlite" else pg_insert
    statement = insert_(funnel_count_table).values(
        vacancy_id=vacancy_id, day=day, event=NOTICE_SHOWN, n=1)
    connection.execute(statement.on_conflict_do_update(
        index_elements=["vacancy_id", "day", "event"], set_={"n": _N.n + 1}))


def notices_shown(connection: Connection, vacancy_id: str) -> int:
    total = connection.execute(select(func.coalesce(func.sum(_N.n), 0)).where(
        _N.vacancy_id == vacancy_id, _N.event == NOTICE_SHOWN)).scalar_one()
    return int(total)


def left_from(connection: Connection, dossier_ids: list[int]) -> dict[int, str]:
    """For each of these applications that expired or was withdrawn, the state it left last."""
    found: dict[int, str] = {}
    if not dossier_ids:
        return found
    query = (select(_A.dossier_id, _A.detail)
             .where(_A.dossier_id.in_(dossier_ids), _A.event.in_(LEAVING))
             .order_by(_A.at, _A.id))
    for dossier_id, detail in connection.execute(query):
        source = (detail or {}).get("from")
        if isinstance(source, str):
            found[int(dossier_id)] = source  # the latest wins
    return found


def funnel_of(store: SqlDossierStore, flow: Flow) -> Funnel:
    dossiers = store.list_dossiers(flow.vacancy.id, None)
    leaving = [d.id for d in dossiers if d.id is not None and d.status in ("expired", "withdrawn")]
    with store.engine.connect() as connection:
        shown = notices_shown(connection, flow.vacancy.id)
        stopped = left_from(connection, leaving)
    return funnel(flow, dossiers, shown, stopped)
