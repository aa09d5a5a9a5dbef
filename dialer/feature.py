"""The outbound dialer as a service feature: campaigns, pacing, origination.

The service builds this once with the shared parts (settings, AMI client, database
sessions); the engine runs only when ``dialer.enabled`` is true, the API always.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dialer.api import install_routes
from dialer.engine import DialerEngine
from dialer.operations import Operations
from dialer.repository import DialerRepository
from hotline.feature import FeatureContext
from ivr.agi import Flow

__all__ = ["DialerFeature"]


class DialerFeature:
    name = "dialer"

    def __init__(self, context: FeatureContext) -> None:
        self._context = context
        settings = context.settings.dialer
        self.repo = DialerRepository(context.sessions)
        self.ops = Operations(settings, self.repo)
        self.engine = DialerEngine(settings, context.ami, self.repo)

    def agi_routes(self) -> dict[str, Flow]:
        return {}

    def add_routes(self, app: web.Application) -> None:
        install_routes(app, self.ops)

    async def start(self) -> None:
        if self._context.settings.dialer.enabled:
            await self.engine.start()

    async def stop(self) -> None:
        if self._context.settings.dialer.enabled:
            await self.engine.stop()

    def health(self) -> dict[str, Any]:
        if not self._context.settings.dialer.enabled:
            return {"enabled": False}
        return {"enabled": True, **self.engine.health()}
