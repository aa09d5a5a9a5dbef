"""AMD policy per campaign: a silent answer taken for a person (survey, apology, callbacks).

Existing campaigns keep what they did (false); new survey, apology and promised-callback
campaigns default to true (``dialer.campaigns.TYPE_DEFAULTS``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "dialer_campaigns",
        sa.Column("amd_silence_is_human", sa.Boolean(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("dialer_campaigns", "amd_silence_is_human")
