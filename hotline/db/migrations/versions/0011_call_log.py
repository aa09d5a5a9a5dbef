"""Asterisk's call log as the records' second source: where the service is in the log,
the records' ``source`` and ``fallback`` flag.

``fallback`` was an outcome (``disposition = 'fallback'``) until now; it becomes a flag
beside the outcome. Old fallback rows get the flag; their outcome stays what it was.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "call_records",
        sa.Column("fallback", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )
    op.add_column(
        "call_records",
        sa.Column("source", sa.String(length=16), nullable=False, server_default="ami"),
    )
    op.execute("UPDATE call_records SET fallback = true WHERE disposition = 'fallback'")
    op.create_table(
        "call_log_positions",
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("file_id", sa.String(length=64), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_call_log_positions")),
    )


def downgrade() -> None:
    op.drop_table("call_log_positions")
    op.drop_column("call_records", "source")
    op.drop_column("call_records", "fallback")
