"""Inbound fields on call records: menu path, queue, agent, score, reason.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Types are written out (not imported from hotline.db.models) so this revision keeps
describing the schema it created when the models move on. Text columns are NOT NULL with
an empty-string server default, so rows written before this revision get a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "call_records"
_INDEXED = ("queue", "agent")


def _columns() -> list[sa.Column[Any]]:
    def text(name: str, length: int | None = None) -> sa.Column[Any]:
        kind = sa.Text() if length is None else sa.String(length=length)
        return sa.Column(name, kind, nullable=False, server_default="")

    return [
        text("menu_path", 128),
        text("category", 64),
        text("queue", 32),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("rings_before_answer", sa.Integer(), nullable=True),
        text("agent", 64),
        sa.Column("talk_seconds", sa.Float(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("score_status", sa.String(length=16), nullable=True),
        text("reason", 128),
        text("description"),
    ]


def upgrade() -> None:
    for column in _columns():
        op.add_column(_TABLE, column)
    for name in _INDEXED:
        op.create_index(op.f(f"ix_{_TABLE}_{name}"), _TABLE, [name])


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35): a batch table rebuild would cascade-delete the
    # timeline rows that reference call_records.
    for name in _INDEXED:
        op.drop_index(op.f(f"ix_{_TABLE}_{name}"), table_name=_TABLE)
    for column in reversed(_columns()):
        op.drop_column(_TABLE, column.name)
