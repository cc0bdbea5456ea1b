"""Privacy: a key per person (crypto-shredding), recruiter-chat message ids, data reduction.

- subject_key: each person's data key, wrapped by the master key from the environment;
- candidate.subject, outbox.subject, inbox.subject: whose key seals the row's personal fields;
- document.file_deleted_at: the file was deleted once it had served (the facts stay);
- recruiter_message: what the bot posted in the recruiters' chat per dossier, to take back.

Rows written before this revision stay readable (plain values are read as they are) and are
sealed on their next write.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subject_key",
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("master", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject"),
    )
    op.create_table(
        "recruiter_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recruiter_message_dossier_id", "recruiter_message", ["dossier_id"])
    with op.batch_alter_table("candidate") as batch:
        batch.add_column(sa.Column("subject", sa.String(length=40), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("subject", sa.String(length=40), nullable=True))
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("subject", sa.String(length=40), nullable=True))
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("file_deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.drop_column("file_deleted_at")
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("subject")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("subject")
    with op.batch_alter_table("candidate") as batch:
        batch.drop_column("subject")
    op.drop_index("ix_recruiter_message_dossier_id", table_name="recruiter_message")
    op.drop_table("recruiter_message")
    op.drop_table("subject_key")
