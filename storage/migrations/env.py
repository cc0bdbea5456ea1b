"""Alembic environment for the intake bot's schema.

Used two ways:
- programmatically by `storage.database.migrate(engine)`, which passes an open connection
  (inside a transaction) in `config.attributes["connection"]`;
- from the command line with `alembic -c storage/alembic.ini ...`, which connects to
  `DATABASE_URL` (or the ini's `sqlalchemy.url`) through `storage.database.make_engine`.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from storage.database import make_engine
from storage.tables import metadata

config = context.config
target_metadata = metadata


def _url() -> str:
    url = os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set DATABASE_URL (or sqlalchemy.url) to run migrations")
    return url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
