"""What the transaction that applies an update settles besides the dossier: the hand-off.

The worker handling an inbox row sets a `Handoff` in its context before the Application sees the
update. The unit of work that applies that update (the one that records its event id) then, in
the same commit:

- marks the inbox row done, so no separate transaction is needed, and an update is never
  applied without its row saying so (a crash between the two can no longer re-handle it);
- writes the replies to the candidate leased to this process — when nothing older waits for
  that chat — and lists them here, so the sender delivers them from memory instead of finding
  them again with a claim query. Should this process die, their lease runs out and any other
  sender claims them as usual.

What it settles stands only if the transaction commits (`transaction`): a turn that rolls back
has applied nothing, so its row is retried and its replies never existed.

The user's order is kept for what happens in that transaction: their next update may be taken
once it commits, while the handler still does its courtesy calls to Telegram (answering the
button press, taking the pressed message's buttons off). A reply handed over and an erasure by
an operator (`main.py purge`) racing it may still deliver that reply after the rows are gone.

Outside a worker (the terminal chat, simulations of the engine alone, recruiter commands that
answer nobody's update) there is no hand-off and everything goes the usual way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from storage.tables import RECRUITERS, inbox_table, outbox_table

_I = inbox_table.c
_O = outbox_table.c


@dataclass
class Handoff:
    inbox_id: int
    owner: str
    clock: Callable[[], datetime]  # the lease clock (never the product's, which may be moved)
    lease: timedelta
    inbox_done: bool = False
    # (outbox id, kind, chat key, dossier id, payload as queued): delivered after the commit.
    outbox: list[tuple[int, str, str, int | None, dict[str, Any]]] = field(default_factory=list)


current: ContextVar[Handoff | None] = ContextVar("intake_handoff", default=None)

# Built once: statement construction is a visible part of a turn's cost.
# An inbox row handled (storage/inbox.py's `done` too): its raw update is no longer needed.
MARK_DONE = (update(inbox_table).where(_I.id == bindparam("row_id"))
             .values(status=bindparam("status"), raw=None, subject=None,
                     handled_at=bindparam("at"), lease_owner=None, lease_until=None,
                     error=bindparam("error")))
# The chat's newest row: rows go out in id order, so when it is sent (or closed) every earlier
# one is too, and a new row may go straight to the sender.
_LAST_IN_CHAT = (select(_O.sent_at).where(_O.chat_key == bindparam("chat_key"))
                 .order_by(_O.id.desc()).limit(1))


@contextmanager
def transaction() -> Iterator[None]:
    """Around one database transaction: what it settled stands only if it commits (a turn
    that rolls back has not applied the update, and its replies do not exist)."""
    handoff = current.get()
    if handoff is None:
        yield
        return
    done, listed = handoff.inbox_done, len(handoff.outbox)
    try:
        yield
    except BaseException:
        handoff.inbox_done = done
        del handoff.outbox[listed:]
        raise


def settle_inbox(connection: Connection) -> None:
    """Mark the handed-off inbox row done in this transaction (once)."""
    handoff = current.get()
    if handoff is not None and not handoff.inbox_done:
        connection.execute(MARK_DONE, {"row_id": handoff.inbox_id, "at": handoff.clock(),
                                       "status": "done", "error": None})
        handoff.inbox_done = True


def lease_for_new_row(connection: Connection, chat_key: str) -> dict[str, Any]:
    """The lease columns for a row about to be written to `chat_key`: this process's, when a
    worker handles the update and nothing older waits for the chat; else none."""
    handoff = current.get()
    if handoff is None or chat_key == RECRUITERS:
        # The recruiters' chat may be unset (rows then wait for `main.py export`): the claim
        # query knows that; a hand-over would not.
        return {}
    newest = connection.execute(_LAST_IN_CHAT, {"chat_key": chat_key}).first()
    if newest is not None and newest.sent_at is None:
        return {}  # an older message to this chat is still on its way: keep the order
    # From now: the turn may have taken long (a download), and a lease in the past would let
    # another sender take the row while this one sends it.
    return {"lease_owner": handoff.owner, "lease_until": handoff.clock() + handoff.lease}


def hand_to_sender(row_id: int, kind: str, chat_key: str, dossier_id: int | None,
                   payload: dict[str, Any]) -> None:
    """List a row written with this process's lease: the sender takes it after the commit."""
    handoff = current.get()
    assert handoff is not None
    handoff.outbox.append((row_id, kind, chat_key, dossier_id, payload))
