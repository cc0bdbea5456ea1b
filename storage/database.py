"""The engine factory, schema migrations, the SQLite writer lock and transient-error triage.

`make_engine(url, *, lock_timeout=5.0, statement_timeout=30.0, pool_size=10)` gives an Engine
tuned for the database behind the URL (timeouts in seconds):

- SQLite (the default): WAL journal, synchronous=NORMAL, foreign keys on, a 30 s busy timeout,
  and SQLAlchemy (not the sqlite3 module) in charge of BEGIN, so a transaction really starts
  where SQLAlchemy says it does and can be asked to start as `BEGIN IMMEDIATE`
  (see `BEGIN_MODE` below; the recipe is SQLAlchemy's "Serializable isolation / Savepoints /
  Transactional DDL" section of its SQLite documentation). `lock_timeout` and
  `statement_timeout` do not apply. secure_delete is on (deleted rows are overwritten with
  zeros, so an erasure leaves no copy in free pages); the database file and its -wal/-shm files
  are readable by the service user only (0600; a folder created for them 0700).
- PostgreSQL: `postgresql://` (and `postgres://`) URLs use the psycopg 3 driver. Every
  connection starts with `lock_timeout`, `statement_timeout` and a 60 s
  `idle_in_transaction_session_timeout`, so one stuck lock or query fails its own event
  instead of freezing every worker.
- Files and PostgreSQL get a pool of `pool_size` connections plus as many overflow ones;
  a checkout waits at most 30 s.

`writer_lock(engine)` is one re-entrant lock per SQLite Engine, to be held around every write
transaction: writers in one process queue on it rather than on SQLite's busy handler, which
leaves that handler for other processes. On PostgreSQL it is a no-op (row and advisory locks
do the job).

`migrate(engine)` upgrades the schema to the newest Alembic revision in `storage/migrations`.
Processes starting together serialise on it: PostgreSQL behind a transaction-scoped advisory
lock (`MIGRATION_LOCK_KEY`), SQLite behind `BEGIN IMMEDIATE`; the later one then finds the
schema current.

`is_transient(error)` says whether an error is worth retrying the same work later.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import stat
import sys
import threading
import time
import weakref
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from flows.ports import ConcurrentUpdate

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)

# Execution option read by the SQLite "begin" hook: "DEFERRED" (default) or "IMMEDIATE".
# IMMEDIATE takes SQLite's single write lock at BEGIN, which serialises writers up front
# instead of failing a read-then-write transaction half-way.
BEGIN_MODE = "intake_sqlite_begin"

# pg_advisory_xact_lock(int, int) key taken by `migrate`: "inta", "migr" in ASCII. The
# two-integer form lives in a different key space from the one-bigint form the repository's
# per-candidate locks use (hashtext(...)), so the two can never collide.
MIGRATION_LOCK_KEY = (0x696E7461, 0x6D696772)

SQLITE_BUSY_TIMEOUT = 30.0  # seconds; for other processes (this one queues on writer_lock)
IDLE_IN_TRANSACTION_TIMEOUT = 60.0  # seconds; frees locks held by a client that went silent
POOL_TIMEOUT = 30.0  # seconds a checkout waits when all pool_size + overflow connections are busy

_SQLITE_PRAGMAS = (
    f"PRAGMA busy_timeout={round(SQLITE_BUSY_TIMEOUT * 1000)}",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    # Deleted content is overwritten with zeros: an erased candidate's name, e-mail and answers
    # do not linger in free pages of the file.
    "PRAGMA secure_delete=ON",
)
# The files SQLite keeps beside the database, created with the database file's permissions.
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")

# SQLSTATEs after which the same work can succeed later: lock_not_available (lock_timeout),
# query_canceled (statement_timeout), deadlock_detected, serialization_failure,
# idle_in_transaction_session_timeout, admin/crash/cannot-connect-now shutdowns,
# idle_session_timeout, too_many_connections. Class 08 (connection exceptions) is added below.
_TRANSIENT_SQLSTATES = frozenset(
    {"55P03", "57014", "40P01", "40001", "25P03", "57P01", "57P02", "57P03", "57P05", "53300"}
)
# Primary SQLite result codes (extended codes carry them in the low byte).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_IOERR = 5, 6, 10
_SQLITE_TRANSIENT_MESSAGES = ("database is locked", "database table is locked", "disk I/O error")

_writer_locks: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_writer_locks_guard = threading.Lock()


def make_engine(
    url: str, *, lock_timeout: float = 5.0, statement_timeout: float = 30.0, pool_size: int = 10
) -> Engine:
    """Create the Engine for `url` (SQLite file, SQLite in memory, or PostgreSQL).

    `lock_timeout` and `statement_timeout` are seconds (0 switches one off) and apply to
    PostgreSQL only.
    """
    if lock_timeout < 0 or statement_timeout < 0:
        raise ValueError("timeouts must be >= 0 seconds")
    if pool_size < 1:
        raise ValueError("pool_size must be at least 1")
    parsed = _normalise_url(make_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, pool_size)
    # Options from the URL come last, so an operator's explicit `?options=-c ...` still wins.
    options = " ".join(
        [
            f"-c lock_timeout={_milliseconds(lock_timeout)}",
            f"-c statement_timeout={_milliseconds(statement_timeout)}",
            f"-c idle_in_transaction_session_timeout={_milliseconds(IDLE_IN_TRANSACTION_TIMEOUT)}",
            *_as_list(parsed.query.get("options")),
        ]
    )
    # No pool_pre_ping: it costs a round trip on every event (~15% of one). After a database
    # restart, the first statement on a stale pooled connection fails once, SQLAlchemy then
    # discards the whole stale pool, and later events reconnect.
    return create_engine(
        parsed.difference_update_query(["options"]),
        connect_args={"options": options},
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=POOL_TIMEOUT,
    )


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def writer_lock(engine: Engine) -> AbstractContextManager[object]:
    """The process-wide lock to hold around a write transaction on `engine`.

    SQLite: the same `threading.RLock` for the same Engine (and for engines derived from it by
    `execution_options`), so this process's writers wait in line in Python and only other
    processes ever meet SQLite's busy handler. PostgreSQL: a no-op context manager.
    """
    if not is_sqlite(engine):
        return nullcontext()
    # Engine.execution_options() returns a proxy over the same pool: share its lock.
    while (proxied := getattr(engine, "_proxied", None)) is not None:
        engine = proxied
    with _writer_locks_guard:
        lock = _writer_locks.get(engine)
        if lock is None:
            lock = _writer_locks[engine] = threading.RLock()
        return lock


def is_transient(error: BaseException) -> bool:
    """True if the same work may succeed when retried later: a lock or statement timeout, a
    deadlock or serialization failure, a lost or refused connection, a busy SQLite database,
    a concurrent dossier update. False for everything else (constraint violations, SQL
    errors, bugs), which would fail the same way again.

    Accepts SQLAlchemy's wrapped errors and the raw psycopg / sqlite3 ones.
    """
    if isinstance(error, ConcurrentUpdate | PoolTimeout):
        return True
    cause: BaseException | None = error
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        cause = error.orig
    # psycopg is imported only with a PostgreSQL engine: without it, no error can be its.
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(cause, psycopg.Error):
        state = cause.sqlstate
        if state is None:
            # Raised by the client itself: with OperationalError, a failed or lost connection.
            return isinstance(cause, psycopg.OperationalError)
        return state in _TRANSIENT_SQLSTATES or state.startswith("08")
    if isinstance(cause, sqlite3.Error):
        code = getattr(cause, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_IOERR)
        # Built by hand, not by SQLite: only the message is left.
        message = str(cause)
        return any(message.startswith(known) for known in _SQLITE_TRANSIENT_MESSAGES)
    return False


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config built in code, pointing at `storage/migrations`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the database behind `engine` to the newest revision; a no-op when it is current.

    Safe to run from several processes at once: the first upgrades, the others wait for it
    (on PostgreSQL however long it takes, on SQLite up to the busy timeout) and then find
    nothing to do.

    The connection is handed to env.py through `config.attributes`, so this works for any
    engine, including a SQLite database in memory.

    A database already at the newest revision is told by one query, without Alembic (whose
    import alone costs a large part of a start-up).
    """
    if _at_head(engine):
        return
    config = alembic_config()
    if not is_sqlite(engine):
        with engine.connect() as connection:
            _upgrade(config, connection)
        return
    with writer_lock(engine), engine.connect() as connection:
        # Take the write lock at BEGIN: a second process waits (busy timeout) for the first
        # one's migration instead of both reading "empty" and then racing to create tables.
        connection.execution_options(**{BEGIN_MODE: "IMMEDIATE"})
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


