"""Callback survey: work orders, samples and their picks, responses and item scores.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

Types are written out (not imported from hotline.db.models_survey) so this revision keeps
describing the schema it created when the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _now(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "survey_orders",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("technician", sa.String(length=64), nullable=False),
        _time("completed_at"),
        _now("imported_at"),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_survey_orders")),
    )
    op.create_index(op.f("ix_survey_orders_number"), "survey_orders", ["number"])
    op.create_index(op.f("ix_survey_orders_technician"), "survey_orders", ["technician"])
    op.create_table(
        "survey_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("rules", _json(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("picked", sa.Integer(), nullable=False),
        _now("created_at"),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["dialer_campaigns.id"],
            name=op.f("fk_survey_samples_campaign_id_dialer_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_samples")),
    )
    op.create_index(op.f("ix_survey_samples_campaign_id"), "survey_samples", ["campaign_id"])
    op.create_table(
        "survey_picks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["survey_samples.id"],
            name=op.f("fk_survey_picks_sample_id_survey_samples"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["survey_orders.order_id"],
            name=op.f("fk_survey_picks_order_id_survey_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["dialer_contacts.id"],
            name=op.f("fk_survey_picks_contact_id_dialer_contacts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_picks")),
        sa.UniqueConstraint(
            "sample_id", "order_id", name=op.f("uq_survey_picks_sample_id_order_id")
        ),
    )
    op.create_index(op.f("ix_survey_picks_sample_id"), "survey_picks", ["sample_id"])
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_code", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("technician", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("comment_file", sa.String(length=255), nullable=False),
        _time("started_at"),
        _time("ended_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("attempt_code", name=op.f("uq_survey_responses_attempt_code")),
    )
    op.create_index(op.f("ix_survey_responses_campaign_id"), "survey_responses", ["campaign_id"])
    op.create_index(op.f("ix_survey_responses_order_id"), "survey_responses", ["order_id"])
    op.create_index(op.f("ix_survey_responses_started_at"), "survey_responses", ["started_at"])
    op.create_table(
        "survey_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_code", sa.String(length=64), nullable=False),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("technician", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        _time("scored_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_scores")),
        sa.UniqueConstraint(
            "attempt_code", "item", name=op.f("uq_survey_scores_attempt_code_item")
        ),
    )
    op.create_index(op.f("ix_survey_scores_order_id"), "survey_scores", ["order_id"])
    op.create_index(op.f("ix_survey_scores_technician"), "survey_scores", ["technician"])
    op.create_index(op.f("ix_survey_scores_scored_at"), "survey_scores", ["scored_at"])


def downgrade() -> None:
    for table in (
        "survey_scores",
        "survey_responses",
        "survey_picks",
        "survey_samples",
        "survey_orders",
    ):
        op.drop_table(table)
