"""The running bot: updates in through the inbox, messages out through the outbox.

    receive (polling / webhook) -> inbox (committed) -> InboxWorker -> Application handlers
        -> engine (answer + outbox rows, one transaction) -> OutboxSender -> Telegram

Every process runs the same loops: a worker, a sender, lease renewal and the periodic jobs
(reminders and expiry, retention, pruning, orphaned files), each job taken by one process at a
time through a database lease. Any number of processes can share one PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram.ext import Application

from bot import metrics
from bot.failpoints import failpoint
from bot.inbox_worker import InboxWorker, received
from bot.outbox_sender import OutboxSender
from bot.polling import Poller, _pause
from storage.inbox import Received, SqlInbox
from storage.job_lease import take_job_lease
from storage.outbox import RECRUITERS, SqlOutbox

log = logging.getLogger(__name__)
EVENT_MEMORY = timedelta(hours=48)  # Telegram re-delivers an unconfirmed update within a day
QUARANTINE_KEPT = timedelta(days=14)


def _pid_namespace() -> str:
    """Containers sharing a host name (host networking) have pid namespaces of their own."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "0"


def process_name() -> str:
    """Who holds a lease: host, pid namespace, pid, and a random part (pids are reused)."""
    return (f"{socket.gethostname()[:30]}:{_pid_namespace()}:{os.getpid()}:"
            f"{uuid.uuid4().hex[:8]}")


def gone(owner: str, me: str) -> bool:
    """Whether the process that holds a lease is known to be dead: it ran on this host, in
    this pid namespace, and its pid is no longer alive — or is ours under another incarnation
    (a container restarted with the same pid). Elsewhere we cannot tell, and the lease simply
    runs out."""
    host, namespace, pid_text, _ = ([*owner.split(":"), "", "", "", ""])[:4]
    my_host, my_namespace, _, _ = ([*me.split(":"), "", "", "", ""])[:4]
    if (host, namespace) != (my_host, my_namespace) or not pid_text.isdigit() or owner == me:
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


class Job:
    """A periodic job that one process at a time runs (the lease), every `interval`."""

    def __init__(self, name: str, interval: float, run: Callable[[], Awaitable[Any]]) -> None:
        self.name = name
        self.interval = interval
        self.run = run


