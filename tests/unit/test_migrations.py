"""Alembic migrations and engine setup on SQLite and PostgreSQL (each test runs on both)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from hotline.db import Base, create_engine, current, upgrade
from hotline.db.migrate import MIGRATIONS_DIR, alembic_config
from hotline.errors import DatabaseError

HEAD = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


async def test_upgrade_from_empty_and_again(database_url: str) -> None:
    assert await current(database_url) is None
    await upgrade(database_url)
    assert await current(database_url) == HEAD
    await upgrade(database_url)  # already at head: nothing to do
    assert await current(database_url) == HEAD


async def test_upgrade_from_another_working_directory(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    await upgrade(database_url)
    assert await current(database_url) == HEAD
    assert MIGRATIONS_DIR.is_absolute()


async def test_migrated_schema_matches_models(database_url: str) -> None:
    await upgrade(database_url)

    def diff(connection: Connection) -> Any:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(diff) == []
    finally:
        await engine.dispose()


async def test_downgrade_to_base_and_back(database_url: str) -> None:
    await upgrade(database_url)

    def downgrade(connection: Connection) -> None:
        config = alembic_config(database_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(downgrade)
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    assert set(tables) <= {"alembic_version"}
    assert await current(database_url) is None
    await upgrade(database_url)
    assert await current(database_url) == HEAD


async def test_unknown_revision_raises_database_error(database_url: str) -> None:
    with pytest.raises(DatabaseError, match="nope"):
        await upgrade(database_url, "nope")


async def test_sqlite_engine_creates_folder_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "hotline.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
    finally:
        await engine.dispose()
    assert path.exists()
    assert (mode, keys) == ("wal", 1)
