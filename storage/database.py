"""The engine factory and schema migrations.

`make_engine(url)` gives an Engine tuned for the database behind the URL:

- SQLite (the default): WAL journal, synchronous=NORMAL, foreign keys on, a 5 s busy timeout,
  and SQLAlchemy (not the sqlite3 module) in charge of BEGIN, so a transaction really starts
  where SQLAlchemy says it does and can be asked to start as `BEGIN IMMEDIATE`
  (see `BEGIN_MODE` below; the recipe is SQLAlchemy's "Serializable isolation / Savepoints /
  Transactional DDL" section of its SQLite documentation).
- PostgreSQL: `postgresql://` (and `postgres://`) URLs use the psycopg 3 driver.

`migrate(engine)` upgrades the schema to the newest Alembic revision in `storage/migrations`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Execution option read by the SQLite "begin" hook: "DEFERRED" (default) or "IMMEDIATE".
# IMMEDIATE takes SQLite's single write lock at BEGIN, which serialises writers up front
# instead of failing a read-then-write transaction half-way.
BEGIN_MODE = "intake_sqlite_begin"

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


def make_engine(url: str) -> Engine:
    """Create the Engine for `url` (SQLite file, SQLite in memory, or PostgreSQL)."""
    parsed = _normalise_url(make_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    # No pool_pre_ping: it costs a round trip on every event (~15% of one). After a database
    # restart, the first statement on a stale pooled connection fails once, SQLAlchemy then
    # discards the whole stale pool, and later events reconnect.
    return create_engine(parsed)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config built in code, pointing at `storage/migrations`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the database behind `engine` to the newest revision; a no-op when it is current.

    The connection is handed to env.py through `config.attributes`, so this works for any
    engine, including a SQLite database in memory.
    """
    config = alembic_config()
    with engine.connect() as connection:
        if is_sqlite(engine):
            # Batch migrations on SQLite copy a table and drop the old one; with foreign keys
            # on, that DROP would cascade into the child tables. The pragma is ignored inside a
            # transaction, so switch it off on the raw connection before BEGIN, and back on
            # (the connection returns to the pool) afterwards.
            raw = connection.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")
            try:
                _upgrade(config, connection)
                violations = raw.execute("PRAGMA foreign_key_check").fetchall()
                if violations:
                    raise RuntimeError(f"migration left broken foreign keys: {violations[:5]}")
            finally:
                raw.execute("PRAGMA foreign_keys=ON")
        else:
            _upgrade(config, connection)


def _upgrade(config: Config, connection: Connection) -> None:
    with connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _normalise_url(url: URL) -> URL:
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    return url


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    if url.query.get("mode") == "memory":
        return None
    return Path(database)


def _sqlite_engine(url: URL) -> Engine:
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the sqlite3 module from issuing BEGIN itself (it would skip it before SELECTs
        # and DDL); the "begin" hook below issues it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in _SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(BEGIN_MODE, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE"):
            raise ValueError(f"unknown SQLite BEGIN mode: {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
