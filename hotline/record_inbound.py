"""What the inbound hotline adds to a call's story: IVR variables, the queue, the agent.

Part of the record pipeline's interpretation step, kept beside ``hotline.record_call``
so each reads as one story. The IVR flows report through HOTLINE_* variables (menu path,
category, queue, score), the dialplan through HOTLINE_RINGS (set right after Answer(),
so it also marks a call that entered the IVR), app_queue through its caller and agent
events.

Queue and agent times live here, not on the record: a service restart in the middle of
a queue wait loses them, and the record then leaves a wait or talk time it could not
measure as None rather than guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from hotline.callrecord import CallRecord, Direction, Disposition, ScoreStatus
from hotline.record_fields import (
    agent_id,
    parse_int,
    safe_path,
    safe_text,
    safe_token,
    safe_word,
)

__all__ = [
    "AGENT_EVENTS",
    "INBOUND_VARS",
    "ONCALL_PREFIX",
    "OVERFLOW_VAR",
    "QUEUE_EVENTS",
    "InboundState",
]

MAX_SCORE = 10
MAX_RINGS = 10
QUEUE_EVENTS = frozenset({"QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon"})
_AGENT_KINDS = {
    "AgentCalled": "agent_called",
    "AgentRingNoAnswer": "agent_no_answer",
    "AgentConnect": "agent_connect",
    "AgentComplete": "agent_complete",
    "AgentDump": "agent_dump",
}
AGENT_EVENTS = frozenset(_AGENT_KINDS)
INBOUND_VARS = frozenset(
    {
        "HOTLINE_MENU_PATH",
        "HOTLINE_CATEGORY",
        "HOTLINE_QUEUE",
        "HOTLINE_FLOW_RESULT",
        "HOTLINE_SCORE",
        "HOTLINE_RINGS",
    }
)
OVERFLOW_VAR = "HOTLINE_OVERFLOW"  # the emergency overflow: ringing:N, answered:N, unanswered
ONCALL_PREFIX = "oncall-"  # the record's agent when an on-call number took the caller


class Note(Protocol):
    """``CallState.note``: queue a timeline entry."""

    def __call__(self, at: datetime, kind: str, channel: str = "", **detail: Any) -> None: ...


def _seconds(start: datetime, end: datetime) -> float:
    return round(max((end - start).total_seconds(), 0.0), 3)


@dataclass(slots=True)
class InboundState:
    """The IVR, queue and agent side of one tracked call."""

    flow_done: bool = False  # a flow said what to do next (HOTLINE_FLOW_RESULT non-empty)
    queued_at: datetime | None = None  # first QueueCallerJoin
    in_queue: bool = False
    connected_at: datetime | None = None  # the agent leg that is up now
    agent_channel: str = ""  # the connected agent's channel (AgentConnect's DestChannel)
    agent_took: bool = False  # an agent connected at some point

    def apply_var(self, record: CallRecord, name: str, raw: str) -> tuple[str, bool]:
        """One of ``INBOUND_VARS``; returns the value kept and whether it was understood."""
        if name == "HOTLINE_MENU_PATH":
            record.menu_path = safe_path(raw)
            return record.menu_path, True
        if name == "HOTLINE_CATEGORY":
            record.category = safe_text(raw)
            return record.category, True
        if name == "HOTLINE_QUEUE":
            value = safe_token(raw, 32)
            record.queue = value or record.queue
            return value, True
        if name == "HOTLINE_FLOW_RESULT":
            value = safe_word(raw, 32)
            self.flow_done = self.flow_done or bool(value)
            return value, True
        number = parse_int(raw)
        if name == "HOTLINE_SCORE":
            if not raw.strip():
                return "", True  # asked, nothing entered: not_scored is decided at the end
            if number is None or not 1 <= number <= MAX_SCORE:
                return safe_text(raw, 8), False
            record.score, record.score_status = number, ScoreStatus.SCORED
            return str(number), True
        # HOTLINE_RINGS
        if number is None or not 0 <= number <= MAX_RINGS:
            return safe_text(raw, 8), False
        record.rings_before_answer = number
        return str(number), True

    def apply_overflow(self, record: CallRecord, raw: str, at: datetime) -> tuple[str, bool]:
        """``HOTLINE_OVERFLOW``: an on-call number that answered takes the call like an agent
        (answered; its talk time counted; the record's agent ``oncall-<number>``)."""
        state, _, number = raw.partition(":")
        number = "".join(ch for ch in number if ch.isascii() and ch.isdigit())[:20]
        if state in ("ringing", "answered") and number:
            if state == "answered":
                record.agent = f"{ONCALL_PREFIX}{number}"
                if not self.agent_took and self.queued_at is not None:
                    record.wait_seconds = _seconds(self.queued_at, at)
                self.agent_took = True
                self.connected_at = self.connected_at or at
            return f"{state}:{number}", True
        if raw == "unanswered":
            return raw, True
        return safe_text(raw, 32), False

    def queue_event(
        self, record: CallRecord, note: Note, name: str, event: Mapping[str, str], at: datetime
    ) -> None:
        """The caller joins, leaves or abandons a queue: the queue and the wait."""
        queue = safe_token(event.get("Queue"), 32)
        channel = safe_token(event.get("Channel"))
        position = parse_int(event.get("Position"))
        if name == "QueueCallerJoin":
            record.queue = queue or record.queue
            self.queued_at = self.queued_at or at
            self.in_queue = True
            note(at, "queue_join", channel, queue=queue, position=position)
            return
        if name == "QueueCallerAbandon":
            held = parse_int(event.get("HoldTime"))
            note(at, "queue_abandon", channel, queue=queue, position=position, hold=held)
        else:
            note(at, "queue_leave", channel, queue=queue)
        self.in_queue = False
        if not self.agent_took and self.queued_at is not None:
            record.wait_seconds = _seconds(self.queued_at, at)

    def agent_event(
        self, record: CallRecord, note: Note, name: str, event: Mapping[str, str], at: datetime
    ) -> None:
        """Queue members rung, connected and done: the agent, the wait and the talk time."""
        agent = agent_id(event.get("Interface"), event.get("MemberName"))
        detail: dict[str, Any] = {"agent": agent, "queue": safe_token(event.get("Queue"), 32)}
        if name == "AgentConnect":
            record.agent = agent
            if not self.agent_took and self.queued_at is not None:
                record.wait_seconds = _seconds(self.queued_at, at)
            self.agent_took = True
            self.connected_at = at
            self.agent_channel = safe_token(event.get("DestChannel"))
        elif name == "AgentComplete":
            self.end_agent_leg(record, at)
            detail["reason"] = safe_word(event.get("Reason"), 16)
        elif name == "AgentRingNoAnswer":
            detail["ring_ms"] = parse_int(event.get("RingTime"))
        note(at, _AGENT_KINDS[name], safe_token(event.get("DestChannel")), **detail)

    def end_agent_leg(self, record: CallRecord, at: datetime) -> None:
        """Add the agent leg that is up to the talk time (at AgentComplete or the end)."""
        if self.connected_at is None:
            return
        talked = _seconds(self.connected_at, at)
        record.talk_seconds = round((record.talk_seconds or 0.0) + talked, 3)
        self.connected_at = None

    def close(self, record: CallRecord, at: datetime) -> None:
        """The call ended: close an open wait or agent leg and settle the score status."""
        self.end_agent_leg(record, at)
        if self.in_queue and not self.agent_took and self.queued_at is not None:
            record.wait_seconds = _seconds(self.queued_at, at)
        if self.agent_took and record.score is None:
            record.score_status = ScoreStatus.NOT_SCORED

    def disposition(
        self, record: CallRecord, override: Disposition | None, *, estimated: bool
    ) -> Disposition | None:
        """The inbound outcome by the precedence on ``Disposition``; None: not decided here."""
        if self.agent_took:
            return Disposition.ANSWERED
        if override is not None:
            return override
        ivr = record.direction is Direction.INBOUND and record.rings_before_answer is not None
        if record.answered_at is None or not ivr or estimated:
            return None
        if self.queued_at is not None:
            return Disposition.ABANDONED_QUEUE
        if not self.flow_done:
            return Disposition.ABANDONED_IVR
        return None
