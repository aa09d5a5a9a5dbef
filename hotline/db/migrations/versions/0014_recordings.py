"""Call recordings: the record names its file, a row per recording says what became of
it, playbacks are audited, and a campaign may switch recording off.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
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
    op.add_column(
        "call_records",
        sa.Column("recording_file", sa.String(length=200), nullable=False, server_default=""),
    )
    op.add_column(
        "dialer_campaigns",
        sa.Column("record", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    )
    op.create_table(
        "call_recordings",
        sa.Column("linkedid", sa.String(length=150), nullable=False),
        sa.Column("file", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("seconds", sa.Float(), nullable=False, server_default="0"),
        sa.Column("reason", sa.String(length=16), nullable=False, server_default=""),
        sa.Column("error", sa.String(length=255), nullable=False, server_default=""),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("linkedid", name=op.f("pk_call_recordings")),
    )
    op.create_index(
        "ix_call_recordings_status_recorded", "call_recordings", ["status", "recorded_at"]
    )
    op.create_table(
        "recording_playbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=150), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("who", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("byte_range", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_playbacks")),
    )
    op.create_index("ix_recording_playbacks_linkedid_at", "recording_playbacks", ["linkedid", "at"])


def downgrade() -> None:
    op.drop_index("ix_recording_playbacks_linkedid_at", table_name="recording_playbacks")
    op.drop_table("recording_playbacks")
    op.drop_index("ix_call_recordings_status_recorded", table_name="call_recordings")
    op.drop_table("call_recordings")
    op.drop_column("dialer_campaigns", "record")
    op.drop_column("call_records", "recording_file")
