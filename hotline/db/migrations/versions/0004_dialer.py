"""Dialer: campaigns, contacts, attempts, DNC.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Types are written out (not imported from hotline.db.models) so this revision keeps
describing the schema it created when the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _now(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "dialer_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("trunk", sa.String(length=64), nullable=False),
        sa.Column("caller_id", sa.String(length=32), nullable=False),
        sa.Column("max_concurrent", sa.Integer(), nullable=False),
        sa.Column("cps", sa.Float(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("windows", _json(), nullable=False),
        sa.Column("skip_holidays", sa.Boolean(), nullable=False),
        sa.Column("holiday_country", sa.String(length=8), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retry", _json(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("amd", sa.Boolean(), nullable=False),
        sa.Column("agi_route", sa.String(length=64), nullable=False),
        sa.Column("context", sa.String(length=64), nullable=False),
        sa.Column("ring_timeout", sa.Float(), nullable=False),
        sa.Column("timezones", _json(), nullable=False),
        _now("created_at"),
        _now("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialer_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_dialer_campaigns_name")),
    )
    op.create_index(op.f("ix_dialer_campaigns_status"), "dialer_campaigns", ["status"])

    op.create_table(
        "dialer_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_disposition", sa.String(length=32), nullable=True),
        sa.Column("source_line", sa.Integer(), nullable=True),
        _now("updated_at"),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["dialer_campaigns.id"],
            name=op.f("fk_dialer_contacts_campaign_id_dialer_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialer_contacts")),
        sa.UniqueConstraint(
            "campaign_id", "number", name=op.f("uq_dialer_contacts_campaign_id_number")
        ),
    )
    op.create_index(op.f("ix_dialer_contacts_number"), "dialer_contacts", ["number"])
    op.create_index(
        "ix_dialer_contacts_due", "dialer_contacts", ["campaign_id", "state", "next_at", "id"]
    )

    op.create_table(
        "dialer_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("disposition", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.Column("dial_status", sa.String(length=32), nullable=False),
        sa.Column("amd_status", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["dialer_campaigns.id"],
            name=op.f("fk_dialer_attempts_campaign_id_dialer_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["dialer_contacts.id"],
            name=op.f("fk_dialer_attempts_contact_id_dialer_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialer_attempts")),
        sa.UniqueConstraint("code", name=op.f("uq_dialer_attempts_code")),
        sa.UniqueConstraint("contact_id", "seq", name=op.f("uq_dialer_attempts_contact_id_seq")),
    )
    op.create_index(op.f("ix_dialer_attempts_campaign_id"), "dialer_attempts", ["campaign_id"])
    op.create_index("ix_dialer_attempts_active", "dialer_attempts", ["status", "node"])

    op.create_table(
        "dialer_dnc",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        _now("created_at"),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_dialer_dnc")),
    )


def downgrade() -> None:
    op.drop_table("dialer_dnc")
    op.drop_table("dialer_attempts")
    op.drop_table("dialer_contacts")
    op.drop_table("dialer_campaigns")
