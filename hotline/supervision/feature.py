"""Live supervision as a service feature: its API (no background work, no AGI)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hotline.feature import FeatureContext
from hotline.supervision.api import install_routes
from hotline.supervision.service import Supervision
from hotline.supervision.store import SupervisionStore
from ivr.agi import Flow

__all__ = ["SupervisionFeature"]


class SupervisionFeature:
    name = "supervision"

    def __init__(self, context: FeatureContext) -> None:
        settings = context.settings.supervision
        self.service = Supervision(settings, context.ami, SupervisionStore(context.sessions))

    def agi_routes(self) -> dict[str, Flow]:
        return {}

    def add_routes(self, app: web.Application) -> None:
        install_routes(app, self.service)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {"supervisors": len(self.service.settings.supervisors)}
