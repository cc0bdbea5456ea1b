"""Plain SQL for the reference bots: sqlite3 or psycopg, no ORM, one transaction per call.

SQLite: one connection used straight from the event loop (SQLite takes one writer at a time;
threads would only add hand-overs). PostgreSQL: a few connections, each call in a thread, as
the bot runs its database work."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import make_url

T = TypeVar("T")
POOL = 16


class PlainSql:
    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self.sqlite = url.get_backend_name() == "sqlite"
        self._connections: asyncio.Queue[Any] = asyncio.Queue()
        if self.sqlite:
            connection = sqlite3.connect(url.database or ":memory:", isolation_level=None,
                                         check_same_thread=False)
            for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"):
                connection.execute(pragma)
            self._sqlite = connection
        else:
            import psycopg

            conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
            for _ in range(POOL):
                self._connections.put_nowait(psycopg.connect(conninfo))

    def sql(self, statement: str) -> str:
        return statement.replace("%s", "?") if self.sqlite else statement

    async def run(self, work: Callable[[Any], T]) -> T:
        """`work(cursor-like)` in one transaction, committed when it returns."""
        if self.sqlite:
            return self._in_transaction(self._sqlite, work)
        connection = await self._connections.get()
        try:
            return await asyncio.to_thread(self._in_transaction, connection, work)
        finally:
            self._connections.put_nowait(connection)

    def _in_transaction(self, connection: Any, work: Callable[[Any], T]) -> T:
        if self.sqlite:
            connection.execute("BEGIN IMMEDIATE")
            try:
                result = work(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return result
        with connection.transaction():
            return work(connection)

    def execute(self, connection: Any, statement: str, *params: Any) -> Any:
        return connection.execute(self.sql(statement), params)

    def script(self, statements: list[str]) -> None:
        """Create the reference's tables (before the run)."""
        if self.sqlite:
            for statement in statements:
                self._sqlite.execute(statement)
            return
        connection = self._connections.get_nowait()
        with connection.transaction():
            for statement in statements:
                connection.execute(statement.replace("INTEGER PRIMARY KEY AUTOINCREMENT",
                                                     "BIGSERIAL PRIMARY KEY"))
        self._connections.put_nowait(connection)

    def close(self) -> None:
        if self.sqlite:
            self._sqlite.close()
        while not self._connections.empty():
            self._connections.get_nowait().close()
