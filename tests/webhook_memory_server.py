"""A webhook server in its own process, to measure its memory: `python -m tests.webhook_memory_server PORT`.

Prints "ready" once it listens; stops on SIGTERM (or is killed).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

from bot.webhook_server import build_webhook_app, serve

SECRET = "memory-test-secret"
MAX_BODY = 1_000_000


async def main(port: int) -> None:
    async def receive(update: dict[str, Any]) -> None:
        return None

    async def health() -> dict[str, Any]:
        return {"ok": True}

    app = build_webhook_app(path="telegram/hook", secret=SECRET, receive=receive, health=health,
                            max_body=MAX_BODY)
    stop, ready = asyncio.Event(), asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    server = asyncio.create_task(serve(app, host="127.0.0.1", port=port, stop=stop, ready=ready))
    await asyncio.wait({server, asyncio.create_task(ready.wait())}, return_when=asyncio.FIRST_COMPLETED)
    if ready.is_set():
        print("ready", flush=True)
    await server


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
