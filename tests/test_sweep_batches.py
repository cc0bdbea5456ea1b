"""The periodic jobs read what is due a bounded batch at a time, and miss nothing across batches.

Rows are inserted directly (as an unencrypted, pre-encryption row would be): the jobs select
on plain columns only; the engine then opens each due dossier under its candidate's lock.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from bot import reminders as reminders_module
from bot.reminders import Reminders
from flows.engine import Engine as FlowEngine
from flows.flow import KNOCKED_OUT, Flow, q_state
from flows.retention import kept
from flows.vacancy_loader import load_catalogue
from storage import retention as retention_module
from storage import sweep_queries
from storage.crypto import fixed_keyring
from storage.dossier_repository import SqlDossierStore
from storage.file_store import LocalFileStore
from storage.retention import plan_purge, purge_expired, sweep_orphan_files
from storage.tables import candidate_table, document_table, dossier_table

ROOT = Path(__file__).resolve().parents[1]
VACANCIES = load_catalogue(ROOT / "vacancies")
HARDENBERG = "hardenberg-medewerker-intern-service-punt"  # closes 14/7/2026 09:00 Amsterdam
VERA = "vera-projectcoordinator"  # no deadline; kept 12 months
NIEUWPOORT = "nieuwpoort-systeembeheerder-ict"  # reserve of 24 months after 16/9/2025

_ids = itertools.count(1)


def _add(db: Engine, vacancy_id: str, status: str, created: datetime,
         reminders_sent: list[str] | None = None, channel: str = "telegram") -> int:
    n = next(_ids)
    with db.begin() as connection:
        candidate_id = connection.execute(insert(candidate_table).values(
            channel=channel, external_id=f"u{n}", chat_id=None, language="nl",
            created_at=created).returning(candidate_table.c.id)).scalar_one()
        return connection.execute(insert(dossier_table).values(
            candidate_id=candidate_id, vacancy_id=vacancy_id, state=_state(vacancy_id, status),
            status=status,
            answers={}, language="nl", consented_at=created, privacy_version="1",
            created_at=created, updated_at=created,
            reminders_sent=reminders_sent or []).returning(dossier_table.c.id)).scalar_one()


def _state(vacancy_id: str, status: str) -> str:
    """A machine state a dossier of that status can be in (a draft: at the first question)."""
    if status == "draft":
        vacancy = VACANCIES.get(vacancy_id) or VACANCIES[VERA]
        return q_state(Flow(vacancy).questions[0])
    return {"ineligible": KNOCKED_OUT}.get(status, status)


def _status(db: Engine, dossier_id: int) -> str | None:
    with db.connect() as connection:
        return connection.execute(select(dossier_table.c.status)
                                  .where(dossier_table.c.id == dossier_id)).scalar_one_or_none()


def _recording(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Replace `module.name` by a wrapper that records how many rows each call returned."""
    real = getattr(module, name)
    sizes: list[int] = []

    def recorded(*args: Any, **kwargs: Any) -> Any:
        rows = real(*args, **kwargs)
        sizes.append(len(rows))
        return rows

    monkeypatch.setattr(module, name, recorded)
    return sizes


def _flow_engine(db: Engine, now: datetime, tmp_path: Path) -> FlowEngine:
    store = SqlDossierStore(db, clock=lambda: now, keyring=fixed_keyring())
    return FlowEngine(VACANCIES, store, LocalFileStore(tmp_path / "files"), lambda: now)


# --------------------------------------------------------------------------- reminders


