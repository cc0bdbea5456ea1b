"""Databases for tests: a SQLite file per test, a throw-away PostgreSQL database per session.

A plain module (not a conftest) so any test module can build its own fixtures from it:

    postgres = TemporaryPostgres.create()   # once per session; .error says why it is unusable
    url = postgres.fresh_url()              # empty public schema, for one test
    postgres.drop()                         # at the end of the session

PostgreSQL is expected on 127.0.0.1:5432 with trust authentication for user `postgres`;
`TEST_POSTGRES_ADMIN_URL` points elsewhere.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

POSTGRES_ADDRESS = "127.0.0.1:5432"
DEFAULT_ADMIN_URLS = (
    f"postgresql+psycopg://postgres@{POSTGRES_ADDRESS}/postgres",
    f"postgresql+psycopg://postgres@{POSTGRES_ADDRESS}/test",
)


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'intake.db'}"


def _admin_urls() -> tuple[str, ...]:
    configured = os.environ.get("TEST_POSTGRES_ADMIN_URL")
    return (configured,) if configured else DEFAULT_ADMIN_URLS


def _admin_engine(url: str) -> Engine:
    return create_engine(
        url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}, poolclass=NullPool
    )


def _first_line(error: BaseException) -> str:
    message = str(getattr(error, "orig", None) or error).strip()
    return message.splitlines()[0] if message else type(error).__name__


@dataclass
class TemporaryPostgres:
    """A uniquely named database created for this test session, or the reason there is none."""

    admin_url: str | None
    url: str | None
    error: str | None
    address: str = POSTGRES_ADDRESS

    @classmethod
    def create(cls) -> TemporaryPostgres:
        name = f"intake_test_{uuid.uuid4().hex[:12]}"
        last_error, address = "no admin URL", POSTGRES_ADDRESS
        for admin_url in _admin_urls():
            parsed = make_url(admin_url)
            address = f"{parsed.host}:{parsed.port or 5432}"
            engine = _admin_engine(admin_url)
            try:
                with engine.connect() as connection:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
            except Exception as error:
                last_error = _first_line(error)
                continue
            finally:
                engine.dispose()
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            return cls(admin_url=admin_url, url=url, error=None, address=address)
        return cls(admin_url=None, url=None, error=last_error, address=address)

    @property
    def skip_reason(self) -> str:
        return f"PostgreSQL not reachable at {self.address}: {self.error}"

    def fresh_url(self) -> str:
        """The session database with an empty `public` schema."""
        assert self.url is not None, self.skip_reason
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        finally:
            engine.dispose()
        return self.url

    def drop(self) -> None:
        if self.admin_url is None or self.url is None:
            return
        name = make_url(self.url).database
        engine = _admin_engine(self.admin_url)
        try:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            engine.dispose()


def opened(engine: Any, value: Any) -> Any:
    """A sealed value read straight from a table, opened with whichever stored key fits (tests
    hold a handful of keys); a plain value as it is."""
    from sqlalchemy import select

    from storage.crypto import KeyGone, is_sealed, process_keyring
    from storage.tables import subject_key_table

    if not is_sealed(value):
        return value
    keyring = process_keyring()
    with engine.connect() as connection:
        rows = connection.execute(select(subject_key_table)).all()
    for row in rows:
        try:
            plain = keyring.cipher(row.wrapped, row.master, row.subject).open_text(value)
        except KeyGone:
            continue
        try:
            return json.loads(plain)
        except ValueError:
            return plain  # a sealed text field, not JSON
    raise KeyGone("no stored key opens this value")
