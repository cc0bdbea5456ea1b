"""candidate_question and question_answer: questions candidates put to the recruiters, and the
answers relayed back; dossier.awaiting_question for /vraag without a text.

Both tables hang off the dossier with ON DELETE CASCADE, so deleting a dossier (a purge, the
retention) erases its questions and answers with it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.add_column(sa.Column("awaiting_question", sa.Boolean(),
                                   server_default=sa.text("false"), nullable=False))
    op.create_table(
        "candidate_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("step", sa.String(length=128), nullable=False),
        sa.Column("include_answers", sa.Boolean(), server_default=sa.text("false"),
                  nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recruiter_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("recruiter_message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"],
                                name="fk_candidate_question_dossier_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_candidate_question_dossier_id", "candidate_question", ["dossier_id"])
    op.create_index("ix_candidate_question_message", "candidate_question",
                    ["recruiter_chat_id", "recruiter_message_id"])
    op.create_table(
        "question_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("answered_by", sa.String(length=128), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["question_id"], ["candidate_question.id"],
                                name="fk_question_answer_question_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_question_answer_question_id", "question_answer", ["question_id"])


def downgrade() -> None:
    op.drop_index("ix_question_answer_question_id", table_name="question_answer")
    op.drop_table("question_answer")
    op.drop_index("ix_candidate_question_message", table_name="candidate_question")
    op.drop_index("ix_candidate_question_dossier_id", table_name="candidate_question")
    op.drop_table("candidate_question")
    with op.batch_alter_table("dossier") as batch:
        batch.drop_column("awaiting_question")
