"""storage/database.py under load: concurrent migrations, timeouts, the writer lock, error triage."""

from __future__ import annotations

import select
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import psycopg
import psycopg.errors
import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, text
from sqlalchemy import select as sql_select
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool

from flows.ports import ConcurrentUpdate
from storage.database import (
    MIGRATION_LOCK_KEY,
    alembic_config,
    is_transient,
    make_engine,
    migrate,
    writer_lock,
)
from storage.tables import candidate_table, dossier_table
from tests.db_fixtures import TemporaryPostgres, sqlite_url

ROOT = Path(__file__).resolve().parents[1]
TABLES = {"candidate", "dossier", "document", "outbox", "audit", "applied_event"}
ROUNDS = 6  # the issue: the second of two starting processes crashed in 4 of 6 tries
PROCESS_TIMEOUT = 30.0


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    """Engines a test makes, disposed at the end (so the next fresh_url can drop the schema)."""
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


def _assert_at_head(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
        assert current == set(ScriptDirectory.from_config(alembic_config()).get_heads())
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- concurrent start-up


class Racer:
    """A `tests/migrate_process.py` process: imported once, then migrates each URL it is sent."""

    def __init__(self) -> None:
        # Unbuffered bytes: readline then never reads past the line, so select() stays exact.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.migrate_process"],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
        )

    def send(self, url: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(url.encode() + b"\n")

    def read_line(self) -> str:
        stdout = self.process.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], PROCESS_TIMEOUT)
        assert ready, f"migrate process {self.process.pid} silent for {PROCESS_TIMEOUT} s"
        return stdout.readline().decode().strip()

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            assert self.process.wait(timeout=PROCESS_TIMEOUT) == 0
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def racers() -> Iterator[tuple[Racer, Racer]]:
    pair = (Racer(), Racer())
    try:
        for racer in pair:
            assert racer.read_line() == "ready"
        yield pair
    finally:
        for racer in pair:
            racer.stop()


def _race(racers: tuple[Racer, Racer], url: str) -> list[str]:
    """Both processes, each blocked on its stdin, are released within microseconds."""
    for racer in racers:
        racer.send(url)
    return [racer.read_line() for racer in racers]


@pytest.mark.xdist_group("migration-racers")  # under pytest-xdist: one worker, one pair
def test_two_processes_migrate_an_empty_postgresql_database_at_once(
    racers: tuple[Racer, Racer], postgres: TemporaryPostgres
):
    if postgres.error is not None:
        pytest.skip(postgres.skip_reason)
    for _ in range(ROUNDS):
        url = postgres.fresh_url()
        assert _race(racers, url) == ["ok", "ok"]
        _assert_at_head(url)


@pytest.mark.xdist_group("migration-racers")
def test_two_processes_migrate_an_empty_sqlite_file_at_once(racers: tuple[Racer, Racer], tmp_path: Path):
    for round_number in range(ROUNDS):
        url = sqlite_url(tmp_path / str(round_number))
        assert _race(racers, url) == ["ok", "ok"]
        _assert_at_head(url)


def test_migration_waits_for_another_beyond_lock_and_statement_timeouts(pg_url: str, engines: list[Engine]):
    # Another process's long migration: holding its advisory lock for longer than both timeouts.
    holder = make_engine(pg_url)
    bounded = make_engine(pg_url, lock_timeout=0.2, statement_timeout=0.2)
    engines += [holder, bounded]
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate(bounded)
        except BaseException as error:
            errors.append(error)

    with holder.connect() as connection, connection.begin():
        connection.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"),
                           {"a": MIGRATION_LOCK_KEY[0], "b": MIGRATION_LOCK_KEY[1]})
        migrating = threading.Thread(target=run)
        migrating.start()
        time.sleep(0.8)
        assert migrating.is_alive() and errors == []  # waiting, not failed
    migrating.join(PROCESS_TIMEOUT)
    assert not migrating.is_alive()
    assert errors == []
    _assert_at_head(pg_url)


# --------------------------------------------------------------------------- PostgreSQL timeouts


