"""The async engine and session factory, built once by the service and passed in.

SQLite (one node) gets WAL, so the web app can read while the record writer writes, and
enforced foreign keys, which SQLite leaves off by default. PostgreSQL (multi-node) gets a
bounded pool with pre-ping, so a restarted database costs one failed check, not a request.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from hotline.errors import DatabaseError

__all__ = ["DATABASE_ERRORS", "create_engine", "database_failure", "safe_url", "session_factory"]

logger = logging.getLogger(__name__)

#: What the layers below may raise; callers of this package see only ``DatabaseError``.
#: asyncpg raises its own errors and ``OSError`` (refused, timed out) on connect, unwrapped.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


def database_failure(what: str, exc: BaseException) -> DatabaseError:
    """The error callers see: what failed and the kind of failure, never the SQL text or
    its parameters (SQLAlchemy puts both in its messages, and API error bodies and logs
    would show a caller's data). The whole story goes to the log at debug level."""
    cause = getattr(exc, "orig", None) or exc
    logger.debug("database %s failed: %s", what, exc)
    kind = type(cause).__name__
    if isinstance(cause, OSError) and cause.strerror:
        kind = f"{kind}: {cause.strerror}"
    elif isinstance(exc, SQLAlchemyError) and not isinstance(cause, SQLAlchemyError):
        kind = f"{type(exc).__name__} ({kind})"
    return DatabaseError(f"database {what} failed: {kind}")


def safe_url(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "<invalid database url>"


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def create_engine(url: str, echo: bool = False, *, connect_timeout: float = 10.0) -> AsyncEngine:
    """An engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URLs.

    ``connect_timeout`` bounds each new connection, so an unreachable database fails a
    call quickly instead of hanging the caller.
    """
    try:
        parsed = make_url(url)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"invalid database url: {exc}") from exc
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo}
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"cannot create the folder of {database}: {exc}") from exc
        kwargs["connect_args"] = {"timeout": connect_timeout}  # also the busy timeout
    elif backend == "postgresql":
        kwargs.update(
            pool_size=10,  # dashboards and API clients at once without reconnecting
            max_overflow=10,
            pool_timeout=30,
            pool_recycle=1800,
            pool_pre_ping=True,
            connect_args={"timeout": connect_timeout},
        )
    engine = _create_async_engine(parsed, **kwargs)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    logger.debug("database engine for %s", safe_url(url))
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (repositories return plain data)."""
    return async_sessionmaker(engine, expire_on_commit=False)
