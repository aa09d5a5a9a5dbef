"""Apology calls built once for the dialer feature: store, outbox, worker, flow, API."""

from __future__ import annotations

from functools import partial

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.apology.api import install_routes
from dialer.apology.operations import ApologyOps
from dialer.apology.outbox import SmsOutbox
from dialer.apology.store import ApologyStore
from dialer.apology.worker import ApologyWorker
from dialer.operations import Operations
from hotline.config import Settings
from hotline.record_fields import utc_now
from ivr.agi import Flow
from ivr.flows.apology import (
    ApologyDeps,
    apology_confirm_flow,
    apology_flow,
    apology_whisper_flow,
)

__all__ = ["Apology"]


class Apology:
    def __init__(
        self, settings: Settings, ops: Operations, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self.settings = settings.apology
        self.store = ApologyStore(sessions)
        self.outbox = SmsOutbox(sessions)
        agents = frozenset(agent.id for agent in settings.queues.agents)
        self.ops = ApologyOps(settings.apology, ops, self.store, self.outbox, agents)
        self.worker = ApologyWorker(
            settings.apology, settings.site_name, self.store, self.outbox, utc_now
        )
        self.deps = ApologyDeps(self.store, settings.apology.digit_timeout_seconds, utc_now)

    def agi_routes(self) -> dict[str, Flow]:
        route = self.settings.agi_route
        return {
            route: partial(apology_flow, deps=self.deps),
            f"{route}-confirm": partial(apology_confirm_flow, deps=self.deps),
            f"{route}-whisper": partial(apology_whisper_flow, deps=self.deps),
        }

    def add_routes(self, app: web.Application) -> None:
        install_routes(app, self.ops)
