"""Indexes for the calls list and the restart over a million records (bench/api_load.py):
the number filter's ``called`` side, an agent's calls by time, the columns the inbound
reports count (read from the index alone), and the calls without an end (a partial
index: a handful of rows however large the table).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNFINISHED = sa.text("ended_at IS NULL")
# the columns the inbound reports read (as of this revision; not imported from the models)
_REPORT_COLUMNS = (
    "started_at",
    "direction",
    "disposition",
    "queue",
    "agent",
    "wait_seconds",
    "score",
    "category",
)


def upgrade() -> None:
    op.create_index("ix_call_records_called", "call_records", ["called"])
    op.create_index("ix_call_records_agent_started", "call_records", ["agent", "started_at"])
    op.create_index("ix_call_records_report", "call_records", list(_REPORT_COLUMNS))
    op.create_index(
        "ix_call_records_unfinished",
        "call_records",
        ["started_at"],
        postgresql_where=_UNFINISHED,
        sqlite_where=_UNFINISHED,
    )


def downgrade() -> None:
    op.drop_index("ix_call_records_unfinished", table_name="call_records")
    op.drop_index("ix_call_records_report", table_name="call_records")
    op.drop_index("ix_call_records_agent_started", table_name="call_records")
    op.drop_index("ix_call_records_called", table_name="call_records")
