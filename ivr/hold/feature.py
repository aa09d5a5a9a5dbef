"""Hold and resume as a service feature: the controller on the AMI events, the limits'
clock, and the HTTP routes. Built once by ``hotline.service`` with the shared parts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from aiohttp import web

from hotline.ami import AmiEvent
from hotline.feature import FeatureContext
from hotline.web.report_api import add_report
from ivr.agi import Flow
from ivr.hold.actions import HoldMoves
from ivr.hold.api import install_routes
from ivr.hold.controller import EVENTS, HoldController
from ivr.hold.report import hold_report

__all__ = ["HoldFeature"]

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0


class HoldFeature:
    name = "hold"

    def __init__(self, context: FeatureContext) -> None:
        self.controller = HoldController(HoldMoves(context.ami), context.settings.hold)
        self._ami = context.ami
        self._sessions = context.sessions
        self._soft = float(context.settings.hold.soft_seconds)
        self._undo: list[Callable[[], None]] = []
        self._ticker: asyncio.Task[None] | None = None

    def agi_routes(self) -> dict[str, Flow]:
        return {}

    def add_routes(self, app: web.Application) -> None:
        install_routes(app, self.controller)
        add_report(app, "holds", self._report)

    async def _report(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        rows = await hold_report(self._sessions, since, until, self._soft)
        return [asdict(row) for row in rows]

    async def start(self) -> None:
        self._undo = [
            self._ami.subscribe(self.controller.feed, EVENTS),
            self._ami.on_connected(self._pruned),
        ]
        self._ticker = asyncio.create_task(self._tick(), name="hold-limits")

    async def stop(self) -> None:
        for undo in self._undo:
            undo()
        self._undo = []
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.controller.drain()

    def health(self) -> dict[str, Any]:
        views = self.controller.views()
        return {
            "held": sum(view["phase"] == "held" for view in views),
            "alerts": len(self.controller.alerts),
        }

    async def _pruned(self, live: list[AmiEvent]) -> None:
        self.controller.prune(live)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self.controller.tick()
