"""Taking a callback request from a caller (after hours, or tired of waiting in a queue).

The request is stored for the dialer (merged with the number's open one, see
``ivr.callbacks``); the record learns of it through ``HOTLINE_CALLBACK_ID`` and the
``callback_requested`` disposition. A caller without a number, or a database that fails,
gets an apology instead, and the flow decides what follows.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from hotline.errors import DatabaseError
from ivr.agi import AgiChannel
from ivr.callbacks import NewCallback
from ivr.flows.common import VAR_CALLBACK_ID, VAR_DISPOSITION, sound
from ivr.flows.deps import InboundDeps

__all__ = ["request_callback"]

log = logging.getLogger(__name__)


async def request_callback(
    call: AgiChannel,
    deps: InboundDeps,
    *,
    queue: str,
    category: str,
    priority: int,
    position: int | None = None,
    queued_at: datetime | None = None,
    due_at: datetime | None = None,
) -> bool:
    """Store the request and confirm it to the caller; False (after an apology) if not."""
    if not call.caller:
        log.info("[%s] callback refused: no caller number", call.linkedid)
        await call.play(sound("callback-unavailable"))
        return False
    new = NewCallback(
        number=call.caller,
        linkedid=call.linkedid,
        queue=queue,
        category=category,
        priority=priority,
        position=position,
        queued_at=queued_at,
        due_at=due_at,
        requested_at=deps.clock(),
    )
    try:
        async with asyncio.timeout(deps.ivr.lookup_timeout_seconds):
            stored = await deps.callbacks.request(new)
    except (DatabaseError, TimeoutError) as exc:
        log.warning("[%s] callback request not stored: %s", call.linkedid, exc or "timeout")
        await call.play(sound("callback-failed"))
        return False
    await call.set_variable(VAR_CALLBACK_ID, str(stored.id))
    await call.set_variable(VAR_DISPOSITION, "callback_requested")
    log.info("[%s] callback request %s (merged %s)", call.linkedid, stored.id, stored.merge_count)
    await call.play(sound("callback-confirmed"))
    return True