def test_postgresql_connections_carry_the_timeouts(pg_url: str, engines: list[Engine]):
    default = make_engine(pg_url)
    custom = make_engine(pg_url, lock_timeout=0.25, statement_timeout=2)
    from_url = make_engine(pg_url + "?options=-c%20lock_timeout%3D1234", lock_timeout=9)
    engines += [default, custom, from_url]

    def settings(engine: Engine) -> tuple[str, str, str]:
        with engine.connect() as connection:
            return tuple(
                connection.exec_driver_sql(f"SHOW {name}").scalar_one()
                for name in ("lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout")
            )

    assert settings(default) == ("5s", "30s", "1min")
    assert settings(custom) == ("250ms", "2s", "1min")
    assert settings(from_url)[0] == "1234ms"  # an explicit option in the URL wins


def test_lock_timeout_fails_only_the_statement_that_waits(pg_url: str, engines: list[Engine]):
    holder = make_engine(pg_url)
    bounded = make_engine(pg_url, lock_timeout=0.5)
    engines += [holder, bounded]
    migrate(holder)
    with holder.connect() as connection, connection.begin():
        connection.execute(text("LOCK TABLE dossier IN ACCESS EXCLUSIVE MODE"))
        started = time.monotonic()
        with pytest.raises(OperationalError) as caught, bounded.connect() as blocked:
            blocked.execute(sql_select(func.count()).select_from(dossier_table))
        assert time.monotonic() - started < 2
        assert isinstance(caught.value.orig, psycopg.errors.LockNotAvailable)
        assert is_transient(caught.value)
        # Every other table is still there for everyone else.
        with bounded.connect() as free:
            assert free.execute(sql_select(func.count()).select_from(candidate_table)).scalar() == 0


def test_statement_timeout_cancels_a_slow_statement(pg_url: str, engines: list[Engine]):
    bounded = make_engine(pg_url, statement_timeout=0.5)
    engines.append(bounded)
    started = time.monotonic()
    with pytest.raises(OperationalError) as caught, bounded.connect() as connection:
        connection.execute(text("SELECT pg_sleep(3)"))
    assert time.monotonic() - started < 2
    assert isinstance(caught.value.orig, psycopg.errors.QueryCanceled)
    assert is_transient(caught.value)


# --------------------------------------------------------------------------- pools and SQLite


def test_pool_sizes(tmp_path: Path):
    for url in ("postgresql://u@db.example/x", sqlite_url(tmp_path)):
        for size in (10, 3):
            engine = make_engine(url) if size == 10 else make_engine(url, pool_size=size)
            try:
                pool = engine.pool
                assert isinstance(pool, QueuePool)
                assert (pool.size(), pool._max_overflow, pool._timeout) == (size, size, 30)
            finally:
                engine.dispose()


def test_sqlite_busy_timeout_is_30_seconds(tmp_path: Path):
    engine = make_engine(sqlite_url(tmp_path))
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        engine.dispose()


def test_writer_lock_is_one_rlock_per_sqlite_engine(tmp_path: Path):
    first, second = make_engine(sqlite_url(tmp_path / "a")), make_engine(sqlite_url(tmp_path / "b"))
    try:
        lock = writer_lock(first)
        assert isinstance(lock, type(threading.RLock()))
        assert writer_lock(first) is lock
        assert writer_lock(first.execution_options(isolation_level="SERIALIZABLE")) is lock
        assert writer_lock(second) is not lock
        with lock, writer_lock(first):  # re-entrant: a writer may call another writer
            pass
    finally:
        first.dispose()
        second.dispose()


def test_writer_lock_is_a_no_op_on_postgresql():
    engine = make_engine("postgresql://u@db.example/x")
    try:
        lock = writer_lock(engine)
        assert isinstance(lock, nullcontext)
        with lock, writer_lock(engine):
            pass
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- is_transient


