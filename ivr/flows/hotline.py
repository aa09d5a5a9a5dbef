"""The inbound hotline: greeting, screening, hours, menu, and where the caller goes next.

The greeting (您好,很高兴为您服务) plays at once; the emergency key interrupts it and goes
straight to the emergency queue, at any hour. While it plays, the caller's number is
checked against the blocklist and looked up in the customer directory (bounded by
``ivr.lookup_timeout_seconds``; a failure never holds the caller up). A blocked number
hears the warning and the call ends, even if a key was pressed. A known customer's
account and name go on inherited channel variables for the agent's screen. Then the
hours decide: the after-hours message, or the menu.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

from ivr.agi import AgiChannel
from ivr.courtesy import welcome_prompt
from ivr.flows.after_hours import after_hours_flow
from ivr.flows.bill import BillOutcome, bill_enquiry
from ivr.flows.common import (
    VAR_DISPOSITION,
    VAR_FLOW,
    bounded,
    finish,
    goodbye,
    no_input_goodbye,
    route_to_queue,
    sound,
)
from ivr.flows.deps import InboundDeps
from ivr.flows.navigate import Chosen, GaveUp, Navigator, Silent
from ivr.lookup import Customer
from ivr.menu_model import TargetKind

__all__ = [
    "VAR_CUSTOMER_ACCOUNT",
    "VAR_CUSTOMER_NAME",
    "clean_name",
    "hotline_flow",
]

log = logging.getLogger(__name__)

VAR_CUSTOMER_ACCOUNT = "__HOTLINE_CUSTOMER_ACCOUNT"  # "__": inherited by the agent's channel
VAR_CUSTOMER_NAME = "__HOTLINE_CUSTOMER_NAME"
AGENT_CATEGORY = "agent"
_NAME_DROP = re.compile(r"[^\w .·'-]")
MAX_NAME_CHARS = 40


def clean_name(name: str) -> str:
    """A name safe for channel variables and SIP headers: letters, digits, space, ·.'-."""
    return " ".join(_NAME_DROP.sub("", name).split())[:MAX_NAME_CHARS]


async def _screen(call: AgiChannel, deps: InboundDeps) -> tuple[bool, Customer | None]:
    seconds = deps.ivr.lookup_timeout_seconds
    blocked = await bounded(call, "blocklist", deps.blocklist.is_blocked(call.caller), seconds)
    if blocked or not call.caller:
        return bool(blocked), None
    customer = await bounded(call, "customer", deps.directory.by_phone(call.caller), seconds)
    return False, customer


async def _greet(call: AgiChannel, deps: InboundDeps) -> tuple[str, bool, Customer | None]:
    """Play the greeting while the screening runs; the key pressed and what was found."""
    screening = asyncio.create_task(_screen(call, deps))
    try:
        welcome = welcome_prompt(deps.hours, deps.clock(), deps.ivr.greeting)
        key = await call.play(sound(welcome), deps.menu.emergency.key)
    except BaseException:
        screening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await screening
        raise
    blocked, customer = await screening
    return key, blocked, customer


async def hotline_flow(call: AgiChannel, deps: InboundDeps) -> None:
    await call.set_variable(VAR_FLOW, "hotline")
    key, blocked, customer = await _greet(call, deps)
    if blocked:
        log.info("[%s] blocked number %s: warning and hang up", call.linkedid, call.caller)
        await call.set_variable(VAR_DISPOSITION, "blocked")
        await call.play(sound("blocked-warning"))
        await finish(call, "done")
        return
    if customer is not None:
        log.info("[%s] caller is customer %s", call.linkedid, customer.account)
        await call.set_variable(VAR_CUSTOMER_ACCOUNT, customer.account)
        await call.set_variable(VAR_CUSTOMER_NAME, clean_name(customer.name))
    emergency = deps.menu.emergency
    if key == emergency.key:
        log.info("[%s] emergency key during the greeting", call.linkedid)
        await route_to_queue(call, deps, emergency.value, emergency.category, key)
    elif not deps.hours.is_open(deps.clock()):
        await after_hours_flow(call, deps)
    else:
        await serve_menu(call, deps)


async def serve_menu(call: AgiChannel, deps: InboundDeps) -> None:
    """The menu until the caller is routed, served by a self-service, or silent."""
    navigator = Navigator(call, deps)
    while True:
        outcome = await navigator.choose()
        if isinstance(outcome, Silent):
            await no_input_goodbye(call)
            return
        if isinstance(outcome, GaveUp):
            await call.play(sound("fallback"))  # 正在为您转接人工服务
            queue = outcome.node.agent_queue
            await route_to_queue(call, deps, queue, AGENT_CATEGORY, outcome.path)
            return
        if await _serve(call, deps, outcome):
            return
        navigator.back()


async def _serve(call: AgiChannel, deps: InboundDeps, chosen: Chosen) -> bool:
    """Carry out the caller's choice; False when they went back to the menu."""
    node, option = chosen.node, chosen.option
    if option.kind is TargetKind.SELF_SERVICE:  # "bill" is the only one
        outcome = await bill_enquiry(call, deps)
        if outcome is BillOutcome.BACK:
            return False
        if outcome is BillOutcome.DONE:
            await goodbye(call, deps)
            return True
    queue = deps.menu.queue_of(node, option)
    await route_to_queue(call, deps, queue, option.category, chosen.path)
    return True
