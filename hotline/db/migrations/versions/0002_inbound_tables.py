"""Inbound: customers, bills, callback requests, blocklist.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Types are written out (not imported from hotline.db.models_inbound) so this revision keeps
describing the schema it created when the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("status IN ('pending', 'dialling')")


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("account", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_customers")),
    )
    op.create_index(op.f("ix_customers_phone"), "customers", ["phone"])

    op.create_table(
        "bills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=20), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("amount_due", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account"],
            ["customers.account"],
            name=op.f("fk_bills_account_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bills")),
        sa.UniqueConstraint("account", "period", name=op.f("uq_bills_account_period")),
    )
    op.create_index(op.f("ix_bills_account"), "bills", ["account"])

    op.create_table(
        "callback_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("linkedid", sa.String(length=150), nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("merge_count", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_requests")),
    )
    op.create_index(op.f("ix_callback_requests_status"), "callback_requests", ["status"])
    op.create_index(
        "uq_callback_requests_open_number",
        "callback_requests",
        ["number"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )

    op.create_table(
        "blocklist",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_blocklist")),
    )


def downgrade() -> None:
    op.drop_table("blocklist")
    op.drop_index("uq_callback_requests_open_number", table_name="callback_requests")
    op.drop_table("callback_requests")
    op.drop_table("bills")
    op.drop_table("customers")