async def test_expiry_sweep_covers_more_dossiers_than_a_batch(engine: Engine, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch):
    now = datetime(2026, 7, 15, 10, tzinfo=UTC)  # Hardenberg closed the day before
    created = now - timedelta(days=10)
    drafts = [_add(engine, HARDENBERG, "draft", created) for _ in range(7)]
    drafts.append(_add(engine, HARDENBERG, "collecting", created))
    done = _add(engine, HARDENBERG, "submitted", created)
    elsewhere = _add(engine, VERA, "draft", created)  # open, no deadline: nothing due
    terminal = _add(engine, HARDENBERG, "draft", created, channel="terminal")
    flows = _flow_engine(engine, now, tmp_path)
    sizes = _recording(monkeypatch, reminders_module, "due_for_sweep")

    told = await Reminders(flows, flows.store, (3, 1), batch=3).sweep()  # type: ignore[arg-type]

    assert told == len(drafts)
    assert all(_status(engine, d) == "expired" for d in drafts)
    assert _status(engine, done) == "submitted" and _status(engine, elsewhere) == "draft"
    assert _status(engine, terminal) == "draft"  # not a Telegram chat: not swept from here
    assert sizes == [3, 3, 2] and max(sizes) <= 3  # several bounded queries, each a batch
    sizes.clear()
    assert await Reminders(flows, flows.store, (3, 1), batch=3).sweep() == 0  # type: ignore[arg-type]
    assert sizes == [0]


async def test_reminder_sweep_selects_only_the_unreminded_and_idle(engine: Engine, tmp_path: Path):
    now = datetime(2026, 7, 12, 10, tzinfo=UTC)  # the 3-day reminder is due, the 1-day not
    old = now - timedelta(days=3)
    due = [_add(engine, HARDENBERG, "draft", old) for _ in range(5)]
    reminded = _add(engine, HARDENBERG, "draft", old, ["3d"])
    busy = _add(engine, HARDENBERG, "collecting", now - timedelta(minutes=5))
    rows = [r.dossier_id for batch in sweep_queries.batches(
        sweep_queries.due_for_sweep, engine, VACANCIES.values(), now, (3, 1), limit=2)
        for r in batch]
    assert rows == due
    assert reminded not in rows and busy not in rows
    flows = _flow_engine(engine, now, tmp_path)
    assert await Reminders(flows, flows.store, (3, 1), batch=2).sweep() == 5  # type: ignore[arg-type]
    assert sweep_queries.due_for_sweep(engine, VACANCIES.values(), now, (3, 1)) == []
    # A day later the 1-day reminder is due for all of them (the busy one idle by then).
    later = datetime(2026, 7, 13, 10, tzinfo=UTC)
    again = sweep_queries.due_for_sweep(engine, VACANCIES.values(), later, (3, 1))
    assert {r.dossier_id for r in again} == {*due, reminded, busy}


