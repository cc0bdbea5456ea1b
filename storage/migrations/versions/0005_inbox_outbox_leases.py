"""inbox, job_lease, and per-chat leased outbox rows: the durable delivery path.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "update_id", "digest", name="uq_inbox_update"),
    )
    op.create_index("ix_inbox_status_key", "inbox", ["status", "key", "id"])
    op.create_index("ix_inbox_received_at", "inbox", ["received_at"])
    op.create_table(
        "job_lease",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("outbox") as batch:
        # Queuing a message must not wait for a lock on the dossier table.
        batch.drop_constraint("fk_outbox_dossier_id", type_="foreignkey")
        batch.add_column(sa.Column("chat_key", sa.String(length=64),
                                   server_default="recruiters", nullable=False))
        batch.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_outbox_chat_key", "outbox", ["chat_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_chat_key", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
        batch.drop_column("chat_key")
        batch.create_foreign_key("fk_outbox_dossier_id", "dossier", ["dossier_id"], ["id"],
                                 ondelete="SET NULL")
    op.drop_table("job_lease")
    op.drop_index("ix_inbox_received_at", table_name="inbox")
    op.drop_index("ix_inbox_status_key", table_name="inbox")
    op.drop_table("inbox")
