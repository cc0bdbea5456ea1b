"""The dashboard benchmark, run small: every page answers and shows every stored dossier, and the
report carries the figures and ratios (bench/dashboard.py). No time is asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"[\d,]+\.\d"


def test_a_small_run_reports_every_page_and_the_ratios():
    done = subprocess.run([sys.executable, "-m", "bench.dashboard", "--dossiers", "4", "--runs",
                           "2", "--profile"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert re.search(r"^4 dossiers of nieuwpoort-systeembeheerder-ict: 1 applied through the bot "
                     r"\([\d.]+ s\), 3 cloned \([\d.]+ s\); median of 2 runs$", out, re.M), out
    # Every dossier read, evaluated, listed and exported; /dossiers shows its first page.
    for label, shown in [("store.list_dossiers (the raw read)", 4),
                         ("/dossiers <vacancy>, its first page", 4),
                         ("views.dossier_rows (no HTTP, no HTML)", 4), ("GET list", 4),
                         ("GET list ?open=no&sort=score", 4), ("GET list ?open=yes&sort=score", 0),
                         ("GET export.csv", 4)]:
        assert re.search(rf"^{re.escape(label)} +{NUMBER} +{NUMBER} +[\d,]+ +{shown}$", out,
                         re.M), (label, out)
    for label in ("GET dossier page (the real one)", "GET its cv", "GET overview (every vacancy)"):
        assert re.search(rf"^{re.escape(label)} +{NUMBER} +{NUMBER}\s*$", out, re.M), (label, out)
    for ratio in ("list page / raw read", "list page / /dossiers command", "dossier_rows / raw read",
                  "list page / dossier_rows", "filtered to none / raw read"):
        assert re.search(rf"^{re.escape(ratio)}: +[\d.]+×", out, re.M), (ratio, out)
    assert re.search(r"^summary: 4 dossiers: list page [\d,]+ ms = [\d.]+× the raw read "
                     r"\([\d.,]+ ms\), [\d.]+× /dossiers \([\d.,]+ ms\); dossier page [\d,]+ ms, "
                     r"overview [\d,]+ ms, export [\d,]+ ms$", out, re.M), out
    # The profile: the list handler and what it called, ten lines below the header.
    profile = out.split("cProfile, top 10 by cumulative time", 1)[1].splitlines()
    header = next(i for i, line in enumerate(profile) if "ncalls" in line and "cumtime" in line)
    assert len(profile[header + 1:]) == 10 and "(dossier_list)" in "\n".join(profile), out
    assert "PROBLEMS" not in out
