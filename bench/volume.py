"""Memory and periodic jobs of the bot with many stored dossiers.

    python -m bench.volume [--dossiers 100000] [--db sqlite|postgres] [--url URL]

For each size (100 and N) and kind (finished: submitted dossiers; unfinished: drafts and
dossiers collecting documents) a database is filled fast: a few real candidates go through
the Hardenberg vacancy with the engine (so answers and verdicts are sealed as the repository
writes them), then their rows are cloned with new ids in bulk inserts. 1 % of the finished
ones are past their retention (plain rows, as before encryption, so that erasing them touches
no shared key); 1 % of the unfinished ones still have a reminder due.

Then a fresh interpreter per database starts the bot as `main.py run` does (catalogue, engine,
migrations, Application and runtime, with a fake Telegram answering at once), runs every
periodic job once, handles a few updates, and prints its peak RSS and each job's time against
its interval. The last lines compare N with 100: the memory target is within 10 %.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 7, 12, 10, tzinfo=UTC)  # Hardenberg open; its 3-day reminder due
APPLIED = datetime(2026, 7, 1, 10, tzinfo=UTC)
LONG_AGO = datetime(2025, 5, 1, 10, tzinfo=UTC)  # past VERA's 12 months by NOW
HARDENBERG = "hardenberg-medewerker-intern-service-punt"
VERA = "vera-projectcoordinator"
ANSWERS = ["Test Kandidaat", "test@example.nl", "5", "nee", "7", "ja", "ja", "ja", "ja", "2", "6"]
TEMPLATES = 20
MASTER_KEY = base64.b64encode(bytes(range(32))).decode()  # a bench key, never for real data
CHUNK = 5000


def _env(url: str, data: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "UPLOAD_DIR": str(data / "uploads"),
            "VACANCIES_DIR": str(ROOT / "vacancies"), "TELEGRAM_BOT_TOKEN": "123456:TEST-TOKEN",
            "MASTER_KEY": MASTER_KEY, "LOG_LEVEL": "WARNING", "TELEGRAM_MAX_RATE": "0",
            "PYTHONPATH": str(ROOT)}


# --------------------------------------------------------------------------- filling


def fill(url: str, data: Path, count: int, kind: str) -> None:
    """`count` dossiers of `kind` in the database at `url` (run in the parent, env set)."""
    from sqlalchemy import func, insert, select

    import main
    from flows.events import Inbound, Sender
    from settings import Settings
    from storage.tables import candidate_table, document_table, dossier_table

    settings = Settings(**{"database_url": url, "upload_dir": data / "uploads",
                           "master_key": MASTER_KEY})
    vacancies = main.load_vacancies(settings.vacancies_dir)
    assert vacancies is not None
    engine = main.build_engine(settings, vacancies, lambda: APPLIED)
    for n in range(TEMPLATES):
        me = Sender("telegram", f"t{n}", chat_id=f"t{n}")
        privacy = engine.handle(me, Inbound.start(HARDENBERG))
        engine.handle(me, Inbound.press(privacy[-1].choices[0].token))
        for answer in ANSWERS:
            engine.handle(me, Inbound.say(answer))
    db = engine.store.engine  # type: ignore[attr-defined]
    with db.connect() as connection:
        templates = [dict(r) for r in connection.execute(
            select(dossier_table, candidate_table.c.subject.label("c_subject"))
            .join(candidate_table, candidate_table.c.id == dossier_table.c.candidate_id))
            .mappings()]
        base = connection.execute(select(func.max(candidate_table.c.id))).scalar_one()
    remaining = count - len(templates)
    n = 0
    while n < remaining:
        size = min(CHUNK, remaining - n)
        candidates, dossiers, documents = [], [], []
        for i in range(n, n + size):
            t = templates[i % len(templates)]
            cid = base + 1 + i
            plain = kind == "finished" and i % 100 == 0  # past its retention, no key
            candidates.append({"id": cid, "channel": "telegram", "external_id": f"c{cid}",
                               "chat_id": f"c{cid}", "language": "nl",
                               "created_at": LONG_AGO if plain else APPLIED,
                               "subject": None if plain else t["c_subject"]})
            row = {k: v for k, v in t.items() if k not in ("id", "c_subject")}
            row.update(id=cid, candidate_id=cid)
            if plain:
                row.update(vacancy_id=VERA, answers={"naam": "x"}, verdict=None,
                           created_at=LONG_AGO, consented_at=LONG_AGO, updated_at=LONG_AGO,
                           status="submitted", state="submitted", submitted_at=LONG_AGO)
            elif kind == "finished":
                row.update(status="submitted", state="submitted",
                           submitted_at=APPLIED + timedelta(days=1))
            else:
                row.update(reminders_sent=[] if i % 100 == 0 else ["3d"])
            dossiers.append(row)
            if kind == "finished":
                documents += [{"dossier_id": cid, "kind": k, "original_name": "cv.pdf",
                               "stored_path": f"2026/07/{cid}-{k}.pdf", "size": 1000,
                               "sha256": "0" * 64, "media_type": "application/pdf",
                               "uploaded_at": APPLIED} for k in ("cv", "diploma")]
        with db.begin() as connection:
            connection.execute(insert(candidate_table), candidates)
            connection.execute(insert(dossier_table), dossiers)
            if documents:
                connection.execute(insert(document_table), documents)
        n += size
    db.dispose()


# --------------------------------------------------------------------------- the bot process


def update(n: int, text: str) -> dict[str, Any]:
    user = {"id": 900_000 + n, "is_bot": False, "first_name": "Bench", "language_code": "nl"}
    return {"update_id": 10_000 + n, "message": {
        "message_id": n, "date": int(NOW.timestamp()), "text": text,
        "chat": {"id": user["id"], "type": "private"}, "from": user,
        **({"entities": [{"type": "bot_command", "offset": 0,
                          "length": len(text.split()[0])}]} if text.startswith("/") else {})}}


def peak_rss_kib() -> int:
    """This process's peak RSS: VmHWM on Linux (ru_maxrss starts from the parent's at fork, so
    a large parent would show through), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def bot_process() -> dict[str, Any]:
    """In the child: start as `main.py run` does, run each job once, handle a few updates."""
    from telegram import Update

    import main
    from bot.fake_bot_api import FakeBotApi, FakeTelegram
    from bot.log_privacy import configure_logging
    from bot.telegram_app import build_application
    from settings import Settings

    settings = Settings()
    configure_logging(settings)
    vacancies = main.load_vacancies(settings.vacancies_dir, main.vacancy_cache(settings))
    assert vacancies is not None
    clock = lambda: NOW  # noqa: E731
    engine = main.build_engine(settings, vacancies, clock)
    parts = build_application(settings, engine, engine.store, engine.files,  # type: ignore[arg-type]
                              vacancies, clock, request=FakeBotApi(FakeTelegram()))
    rss_ready = peak_rss_kib()
    jobs = {}
    async with parts.app:
        for job in parts.runtime.jobs:
            started = time.perf_counter()
            await job.run()
            jobs[job.name] = (time.perf_counter() - started, job.interval)
        started = time.perf_counter()
        for n, text in enumerate([f"/start {HARDENBERG}", "/status", "/help", "/vacancies"]):
            await parts.app.process_update(Update.de_json(update(n, text), parts.app.bot))
        updates = time.perf_counter() - started
    return {"rss_mib": peak_rss_kib() / 1024,
            "rss_ready_mib": rss_ready / 1024, "jobs": jobs, "updates_s": updates}


