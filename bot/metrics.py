"""What an operator watches: per-process counters, queue gauges from the database, and the INFO
lines of the events that matter (a dossier submitted, a recruiter notification delivered).

Served as GET /metrics in the Prometheus text exposition format (0.0.4), written by hand: a
dozen series do not need a client library. Counters count what *this process* did since it
started (each worker has its own; Prometheus sums them); gauges describe the shared database
(every worker reports the same queue). Nothing here carries personal data: counts, ids of
dossiers and outbox rows, vacancy ids, exception type names.

The counters live in one object per process, `PROCESS`, the way Prometheus clients keep a
process-wide registry: the hooks in the inbox worker and the outbox sender stay one line each
instead of threading an object through every constructor. They are called from the event
loop only.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from storage.outbox import RECRUITERS, OutboxItem
from storage.tables import inbox_table, outbox_table

log = logging.getLogger(__name__)
OUTCOMES = ("done", "retried", "failed", "quarantined")
# How a dashboard sign-in ended: a session opened, or why not (a burst of "forged" is someone
# trying; "origin" after a deployment is a DASHBOARD_URL other than where browsers come from).
SIGN_INS = ("accepted", "forged", "stale", "malformed", "no_user", "not_recruiter", "link",
            "origin")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Counters:
    """What this process did since it started."""

    started: float = field(default_factory=time.time)
    received: int = 0
    handled: Counter[str] = field(default_factory=lambda: Counter(dict.fromkeys(OUTCOMES, 0)))
    delivered: Counter[str] = field(
        default_factory=lambda: Counter({"candidate": 0, "recruiters": 0}))
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    submitted: int = 0
    sign_ins: Counter[str] = field(default_factory=lambda: Counter(dict.fromkeys(SIGN_INS, 0)))


PROCESS = Counters()


# ------------------------------------------------------------------ the hooks


def received(count: int) -> None:
    """`count` new updates stored in the inbox (a re-delivered one is not new)."""
    PROCESS.received += count


def handled(outcome: str, error: str | None = None) -> None:
    """An inbox row left the worker: done, retried (later), failed (for good) or quarantined;
    `error` is the exception's type name when there was one."""
    PROCESS.handled[outcome] += 1
    if error is not None:
        PROCESS.errors["inbox", error] += 1


def error(source: str, kind: str) -> None:
    """An error in `source` (inbox, outbox, webhook, job) of `kind` (an exception type name)."""
    PROCESS.errors[source, kind] += 1


def dashboard_sign_in(outcome: str) -> None:
    """A dashboard sign-in (Mini App start data or a one-time link) ended: one of SIGN_INS."""
    PROCESS.sign_ins[outcome] += 1


def delivered(item: OutboxItem, at: datetime) -> None:
    """An outbox row was delivered. A recruiter notification also gets its INFO line, with how
    long it waited since it was queued (a candidate's reply would be a line per message)."""
    to_recruiters = item.chat_key == RECRUITERS
    PROCESS.delivered["recruiters" if to_recruiters else "candidate"] += 1
    if to_recruiters:
        lag = (at - _aware(item.created_at)).total_seconds() if item.created_at else 0.0
        log.info("outbox %s delivered: %s to the recruiters, lag %d ms", item.id, item.kind,
                 round(lag * 1000))


def submitted_in(replies: Iterable[Any]) -> None:
    """Count (and log) the dossier a turn submitted, if it did (the engine marks that reply)."""
    for reply in replies:
        meta = getattr(reply, "meta", None) or {}
        if "submitted" in meta:
            PROCESS.submitted += 1
            log.info("dossier %s submitted for vacancy %s", meta.get("dossier_id"),
                     meta["submitted"])


# ------------------------------------------------------------------ the gauges


@dataclass(frozen=True)
class QueueGauges:
    inbox_pending: int
    inbox_quarantined: int
    outbox_pending: int
    outbox_lag_seconds: float


