"""API tokens: made by ``hotline token create``, stored as their SHA-256, checked per request.

``TokenStore.create`` returns the token once (it cannot be read back); ``check`` finds a
live token by its hash. Results are cached for ``CACHE_SECONDS`` so a busy dashboard does
not query the database on every request; a revoked token stops working within that time.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.db.engine import DATABASE_ERRORS, database_failure
from hotline.db.models_tokens import ApiTokenRow
from hotline.web.roles import Role

__all__ = ["CACHE_SECONDS", "Caller", "TokenStore", "token_hash"]

CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class Caller:
    """Who a request comes from."""

    name: str
    role: Role
    agent: str = ""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._cache: dict[str, tuple[float, Caller | None]] = {}

    async def _run(self, what: str, work: Any) -> Any:
        try:
            async with self._sessions() as session, session.begin():
                return await work(session)
        except DATABASE_ERRORS as exc:
            raise database_failure(what, exc) from exc

    async def create(self, name: str, role: Role, agent: str = "") -> tuple[int, str]:
        """A new token: its id and the token itself (shown once, stored hashed)."""
        token = secrets.token_urlsafe(32)
        row = ApiTokenRow(name=name, role=role.value, agent=agent, token_hash=token_hash(token))

        async def add(session: AsyncSession) -> int:
            session.add(row)
            await session.flush()
            return row.id

        return await self._run("token create", add), token

    async def check(self, token: str) -> Caller | None:
        digest = token_hash(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]

        async def find(session: AsyncSession) -> ApiTokenRow | None:
            query = select(ApiTokenRow).where(
                ApiTokenRow.token_hash == digest, ApiTokenRow.revoked_at.is_(None)
            )
            return (await session.scalars(query)).first()

        row = await self._run("token check", find)
        caller = None if row is None else Caller(row.name, Role(row.role), row.agent)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now, caller)
        return caller

    async def tokens(self) -> list[dict[str, Any]]:
        async def read(session: AsyncSession) -> list[dict[str, Any]]:
            rows = (await session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id))).all()
            return [
                {
                    "id": r.id,
                    "name": r.name,
                    "role": r.role,
                    "agent": r.agent,
                    "created_at": r.created_at.isoformat(),
                    "revoked_at": None if r.revoked_at is None else r.revoked_at.isoformat(),
                }
                for r in rows
            ]

        result: list[dict[str, Any]] = await self._run("token list", read)
        return result

    async def revoke(self, token_id: int) -> bool:
        async def mark(session: AsyncSession) -> bool:
            done = await session.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.id == token_id, ApiTokenRow.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            return bool(getattr(done, "rowcount", 0))

        revoked: bool = await self._run("token revoke", mark)
        self._cache.clear()
        return revoked
