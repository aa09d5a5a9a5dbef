"""Steps every inbound flow shares: the variables it reports, ending, routing to a queue.

The dialplan reads ``HOTLINE_FLOW_RESULT`` after the flow: ``done`` (hang up), ``queue``
(Queue on ``HOTLINE_QUEUE`` with ``HOTLINE_QUEUE_PRIORITY``), ``requeue`` (back into the
same queue, in front); anything else sends the caller to the fallback queue. The result is
set last, so a flow that fails half-way never leaves the caller in dead air.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

from hotline.errors import DatabaseError
from ivr.agi import AgiChannel
from ivr.courtesy import goodbye_prompt
from ivr.flows.deps import InboundDeps

__all__ = [
    "VAR_CALLBACK_ID",
    "VAR_CATEGORY",
    "VAR_DISPOSITION",
    "VAR_FLOW",
    "VAR_PATH",
    "VAR_PRIORITY",
    "VAR_QUEUE",
    "VAR_RESULT",
    "VAR_SCORE",
    "bounded",
    "finish",
    "goodbye",
    "menu_path",
    "no_input_goodbye",
    "route_to_queue",
    "sound",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

VAR_FLOW = "HOTLINE_FLOW"
VAR_RESULT = "HOTLINE_FLOW_RESULT"
VAR_PATH = "HOTLINE_MENU_PATH"
VAR_CATEGORY = "HOTLINE_CATEGORY"
VAR_QUEUE = "HOTLINE_QUEUE"
VAR_PRIORITY = "HOTLINE_QUEUE_PRIORITY"
VAR_SCORE = "HOTLINE_SCORE"
VAR_DISPOSITION = "HOTLINE_DISPOSITION"
VAR_CALLBACK_ID = "HOTLINE_CALLBACK_ID"
MAX_PATH_CHARS = 32


def sound(name: str) -> str:
    """The file of a prompt in prompts.yaml (``hotline prompts build`` writes them there)."""
    return f"hotline/{name}"


def menu_path(keys: list[str]) -> str:
    """``["4", "2"]`` → ``"4>2"``; the newest keys are kept if it grows past 32 characters."""
    path = ">".join(keys)
    return path if len(path) <= MAX_PATH_CHARS else path[-MAX_PATH_CHARS:].lstrip(">")


async def finish(call: AgiChannel, result: str) -> None:
    await call.set_variable(VAR_RESULT, result)


async def goodbye(call: AgiChannel, deps: InboundDeps) -> None:
    """感谢您的来电, with a weekend or holiday wish when one is near (``ivr.courtesy``)."""
    await call.play(sound(goodbye_prompt(deps.hours, deps.clock())))
    await finish(call, "done")


async def no_input_goodbye(call: AgiChannel) -> None:
    """对不起,我听不到您的声音…我现在挂机, recorded as ``no_input``."""
    log.info("[%s] no input: polite goodbye", call.linkedid)
    await call.set_variable(VAR_DISPOSITION, "no_input")
    await call.play(sound("no-input"))
    await finish(call, "done")


async def route_to_queue(
    call: AgiChannel, deps: InboundDeps, queue: str, category: str, path: str
) -> None:
    """Hand the caller to the dialplan's Queue with the queue's caller priority."""
    priority = deps.priority(queue)
    route = {VAR_PATH: path} if path else {}
    route |= {VAR_CATEGORY: category, VAR_QUEUE: queue, VAR_PRIORITY: str(priority)}
    await call.set_variables({**route, VAR_RESULT: "queue"})  # one round trip for all five
    log.info(
        "[%s] to queue %s (priority %s, category %s, path %s)",
        call.linkedid,
        queue,
        priority,
        category,
        path or "-",
    )


async def bounded(call: AgiChannel, what: str, work: Awaitable[T], seconds: float) -> T | None:
    """A look-up that may not hold the caller up: None when it fails or takes too long."""
    try:
        async with asyncio.timeout(seconds):
            return await work
    except (DatabaseError, TimeoutError) as exc:
        log.warning(
            "[%s] %s failed, going on without it: %s", call.linkedid, what, exc or "timeout"
        )
        return None
