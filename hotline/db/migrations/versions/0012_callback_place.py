"""A queue callback keeps the caller's place: when they first joined the queue.

The dialer dials a queue callback only once nobody who was ahead of that moment still
waits (``dialer.promised.gate``); ``NULL`` (old rows, API promises) falls back to the due
time or the request time.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "callback_requests", sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("callback_requests", "queued_at")
