"""Hold and resume: the hold_segments table and the hold totals on call records.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

Types are written out (not imported from hotline.db.models_hold) so this revision keeps
describing the schema it created when the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "call_records",
        sa.Column("hold_count", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "call_records",
        sa.Column("hold_seconds", sa.Float(), nullable=False, server_default="0"),
    )
    op.create_table(
        "hold_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=150), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["call_records.id"],
            name=op.f("fk_hold_segments_call_id_call_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hold_segments")),
        sa.UniqueConstraint("linkedid", "number", name=op.f("uq_hold_segments_linkedid_number")),
    )
    op.create_index(op.f("ix_hold_segments_call_id"), "hold_segments", ["call_id"])
    op.create_index(op.f("ix_hold_segments_started_at"), "hold_segments", ["started_at"])
    op.create_index(op.f("ix_hold_segments_agent"), "hold_segments", ["agent"])


def downgrade() -> None:
    op.drop_table("hold_segments")
    op.drop_column("call_records", "hold_seconds")
    op.drop_column("call_records", "hold_count")
