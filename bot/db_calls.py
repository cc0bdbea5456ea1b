"""Where the hot path's database calls run: on the event loop for SQLite, in a thread otherwise.

SQLite writes are serialised anyway (one writer lock per process, storage/database.py) and its
statements take microseconds, so a hop to a thread costs more than the work; and many threads
queueing on that one lock and on the GIL made every statement cost about three times the CPU it
costs alone (`python -m bench.load`: 126 → 174 updates/s with the calls inline). PostgreSQL
statements wait on the network and on row locks other processes hold: they stay in threads, so
the loop keeps serving meanwhile.

Only the per-update path uses this (storing an update, the engine's turn, marking rows done and
sent). Work that may take long whatever the database — a chart, a file read, the health check
(which must answer when the database does not) — stays in threads. The price on SQLite: a
transaction of another process on the same file (`main.py purge` run beside the bot) holds the
bot's loop until it commits, instead of one of its threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine

from storage.database import is_sqlite

P = ParamSpec("P")
T = TypeVar("T")
RunDb = Callable[..., Awaitable[Any]]


async def inline(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `function` now, on the event loop (`asyncio.to_thread`'s signature)."""
    return function(*args, **kwargs)


def runner_for(engine: Engine) -> RunDb:
    """How to run a short database call for `engine`."""
    return inline if is_sqlite(engine) else asyncio.to_thread
