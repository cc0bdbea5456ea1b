"""Long polling that stores every update before Telegram is told it arrived.

python-telegram-bot's Updater confirms an update (the next getUpdates offset) before it is
handled, and parses a whole batch at once, so one update it cannot parse fails every call and
wedges the bot. Here getUpdates is called for raw JSON; the batch goes into the inbox, and only
after that commit does the next call confirm it. Parsing happens later, one update at a time.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from bot.inbox_worker import received
from bot.outbox_sender import retry_after
from storage.inbox import Received

log = logging.getLogger(__name__)
LONG_POLL = 25  # seconds Telegram holds a getUpdates open when there is nothing new
CONFLICT_WAIT = 30.0  # another instance polls: look again this much later
MAX_BACKOFF = 30.0


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


class Poller:
    def __init__(self, bot: Bot, store: Callable[[list[Received]], Awaitable[Any]],
                 long_poll: int = LONG_POLL) -> None:
        self.bot = bot
        self.store = store  # committed when it returns (bot.runtime.Runtime.store)
        self.long_poll = long_poll
        self.offset: int | None = None

    async def fetch_once(self) -> int:
        """One getUpdates: store what came, then move the offset on. Returns how many came."""
        with warnings.catch_warnings():
            # The library suggests Bot.get_updates, which parses the batch: exactly what must
            # not happen before the updates are stored.
            warnings.simplefilter("ignore", PTBUserWarning)
            raw = await self.bot.do_api_request(
                "getUpdates",
                api_kwargs={"offset": self.offset, "timeout": self.long_poll,
                            "allowed_updates": list(Update.ALL_TYPES)},
                read_timeout=self.long_poll + 10)
        updates: list[Any] = raw if isinstance(raw, list) else []
        rows = [row for row in map(received, updates) if row is not None]
        if len(rows) != len(updates):
            log.warning("getUpdates: %s entries without an update id ignored",
                        len(updates) - len(rows))
        if rows:
            await self.store(rows)  # committed before confirming (and counted)
            self.offset = max(row.update_id for row in rows) + 1
        return len(rows)

    async def fetch_or_stop(self, stop: asyncio.Event) -> bool:
        """One fetch, abandoned when `stop` is set (a long poll would hold a clean stop for
        25 s). An abandoned fetch confirmed nothing: Telegram sends those updates again."""
        fetch = asyncio.create_task(self.fetch_once())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if fetch.done():
            fetch.result()  # raises what the fetch raised
            return True
        fetch.cancel()
        await asyncio.gather(fetch, return_exceptions=True)
        return False

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        conflict = False
        while not stop.is_set():
            try:
                if not await self.fetch_or_stop(stop):
                    return
            except InvalidToken:
                raise
            except Conflict:
                if not conflict:
                    # Said once, not every two seconds: this process keeps serving the inbox
                    # and the outbox with the others; it polls again when the other stops.
                    log.warning("another instance is polling this bot; this one handles "
                                "stored updates and sends messages, and checks again every "
                                "%.0f s", CONFLICT_WAIT)
                    conflict = True
                await _pause(stop, CONFLICT_WAIT)
                continue
            except RetryAfter as exc:
                await _pause(stop, retry_after(exc).total_seconds())
                continue
            except (NetworkError, TelegramError, OSError) as exc:
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    log.warning("getUpdates failed (%s), %s in a row", type(exc).__name__,
                                failures)
                await _pause(stop, min(MAX_BACKOFF, 0.5 * 2 ** min(failures, 6)))
                continue
            except Exception as exc:  # the database: nothing was confirmed, so nothing is lost
                failures += 1
                log.warning("storing updates failed (%s)", type(exc).__name__)
                await _pause(stop, min(MAX_BACKOFF, 0.5 * 2 ** min(failures, 6)))
                continue
            if conflict:
                log.info("polling again: the other instance stopped")
                conflict = False
            failures = 0
