"""Promised callbacks built once for the dialer feature: store, dispatcher, flow, API."""

from __future__ import annotations

from functools import partial

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.operations import Operations
from dialer.promised.api import PromiseApi, install_routes
from dialer.promised.dispatcher import CallbackDispatcher
from dialer.promised.lines import QueueLines
from dialer.promised.store import PromisedStore
from hotline.ami import AmiClient
from hotline.config import Settings
from hotline.record_fields import utc_now
from ivr.agi import Flow
from ivr.callbacks import CallbackRepository
from ivr.flows.promised import (
    CallbackDeps,
    callback_confirm_flow,
    callback_whisper_flow,
    promised_callback_flow,
)

__all__ = ["Promised"]


class Promised:
    def __init__(
        self,
        settings: Settings,
        ops: Operations,
        sessions: async_sessionmaker[AsyncSession],
        ami: AmiClient | None = None,
    ) -> None:
        self.settings = settings.callbacks
        self.store = PromisedStore(sessions)
        fallback = settings.inbound.fallback_queue
        lines = None if ami is None else QueueLines(ami, settings.queues, fallback, utc_now)
        self.dispatcher = CallbackDispatcher(
            settings.callbacks, ops, self.store, utc_now, lines=lines
        )
        queues = frozenset(settings.queues.names())
        self.deps = CallbackDeps(
            self.store, queues, settings.inbound.fallback_queue, settings.callbacks.queue_priority
        )
        agents = frozenset(agent.id for agent in settings.queues.agents)
        self.api = PromiseApi(
            CallbackRepository(sessions), self.dispatcher, ops.guard, queues, utc_now, agents
        )

    def agi_routes(self) -> dict[str, Flow]:
        route = self.settings.agi_route
        return {
            route: partial(promised_callback_flow, deps=self.deps),
            f"{route}-whisper": partial(callback_whisper_flow, deps=self.deps),
            f"{route}-confirm": partial(callback_confirm_flow, deps=self.deps),
        }

    def add_routes(self, app: web.Application) -> None:
        install_routes(app, self.api)