def _wrapped(error: Exception, kind: type[DBAPIError] = OperationalError, **options: bool) -> DBAPIError:
    return kind("SELECT 1", None, error, **options)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_wrapped(psycopg.errors.LockNotAvailable("lock timeout")), True),
        (_wrapped(psycopg.errors.QueryCanceled("statement timeout")), True),
        (_wrapped(psycopg.errors.DeadlockDetected("deadlock detected")), True),
        (_wrapped(psycopg.errors.SerializationFailure("could not serialize")), True),
        (_wrapped(psycopg.errors.AdminShutdown("terminating connection")), True),
        (_wrapped(psycopg.errors.CrashShutdown("crash")), True),
        (_wrapped(psycopg.errors.CannotConnectNow("starting up")), True),
        (_wrapped(psycopg.errors.ConnectionFailure("connection failure")), True),
        (_wrapped(psycopg.errors.IdleInTransactionSessionTimeout("idle")), True),
        (_wrapped(psycopg.errors.TooManyConnections("too many")), True),
        (_wrapped(psycopg.OperationalError("server closed the connection unexpectedly")), True),
        (_wrapped(psycopg.InterfaceError("the connection is closed"), DBAPIError,
                  connection_invalidated=True), True),
        (psycopg.errors.DeadlockDetected("raw, not wrapped"), True),
        (_wrapped(sqlite3.OperationalError("database is locked")), True),
        (_wrapped(sqlite3.OperationalError("database table is locked: dossier")), True),
        (_wrapped(sqlite3.OperationalError("disk I/O error")), True),
        (ConcurrentUpdate("dossier 7"), True),
        (PoolTimeout("QueuePool limit of size 10 overflow 10 reached"), True),
        (_wrapped(psycopg.errors.UniqueViolation("duplicate key"), IntegrityError), False),
        (_wrapped(psycopg.errors.UndefinedTable("no such table"), ProgrammingError), False),
        (_wrapped(psycopg.errors.DiskFull("no space left"), OperationalError), False),
        (_wrapped(psycopg.InterfaceError("the connection is closed"), DBAPIError), False),
        (_wrapped(sqlite3.OperationalError("no such table: dossier")), False),
        (_wrapped(sqlite3.IntegrityError("UNIQUE constraint failed"), IntegrityError), False),
        (ValueError("bad answer"), False),
        (KeyError("question"), False),
        (RuntimeError("bug"), False),
    ],
    ids=lambda value: type(getattr(value, "orig", None) or value).__name__ if not isinstance(value, bool)
    else str(value),
)
def test_is_transient_classifies(error: BaseException, transient: bool):
    assert is_transient(error) is transient


def test_is_transient_on_real_sqlite_errors(tmp_path: Path):
    database = tmp_path / "real.db"
    owner = sqlite3.connect(database, isolation_level=None)
    other = sqlite3.connect(database, isolation_level=None, timeout=0)
    try:
        owner.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        owner.execute("INSERT INTO t VALUES (1), (2)")
        owner.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as busy:
            other.execute("BEGIN IMMEDIATE")
        assert is_transient(busy.value) and is_transient(_wrapped(busy.value))
        owner.execute("ROLLBACK")
        pending = owner.execute("SELECT id FROM t")  # an unfinished read keeps the table in use
        pending.fetchone()
        with pytest.raises(sqlite3.OperationalError, match="table is locked") as locked:
            owner.execute("DROP TABLE t")
        assert is_transient(locked.value)
        pending.close()
        with pytest.raises(sqlite3.IntegrityError) as duplicate:
            owner.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(sqlite3.OperationalError) as missing:
            owner.execute("SELECT * FROM nowhere")
        assert not is_transient(duplicate.value) and not is_transient(missing.value)
    finally:
        owner.close()
        other.close()


def test_is_transient_on_a_refused_connection():
    engine = make_engine("postgresql://postgres@127.0.0.1:1/none")  # nothing listens on port 1
    try:
        with pytest.raises(OperationalError) as refused, engine.connect():
            pass
        assert is_transient(refused.value)
    finally:
        engine.dispose()


def test_is_transient_on_real_postgresql_programming_errors(pg_url: str, engines: list[Engine]):
    engine = make_engine(pg_url)
    engines.append(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TEMPORARY TABLE t (id integer PRIMARY KEY)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        with pytest.raises(IntegrityError) as duplicate:
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        connection.rollback()
        with pytest.raises(ProgrammingError) as missing:
            connection.exec_driver_sql("SELECT * FROM nowhere")
    assert not is_transient(duplicate.value)
    assert not is_transient(missing.value)
