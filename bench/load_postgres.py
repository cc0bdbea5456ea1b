"""A throw-away PostgreSQL database for one load run (as tests/db_fixtures.py makes them):
created at the start, emptied before each system's run, dropped at the end."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


class Unreachable(Exception):
    pass


class ThrowAwayDatabase:
    def __init__(self, admin_url: str = ADMIN_URL) -> None:
        self.admin_url = admin_url
        self.name = f"intake_load_{uuid.uuid4().hex[:10]}"
        self.url = make_url(admin_url).set(database=self.name).render_as_string(hide_password=False)

    def _admin(self) -> Engine:
        return create_engine(self.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool,
                             connect_args={"connect_timeout": 3})

    def create(self) -> ThrowAwayDatabase:
        engine = self._admin()
        try:
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        except Exception as exc:
            address = make_url(self.admin_url)
            first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[:1]
            raise Unreachable(f"PostgreSQL not reachable at {address.host}:{address.port or 5432}"
                              f": {first[0] if first else type(exc).__name__}") from None
        finally:
            engine.dispose()
        return self

    def empty(self) -> str:
        """The database with an empty public schema: a fresh start for one system."""
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return self.url

    def drop(self) -> None:
        engine = self._admin()
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        engine.dispose()
