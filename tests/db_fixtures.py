"""Databases for tests: a SQLite file per test, a throw-away PostgreSQL database per session.

A plain module (not a conftest) so any test module can build its own fixtures from it:

    postgres = TemporaryPostgres.create()   # once per session; .error says why it is unusable
    url = postgres.fresh_url()              # empty public schema, for one test
    url = postgres.migrated_url()           # the newest schema and no rows, for one test
    postgres.drop()                         # at the end of the session
    migrated_sqlite(path)                   # a migrated, empty SQLite file at `path`

The migrated ones are copies of a database Alembic upgraded once per session (per process:
each pytest-xdist worker has its own session database and its own templates), so a test
pays for a file copy or a `CREATE DATABASE ... TEMPLATE` instead of every migration. The
product's `migrate()` on such a copy finds the schema current and does nothing.

PostgreSQL is expected on 127.0.0.1:5432 with trust authentication for user `postgres`;
`TEST_POSTGRES_ADMIN_URL` points elsewhere.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import threading
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


_sqlite_template: Path | None = None
_sqlite_template_lock = threading.Lock()


def _migrated_sqlite_template() -> Path:
    """An empty SQLite database at the newest revision, made once per process."""
    global _sqlite_template
    with _sqlite_template_lock:
        if _sqlite_template is None:
            from storage.database import make_engine, migrate

            folder = Path(tempfile.mkdtemp(prefix="intake-sqlite-template-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            template = folder / "template.db"
            engine = make_engine(f"sqlite:///{template}")
            try:
                migrate(engine)
                with engine.connect() as connection:  # everything into the main file
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                engine.dispose()
            _sqlite_template = template
        return _sqlite_template


def migrated_sqlite(path: Path) -> Path:
    """Write an empty SQLite database at the newest schema revision to `path` (a new file, 0600,
    in an existing folder): what `migrate()` makes of a new file, without running Alembic."""
    template = _migrated_sqlite_template()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out, template.open("rb") as source:
        shutil.copyfileobj(source, out)
    return path


def migrated_sqlite_url(folder: Path) -> str:
    """`sqlite_url(folder)`, with the database already migrated (see `migrated_sqlite`)."""
    migrated_sqlite(folder / "intake.db")
    return sqlite_url(folder)


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
    template: str | None = None  # the migrated template database, once one was made

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

    def migrated_url(self) -> str:
        """The session database, made again as a copy of a template migrated once per session:
        the newest schema, no rows. Connections a previous test left open are cut."""
        assert self.url is not None and self.admin_url is not None, self.skip_reason
        name = make_url(self.url).database
        if self.template is None:
            from storage.database import make_engine, migrate

            template = f"{name}_template"
            self._recreate(template)
            engine = make_engine(make_url(self.url).set(database=template)
                                 .render_as_string(hide_password=False))
            try:
                migrate(engine)
            finally:
                engine.dispose()
            self.template = template
        self._recreate(name, self.template)
        return self.url

    def _recreate(self, name: str | None, template: str | None = None) -> None:
        """Drop the database `name` (cutting its connections) and create it again, empty or
        as a copy of `template`."""
        assert self.admin_url is not None
        admin = _admin_engine(self.admin_url)
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                copy = f' TEMPLATE "{template}"' if template else ""
                connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        finally:
            admin.dispose()

    def drop(self) -> None:
        if self.admin_url is None or self.url is None:
            return
        name = make_url(self.url).database
        engine = _admin_engine(self.admin_url)
        try:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                if self.template is not None:
                    connection.execute(
                        text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
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
