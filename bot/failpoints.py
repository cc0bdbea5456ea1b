"""Named moments at which a test can make this process die, to prove crash safety exactly there.

Off unless INTAKE_FAILPOINTS names the moment (comma-separated); then the process kills itself
with SIGKILL — no clean-up, as a power cut or the OOM killer would. Points:
`received` (an update stored in the inbox, nothing handled yet), `committed` (an answer and its
replies committed, nothing sent yet).
"""

from __future__ import annotations

import os
import signal

_ACTIVE = frozenset(p.strip() for p in os.environ.get("INTAKE_FAILPOINTS", "").split(",")
                    if p.strip())


def failpoint(name: str) -> None:
    if name in _ACTIVE:
        os.kill(os.getpid(), signal.SIGKILL)
