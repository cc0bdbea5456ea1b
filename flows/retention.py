"""How long a dossier is kept: the promise of the privacy notice, as a pure function.

The notice says: until the end of the selection procedure and, for someone in the recruitment
reserve, as long as the reserve runs; without a reserve, at most one year — our own default,
said as such in the notice, since no seed names one. The procedure's end is taken as its last
dated selection step, else the deadline, else the day the dossier was made.
"""

from __future__ import annotations

from datetime import datetime, time

from flows.eligibility import add_months
from flows.ports import DossierRecord
from flows.vacancy import Vacancy

DEFAULT_MONTHS = 12


def procedure_end(vacancy: Vacancy, dossier: DossierRecord) -> datetime:
    days = [step.day for step in vacancy.selection if step.day is not None]
    if days:
        return datetime.combine(max(days), time(23, 59), tzinfo=vacancy.zone)
    closes = vacancy.closes_at()
    return closes if closes is not None else dossier.created_at


def _plus_months(moment: datetime, months: int) -> datetime:
    return datetime.combine(add_months(moment.date(), months), moment.timetz())


def keep_until(vacancy: Vacancy, dossier: DossierRecord) -> datetime:
    """The moment after which the dossier, its answers and files are deleted.

    Counted from the (latest) application: a re-application after a withdrawal reuses the row.
    The reserve can only hold submitted applications; the others end with the procedure.
    """
    started = max(dossier.created_at, dossier.consented_at)
    if vacancy.reserve is not None:
        end = max(procedure_end(vacancy, dossier), started)
        if dossier.status == "submitted":
            return _plus_months(end, vacancy.reserve.months)
        return end
    return _plus_months(started, DEFAULT_MONTHS)
