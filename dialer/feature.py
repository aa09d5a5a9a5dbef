"""The outbound dialer as a service feature: campaigns, pacing, origination."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hotline.feature import FeatureContext
from ivr.agi import Flow

__all__ = ["DialerFeature"]


class DialerFeature:
    name = "dialer"

    def __init__(self, context: FeatureContext) -> None:
        self._context = context

    def agi_routes(self) -> dict[str, Flow]:
        return {}

    def add_routes(self, app: web.Application) -> None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {}
