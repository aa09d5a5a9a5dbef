"""Apology calls: complaint tickets and the SMS outbox; agent-first campaigns.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

Types are written out (not imported from hotline.db.models_apology) so this revision keeps
describing the schema it created when the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column(
        "dialer_campaigns",
        sa.Column("agent_first", sa.Boolean(), nullable=False, server_default="0"),
    )
    op.create_table(
        "apology_tickets",
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("acceptance_no", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("contact_date", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        _time("verified_at"),
        _time("deadline"),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_outcome", sa.String(length=16), nullable=False),
        sa.Column("reschedules", sa.Integer(), nullable=False),
        _time("closed_at", nullable=True),
        sa.Column(
            "imported_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["dialer_campaigns.id"],
            name=op.f("fk_apology_tickets_campaign_id_dialer_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_apology_tickets")),
    )
    for column in ("number", "agent", "verified_at", "campaign_id", "status"):
        op.create_index(op.f(f"ix_apology_tickets_{column}"), "apology_tickets", [column])
    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_at"),
        sa.Column("last_error", sa.String(length=255), nullable=False),
        _time("created_at"),
        _time("sent_at", nullable=True),
        sa.Column("gateway_ref", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_outbox")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_sms_outbox_ticket_id")),
    )
    op.create_index(op.f("ix_sms_outbox_status"), "sms_outbox", ["status"])
    op.create_index(op.f("ix_sms_outbox_next_at"), "sms_outbox", ["next_at"])


def downgrade() -> None:
    with op.batch_alter_table("dialer_campaigns") as batch:
        batch.drop_column("agent_first")
    op.drop_table("sms_outbox")
    op.drop_table("apology_tickets")
