"""One transaction per repository call, with database errors converted at this boundary.

Repositories (the inbound ones: customers, callbacks, blocklist; the call log's) share
this helper so that each commits or rolls back in one place and callers only ever see
``DatabaseError``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.db.engine import DATABASE_ERRORS, database_failure
from hotline.errors import DatabaseError

__all__ = ["Sessions", "dialect_insert", "transaction"]

logger = logging.getLogger(__name__)

Sessions = async_sessionmaker[AsyncSession]


@asynccontextmanager
async def transaction(sessions: Sessions, what: str) -> AsyncIterator[AsyncSession]:
    """A session in a transaction: commit on success, roll back and convert on error."""
    try:
        async with sessions() as session, session.begin():
            yield session
    except DATABASE_ERRORS as exc:
        raise database_failure(what, exc) from exc


def dialect_insert(session: AsyncSession) -> Any:
    """The dialect's ``insert`` with ON CONFLICT (SQLite and PostgreSQL only)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise DatabaseError(f"unsupported database dialect {name!r}")
