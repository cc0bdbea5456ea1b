"""Fixtures shared by the suites: a real database of each kind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from storage.database import make_engine, migrate
from tests.db_fixtures import TemporaryPostgres, migrated_sqlite, sqlite_url

# Every store seals personal data with a key wrapped by MASTER_KEY; tests (and the processes
# they start, which inherit the environment) use a fixed one, never a real one.
os.environ.setdefault("MASTER_KEY", "dGVzdHMtb25seS1tYXN0ZXIta2V5LTMyLWJ5dGVzISE=")


@pytest.fixture(scope="session")
def postgres() -> Iterator[TemporaryPostgres]:
    database = TemporaryPostgres.create()
    yield database
    database.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, postgres: TemporaryPostgres) -> str:
    """The same test on SQLite and on the real PostgreSQL (skipped, saying why, if unreachable)."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    if postgres.error is not None:
        pytest.skip(postgres.skip_reason)
    return postgres.fresh_url()


@pytest.fixture
def migrated_database_url(database_url: str, postgres: TemporaryPostgres) -> str:
    """`database_url` (the same URL, the same parameters), already at the newest schema
    revision with no rows: a copy of a database migrated once per session, on which
    `migrate()` is a no-op. For tests that would migrate an empty database first thing."""
    if database_url.startswith("sqlite:///"):
        migrated_sqlite(Path(database_url.removeprefix("sqlite:///")))
        return database_url
    assert database_url == postgres.url
    return postgres.migrated_url()


@pytest.fixture
def engine(migrated_database_url: str) -> Iterator[Engine]:
    """A migrated database of each kind (a suite may define its own `engine` instead)."""
    engine = make_engine(migrated_database_url)
    migrate(engine)  # finds the copied schema current
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres: TemporaryPostgres) -> str:
    """A fresh database on the real PostgreSQL (skipped, saying why, if unreachable)."""
    if postgres.error is not None:
        pytest.skip(postgres.skip_reason)
    return postgres.fresh_url()


# The longest tests (real processes, load runs) go first when pytest-xdist spreads the suite over
# workers, so none of them starts last and leaves the other workers idle at the end. A plain
# serial run keeps the file order.
LONGEST_FIRST = (
    "tests/test_multiprocess.py::",
    "tests/test_durability.py::test_80_candidates_apply_at_once_on_sqlite",
    "tests/test_durability_e2e.py::",
    "tests/test_end_to_end.py::",
    "tests/test_restart_safety.py::test_restart_after_any_step_gives_the_same_dossier",
    "tests/test_erasure_end_to_end.py::",
    "tests/test_terminal_chat.py::",
    "tests/test_cli_export_purge.py::",
    "tests/test_funnel.py::",
    "tests/test_engine_fuzz.py::test_random",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # not a pytest-xdist worker
        return

    def rank(item: pytest.Item) -> int:
        for index, prefix in enumerate(LONGEST_FIRST):
            if item.nodeid.startswith(prefix):
                return index
        return len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the file order within each rank
