"""The inbound hotline as a service feature: IVR flows, blocklist and callback API.

Everything is built once here from the shared context: the menu is loaded and checked at
construction, so a broken menu stops the service from starting (ConfigError with every
problem) instead of failing callers one by one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from hotline.errors import DatabaseError
from hotline.feature import FeatureContext
from ivr.agi import Flow
from ivr.blocklist import Blocklist
from ivr.callbacks import CallbackRepository
from ivr.flows import make_routes
from ivr.flows.deps import InboundDeps
from ivr.hours import BusinessHours
from ivr.lookup import CustomerDirectory, DatabaseDirectory
from ivr.menu import load_menu
from ivr.routes import InboundApi, install_routes

__all__ = ["InboundFeature"]

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class InboundFeature:
    name = "inbound"

    def __init__(
        self,
        context: FeatureContext,
        *,
        directory: CustomerDirectory | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        settings = context.settings
        self._context = context
        self.blocklist = Blocklist(context.sessions, settings.ivr.blocklist)
        self.callbacks = CallbackRepository(context.sessions)
        self.hours = BusinessHours(settings.ivr.hours)
        self.deps = InboundDeps(
            ivr=settings.ivr,
            queues=settings.queues,
            menu=load_menu(settings),
            hours=self.hours,
            directory=directory or DatabaseDirectory(context.sessions),
            blocklist=self.blocklist,
            callbacks=self.callbacks,
            clock=clock,
        )

    def agi_routes(self) -> dict[str, Flow]:
        return make_routes(self.deps, self._context.settings.inbound.agi_route)

    def add_routes(self, app: web.Application) -> None:
        install_routes(app, InboundApi(self.blocklist, self.callbacks))

    async def start(self) -> None:
        try:
            await self.blocklist.sync_config()
        except DatabaseError as exc:  # the settings' numbers still block, from memory
            log.warning("blocklist: settings not synced to the database: %s", exc)

    async def stop(self) -> None:
        await self.blocklist.close()

    def health(self) -> dict[str, Any]:
        return {"open": self.hours.is_open(self.deps.clock())}
