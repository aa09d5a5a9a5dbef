"""Quality reviews (质检): the calls sampled for review and their scores.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "qa_reviews",
        sa.Column("linkedid", sa.String(length=150), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("call_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scores", _JSON, nullable=False),
        sa.Column("form", _JSON, nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("linkedid", name=op.f("pk_qa_reviews")),
    )
    op.create_index("ix_qa_reviews_agent_day", "qa_reviews", ["agent", "day"])
    op.create_index("ix_qa_reviews_status_day", "qa_reviews", ["status", "day"])


def downgrade() -> None:
    op.drop_index("ix_qa_reviews_status_day", table_name="qa_reviews")
    op.drop_index("ix_qa_reviews_agent_day", table_name="qa_reviews")
    op.drop_table("qa_reviews")
