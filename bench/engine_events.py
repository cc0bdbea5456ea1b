"""How long one candidate event takes through the engine (parse, rules, machine, one transaction).

    python bench/engine_events.py [--candidates 200] [--postgres URL]

Prints µs per event for SQLite (file, WAL) and, when reachable, PostgreSQL. Each candidate
answers every question of the Hardenberg vacancy (while it was open) by typing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows.engine import Engine
from flows.events import Inbound, Sender
from flows.flow import Flow
from flows.vacancy_loader import load_catalogue
from storage.crypto import fixed_keyring
from storage.database import make_engine, migrate
from storage.dossier_repository import SqlDossierStore
from storage.file_store import LocalFileStore

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 7, 1, 10, tzinfo=UTC)
ANSWERS = ["Test Kandidaat", "test@example.nl", "5", "nee", "7", "ja", "ja", "ja", "ja", "2", "6"]


def run(url: str, candidates: int, files: Path) -> list[float]:
    db = make_engine(url)
    migrate(db)
    vacancies = load_catalogue(ROOT / "vacancies")
    store = SqlDossierStore(db, clock=lambda: NOW, keyring=fixed_keyring())
    engine = Engine(vacancies, store, LocalFileStore(files), lambda: NOW)
    timings: list[float] = []
    for n in range(candidates):
        me = Sender("bench", f"c{n}")
        privacy = engine.handle(me, Inbound.start("hardenberg-medewerker-intern-service-punt"))
        engine.handle(me, Inbound.press(privacy[-1].choices[0].token))
        for answer in ANSWERS:
            started = time.perf_counter()
            engine.handle(me, Inbound.say(answer))
            timings.append((time.perf_counter() - started) * 1e6)
    db.dispose()
    return timings


def report(name: str, timings: list[float]) -> None:
    timings.sort()
    p = lambda q: timings[int(q * (len(timings) - 1))]  # noqa: E731
    print(f"{name:12} {len(timings):6} events   median {statistics.median(timings):7.0f} µs   "
          f"p95 {p(0.95):7.0f} µs   p99 {p(0.99):7.0f} µs   "
          f"≈ {1e6 / statistics.mean(timings):6.0f} events/s on one core")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    started = time.perf_counter()
    flows = [Flow(v) for v in load_catalogue(ROOT / "vacancies").values()]
    print(f"build {len(flows)} flow machines: {(time.perf_counter() - started) * 1000:.0f} ms "
          f"({sum(len(f.transitions) for f in flows)} transitions)")
    with tempfile.TemporaryDirectory() as tmp:
        report("SQLite", run(f"sqlite:///{tmp}/bench.sqlite3", args.candidates, Path(tmp)))
        try:
            from sqlalchemy import create_engine, text
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text("DROP DATABASE IF EXISTS intake_bench"))
                c.execute(text("CREATE DATABASE intake_bench"))
            url = args.postgres.rsplit("/", 1)[0] + "/intake_bench"
            report("PostgreSQL", run(url, args.candidates, Path(tmp)))
            with admin.connect() as c:
                c.execute(text("DROP DATABASE IF EXISTS intake_bench WITH (FORCE)"))
        except Exception as exc:  # the figure is simply absent without a server
            print(f"PostgreSQL   skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")


if __name__ == "__main__":
    main()
