"""applied_event: apply a re-delivered Telegram update only once, whatever the order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
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


def downgrade() -> None:
    op.drop_index("ix_applied_event_at", table_name="applied_event")
    op.drop_table("applied_event")
