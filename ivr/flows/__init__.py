"""The inbound FastAGI routes, each a flow bound to its dependencies.

``hotline`` (the route name is ``inbound.agi_route``) runs right after Answer();
``hotline-score`` after the agent hung up; ``hotline-queue-timeout`` when a caller has
waited ``callback_after_seconds`` in a queue.
"""

from __future__ import annotations

from functools import partial

from ivr.agi import Flow
from ivr.flows.deps import InboundDeps
from ivr.flows.hotline import hotline_flow
from ivr.flows.queue_timeout import queue_timeout_flow
from ivr.flows.score import score_flow

__all__ = ["QUEUE_TIMEOUT_ROUTE", "SCORE_ROUTE", "make_routes"]

SCORE_ROUTE = "hotline-score"
QUEUE_TIMEOUT_ROUTE = "hotline-queue-timeout"


def make_routes(deps: InboundDeps, main_route: str = "hotline") -> dict[str, Flow]:
    return {
        main_route: partial(hotline_flow, deps=deps),
        SCORE_ROUTE: partial(score_flow, deps=deps),
        QUEUE_TIMEOUT_ROUTE: partial(queue_timeout_flow, deps=deps),
    }
