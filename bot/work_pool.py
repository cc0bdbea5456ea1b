"""Keep up to N pieces of leased work in hand, taking more the moment there is room.

Used for the inbox (updates) and the outbox (messages): a slow piece — a Telegram call that
hangs, a large download — holds only its own slot, never a whole batch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
# While work is handed over in memory, the database is still asked at least this often (s):
# for other processes' leftovers, retries that fell due, and rows no hand-over covers.
STORED_EVERY = 0.2


class LocalFirst(Generic[T]):
    """Work this process leased itself (handed over in memory) before work found in the
    database: a claim takes the handed-over pieces first and asks the database only when there
    are none, or when it has not asked for `STORED_EVERY` seconds."""

    def __init__(self, claim_stored: Callable[[int], Awaitable[list[T]]]) -> None:
        self._claim_stored = claim_stored
        self._handed: deque[T] = deque()
        self._asked = 0.0

    def add(self, items: Iterable[T]) -> None:
        self._handed.extend(items)

    async def claim(self, limit: int) -> list[T]:
        due = time.monotonic() - self._asked > STORED_EVERY
        # When the database is due, one slot at least is kept for it: handed-over work alone
        # must not starve retries, later rows of a chat or other processes' leftovers.
        handed = min(len(self._handed), limit - 1 if due else limit)
        taken = [self._handed.popleft() for _ in range(handed)]
        if len(taken) < limit and (due or not taken):
            self._asked = time.monotonic()
            try:
                taken += await self._claim_stored(limit - len(taken))
            except Exception:
                self._handed.extendleft(reversed(taken))  # leased to us: never dropped
                raise
        if not taken and self._handed:  # the database had nothing: the handed-over then
            taken = [self._handed.popleft()]
        return taken


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
