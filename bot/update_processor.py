"""One candidate's updates in order, different candidates' updates at the same time."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

UNBOUNDED = 1_000_000


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """The user's lock first, a concurrency slot second.

    python-telegram-bot's own semaphore is taken before `do_process_update`, so one user who
    floods the bot would hold every slot while queueing behind themselves. Its semaphore is made
    unbounded here and the real limit is applied after the user's lock.
    """

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(UNBOUNDED)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        # Weak: a user's lock lives only while one of their updates holds or awaits it.
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            async with self._slots:
                await coroutine
            return
        lock = self._locks.get(user.id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[user.id] = lock
        async with lock, self._slots:
            await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
