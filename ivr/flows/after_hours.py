"""Outside business hours: say the hours, offer a callback, keep the emergency key live.

The caller hears 现在是非人工服务时间 and the opening hours, then the offer: the
emergency key (the same as in the menu) still reaches the emergency queue, the callback
key leaves a request due when the hotline next opens, repeat says the hours again.
Silence ends the call politely: the caller heard what they called for, so this is
``after_hours``, not ``no_input``. Every prompt can be interrupted by those keys.
"""

from __future__ import annotations

import logging

from ivr.agi import AgiChannel
from ivr.flows.callback import request_callback
from ivr.flows.common import VAR_DISPOSITION, goodbye, route_to_queue, sound
from ivr.flows.deps import InboundDeps
from ivr.flows.speech import Play, hours_speech, speak

__all__ = ["AFTER_HOURS_CATEGORY", "after_hours_flow"]

log = logging.getLogger(__name__)

AFTER_HOURS_CATEGORY = "after-hours"


async def after_hours_flow(call: AgiChannel, deps: InboundDeps) -> None:
    menu, ivr = deps.menu, deps.ivr
    emergency = menu.emergency
    await call.set_variable(VAR_DISPOSITION, "after_hours")
    log.info("[%s] after hours", call.linkedid)
    keys = emergency.key + menu.callback_key + menu.repeat_key
    message = [Play("after-hours"), *hours_speech(deps.hours)]
    key = await speak(call, message, keys)
    silent = wrong = 0
    while True:
        if not key:
            prompt = sound("after-hours-offer")
            key = await call.read_digits(prompt, ivr.digit_timeout_seconds, 1)
        if key == emergency.key:
            await call.set_variable(VAR_DISPOSITION, "")  # served after all, not after_hours
            queue = emergency.value
            await route_to_queue(call, deps, queue, emergency.category, emergency.key)
            return
        if key == menu.callback_key:
            await _callback(call, deps)
            return
        if key == menu.repeat_key:
            key = await speak(call, hours_speech(deps.hours), keys)
            continue
        if not key:
            silent += 1
            if silent > ivr.no_input_retries:
                await goodbye(call, deps)
                return
            continue
        wrong += 1
        if wrong > ivr.invalid_retries:
            await goodbye(call, deps)
            return
        await call.play(sound("invalid-key"))
        key = ""


async def _callback(call: AgiChannel, deps: InboundDeps) -> None:
    """A request due at the next opening, for the main menu's agent queue."""
    now = deps.clock()
    queue = deps.menu.main.agent_queue
    await request_callback(
        call,
        deps,
        queue=queue,
        category=AFTER_HOURS_CATEGORY,
        priority=deps.priority(queue),
        due_at=deps.hours.next_opening(now),
    )
    await goodbye(call, deps)
