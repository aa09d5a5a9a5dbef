"""Run the Alembic migrations from code: ``hotline db upgrade`` and the service's start.

The Alembic config is built here, with ``script_location`` pointing at the migrations
folder next to this file, so it works from an installed package and from any working
directory, with no alembic.ini. Alembic runs on the sync side of an async connection.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import Connection, text

from hotline.db.engine import DATABASE_ERRORS, create_engine, safe_url
from hotline.errors import DatabaseError

__all__ = ["MIGRATIONS_DIR", "alembic_config", "current", "upgrade"]

logger = logging.getLogger(__name__)

_UPGRADE_ERRORS: tuple[type[BaseException], ...] = (*DATABASE_ERRORS, CommandError)

_LOCK_KEY = 0x686F746C696E65  # "hotline"

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url``; also usable with ``alembic.command`` by developers.

    The URL goes in ``attributes``, not the ini options, whose ``%`` interpolation would
    break URL-encoded passwords.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision``; a no-op when already there."""
    config = alembic_config(url)

    def run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # several nodes may start at once: one migrates, the others wait and find it done
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    logger.info("migrating database %s to %s", safe_url(url), revision)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    except _UPGRADE_ERRORS as exc:
        raise DatabaseError(f"migrating {safe_url(url)} to {revision} failed: {exc}") from exc
    finally:
        await engine.dispose()


async def current(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None if never migrated."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    except DATABASE_ERRORS as exc:
        raise DatabaseError(f"reading the revision of {safe_url(url)} failed: {exc}") from exc
    finally:
        await engine.dispose()
