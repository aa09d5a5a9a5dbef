"""Call records and their timelines.

Revision ID: 0001
Revises:
Create Date: 2024-11-23

Types are written out (not imported from hotline.db.models) so this revision keeps
describing the schema it created when the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "call_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=150), nullable=False),
        sa.Column("direction", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("caller", sa.String(length=80), nullable=False),
        sa.Column("caller_name", sa.String(length=255), nullable=False),
        sa.Column("called", sa.String(length=80), nullable=False),
        sa.Column("did", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disposition", sa.String(length=32), nullable=False),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.Column("hangup_cause_text", sa.String(length=255), nullable=False),
        sa.Column("sip_call_id", sa.String(length=255), nullable=False),
        sa.Column("flow", sa.String(length=64), nullable=False),
        sa.Column("end_estimated", sa.Boolean(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_records")),
    )
    for column in ("linkedid", "started_at", "caller", "sip_call_id"):
        op.create_index(
            op.f(f"ix_call_records_{column}"), "call_records", [column], unique=column == "linkedid"
        )

    op.create_table(
        "call_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=150), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["call_records.id"],
            name=op.f("fk_call_events_call_id_call_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_events")),
        sa.UniqueConstraint("linkedid", "seq", name=op.f("uq_call_events_linkedid_seq")),
    )
    op.create_index(op.f("ix_call_events_call_id"), "call_events", ["call_id"])


def downgrade() -> None:
    op.drop_table("call_events")
    op.drop_table("call_records")
