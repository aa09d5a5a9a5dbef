"""A feature plugs into the service: FastAGI routes, HTTP routes, background work.

The service builds each feature once with what it needs (settings, the AMI client, the
database sessions) and calls these hooks; a feature never builds shared parts itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.ami import AmiClient
from hotline.config import Settings
from hotline.db.repository import CallRecordRepository
from hotline.live import LiveHub
from ivr.agi import Flow

__all__ = ["Feature", "FeatureContext"]


@dataclass(frozen=True)
class FeatureContext:
    """The shared parts a feature may use."""

    settings: Settings
    ami: AmiClient
    sessions: async_sessionmaker[AsyncSession]
    records: CallRecordRepository
    live: LiveHub | None = None  # the dashboards' live feed


class Feature(Protocol):
    name: str

    def agi_routes(self) -> dict[str, Flow]:
        """FastAGI script name → flow."""
        ...

    def add_routes(self, app: web.Application) -> None:
        """Register HTTP routes under /api/v1 (the auth middleware already applies)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def health(self) -> dict[str, Any]: ...
