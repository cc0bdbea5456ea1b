"""document.stored_path indexed: the orphaned-file sweep asks, a batch of files at a time,
which of them a row owns, instead of loading every path.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain CREATE INDEX: no table rebuild, so no batch mode on SQLite.
    op.create_index("ix_document_stored_path", "document", ["stored_path"])


def downgrade() -> None:
    op.drop_index("ix_document_stored_path", table_name="document")
