"""The live feed: changes to calls, queues, agents and campaigns, fanned out to dashboards.

Producers (the record builder's updates, AMI queue and member events, the dialer's
in-memory campaign state) call ``publish``, which never blocks and never waits on the
database: each subscriber has a bounded queue, and one that falls ``MAX_BEHIND`` events
behind is dropped (its stream ends; the dashboard reconnects and gets a fresh snapshot)
rather than slowing the AMI reader for everyone.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

__all__ = ["MAX_BEHIND", "LiveEvent", "LiveHub", "Subscription", "call_payload"]

log = logging.getLogger(__name__)

MAX_BEHIND = 1000
LiveEvent = tuple[int, str, str, bytes]  # id, kind, JSON data, the SSE frame


class _Subscriber:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[LiveEvent | None] = asyncio.Queue(MAX_BEHIND)
        self.dropped = False


class LiveHub:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._subscribers: set[_Subscriber] = set()
        self._ids = itertools.count(1)
        self.published = 0
        self.dropped = 0

    @property
    def clients(self) -> int:
        return len(self._subscribers)

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        if not self._subscribers:
            return
        number = next(self._ids)
        text = json.dumps(data | {"at": self._clock()}, ensure_ascii=False)
        # the frame is made once here, not once per dashboard
        frame = f"id: {number}\nevent: {kind}\ndata: {text}\n\n".encode()
        event = (number, kind, text, frame)
        self.published += 1
        for subscriber in list(self._subscribers):
            try:
                subscriber.queue.put_nowait(event)
            except asyncio.QueueFull:
                self._drop(subscriber)

    def _drop(self, subscriber: _Subscriber) -> None:
        self._subscribers.discard(subscriber)
        subscriber.dropped = True
        self.dropped += 1
        while not subscriber.queue.empty():  # make room for the end marker
            subscriber.queue.get_nowait()
        subscriber.queue.put_nowait(None)
        log.warning("live: a dashboard fell %d events behind and was dropped", MAX_BEHIND)

    def stream(self, keepalive: float = 15.0) -> Subscription:
        """Subscribe now (so a snapshot taken after this misses nothing); iterate it for
        the events, ``close`` it when done."""
        subscriber = _Subscriber()
        self._subscribers.add(subscriber)
        return Subscription(self, subscriber, keepalive)

    def _leave(self, subscriber: _Subscriber) -> None:
        self._subscribers.discard(subscriber)


class Subscription:
    """One dashboard's events as they come; None every ``keepalive`` s with nothing to
    send. Ends when the subscriber is dropped or closed."""

    def __init__(self, hub: LiveHub, subscriber: _Subscriber, keepalive: float) -> None:
        self._hub = hub
        self._subscriber = subscriber
        self._keepalive = keepalive
        self._closed = False

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> LiveEvent | None:
        if self._closed:
            raise StopAsyncIteration
        queue = self._subscriber.queue
        if queue.empty():  # only then a timed wait (wait_for costs a task each time)
            try:
                event = await asyncio.wait_for(queue.get(), self._keepalive)
            except TimeoutError:
                return None
        else:
            event = queue.get_nowait()
        if event is None:  # dropped
            self.close()
            raise StopAsyncIteration
        return event

    def ready(self) -> list[LiveEvent]:
        """The events already waiting, without waiting (to write a burst in one go)."""
        queue, found = self._subscriber.queue, []
        while not queue.empty():
            event = queue.get_nowait()
            if event is None:  # dropped: the next __anext__ ends the stream
                queue.put_nowait(None)
                break
            found.append(event)
        return found

    def close(self) -> None:
        self._closed = True
        self._hub._leave(self._subscriber)

    async def aclose(self) -> None:
        self.close()


def call_payload(record: Any, final: bool, held_since: datetime | None = None) -> dict[str, Any]:
    """What a dashboard shows of a call (a ``CallRecord`` snapshot): ``held_since`` is the
    start of the hold the caller is in now."""
    return {
        "linkedid": record.linkedid,
        "direction": record.direction.value,
        "caller": record.caller,
        "called": record.called,
        "started_at": record.started_at.isoformat(),
        "answered": record.answered_at is not None,
        "queue": record.queue,
        "agent": record.agent,
        "wait_seconds": record.wait_seconds,
        "hold_count": record.hold_count,
        "held_since": None if held_since is None else held_since.isoformat(),
        "flow": record.flow,
        "disposition": str(record.disposition),
        "final": final,
    }
