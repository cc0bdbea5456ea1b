"""decision: the recruiters' decisions on submitted dossiers (who, when, what the candidate was
told); dossier.decision and dossier.decision_version: the current one, and how many so far.

The table hangs off the dossier with ON DELETE CASCADE: erasing a dossier erases its decisions.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite may rebuild the table: keep its ids never reused (0009).
    with op.batch_alter_table("dossier", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("decision", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("decision_version", sa.Integer(),
                                   server_default=sa.text("0"), nullable=False))
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=128), nullable=True),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"],
                                name="fk_decision_dossier_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_decision_dossier_id", "decision", ["dossier_id"])


def downgrade() -> None:
    op.drop_index("ix_decision_dossier_id", table_name="decision")
    op.drop_table("decision")
    # SQLite may rebuild the table: keep its ids never reused (0009).
    with op.batch_alter_table("dossier", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("decision_version")
        batch.drop_column("decision")
