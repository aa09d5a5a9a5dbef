"""Agents as a service feature: state tracking from AMI, control over AMI, HTTP routes.

Built once by ``hotline.service`` with the shared parts. ``start`` subscribes the tracker
to the queue and agent events and takes a ``QueueStatus`` snapshot after every AMI login
(while the client holds later events back, so the snapshot comes first); ``stop`` drops
the subscriptions. The customer directory defaults to the project's database
(``ivr.lookup.DatabaseDirectory``); a site passes its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from hotline.ami import AmiEvent
from hotline.errors import AmiError
from hotline.feature import FeatureContext
from hotline.record_fields import Clock, utc_now
from ivr.agents.api import agent_json, install_routes
from ivr.agents.control import AgentControl
from ivr.agents.tracker import AgentStatus, AgentTracker
from ivr.agi import Flow
from ivr.lookup import CustomerDirectory, DatabaseDirectory

__all__ = ["TRACKED_EVENTS", "AgentsFeature"]

log = logging.getLogger(__name__)

TRACKED_EVENTS = (
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "QueueMemberStatus",
    "QueueMemberPause",
    "AgentCalled",
    "AgentRingNoAnswer",
    "AgentConnect",
    "AgentComplete",
    "AgentDump",
    "UserEvent",
)


class AgentsFeature:
    """Agent state, control and API (``hotline.feature.Feature``)."""

    name = "agents"

    def __init__(
        self,
        context: FeatureContext,
        directory: CustomerDirectory | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._context = context
        queues = context.settings.queues

        def wrapup(queue: str) -> int:
            found = queues.get(queue)
            return 0 if found is None else found.wrapup_seconds

        self.tracker = AgentTracker({a.id: a.name for a in queues.agents}, wrapup, clock)
        self.control = AgentControl(context.ami, queues)
        self._directory = directory
        self._undo: list[Callable[[], None]] = []
        now = self.tracker.now()  # what dashboards were last told (all logged out at first)
        self._shown = {a.id: agent_json(a, now) for a in self.tracker.agents()}
        self._ticker: asyncio.Task[None] | None = None
        self.snapshots = 0

    def directory(self) -> CustomerDirectory | None:
        """The customer lookup the agent API uses (the database one unless given)."""
        if self._directory is None:
            self._directory = DatabaseDirectory(self._context.sessions)
        return self._directory

    def agi_routes(self) -> dict[str, Flow]:
        return {}

    def add_routes(self, app: web.Application) -> None:
        install_routes(app, self)

    async def start(self) -> None:
        ami = self._context.ami
        self._undo = [
            ami.subscribe(self._on_event, TRACKED_EVENTS),
            ami.on_connected(self._resync),
        ]
        if ami.connected:  # logged in before this feature started: no hook call for that
            await self._resync([])
        self._ticker = asyncio.create_task(self._tick(), name="agents live ticker")

    async def stop(self) -> None:
        for undo in self._undo:
            undo()
        self._undo = []
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None

    def health(self) -> dict[str, Any]:
        now = self.tracker.now()
        states = [agent.status(now) for agent in self.tracker.agents()]
        return {
            "agents": len(states),
            "logged_in": sum(state is not AgentStatus.LOGGED_OUT for state in states),
            "on_call": sum(state is AgentStatus.ON_CALL for state in states),
        }

    def live_agents(self) -> list[dict[str, Any]]:
        """Every agent's state, for a dashboard's first snapshot. Changes not yet sent go
        to the dashboards already connected first, so all of them agree from here on."""
        self._show_changes(always=True)
        return [self._shown[state.id] for state in self.tracker.agents()]

    def _on_event(self, event: AmiEvent) -> None:
        self.tracker.feed(event)
        self._show_changes()

    async def _tick(self) -> None:
        """Wrap-up ends with time, not with an event: look again every second."""
        while True:
            await asyncio.sleep(1.0)
            self._show_changes()

    def _show_changes(self, always: bool = False) -> None:
        """Agents whose state changed go on the live feed (a few dozen compared per event)."""
        live = self._context.live
        if not always and (live is None or not live.clients):
            return  # nobody watches: a dashboard that connects starts from the snapshot
        now = self.tracker.now()
        for state in self.tracker.agents():
            shown = agent_json(state, now)
            if self._shown.get(state.id) != shown:
                self._shown[state.id] = shown
                if live is not None:
                    live.publish("agent", shown)

    async def _resync(self, _channels: list[AmiEvent]) -> None:
        """Queue memberships from ``QueueStatus``; a failure waits for the next login."""
        try:
            response = await self._context.ami.action("QueueStatus")
        except AmiError as exc:
            log.warning("agent snapshot skipped: %s", exc)
            return
        self.tracker.snapshot(response.events)
        self.snapshots += 1
        self._show_changes()
