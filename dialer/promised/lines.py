"""The queues' lines as Asterisk sees them now, for the callback gate (one QueueStatus each).

Read before each dispatch, outside any database transaction. A queue Asterisk cannot
describe (AMI down, queue unknown) is ``None``: its callbacks wait, they are not dialled
blind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from dialer.promised.gate import QueueView, view_of
from dialer.promised.store import Lines
from hotline.ami import AmiClient
from hotline.config_queues import QueuesSettings
from hotline.errors import AmiError

__all__ = ["QueueLines"]

log = logging.getLogger(__name__)


class QueueLines:
    def __init__(
        self,
        ami: AmiClient,
        queues: QueuesSettings,
        fallback_queue: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._ami = ami
        self._queues = queues
        self.fallback_queue = fallback_queue
        self._clock = clock

    async def read(self, names: Iterable[str]) -> Lines:
        views: dict[str, QueueView | None] = {}
        for name in sorted(set(names)):
            views[name] = await self._view(name)
        return Lines(views, self.fallback_queue)

    async def _view(self, name: str) -> QueueView | None:
        settings = self._queues.get(name)
        if settings is None:
            return None
        try:
            answer = await self._ami.action("QueueStatus", Queue=name)
        except AmiError as exc:
            log.info("callbacks: queue %s not read (%s): its callbacks wait", name, exc)
            return None
        return view_of(answer.events, self._clock(), settings.wrapup_seconds, name)
