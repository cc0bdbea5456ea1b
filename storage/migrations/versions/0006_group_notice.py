"""group_notice: when a group was last pointed to the private chat (once an hour at most).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_notice",
        sa.Column("chat_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_hash"),
    )
    op.create_index("ix_group_notice_at", "group_notice", ["at"])


def downgrade() -> None:
    op.drop_index("ix_group_notice_at", table_name="group_notice")
    op.drop_table("group_notice")
