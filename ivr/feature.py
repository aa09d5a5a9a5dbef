"""The inbound hotline as a service feature: IVR flows, agents, queues, callbacks."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hotline.feature import FeatureContext
from ivr.agi import Flow
from ivr.flows.hotline import hotline_flow

__all__ = ["InboundFeature"]


class InboundFeature:
    name = "inbound"

    def __init__(self, context: FeatureContext) -> None:
        self._context = context

    def agi_routes(self) -> dict[str, Flow]:
        return {self._context.settings.inbound.agi_route: hotline_flow}

    def add_routes(self, app: web.Application) -> None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {}
