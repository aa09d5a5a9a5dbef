"""The foundation inbound flow: collect keypad digits, read them back, say goodbye.

The dialplan has already answered and greeted the caller; this flow proves the FastAGI
path end to end until the IVR menu (inbound issue) replaces it. It marks the call handled
(``HOTLINE_FLOW_RESULT=done``) only at the end, so a failure anywhere before that sends the
caller to the dialplan's fallback queue instead of dead air.
"""

from __future__ import annotations

import logging

from ivr.agi import AgiChannel

__all__ = ["MAX_DIGITS", "hotline_flow"]

log = logging.getLogger(__name__)

MAX_DIGITS = 16
DIGIT_TIMEOUT_SECONDS = 6.0


async def hotline_flow(call: AgiChannel) -> None:
    await call.set_variable("HOTLINE_FLOW", "hotline")
    digits = await call.read_digits("hotline/enter-digits", DIGIT_TIMEOUT_SECONDS, MAX_DIGITS)
    log.info("[%s] caller entered %d digits", call.linkedid, len(digits))
    if digits:
        await call.set_variable("HOTLINE_INPUT", digits)
        await call.play("hotline/you-entered")
        await call.say_digits(digits)
    await call.play("hotline/goodbye")
    await call.set_variable("HOTLINE_FLOW_RESULT", "done")
