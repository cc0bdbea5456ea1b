"""This bot as several processes on one PostgreSQL database (`--processes P`).

Each worker process runs what `python main.py run` runs — its own Application and Runtime
loops (inbox worker, outbox sender) — with `InstantApi` as Telegram. The driver, in this
process, plays a load balancer in front of webhook servers: each update goes to the next
worker in turn, which stores it (`Runtime.receive`); whichever worker claims it handles it.
Messages sent come back to the driver over a pipe. Measured with 1 process and with P.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.load_api import InstantApi
from bench.load_driver import Driver, Expected
from bench.load_scripts import applications

MESSAGE_IDS = 1_000_000_000  # each worker numbers its messages from its own block


class ScriptFiles(dict[str, bytes]):
    """The bytes of an upload, from its file id ("f<n>-<vacancy>-<step>"): the worker that
    handles an update need not be the one it was posted to."""

    def __init__(self, apps: list[Any]) -> None:
        super().__init__()
        self.apps = apps

    def __missing__(self, file_id: str) -> bytes:
        _, vacancy, step = file_id.split("-")
        return bytes(self.apps[int(vacancy)].steps[int(step)].data)


def _reader(connection: Connection, loop: asyncio.AbstractEventLoop, deliver: Any) -> None:
    """Drain a pipe in a thread, so that neither side can block the other's writes."""
    while True:
        try:
            item = connection.recv()
        except EOFError:
            return
        loop.call_soon_threadsafe(deliver, item)
        if item is None:
            return


async def _serve(connection: Connection, spec: dict[str, Any], index: int) -> None:
    from bench.load_bot import BotSystem
    from bench.load_run import peak_rss_kb

    lock = threading.Lock()

    def sent(chat_id: int, text: str, buttons: list[tuple[str, str]], message_id: int) -> None:
        with lock:
            connection.send(("sent", chat_id, text, buttons, message_id))

    apps = applications()
    api = InstantApi(sent, ScriptFiles(apps))
    api._ids = iter(range(MESSAGE_IDS * (index + 1), MESSAGE_IDS * (index + 2)))  # type: ignore[assignment]
    system = BotSystem(spec["database_url"], Path(spec["root"]), apps)
    await system.start(api)
    loop = asyncio.get_running_loop()
    stopped = loop.create_future()
    pending: set[asyncio.Task[None]] = set()

    def deliver(item: Any) -> None:
        if item is None:
            stopped.set_result(None)
            return
        task = loop.create_task(system.submit(item))
        pending.add(task)
        task.add_done_callback(pending.discard)

    threading.Thread(target=_reader, args=(connection, loop, deliver), daemon=True).start()
    with lock:
        connection.send(("ready",))
    await stopped
    await system.settle()
    counts = system.counts()
    await system.stop()
    with lock:
        connection.send(("done", counts, peak_rss_kb()))


def worker_main(connection: Connection, spec: dict[str, Any], index: int) -> None:
    asyncio.run(_serve(connection, spec, index))


async def drive(spec: dict[str, Any], processes: int) -> dict[str, Any]:
    apps = applications()
    expected = {k: Expected(**v) for k, v in spec["expected"].items()}
    driver = Driver(apps, spec["candidates"], lambda a: expected[a.vacancy])
    context = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    ready = [loop.create_future() for _ in range(processes)]
    done: list[asyncio.Future[Any]] = [loop.create_future() for _ in range(processes)]
    links = []
    for index in range(processes):
        ours, theirs = context.Pipe()
        worker = context.Process(target=worker_main, args=(theirs, spec, index), daemon=True)
        worker.start()

        def deliver(item: Any, index: int = index) -> None:
            if item[0] == "sent":
                driver.on_sent(*item[1:])
            elif item[0] == "ready":
                ready[index].set_result(None)
            elif item[0] == "done":
                done[index].set_result(item[1:])

        threading.Thread(target=_reader, args=(ours, loop, deliver), daemon=True).start()
        links.append((ours, worker))
    await asyncio.gather(*ready)
    turn = iter(range(10**12))

    async def submit(raw: dict[str, Any]) -> None:
        links[next(turn) % processes][0].send(raw)

    seconds = await driver.run(submit)
    for connection, _ in links:
        connection.send(None)
    finished = await asyncio.gather(*done)
    for _, worker in links:
        worker.join(timeout=30)
    counts = finished[0][0]
    return {"processes": processes, "seconds": seconds, "updates": len(driver.timings),
            "counts": counts, "order_problems": driver.order_problems(),
            "rss_kb": [f[1] for f in finished], "strays": driver.strays}


def cluster_report(args: argparse.Namespace, base: dict[str, Any], databases: Any,
                   problems: list[str]) -> list[str]:
    results = []
    for processes in (1, args.processes):
        url, root = databases.fresh()
        started = time.perf_counter()
        result = asyncio.run(drive({**base, "database_url": url, "root": str(root)}, processes))
        result["wall"] = time.perf_counter() - started
        results.append(result)
        counts = result["counts"]
        if counts["dossiers"].get("submitted", 0) != args.candidates:
            problems.append(f"{processes} process(es): dossiers {counts['dossiers']}")
        if counts["notifications_sent"] != args.candidates:
            problems.append(f"{processes} process(es): {counts['notifications_sent']} notifications")
        problems.extend(f"{processes} process(es): {p}" for p in result["order_problems"][:5])
    lines = ["this bot as worker processes on one PostgreSQL database (updates spread over them):"]
    for r in results:
        lines.append(f"  {r['processes']} process(es): {r['updates'] / r['seconds']:>8,.1f} "
                     f"updates/s   peak RSS {', '.join(f'{k / 1024:,.0f} MB' for k in r['rss_kb'])}"
                     f"   dossiers {r['counts']['dossiers']}, "
                     f"{r['counts']['notifications_sent']} notifications, "
                     f"{len(r['order_problems'])} order problems")
    ratio = (results[1]["updates"] / results[1]["seconds"]) / (
        results[0]["updates"] / results[0]["seconds"])
    lines.append(f"  throughput {args.processes} / 1: {ratio:.2f}×   target ≥1.7× for 2   "
                 f"{'met' if ratio >= 1.7 else 'NOT met'} (the machine has "
                 f"{multiprocessing.cpu_count()} cores, shared)")
    return lines
