"""The database layer: engine, models, repositories and migrations.

Callers use the repositories and see only ``hotline.errors.DatabaseError``; the schema is
changed only through the Alembic migrations that ``upgrade`` runs.
"""

from __future__ import annotations

from hotline.db import (  # noqa: F401  (tables on Base.metadata)
    models_apology,
    models_call_log,
    models_dialer,
    models_hold,
    models_inbound,
    models_quality,
    models_recordings,
    models_supervision,
    models_survey,
    models_tokens,
)
from hotline.db.engine import create_engine, session_factory
from hotline.db.migrate import current, upgrade
from hotline.db.models import Base, CallEventRow, CallRecordRow
from hotline.db.repository import CallRecordRepository

__all__ = [
    "Base",
    "CallEventRow",
    "CallRecordRepository",
    "CallRecordRow",
    "create_engine",
    "current",
    "session_factory",
    "upgrade",
]
