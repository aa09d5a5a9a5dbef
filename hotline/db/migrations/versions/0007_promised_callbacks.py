"""Promised callbacks: who promised a callback, by when, its dialer contact and outcome;
the contacts' round base (a contact called again for a new request gets its retries).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

Types are written out (not imported from hotline.db.models_inbound) so this revision keeps
describing the schema it created when the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = (
    ("source", 16, "ivr"),
    ("promised_by", 64, ""),
    ("agent", 64, ""),
    ("note", 255, ""),
    ("outcome", 16, ""),
)
_TIMES = ("due_by", "closed_at", "alerted_at")


def upgrade() -> None:
    # plain ADD COLUMN (no batch copy on SQLite: it keeps the partial unique index as it is)
    for name, length, default in _TEXT:
        op.add_column(
            "callback_requests",
            sa.Column(name, sa.String(length=length), nullable=False, server_default=default),
        )
    for name in _TIMES:
        op.add_column("callback_requests", sa.Column(name, sa.DateTime(timezone=True)))
    op.add_column("callback_requests", sa.Column("contact_id", sa.Integer()))
    op.add_column(
        "dialer_contacts",
        sa.Column("round_base", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index(op.f("ix_callback_requests_due_by"), "callback_requests", ["due_by"])


def downgrade() -> None:
    with op.batch_alter_table("dialer_contacts") as batch:
        batch.drop_column("round_base")
    op.drop_index(op.f("ix_callback_requests_due_by"), "callback_requests")
    with op.batch_alter_table("callback_requests") as batch:
        for name in ("contact_id", *_TIMES, *(t[0] for t in _TEXT)):
            batch.drop_column(name)
