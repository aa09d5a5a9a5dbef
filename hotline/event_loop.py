"""The service's event loop: uvloop by default, asyncio's own on request.

Under inbound load most of the service's CPU is the loop itself (socket reads and writes
for every AGI command, closes, timers); uvloop does that work in C. The setting
``event_loop: asyncio`` runs the standard loop instead, e.g. to rule the loop out when
chasing a problem.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

__all__ = ["EventLoopName", "loop_factory", "run"]

T = TypeVar("T")
EventLoopName = Literal["uvloop", "asyncio"]


def loop_factory(name: EventLoopName) -> Callable[[], asyncio.AbstractEventLoop]:
    """A maker of new loops of the named kind."""
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return asyncio.new_event_loop


def run(coro: Coroutine[Any, Any, T], name: EventLoopName = "uvloop") -> T:
    """``asyncio.run`` on a loop of the named kind."""
    with asyncio.Runner(loop_factory=loop_factory(name)) as runner:
        return runner.run(coro)
