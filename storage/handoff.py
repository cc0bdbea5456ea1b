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

Outside a worker (the terminal chat, simulations of the engine alone, recruiter commands that
answer nobody's update) there is no hand-off and everything goes the usual way.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from storage.tables import inbox_table, outbox_table

_I = inbox_table.c
_O = outbox_table.c


@dataclass
class Handoff:
    inbox_id: int
    owner: str
    at: datetime  # the worker's wall clock when it took the row (never the product's clock)
    lease_until: datetime
    inbox_done: bool = False
    # (outbox id, kind, chat key, dossier id, payload as queued): delivered after the commit.
    outbox: list[tuple[int, str, str, int | None, dict[str, Any]]] = field(default_factory=list)


current: ContextVar[Handoff | None] = ContextVar("intake_handoff", default=None)

# Built once: statement construction is a visible part of a turn's cost.
MARK_DONE = (update(inbox_table).where(_I.id == bindparam("row_id"))
             .values(status="done", raw=None, subject=None, handled_at=bindparam("at"),
                     lease_owner=None, lease_until=None, error=None))
# The chat's newest row: rows go out in id order, so when it is sent (or closed) every earlier
# one is too, and a new row may go straight to the sender.
_LAST_IN_CHAT = (select(_O.sent_at).where(_O.chat_key == bindparam("chat_key"))
                 .order_by(_O.id.desc()).limit(1))


def settle_inbox(connection: Connection) -> None:
    """Mark the handed-off inbox row done in this transaction (once)."""
    handoff = current.get()
    if handoff is not None and not handoff.inbox_done:
        connection.execute(MARK_DONE, {"row_id": handoff.inbox_id, "at": handoff.at})
        handoff.inbox_done = True


def lease_for_new_row(connection: Connection, chat_key: str) -> dict[str, Any]:
    """The lease columns for a row about to be written to `chat_key`: this process's, when a
    worker handles the update and nothing older waits for the chat; else none."""
    handoff = current.get()
    if handoff is None:
        return {}
    newest = connection.execute(_LAST_IN_CHAT, {"chat_key": chat_key}).first()
    if newest is not None and newest.sent_at is None:
        return {}  # an older message to this chat is still on its way: keep the order
    return {"lease_owner": handoff.owner, "lease_until": handoff.lease_until}


def hand_to_sender(row_id: int, kind: str, chat_key: str, dossier_id: int | None,
                   payload: dict[str, Any]) -> None:
    """List a row written with this process's lease: the sender takes it after the commit."""
    handoff = current.get()
    assert handoff is not None
    handoff.outbox.append((row_id, kind, chat_key, dossier_id, payload))
