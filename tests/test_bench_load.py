"""The load benchmark, run small: every application completes, every reply arrives once and in
order, and the report carries the figures and ratios (bench/load.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.db_fixtures import TemporaryPostgres

ROOT = Path(__file__).resolve().parents[1]


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench.load", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def test_sqlite_round_completes_every_application_and_reports_the_ratios():
    done = bench("--candidates", "5", "--rounds", "1", "--db", "sqlite")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    # One candidate per vacancy: each dossier submitted and its notification delivered.
    assert "{'submitted': 5}, 5 recruiter notifications sent, 0 order problems" in out
    assert "every application completed; every reply arrived once, in order" in out
    for system in ("this bot", "durable floor", "floor", "form bot"):
        assert re.search(rf"^{system} +[\d,]+ +[\d,]+ +p50", out, re.M), out
    for kind in ("start", "consent", "text", "button", "upload", "command"):
        assert re.search(rf"^  {kind} +\d+ updates +p50 +[\d,]+ +p95 +[\d,]+ +p99", out, re.M)
    assert re.search(r"by position: first question answer p50 [\d,]+ µs, last [\d,]+ µs: +[\d.]+×",
                     out)
    assert re.search(r"this bot / durable floor, µs per update: +[\d.]+× +target ≤1.5×", out)
    assert re.search(r"this bot / floor, µs per update: +[\d.]+×", out)
    assert re.search(r"throughput this bot / form bot: +[\d.]+× +target ≥10×", out)
    assert re.search(r"peak RSS|MB", out)


def test_postgres_two_processes_deliver_each_reply_once_in_order():
    postgres = TemporaryPostgres.create()
    if postgres.error is not None:
        pytest.skip(postgres.skip_reason)
    postgres.drop()
    done = bench("--candidates", "6", "--db", "postgres", "--processes", "2")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    for processes in (1, 2):
        assert re.search(rf"{processes} process\(es\): +[\d.,]+ updates/s .*dossiers "
                         r"\{'submitted': 6\}, 6 notifications, 0 order problems", out), out
    assert re.search(r"throughput 2 / 1: [\d.]+×", out)
    assert "every application completed; every reply arrived once, in order" in out
