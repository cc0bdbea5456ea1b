"""The Telegram webhook endpoint, /healthz and /metrics: a small Starlette app served by uvicorn in
the bot's event loop (in polling mode without the webhook: a container needs its health check).

It replaces python-telegram-bot's tornado server, which reads bodies of up to 100 MB before it
checks the secret, always binds 0.0.0.0 and logs a malformed update raw. Here the secret is
checked before a byte of the body is read, the body is capped while it streams, nothing of a
body or header is logged, and 200 is answered only once `receive` has stored the update.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot import metrics as process_metrics
from bot.metrics import CONTENT_TYPE

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# An early answer closes the connection, so uvicorn does not drain the unread body.
_CLOSE = {"Connection": "close"}
# A health check that waits on a stuck database must still answer before the prober gives up.
HEALTH_TIMEOUT = 5.0
STATUS_PATHS = ("healthz", "metrics")

Health = Callable[[], Awaitable[dict[str, Any]]]
Metrics = Callable[[], Awaitable[str]]


def status_routes(health: Health, metrics: Metrics | None = None) -> list[Route]:
    """GET /healthz: 200 and `health`'s JSON, or 503 and a short reason when the database does
    not answer. GET /metrics: the Prometheus exposition `metrics` writes."""

    async def healthz(request: Request) -> Response:
        try:
            return JSONResponse(await asyncio.wait_for(health(), HEALTH_TIMEOUT))
        except TimeoutError:
            reason = f"the database did not answer within {HEALTH_TIMEOUT:.0f} s"
        except Exception as exc:
            reason = f"the database did not answer ({type(exc).__name__})"
        logger.warning("health check failed: %s", reason)
        return JSONResponse({"ok": False, "reason": reason}, status_code=503)

    routes = [Route("/healthz", healthz, methods=["GET"])]
    if metrics is not None:
        async def metrics_page(request: Request) -> Response:
            return PlainTextResponse(await metrics(), media_type=CONTENT_TYPE)

        routes.append(Route("/metrics", metrics_page, methods=["GET"]))
    return routes


def build_status_app(*, health: Health, metrics: Metrics | None = None,
                     extra: Sequence[BaseRoute] = ()) -> Starlette:
    """/healthz and /metrics (polling mode), and `extra` routes (the dashboard)."""
    app = Starlette(routes=[*status_routes(health, metrics), *extra])
    app.router.redirect_slashes = False
    return app


def build_webhook_app(*, path: str, secret: str, receive: Callable[[dict[str, Any]], Awaitable[None]],
                      health: Health, max_body: int, metrics: Metrics | None = None,
                      extra: Sequence[BaseRoute] = ()) -> Starlette:
    """POST /<path> takes a Telegram update and hands it to `receive`; GET /healthz reports `health`,
    GET /metrics serves `metrics`; `extra` routes beside them (the dashboard)."""
    if not secret:
        raise ValueError("the webhook needs a secret: without one anyone could post updates")
    if path.strip("/") in STATUS_PATHS:
        raise ValueError(f"the webhook path {path.strip('/')!r} is taken by /healthz or /metrics")
    expected = secret.encode()

    async def webhook(request: Request) -> Response:
        # Raw header bytes (latin-1 round-trips them): compare_digest refuses non-ASCII str.
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1")
        if not hmac.compare_digest(given, expected):
            return Response(status_code=403, headers=_CLOSE)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdecimal() or int(length) > max_body):
            return Response(status_code=413, headers=_CLOSE)
        body = bytearray()
        try:
            async for chunk in request.stream():
                if len(body) + len(chunk) > max_body:  # chunked: stop before holding more than max_body
                    return Response(status_code=413, headers=_CLOSE)
                body += chunk
        except ClientDisconnect:
            return Response(status_code=400, headers=_CLOSE)  # nobody is left to read it
        try:
            update = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: deeply nested arrays
            update = None
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            logger.warning("rejected a webhook body of %d bytes: not a Telegram update", len(body))
            return Response(status_code=400)
        try:
            await receive(update)
        except Exception as exc:  # not stored: 503 makes Telegram deliver it again later
            logger.error("webhook update %d not stored (%s); answered 503", update_id, type(exc).__name__)
            process_metrics.error("webhook", type(exc).__name__)
            return Response(status_code=503)
        return PlainTextResponse("ok")

    app = Starlette(routes=[*status_routes(health, metrics),
                            Route("/" + path.lstrip("/"), webhook, methods=["POST"]), *extra])
    app.router.redirect_slashes = False  # anything but the exact paths is a 404, not a redirect
    return app


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: asyncio.Event | None) -> None:
        super().__init__(config)
        self._ready = ready

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The bot owns SIGINT/SIGTERM and sets `stop`; uvicorn would otherwise replace its handlers.
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._ready is not None:
            self._ready.set()


def _bind(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        return socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from exc


async def serve(app: Starlette, *, host: str, port: int, stop: asyncio.Event,
                ready: asyncio.Event | None = None) -> None:
    """Serve `app` on host:port in this event loop until `stop` is set; `ready` is set once listening."""
    if stop.is_set():
        return
    # Bound here, not by uvicorn, which answers a busy port with sys.exit() instead of an OSError.
    sock = _bind(host, port)
    config = uvicorn.Config(
        app, lifespan="off", access_log=False, log_config=None, log_level="warning", http="h11",
        limit_concurrency=200, timeout_keep_alive=5, timeout_graceful_shutdown=10,
        h11_max_incomplete_event_size=16 * 1024,  # request line and headers; Telegram's are small
    )
    server = _Server(config, ready)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True  # uvicorn polls it every 0.1 s, then lets open requests finish
        await asyncio.shield(serving)  # shielded: a cancel must not leave the listener open
    except asyncio.CancelledError:
        server.should_exit = server.force_exit = True  # close listener and connections, don't wait
        await asyncio.shield(serving)
        raise
    finally:
        stopping.cancel()
        sock.close()
