"""The caller has waited ``callback_after_seconds`` in a queue: a callback, or keep waiting.

1 stores a callback request that keeps the caller's place: the queue, its priority, the
position Queue() reported in ``QUEUEPOSITION`` when it let the caller go and when the
caller first joined the queue (the dialplan's ``QUEUED_AT``); a repeat
from the same number folds into the open request. Then a confirmation, goodbye, ``done``.
Any other key, silence, or a request that cannot be stored: ``requeue``, and the dialplan
puts the caller back in front of the same queue.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

from ivr.agi import AgiChannel
from ivr.flows.callback import request_callback
from ivr.flows.common import VAR_CATEGORY, VAR_PRIORITY, VAR_QUEUE, finish, goodbye, sound
from ivr.flows.deps import InboundDeps

__all__ = ["CALLBACK_KEY", "queue_timeout_flow"]

log = logging.getLogger(__name__)

CALLBACK_KEY = "1"
VAR_QUEUED_AT = "QUEUED_AT"  # set by the dialplan when the caller first joins the queue
_CATEGORY = re.compile(r"[^a-z0-9-]")


def _joined(value: str | None, now: datetime) -> datetime | None:
    """``QUEUED_AT`` (the dialplan's epoch seconds at the first join), if it is plausible."""
    seconds = _int(value if value and len(value) <= 12 else None, digits=12)
    if seconds is None:
        return None
    joined = datetime.fromtimestamp(seconds, UTC)
    return joined if now - timedelta(days=1) <= joined <= now else None


def _int(value: str | None, digits: int = 6) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= digits else None


async def queue_timeout_flow(call: AgiChannel, deps: InboundDeps) -> None:
    prompt = sound("queue-callback-offer")
    key = await call.read_digits(prompt, deps.ivr.digit_timeout_seconds, 1)
    if key != CALLBACK_KEY:
        log.info("[%s] queue timeout: keeps waiting (%r)", call.linkedid, key)
        await finish(call, "requeue")
        return
    queue = await call.get_variable(VAR_QUEUE) or ""
    queue = queue if queue in deps.queues.names() else ""
    category = _CATEGORY.sub("", (await call.get_variable(VAR_CATEGORY) or "").lower())[:32]
    priority = _int(await call.get_variable(VAR_PRIORITY))
    position = _int(await call.get_variable("QUEUEPOSITION"))
    queued_at = _joined(await call.get_variable(VAR_QUEUED_AT), deps.clock())
    stored = await request_callback(
        call,
        deps,
        queue=queue,
        category=category,
        priority=deps.priority(queue) if priority is None else priority,
        position=position or None,  # 0 would mean "served", never a place in the line
        queued_at=queued_at,
    )
    if stored:
        await goodbye(call, deps)
    else:
        await finish(call, "requeue")
