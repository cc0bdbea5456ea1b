"""How long the bot takes from interpreter start to "ready to take updates".

    python -m bench.startup [--vacancies 50] [--runs 5]

Generates that many valid vacancy files (copies of the ones in vacancies/ under new ids) in a
temporary folder named by VACANCIES_DIR, then starts fresh interpreters that do what
`python main.py run` does before its first network call: settings, logging, the catalogue, the
engine (database, migrations, a flow per vacancy) and the Application with its runtime (with an
instant fake request layer). Each phase is timed inside the child; the wall time of
`python -c pass` is the floor. The first run fills the vacancy cache (shown as "cold"); the
median of the others is what a restart costs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("imports", "catalogue", "flow machines", "rest")

# The child: stamps after each phase, on one line of JSON. It imports what `main.py run` imports,
# in that order (main, then bot.telegram_app inside cmd_run).
CHILD = r"""
import time
stamps = {}
import json, sys
import main
from bot.telegram_app import build_application
from bench.load_api import InstantApi
stamps["imports"] = time.time()
from settings import Settings
from bot.log_privacy import configure_logging
settings = Settings()
configure_logging(settings)
vacancies = main.load_vacancies(settings.vacancies_dir, main.vacancy_cache(settings))
assert vacancies is not None and len(vacancies) == int(sys.argv[1]), "not every vacancy loaded"
stamps["catalogue"] = time.time()
clock = main.fixed_or_system_clock(None)
import flows.engine
built = flows.engine.Flow
in_flows = [0.0]
def timed_flow(*args, **kwargs):  # the time spent building flows, wherever the engine does it
    started = time.time()
    try:
        return built(*args, **kwargs)
    finally:
        in_flows[0] += time.time() - started
flows.engine.Flow = timed_flow
engine = main.build_engine(settings, vacancies, clock)
stamps["flow machines"] = in_flows[0]
parts = build_application(settings, engine, engine.store, engine.files, vacancies, clock,
                          request=InstantApi(lambda *sent: None, {}))
stamps["rest"] = time.time()
print(json.dumps(stamps))
"""


def make_vacancies(folder: Path, count: int) -> None:
    """`count` valid vacancy files: the real ones in turn, each under a new id."""
    sources = sorted((ROOT / "vacancies").glob("*.yaml"))
    for n in range(count):
        source = sources[n % len(sources)]
        text = source.read_text(encoding="utf-8")
        text = re.sub(r"^id: (\S+)", rf"id: \1-b{n:03d}", text, count=1,
                      flags=re.MULTILINE)
        (folder / f"{source.stem}-b{n:03d}.yaml").write_text(text, encoding="utf-8")


def child_run(env: dict[str, str], count: int) -> dict[str, float]:
    started = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD, str(count)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"the start-up child failed:\n{out.stderr}")
    stamps = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "imports": stamps["imports"] - started,
        "catalogue": stamps["catalogue"] - stamps["imports"],
        "flow machines": stamps["flow machines"],
        "rest": stamps["rest"] - stamps["catalogue"] - stamps["flow machines"],
        "total": stamps["rest"] - started,
    }


def floor(runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.time()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.time() - started)
    return statistics.median(times)


def line(name: str, timing: dict[str, float]) -> str:
    parts = "  ".join(f"{p} {timing[p]:5.2f}" for p in PHASES)
    return f"{name:8} total {timing['total']:5.2f} s   {parts}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vacancies", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        base = Path(tmp)
        (base / "vacancies").mkdir()
        make_vacancies(base / "vacancies", args.vacancies)
        env = {**os.environ, "VACANCIES_DIR": str(base / "vacancies"),
               "DATABASE_URL": f"sqlite:///{base / 'data' / 'bench.sqlite3'}",
               "UPLOAD_DIR": str(base / "data" / "uploads"),
               "TELEGRAM_BOT_TOKEN": "123456:BENCH", "LOG_LEVEL": "WARNING",
               "PYTHONPATH": str(ROOT)}
        (base / "data").mkdir()
        # First: the database is created and migrated; the vacancy cache (if any) filled.
        first = child_run(env, args.vacancies)
        warm = [child_run(env, args.vacancies) for _ in range(args.runs)]
        median = {k: statistics.median(t[k] for t in warm) for k in ("total", *PHASES)}
        bare = floor(args.runs)
    print(f"start-up to ready, {args.vacancies} vacancy files, {args.runs} runs (seconds)")
    print(line("cold", first) + "   (first run: new database, empty cache)")
    print(line("median", median))
    print(f"floor    python -c pass {bare:5.2f} s   above the floor {median['total'] - bare:5.2f} s")


if __name__ == "__main__":
    main()
