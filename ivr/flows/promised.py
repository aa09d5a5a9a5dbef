"""A promised callback answered by the customer: straight to the right queue, in front.

您好,这里是燃气客服热线,给您回电,正在为您转接客服代表,请稍候 — then the dialplan's
``hotline-queue`` (the inbound one: agent ring, scoring, fallback) with the callback's
queue priority, so a customer we promised to call back does not wait behind new callers.
A request whose queue is unknown (or a look-up that fails) goes to the fallback queue:
the customer answered, so someone must talk to them.

A request that names an agent is dialled agent-first (``dialplan-outbound.conf``): the
agent's phone rings and hears ``callback-whisper``, then the customer is dialled and hears
``callback-confirm`` before joining the agent.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from ivr.agi import AgiChannel
from ivr.flows.common import (
    VAR_CALLBACK_ID,
    VAR_CATEGORY,
    VAR_FLOW,
    VAR_PRIORITY,
    VAR_QUEUE,
    bounded,
    finish,
    sound,
)

__all__ = [
    "CallbackDeps",
    "CallbackLookup",
    "callback_confirm_flow",
    "callback_whisper_flow",
    "promised_callback_flow",
]

log = logging.getLogger(__name__)

LOOKUP_SECONDS = 3.0
VAR_WHISPERED = "HOTLINE_WHISPERED"
VAR_CONFIRMED = "HOTLINE_CONFIRMED"


class CallbackFactsLike(Protocol):
    @property
    def callback_id(self) -> int: ...
    @property
    def queue(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def number(self) -> str: ...


class CallbackLookup(Protocol):
    async def facts(self, code: str) -> CallbackFactsLike | None: ...


@dataclass(frozen=True)
class CallbackDeps:
    lookup: CallbackLookup
    queues: Collection[str]
    fallback_queue: str
    priority: int


async def promised_callback_flow(call: AgiChannel, deps: CallbackDeps) -> None:
    code = call.args[0] if call.args else call.linkedid
    facts = await bounded(call, "callback look-up", deps.lookup.facts(code[:64]), LOOKUP_SECONDS)
    queue = deps.fallback_queue
    await call.set_variable(VAR_FLOW, "callback")
    if facts is not None:
        await call.set_variable(VAR_CALLBACK_ID, str(facts.callback_id))
        if facts.category:
            await call.set_variable(VAR_CATEGORY, facts.category[:32])
        if facts.queue in deps.queues:
            queue = facts.queue
    log.info(
        "[%s] callback %s answered: to queue %s",
        call.linkedid,
        "?" if facts is None else facts.callback_id,
        queue,
    )
    await call.play(sound("callback-intro"))
    await call.set_variable(VAR_QUEUE, queue)
    await call.set_variable(VAR_PRIORITY, str(deps.priority))
    await finish(call, "queue")


async def callback_whisper_flow(call: AgiChannel, deps: CallbackDeps) -> None:
    """A callback promised by a named agent: their phone rings first and hears whose call
    it is (回电客户,尾号 1234); ``HOTLINE_WHISPERED=1`` lets the dialplan dial the customer."""
    code = call.args[0] if call.args else call.linkedid
    facts = await bounded(call, "callback look-up", deps.lookup.facts(code[:64]), LOOKUP_SECONDS)
    if facts is None:
        log.warning("[%s] callback whisper: no request for %s", call.linkedid, code[:64])
        await call.play(sound("callback-no-request"))
        return
    await call.set_variable(VAR_CALLBACK_ID, str(facts.callback_id))
    await call.play(sound("callback-whisper"))
    if facts.number[-4:].isdigit():
        await call.say_digits(facts.number[-4:])
    await call.play(sound("callback-connecting"))
    await call.set_variable(VAR_WHISPERED, "1")


async def callback_confirm_flow(call: AgiChannel, deps: CallbackDeps) -> None:
    """On the customer's channel before they join the agent: who is calling and why."""
    await call.play(sound("callback-intro-agent"))
    await call.set_variable(VAR_CONFIRMED, "1")