def queue_gauges(engine: Engine, now: datetime, skip_keys: tuple[str, ...] = ()) -> QueueGauges:
    """The shared queues: updates waiting, messages waiting, and how long the oldest message
    that is due has waited since it was queued. `skip_keys`: chats nobody sends to (the
    recruiters' without RECRUITER_CHAT_ID, whose notifications wait for `export` by design)."""
    i, o = inbox_table.c, outbox_table.c
    waiting = o.sent_at.is_(None)
    if skip_keys:
        waiting = waiting & o.chat_key.not_in(skip_keys)
    with engine.connect() as connection:
        inbox = dict(connection.execute(
            select(i.status, func.count()).where(i.status.in_(("pending", "quarantined")))
            .group_by(i.status)).all())
        pending, oldest = connection.execute(
            select(func.count(), func.min(o.created_at).filter(
                o.next_attempt_at <= now.astimezone(UTC))).where(waiting)).one()
    lag = max(0.0, (now - _aware(oldest)).total_seconds()) if oldest is not None else 0.0
    return QueueGauges(inbox.get("pending", 0), inbox.get("quarantined", 0), pending, lag)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# ------------------------------------------------------------------ the exposition


def _series(name: str, kind: str, help_text: str,
            samples: Iterable[tuple[dict[str, str], float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        lines.append(f"{name}{{{label_text}}} {_number(value)}" if labels
                     else f"{name} {_number(value)}")
    return lines


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render(counters: Counters, gauges: QueueGauges | None) -> str:
    """The exposition text. `gauges` None: the database did not answer (`intake_database_up`
    0, the queue gauges left out rather than reported as zero)."""
    c = counters
    lines = [
        *_series("intake_process_start_time_seconds", "gauge",
                 "Start time of this process since the Unix epoch, in seconds.", [({}, c.started)]),
        *_series("intake_updates_received_total", "counter",
                 "Telegram updates this process stored in the inbox (re-deliveries not counted).",
                 [({}, c.received)]),
        *_series("intake_updates_handled_total", "counter",
                 "Inbox rows this process finished with, by outcome.",
                 [({"outcome": o}, c.handled[o]) for o in sorted(c.handled)]),
        *_series("intake_messages_delivered_total", "counter",
                 "Outbox rows this process delivered to Telegram, by recipient.",
                 [({"to": k}, c.delivered[k]) for k in sorted(c.delivered)]),
        *_series("intake_errors_total", "counter",
                 "Errors in this process, by where (source) and exception type (kind).",
                 [({"source": s, "kind": k}, n) for (s, k), n in sorted(c.errors.items())]),
        *_series("intake_dossiers_submitted_total", "counter",
                 "Dossiers submitted through this process.", [({}, c.submitted)]),
        *_series("intake_dashboard_sign_ins_total", "counter",
                 "Dashboard sign-ins this process answered, by outcome (accepted, or why not).",
                 [({"outcome": o}, c.sign_ins[o]) for o in sorted(c.sign_ins)]),
        *_series("intake_database_up", "gauge",
                 "1 when the database answered this scrape, else 0.",
                 [({}, 1 if gauges is not None else 0)]),
    ]
    if gauges is not None:
        lines += [
            *_series("intake_inbox_pending", "gauge",
                     "Updates stored and not yet handled (all workers).",
                     [({}, gauges.inbox_pending)]),
            *_series("intake_inbox_quarantined", "gauge",
                     "Updates kept because they could not be read (see `main.py inbox`).",
                     [({}, gauges.inbox_quarantined)]),
            *_series("intake_outbox_pending", "gauge",
                     "Messages queued and not yet delivered (all workers).",
                     [({}, gauges.outbox_pending)]),
            *_series("intake_outbox_lag_seconds", "gauge",
                     "Age of the oldest due undelivered message, in seconds (0: none).",
                     [({}, round(gauges.outbox_lag_seconds, 3))]),
        ]
    return "\n".join(lines) + "\n"
