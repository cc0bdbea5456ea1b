"""Keep up to N pieces of leased work in hand, taking more the moment there is room.

Used for the inbox (updates) and the outbox (messages): a slow piece — a Telegram call that
hangs, a large download — holds only its own slot, never a whole batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


async def keep_busy(name: str, claim: Callable[[int], Awaitable[list[T]]],
                    handle: Callable[[T], Awaitable[None]], stop: asyncio.Event,
                    wake: asyncio.Event, concurrency: int, poll: float = 1.0) -> None:
    """Claim and handle work until `stop`. `wake` says there may be more to claim (set it when
    work arrives or a piece finishes); `poll` looks anyway, for other processes' work and
    retries that fall due."""
    inflight: set[asyncio.Task[None]] = set()
    while not stop.is_set():
        free = concurrency - len(inflight)
        if free > 0:
            wake.clear()
            try:
                items = await claim(free)
            except Exception as exc:  # the database is away: look again shortly
                log.warning("%s: claim failed: %s", name, type(exc).__name__)
                items = []
            inflight |= {asyncio.create_task(handle(item)) for item in items}
        waiters = {asyncio.create_task(stop.wait())}
        if len(inflight) < concurrency:  # no point waking up without room to take work
            waiters.add(asyncio.create_task(wake.wait()))
        done, _ = await asyncio.wait(inflight | waiters, timeout=poll,
                                     return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
        inflight -= done
    if inflight:
        await asyncio.gather(*inflight, return_exceptions=True)
