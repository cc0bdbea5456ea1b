"""Run one system under load in this process and print its figures as one JSON line.

    python -m bench.load_run '{"system": "bot", "database_url": ..., "root": ..., ...}'

`bench/load.py` starts one such process per system and round, so that each system's peak
memory (`ru_maxrss`) is its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from bench.load_api import InstantApi
from bench.load_driver import Driver, Expected
from bench.load_scripts import applications

SYSTEMS = ("bot", "durable", "floor", "form", "echo")


def build(system: str, spec: dict[str, Any], apps: list[Any]) -> Any:
    root = Path(spec["root"])
    if system == "bot":
        from bench.load_bot import BotSystem

        return BotSystem(spec["database_url"], root, apps, rate_limit=spec.get("rate_limit", False))
    from bench.load_references import DurableFloorBot, EchoBot, FloorBot

    if system == "durable":
        return DurableFloorBot(spec["database_url"])
    if system == "floor":
        return FloorBot(spec["database_url"])
    if system == "echo":
        return EchoBot()
    from bench.load_form_bot import FormBot

    return FormBot(root)


def peak_rss_kb() -> int:
    """This process's peak resident memory. Not `getrusage(RUSAGE_SELF).ru_maxrss`: Linux
    carries a process's peak across exec, so a child would report its parent's peak at the
    fork; VmHWM belongs to the address space the program runs in."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def database_bytes(database_url: str) -> int:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as connection:
        size = connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    engine.dispose()
    return int(size)


async def measure(spec: dict[str, Any]) -> dict[str, Any]:
    system_name = spec["system"]
    apps = applications()
    expected = {k: Expected(**v) for k, v in spec.get("expected", {}).items()}
    driver = Driver(apps, spec["candidates"],
                    (lambda a: expected[a.vacancy]) if system_name == "bot"
                    else (lambda a: Expected.one_reply_each(len(a.steps))))
    api = InstantApi(driver.on_sent, driver.files, spec.get("latency_ms", 0) / 1000)
    system = build(system_name, spec, apps)
    await system.start(api)
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    seconds = await driver.run(system.submit)
    if system_name == "form":
        started = time.perf_counter()
        await system.stop()  # the persistence's last flush belongs to the form bot's time
        seconds += time.perf_counter() - started
    result: dict[str, Any] = {"system": system_name, "seconds": seconds}
    if system_name == "bot":
        # The recruiters' notifications may still be going out (under the rate limiter).
        await system.settle(recruiters_too=not spec.get("rate_limit", False))
        result["counts"] = system.counts()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(spec["profile"])
    if system_name != "form":
        await system.stop()
    result.update({
        "updates": len(driver.timings),
        "telegram_calls": api.calls,
        "chat_calls": api.chat_calls,
        "timings": [(t.vacancy, t.step, t.kind, round(t.micros)) for t in driver.timings],
        "order_problems": driver.order_problems(),
        "recruiter_messages": driver.recruiter_messages,
        "strays": driver.strays,
        "rss_kb": peak_rss_kb(),
        "db_bytes": (database_bytes(spec["database_url"])
                     if system_name in ("bot", "durable", "floor") else 0),
    })
    if system_name == "form":
        result["db_bytes"] = (Path(spec["root"]) / "form-bot.pickle").stat().st_size
    return result


def main() -> None:
    spec = json.loads(sys.argv[1])
    result = asyncio.run(measure(spec))
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)  # skip the interpreter's teardown: it is not part of anything measured


if __name__ == "__main__":
    main()
