"""After the agent hangs up: 请您对这次服务评分 (a score from 1 to 10).

One key press: 1-9 are those scores and 0 means 10; the prompt says so. The score goes
into ``HOTLINE_SCORE`` (the record links it to the agent and the call). An invalid key or
silence asks once more; a second miss leaves no score, which the record builder reports
as ``not_scored``, as it does for a caller who hangs up (``AgiHangup``: nothing is set).
"""

from __future__ import annotations

import logging

from ivr.agi import AgiChannel
from ivr.courtesy import goodbye_prompt
from ivr.flows.common import VAR_RESULT, VAR_SCORE, goodbye, sound
from ivr.flows.deps import InboundDeps

__all__ = ["SCORE_ATTEMPTS", "score_flow", "score_from_key"]

log = logging.getLogger(__name__)

SCORE_ATTEMPTS = 2


def score_from_key(key: str) -> int | None:
    """``"1"``-``"9"`` → 1-9, ``"0"`` → 10, anything else → None."""
    if len(key) != 1 or not "0" <= key <= "9":
        return None
    return int(key) or 10


async def score_flow(call: AgiChannel, deps: InboundDeps) -> None:
    for attempt in range(1, SCORE_ATTEMPTS + 1):
        key = await call.read_digits(sound("score"), deps.ivr.digit_timeout_seconds, 1)
        score = score_from_key(key)
        if score is not None:
            # one round trip: the flow's result is known with the score
            await call.set_variables({VAR_SCORE: str(score), VAR_RESULT: "done"})
            log.info("[%s] score %s", call.linkedid, score)
            thanks = goodbye_prompt(deps.hours, deps.clock(), "score-thanks")
            await call.play(sound(thanks))
            return
        log.info("[%s] no valid score (attempt %s: %r)", call.linkedid, attempt, key)
        if key and attempt < SCORE_ATTEMPTS:
            await call.play(sound("invalid-key"))
    await goodbye(call, deps)
