"""The load benchmark (issue 13): this bot under N interleaved candidates, against references.

    python -m bench.load --candidates 1000 --db sqlite [--rounds 5]
    python -m bench.load --candidates 300 --db postgres --processes 2
    python -m bench.load --candidates 200 --db sqlite --latency-ms 20
    (--profile FILE: cProfile of this bot's run in the last round, for `python -m pstats`)

Each of N candidates (all at once, interleaved) makes a full application — the scripted happy
path of every vacancy (conversations/*-happy-path.yaml: start, privacy, every question, the
documents, a command or two), candidate i the vacancy i mod V — sending its next update as soon
as the replies to the previous one arrived. Every vacancy is applied to at the moment its
script is set (while it is open): the product's clock is frozen per candidate
(bench/load_bot.py). Telegram is `bench/load_api.InstantApi`, answering at once.

A round runs each system once, each in its own process on a fresh database, in a rotated
order: this bot (bench/load_bot.py: the real Application, the inbox, the outbox), the durable
floor, the floor and the form bot (bench/load_references.py, bench/load_form_bot.py). The
ratios printed are medians of within-round ratios: the machine is shared and noisy.

--latency-ms L: every Telegram call waits L ms; the echo bot, this bot (with and without its
rate limiter, TELEGRAM_MAX_RATE = 30 messages/s, as deployed) and the form bot.
--processes P (PostgreSQL): this bot as 1 and as P worker processes on one database
(bench/load_cluster.py).

Exits 1 when an application did not complete or a reply arrived twice or out of order; 2 when
PostgreSQL was asked for and is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.load_postgres import ThrowAwayDatabase, Unreachable
from bench.load_report import latency_report, main_report
from bench.load_scripts import applications

ROUND_SYSTEMS = ("bot", "durable", "floor", "form")


def run_system(spec: dict[str, Any]) -> dict[str, Any]:
    """One system in a process of its own (its peak RSS is then its own)."""
    done = subprocess.run([sys.executable, "-m", "bench.load_run", json.dumps(spec)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"{spec['system']} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class Databases:
    """A fresh database per system run: a SQLite file, or the throw-away PostgreSQL one
    emptied."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self.folder = folder
        self.postgres = ThrowAwayDatabase().create() if kind == "postgres" else None
        self.count = 0

    def fresh(self) -> tuple[str, Path]:
        self.count += 1
        root = self.folder / f"run{self.count}"
        root.mkdir()
        if self.postgres is not None:
            return self.postgres.empty(), root
        return f"sqlite:///{root / 'intake.sqlite3'}", root

    def close(self) -> None:
        if self.postgres is not None:
            self.postgres.drop()


def problems_of(result: dict[str, Any], candidates: int, notifications: bool = True) -> list[str]:
    problems = [f"{result['system']}: {p}" for p in result["order_problems"][:5]]
    counts = result.get("counts")
    if counts is not None:
        if counts["dossiers"].get("submitted", 0) != candidates:
            problems.append(f"{result['system']}: dossiers {counts['dossiers']}")
        if notifications and counts["notifications_sent"] != candidates:
            problems.append(f"{result['system']}: {counts['notifications_sent']} notifications")
    if result["strays"]:
        problems.append(f"{result['system']}: {result['strays']} messages to unknown chats")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--processes", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--profile", help="write a cProfile of this bot's last run here")
    args = parser.parse_args(argv)
    apps = applications()
    with tempfile.TemporaryDirectory(prefix="intake-load-") as tmp:
        try:
            databases = Databases(args.db, Path(tmp))
        except Unreachable as exc:
            print(f"{exc}; nothing measured.")
            return 2
        try:
            return measure(args, apps, databases, Path(tmp))
        finally:
            databases.close()


def measure(args: argparse.Namespace, apps: list[Any], databases: Databases, tmp: Path) -> int:
    from bench.load_bot import calibrate

    expected = asyncio.run(calibrate(apps, tmp))
    print(f"{args.candidates} candidates at once, {len(apps)} vacancies "
          f"({', '.join(f'{a.vacancy} {len(a.steps)} steps' for a in apps)}); "
          f"database {args.db}; instant Telegram" + (f" + {args.latency_ms:g} ms" if
                                                     args.latency_ms else ""))
    base = {"candidates": args.candidates, "expected": {k: v.as_json() for k, v in expected.items()},
            "latency_ms": args.latency_ms}
    problems: list[str] = []

    def one(system: str, **extra: Any) -> dict[str, Any]:
        url, root = databases.fresh()
        result = run_system({**base, "system": system.removesuffix("-limited"),
                             "database_url": url, "root": str(root), **extra})
        result["system"] = system
        problems.extend(problems_of(result, args.candidates,
                                    notifications=not extra.get("rate_limit")))
        return result

    if args.latency_ms:
        results = {system: one(system, rate_limit=system == "bot-limited")
                   for system in ("echo", "bot-limited", "bot", "form")}
        lines = latency_report(results, args.latency_ms)
    elif args.processes:
        from bench.load_cluster import cluster_report

        lines = cluster_report(args, base, databases, problems)
    else:
        rounds = []
        for number in range(args.rounds):
            order = ROUND_SYSTEMS[number % 4:] + ROUND_SYSTEMS[:number % 4]
            last = number == args.rounds - 1
            rounds.append({s: one(s, **({"profile": args.profile} if s == "bot" and last
                                        and args.profile else {})) for s in order})
            print(f"round {number + 1}: " + ", ".join(
                f"{s} {r['updates'] / r['seconds']:,.0f}/s" for s, r in rounds[-1].items()),
                flush=True)
        answers = {i: a.answer_positions() for i, a in enumerate(apps)}
        lines = main_report([{s: r[s] for s in ROUND_SYSTEMS} for r in rounds], args.db, answers)
    print("\n".join(lines))
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems))
        return 1
    print("every application completed; every reply arrived once, in order")
    return 0


if __name__ == "__main__":
    sys.exit(main())