class Runtime:
    def __init__(self, app: Application, inbox: SqlInbox, outbox: SqlOutbox,
                 worker: InboxWorker, sender: OutboxSender, owner: str, lease: timedelta,
                 jobs: list[Job], db_engine: Any,
                 lease_clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.app = app
        self.inbox = inbox
        self.outbox = outbox
        self.worker = worker
        self.sender = sender
        self.owner = owner
        self.lease = lease
        self.jobs = jobs
        self.db_engine = db_engine
        self.lease_clock = lease_clock
        self.stop = asyncio.Event()
        self._health_pool = ThreadPoolExecutor(1, thread_name_prefix="health")
        self.arrived = asyncio.Event()  # an update was stored or handled: claim again
        self.queued = asyncio.Event()  # something may wait in the outbox: send again
        worker.on_handled = self.handled
        worker.on_replies = sender.hand

    def handled(self) -> None:
        self.arrived.set()
        self.queued.set()

    # ------------------------------------------------------------------ receiving

    async def receive(self, raw_updates: list[dict[str, Any]]) -> int:
        """Store updates (committed when this returns) and wake the worker."""
        return await self.store([row for row in map(received, raw_updates) if row is not None])

    async def store(self, rows: list[Received]) -> int:
        """Store received rows, committed when this returns; those leased to this process on
        the way in go straight to the worker. Returns how many were new."""
        new, taken = await self.worker.run_db(self.inbox.receive_and_take, rows, self.owner,
                                             self.lease)
        metrics.received(new)
        failpoint("received")
        self.worker.hand(taken)
        self.arrived.set()
        return new

    async def receive_one(self, raw: dict[str, Any]) -> None:
        """The webhook's `receive`: stored before the 200 goes back to Telegram."""
        await self.receive([raw])

    async def health(self) -> dict[str, Any]:
        """The process runs (it answers) and the database answers (it raises if not)."""
        # A thread of its own: behind a burst of per-update work queued in the shared pool,
        # the check would time out and a healthy worker be taken out of the proxy's rotation.
        counts = await asyncio.get_running_loop().run_in_executor(self._health_pool,
                                                                  self.inbox.open_counts)
        return {"ok": True, "inbox_pending": counts.get("pending", 0),
                "inbox_quarantined": counts.get("quarantined", 0),
                "inbox_failed": counts.get("failed", 0)}

    async def metrics(self) -> str:
        """This process's counters and the shared queues, in the Prometheus text format; the
        counters also when the database does not answer."""
        # Without a recruiters' chat their notifications wait for `export`: not a backlog.
        skip = (RECRUITERS,) if self.sender.recruiter_chat is None else ()
        try:
            gauges = await asyncio.wait_for(asyncio.to_thread(
                metrics.queue_gauges, self.db_engine, self.sender.clock(), skip), 5)
        except Exception as exc:
            log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            gauges = None
        return metrics.render(metrics.PROCESS, gauges)

    # ------------------------------------------------------------------ tests and simulations

    async def drain(self, rounds: int = 1000) -> None:
        """Handle every stored update and send every due message, until nothing moves."""
        for _ in range(rounds):
            handled = await self.worker.run_once()
            sent = await self.sender.run_once(self.app.bot)
            if not handled and not sent:
                return
        raise RuntimeError("the inbox or the outbox does not drain")

    async def run_jobs_once(self) -> None:
        for job in self.jobs:
            await self.run_job(job)

    # ------------------------------------------------------------------ the loops

    async def send_loop(self) -> None:
        await self.sender.run(self.app.bot, self.stop, self.queued)

    def free_dead_leases(self) -> None:
        """A crashed process on this host need not hold its candidates until its leases run
        out: free them now (at start-up, and at every renewal)."""
        for table in (self.inbox, self.outbox):
            dead = {owner for owner in table.lease_owners() if gone(owner, self.owner)}
            if dead:
                log.info("freeing the leases of %s stopped process(es)", len(dead))
                table.release(dead)

    async def renew_loop(self) -> None:
        while not self.stop.is_set():
            try:
                await asyncio.to_thread(self.free_dead_leases)
                await asyncio.to_thread(self.inbox.renew, self.owner, self.lease)
                await asyncio.to_thread(self.outbox.renew, self.owner, self.lease)
            except Exception as exc:
                log.warning("lease renewal failed: %s", type(exc).__name__)
            await _pause(self.stop, self.lease.total_seconds() / 3)

    async def run_job(self, job: Job) -> None:
        try:
            mine = await asyncio.to_thread(take_job_lease, self.db_engine, job.name, self.owner,
                                           timedelta(seconds=job.interval * 2), self.lease_clock)
            if mine:
                await job.run()
                self.queued.set()
        except Exception as exc:  # one failing job must not stop the others
            log.error("job %s failed: %s", job.name, type(exc).__name__)
            metrics.error(f"job:{job.name}", type(exc).__name__)

    async def job_loop(self, job: Job, first: float) -> None:
        await _pause(self.stop, first)
        while not self.stop.is_set():
            await self.run_job(job)
            await _pause(self.stop, job.interval)

    async def serve(self, *receiving: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        """Run until `stop` is set: the receiving side (polling or the webhook, and the status
        server beside polling), the worker, the sender, the jobs."""
        await asyncio.to_thread(self.free_dead_leases)
        loops = [
            *(asyncio.create_task(run(self.stop), name=f"receive-{i}")
              for i, run in enumerate(receiving)),
            asyncio.create_task(self.worker.run(self.stop, self.arrived), name="worker"),
            asyncio.create_task(self.send_loop(), name="send"),
            asyncio.create_task(self.renew_loop(), name="renew"),
            *(asyncio.create_task(self.job_loop(job, 0 if i == 0 else 5 + i), name=job.name)
              for i, job in enumerate(self.jobs)),
        ]
        stopper = asyncio.create_task(self.stop.wait())
        await asyncio.wait([*loops, stopper], return_when=asyncio.FIRST_COMPLETED)
        self.stop.set()
        results = await asyncio.gather(*loops, return_exceptions=True)
        try:
            # Rows leased to this process on arrival but not yet handled (storage/handoff.py):
            # free for the next process now, rather than when their leases run out.
            await asyncio.to_thread(self.inbox.release, {self.owner})
            await asyncio.to_thread(self.outbox.release, {self.owner})
        except Exception as exc:  # the database is away: the leases run out instead
            log.warning("leases not released at stop: %s", type(exc).__name__)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result,
                                                                    asyncio.CancelledError):
                raise result


async def polling(runtime: Runtime) -> Callable[[asyncio.Event], Awaitable[None]]:
    await runtime.app.bot.delete_webhook(drop_pending_updates=False)
    poller = Poller(runtime.app.bot, runtime.store)
    return poller.run


def utc_now() -> datetime:
    return datetime.now(UTC)


