"""SQLite: ids of candidates, dossiers, documents, questions and answers are never reused.

Without AUTOINCREMENT SQLite gives a deleted row's id to the next row, so after an erasure an
old button (`c:withdraw:<dossier>.<version>`) or an audit entry could name someone else's new
dossier. The tables are rebuilt with AUTOINCREMENT (batch mode; migrations run with foreign
keys off and checked after). PostgreSQL's sequences never reuse ids: nothing to do there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("candidate", "dossier", "document", "candidate_question", "question_answer")


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always",
                                  table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