async def test_a_sweep_stops_at_its_time_budget_and_the_next_goes_on(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    now = datetime(2026, 7, 15, 10, tzinfo=UTC)
    drafts = [_add(engine, HARDENBERG, "draft", now - timedelta(days=9)) for _ in range(5)]
    flows = _flow_engine(engine, now, tmp_path)
    ticks = iter([0.0, 0.0, 10.0])  # start, after the first batch, then past the budget
    monkeypatch.setattr(reminders_module.time, "monotonic", lambda: next(ticks, 10.0))
    first = await Reminders(flows, flows.store, (3, 1), batch=2, budget=5).sweep()  # type: ignore[arg-type]
    assert first == 2
    monkeypatch.undo()
    assert await Reminders(flows, flows.store, (3, 1), batch=2).sweep() == 3  # type: ignore[arg-type]
    assert all(_status(engine, d) == "expired" for d in drafts)


# --------------------------------------------------------------------------- retention


def test_purge_deletes_exactly_the_expired_across_batches(engine: Engine, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    now = datetime(2027, 8, 1, 10, tzinfo=UTC)
    expired = [_add(engine, VERA, "submitted", datetime(2026, 7, 1, 10, tzinfo=UTC))
               for _ in range(6)]
    expired += [_add(engine, HARDENBERG, s, datetime(2026, 7, 1, 10, tzinfo=UTC))
                for s in ("draft", "withdrawn", "ineligible")]  # the procedure ended
    kept_ids = [_add(engine, VERA, "submitted", datetime(2026, 9, 1, 10, tzinfo=UTC)),
                _add(engine, VERA, "draft", datetime(2027, 1, 1, 10, tzinfo=UTC)),
                _add(engine, NIEUWPOORT, "submitted", datetime(2025, 7, 1, 10, tzinfo=UTC)),
                _add(engine, "retired-vacancy", "draft", datetime(2020, 1, 1, tzinfo=UTC))]
    store = SqlDossierStore(engine, clock=lambda: now, keyring=fixed_keyring())
    monkeypatch.setattr(sweep_queries, "BATCH", 4)  # also the chunk of the count queries
    plan = plan_purge(store, VACANCIES, now)
    assert sorted(d.dossier_id for d in plan.dossiers) == sorted(expired)
    assert len(plan.candidates) == len(expired) and plan.retired == 1
    sizes = _recording(monkeypatch, retention_module, "maybe_expired")
    purged = purge_expired(store, LocalFileStore(tmp_path / "f"), VACANCIES, now, limit=4)
    assert purged.dossiers == len(expired) and purged.candidates == len(expired)
    assert len(sizes) >= 3 and max(sizes) <= 4
    assert all(_status(engine, d) is None for d in expired)
    assert all(_status(engine, d) is not None for d in kept_ids)
    assert plan_purge(store, VACANCIES, now).dossiers == ()


@pytest.mark.parametrize("vacancy_id", [VERA, HARDENBERG, NIEUWPOORT])
def test_the_sql_bound_misses_no_expired_dossier(engine: Engine, vacancy_id: str):
    """Every dossier the notice's rule says is expired is among the SQL pre-filter's rows,
    for starts around every month end and statuses, at several moments."""
    vacancy = VACANCIES[vacancy_id]
    starts = [datetime(2025, 1, 28, 23, tzinfo=UTC) + timedelta(days=d, hours=h)
              for d in range(0, 800, 9) for h in (0, 13)]
    rows: dict[int, tuple[str, datetime]] = {}
    for status in ("submitted", "draft"):
        for start in starts:
            rows[_add(engine, vacancy_id, status, start)] = (status, start)

    class Row:
        def __init__(self, status: str, start: datetime) -> None:
            self.status, self.created_at, self.consented_at = status, start, start

    for now in (datetime(2026, 2, 28, 23, 30, tzinfo=UTC), datetime(2026, 7, 21, tzinfo=UTC),
                datetime(2027, 3, 31, 12, tzinfo=UTC), datetime(2027, 9, 17, tzinfo=UTC)):
        found = {r.dossier_id for batch in sweep_queries.batches(
            sweep_queries.maybe_expired, engine, [vacancy], now, limit=50) for r in batch}
        must = {i for i, (status, start) in rows.items()
                if start <= now and now >= kept(vacancy, Row(status, start)).until}
        assert must <= found, (now, sorted(must - found)[:5])


# --------------------------------------------------------------------------- files


def test_orphan_sweep_checks_the_disk_a_chunk_at_a_time(engine: Engine, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch):
    files = LocalFileStore(tmp_path / "files")
    owned, orphans = [], []
    dossier = _add(engine, VERA, "collecting", datetime(2026, 7, 1, tzinfo=UTC))
    for n in range(7):
        path = tmp_path / "files" / "2026" / "07" / f"f{n}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        stored = f"2026/07/f{n}.bin"
        if n % 2:
            orphans.append(path)
            continue
        owned.append(path)
        with engine.begin() as connection:
            connection.execute(insert(document_table).values(
                dossier_id=dossier, kind="cv", original_name="cv.pdf", stored_path=stored,
                size=1, sha256="0" * 64, media_type="application/pdf",
                uploaded_at=datetime(2026, 7, 1, tzinfo=UTC)))
    store = SqlDossierStore(engine, keyring=fixed_keyring())
    monkeypatch.setattr(retention_module, "BATCH", 2)
    sizes = _recording(monkeypatch, retention_module, "owned_paths")
    assert sweep_orphan_files(store, files, older_than=timedelta(0)) == len(orphans)
    assert all(p.exists() for p in owned) and not any(p.exists() for p in orphans)
    assert len(sizes) == 4  # 7 files in chunks of 2
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(document_table)).scalar() == 4