# Either quote style: Alembic's template (script.py.mako) writes repr(), i.e. single quotes.
_REVISION = re.compile(r"""^(down_)?revision\b[^=]*=\s*(?:"([^"]*)"|'([^']*)'|None)""",
                       re.MULTILINE)


def head_revision() -> str | None:
    """The newest revision of storage/migrations, read from the files' `revision` and
    `down_revision` lines (None if they do not form one chain: then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = _REVISION.findall(path.read_text(encoding="utf-8"))
        if not any(not down and (double or single) for down, double, single in found):
            return None  # a revision this reader cannot see: let Alembic look
        for down, double, single in found:
            if double or single:
                (parents if down else revisions).add(double or single)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_head(engine: Engine) -> bool:
    head = head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            current = connection.execute(
                text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:
        return False  # no such table yet: a new database
    return current == [head]


def _upgrade(config: Config, connection: Connection) -> None:
    from alembic import command

    with connection.begin():
        if is_postgresql(connection.engine):
            # A migration may take longer than any event should, and a second process must
            # wait for the first one's migration however long it lasts: no statement or idle
            # timeout here, and none while waiting for the advisory lock. Then lock_timeout
            # comes back, so a DDL statement queued behind a busy table gives up rather than
            # blocking every reader queued behind it.
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            connection.exec_driver_sql("SET LOCAL idle_in_transaction_session_timeout = 0")
            connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:class_id, :object_id)"),
                {"class_id": MIGRATION_LOCK_KEY[0], "object_id": MIGRATION_LOCK_KEY[1]},
            )
            connection.exec_driver_sql("SET LOCAL lock_timeout TO DEFAULT")  # the connect-time one
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _milliseconds(seconds: float) -> int:
    # A positive timeout below 1 ms must not round to 0, which PostgreSQL reads as "off".
    return max(1, round(seconds * 1000)) if seconds > 0 else 0


def _as_list(value: str | tuple[str, ...] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


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


def _private_database_files(path: Path) -> None:
    """Make the database readable by the service user only: a missing folder is created 0700,
    a missing database file is created (empty) 0600, so SQLite gives its -wal and -shm files
    the same mode; an existing database file or companion that is more open is narrowed.

    An existing folder is left as it is: it may be shared (/tmp, a home folder), and the files
    in it are what holds the data."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    except OSError:
        return  # not ours to create: SQLite will say why when it connects
    for file in (path, *(path.with_name(path.name + suffix) for suffix in _SQLITE_COMPANIONS)):
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & 0o077:
                os.chmod(file, mode & 0o700)
        except FileNotFoundError:
            continue
        except OSError as error:  # another user's file: say so, the service can still use it
            log.warning("cannot make %s private to the service user (%s)", file.name,
                        type(error).__name__)


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    # Switching a new file to WAL takes an exclusive lock, and when two connections try at once
    # SQLite fails one with "database is locked" without calling the busy handler (to avoid a
    # deadlock), so wait here instead. Once a file is in WAL mode (it stays so) this is free.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF != _SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _sqlite_engine(url: URL, pool_size: int) -> Engine:
    path = _sqlite_file(url)
    pool: dict[str, Any] = {}
    if path is not None:
        _private_database_files(path)
        # A file gets a QueuePool; in memory keeps SQLAlchemy's per-thread pool, whose
        # pool_size means something else and which has no overflow.
        pool = {"pool_size": pool_size, "max_overflow": pool_size, "pool_timeout": POOL_TIMEOUT}
    engine = create_engine(url, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the sqlite3 module from issuing BEGIN itself (it would skip it before SELECTs
        # and DDL); the "begin" hook below issues it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in _SQLITE_PRAGMAS:
                cursor.execute(pragma)
            _switch_to_wal(cursor)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(BEGIN_MODE, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE"):
            raise ValueError(f"unknown SQLite BEGIN mode: {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