def child(env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.volume", "--child"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"the bot process failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def database(kind: str, size: int, tmp: Path, args: argparse.Namespace) -> tuple[str, Path]:
    data = tmp / f"{kind}-{size}"
    data.mkdir()
    if args.db == "sqlite":
        return f"sqlite:///{data / 'intake.sqlite3'}", data
    from sqlalchemy import create_engine, text

    name = f"intake_volume_{kind}_{size}"
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return f"{args.url.rsplit('/', 1)[0]}/{name}", data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--url", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import asyncio

        print(json.dumps(asyncio.run(bot_process())))
        return
    results: dict[tuple[str, int], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="volume-bench-") as name:
        tmp = Path(name)
        for kind in ("finished", "unfinished"):
            for size in (100, args.dossiers):
                url, data = database(kind, size, tmp, args)
                env = _env(url, data)
                started = time.perf_counter()
                os.environ.update({k: env[k] for k in ("MASTER_KEY", "UPLOAD_DIR")})
                fill(url, data, size, kind)
                filled = time.perf_counter() - started
                results[kind, size] = result = child(env)
                jobs = "  ".join(f"{job} {took:6.2f} s/{interval:5.0f} s"
                                 for job, (took, interval) in result["jobs"].items())
                print(f"{kind:10} {size:7} dossiers (filled in {filled:5.1f} s): "
                      f"peak RSS {result['rss_mib']:6.1f} MiB (ready {result['rss_ready_mib']:6.1f})"
                      f"  {jobs}  4 updates {result['updates_s']:5.2f} s", flush=True)
    for kind in ("finished", "unfinished"):
        small, big = results[kind, 100], results[kind, args.dossiers]
        ratio = big["rss_mib"] / small["rss_mib"]
        late = [job for job, (took, interval) in big["jobs"].items() if took > interval]
        print(f"{kind:10} peak RSS {args.dossiers} / 100: {ratio:4.2f} "
              f"({'within' if ratio <= 1.10 else 'NOT within'} 10 %); "
              f"jobs over their interval: {', '.join(late) or 'none'}")


if __name__ == "__main__":
    main()
