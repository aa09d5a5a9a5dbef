"""The promised-callback loop: feed due requests to the dialer, close them, flag overdue ones.

Runs next to the dialer engine on every node (the store's row locks keep nodes apart).
The callback campaigns are created (and started) the first time they are needed, from the
``callbacks`` settings: ``<campaign>`` dials the customer first into the request's queue,
``<campaign>-agent`` rings the request's named agent first (whisper), then the customer.
After that they are ordinary campaigns an admin can pause. A queue callback is moved to
the dialer only when its turn in the queue's line has come (``dialer.promised.gate``). An
overdue request is logged once as a warning and kept in ``alerts`` for the API.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from dialer.campaigns import Campaign
from dialer.operations import OperationError, Operations
from dialer.promised.store import Lines, PromisedStore
from dialer.states import CampaignStatus, CampaignType
from hotline.config_callbacks import CallbackSettings
from hotline.periodic import Periodic

__all__ = ["CallbackDispatcher", "LineReader"]


class LineReader(Protocol):
    """Reads the queues' lines (``dialer.promised.lines.QueueLines``)."""

    fallback_queue: str

    async def read(self, names: Iterable[str]) -> Lines: ...


log = logging.getLogger(__name__)

MAX_ALERTS = 500


class CallbackDispatcher:
    def __init__(
        self,
        settings: CallbackSettings,
        ops: Operations,
        store: PromisedStore,
        clock: Callable[[], datetime],
        lines: LineReader | None = None,
    ) -> None:
        """``lines``: the queues' lines, so a queue callback keeps its turn (``None``: dial
        each as soon as it is due)."""
        self.settings = settings
        self._ops = ops
        self._store = store
        self._clock = clock
        self._lines = lines
        self._loop = Periodic("callbacks", settings.dispatch_seconds, self.tick, log)
        self.alerts: deque[dict[str, Any]] = deque(maxlen=MAX_ALERTS)
        self.dispatched = 0
        self._ready = False  # the campaigns exist (made or found by a full tick)

    def spec(self, agent_first: bool = False) -> dict[str, Any]:
        s = self.settings
        return {
            "name": f"{s.campaign}-agent" if agent_first else s.campaign,
            "agent_first": agent_first,
            "type": CampaignType.PROMISED_CALLBACK.value,
            "priority": s.campaign_priority,
            "windows": s.windows,
            "skip_holidays": False,  # the hotline keeps its promises on holidays too
            "retry": s.retry_seconds,
            "max_attempts": s.max_attempts,
            "agi_route": s.agi_route,
            "amd": True,
            "amd_silence_is_human": True,  # a customer waiting for us to speak is no machine
        }

    async def campaign(self, agent_first: bool = False) -> Campaign:
        """The callback campaign (customer-first, or the one that rings a named agent)."""
        spec = self.spec(agent_first)
        found = await self._ops.repo.campaign(spec["name"])
        if found is not None:
            return found
        try:
            made = await self._ops.create(spec)
        except OperationError as exc:
            if exc.status != 409:  # 409: another node made it just now
                raise
            again = await self._ops.repo.campaign(spec["name"])
            assert again is not None
            return again
        log.info("callbacks: campaign %s created", made.name)
        return await self._ops.transition(str(made.id), "start")

    async def start(self) -> None:
        await self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def tick(self) -> None:
        if self._ready and not await self._store.any_open():
            return  # no request open: the campaigns are made, nothing else to do
        now = self._clock()
        campaign = await self.campaign()
        by_agent = await self.campaign(agent_first=True)
        self._ready = True
        if campaign.status is CampaignStatus.RUNNING:
            within = timedelta(minutes=self.settings.answer_within_minutes)
            running = by_agent if by_agent.status is CampaignStatus.RUNNING else None
            lines = None
            if self._lines is not None:
                queues = await self._store.waiting_queues(now, self._lines.fallback_queue)
                lines = await self._lines.read(queues)
            moved = await self._store.dispatch(
                campaign, now, within, agent_campaign=running, lines=lines
            )
            self.dispatched += len(moved)
            if moved:
                log.info("callbacks: %d request(s) to the dialer: %s", len(moved), moved)
        for request_id, outcome in await self._store.settle(now):
            log.info("callbacks: request %s closed: %s", request_id, outcome)
        for request in await self._store.newly_overdue(now):
            alert = {
                "type": "callback_overdue",
                "callback_id": request.id,
                "number": request.number,
                "queue": request.queue,
                "promised_by": request.promised_by,
                "due_by": None if request.due_by is None else request.due_by.isoformat(),
                "status": request.status.value,
                "at": now.isoformat(),
            }
            self.alerts.append(alert)
            log.warning(
                "callbacks: request %s for %s is overdue (due %s, %s)",
                request.id,
                request.number,
                alert["due_by"],
                request.status.value,
            )
