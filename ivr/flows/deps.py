"""What the inbound flows need, passed in once (no globals), so tests swap any part.

The clock, the menu, the hours and the data sources all come through ``InboundDeps``; the
service builds the real ones in ``ivr.feature`` and tests build fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hotline.config_inbound import IvrSettings
from hotline.config_queues import QueuesSettings
from ivr.callbacks import CallbackRequest, NewCallback
from ivr.hours import BusinessHours
from ivr.lookup import CustomerDirectory
from ivr.menu_model import Menu

__all__ = ["BlockChecker", "CallbackBook", "InboundDeps"]


class BlockChecker(Protocol):
    async def is_blocked(self, number: str) -> bool: ...


class CallbackBook(Protocol):
    async def request(self, new: NewCallback) -> CallbackRequest: ...


@dataclass(frozen=True)
class InboundDeps:
    ivr: IvrSettings
    queues: QueuesSettings
    menu: Menu
    hours: BusinessHours
    directory: CustomerDirectory
    blocklist: BlockChecker
    callbacks: CallbackBook
    clock: Callable[[], datetime]  # timezone-aware "now"

    def priority(self, queue: str) -> int:
        """The caller priority of a queue (app_queue: higher is served first)."""
        settings = self.queues.get(queue)
        return settings.priority if settings is not None else 0
