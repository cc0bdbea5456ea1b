"""applied_event: apply a re-delivered Telegram update only once, whatever the order.

Replaces the per-candidate high-water mark of 0002 (candidate.last_event_id/_at), which
dropped updates arriving out of order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "applied_event",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "event_id"),
    )
    op.create_index("ix_applied_event_at", "applied_event", ["at"])
    # An early build of 0002 added only last_event_id: drop what is there.
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("candidate")}
    with op.batch_alter_table("candidate") as batch:
        for column in ("last_event_at", "last_event_id"):
            if column in present:
                batch.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("candidate") as batch:
        batch.add_column(sa.Column("last_event_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("ix_applied_event_at", table_name="applied_event")
    op.drop_table("applied_event")
