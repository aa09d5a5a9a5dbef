"""When a queue callback may be dialled: its caller keeps their place in the line.

A caller who asked to be called back leaves the queue, but not their turn. Their place is
when they first joined the queue (``queued_at``; an agent's promise or an after-hours
request has its due time, else its request time). The request is dialled when

* nobody who was ahead of that place still waits (callers who joined earlier, and open
  callbacks of the same queue with an earlier place), and an agent of the queue is
  logged in and not paused: the customer answers, joins at the front (the callbacks'
  ``queue_priority``) and takes the next agent, ahead of everyone who came later; or
* more agents are free than callers ahead of it: each of those gets an agent anyway.

So an agent's next free moment never goes to a callback while a caller who was ahead of
it waits, and a callback never waits behind callers who came after it. Pure code: the
queue's state comes from Asterisk's ``QueueStatus`` (``queue_view``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["QueueView", "may_dial", "place_of", "view_of"]

_IDLE = 1  # Asterisk device state "not in use"
_GONE = frozenset({4, 5})  # invalid, unavailable


@dataclass(frozen=True)
class QueueView:
    """One queue now: agents logged in and not paused, those free, the waiting callers."""

    staffed: int
    free: int
    joined: tuple[datetime, ...]  # when each waiting caller joined


def place_of(
    queued_at: datetime | None, due_at: datetime | None, requested_at: datetime
) -> datetime:
    """The request's place in its queue's line."""
    return queued_at or due_at or requested_at


def may_dial(place: datetime, view: QueueView, earlier_callbacks: int) -> bool:
    """Dial the callback whose place is ``place`` now? (``earlier_callbacks``: open ones of
    the same queue with an earlier place, dialled or about to be.)"""
    if view.staffed == 0:
        return False
    ahead = sum(1 for joined in view.joined if joined < place) + earlier_callbacks
    return ahead == 0 or view.free > ahead


def _int(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def view_of(
    rows: Iterable[Mapping[str, str]], now: datetime, wrapup_seconds: int, queue: str
) -> QueueView:
    """``queue``'s view from a ``QueueStatus`` answer's ``QueueMember``/``QueueEntry`` rows;
    an agent still in wrap-up (``LastCall`` + ``wrapup_seconds``) is not free yet."""
    staffed = free = 0
    joined: list[datetime] = []
    for row in rows:
        if row.get("Queue") != queue:
            continue
        event = row.get("Event")
        if event == "QueueEntry":
            wait = _int(row.get("Wait"))
            joined.append(now - timedelta(seconds=wait or 0))
        elif event == "QueueMember":
            status = _int(row.get("Status"))
            if row.get("Paused") == "1" or status in _GONE:
                continue
            staffed += 1
            last = _int(row.get("LastCall")) or 0
            wrapped = now.timestamp() - last >= wrapup_seconds
            if status == _IDLE and row.get("InCall") != "1" and wrapped:
                free += 1
    return QueueView(staffed, free, tuple(sorted(joined)))
