"""A benchmark's own PostgreSQL database, made and dropped through an admin URL."""

from __future__ import annotations

__all__ = ["drop_database", "fresh_database"]


async def drop_database(admin_url: str, name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def fresh_database(admin_url: str, name: str) -> str:
    """An empty PostgreSQL database (dropped first if a previous run left it); its
    SQLAlchemy URL."""
    import asyncpg

    await drop_database(admin_url, name)
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"
