"""What holds add to a call's story: segments from the hold dialplan and the agent's phone.

Part of the record pipeline's interpretation step. The hold dialplan
(``dialplans/dialplan-hold.conf``) reports through HOTLINE_HOLD (held, then resumed,
auto_resumed or requeued; refused when the caller said no), after the service has set
HOTLINE_HOLD_BY and HOTLINE_HOLD_TRIGGER; a hold started by the agent's phone is an AMI
Hold/Unhold pair on the agent's leg. Both come from Asterisk, not from the service's
memory, so a hold that spans a service crash is still recorded (the variables are on every
channel snapshot and in the stored timeline).

A finished hold becomes one ``hold_segment`` timeline entry; the repository also stores it
as a ``hold_segments`` row. The record keeps the totals (``hold_count``, ``hold_seconds``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from hotline.callrecord import CallRecord
from hotline.record_fields import safe_token, safe_word

__all__ = ["HOLD_OUTCOMES", "HOLD_VARS", "HoldState"]

HOLD_VARS = frozenset({"HOTLINE_HOLD", "HOTLINE_HOLD_BY", "HOTLINE_HOLD_TRIGGER"})
HOLD_OUTCOMES = frozenset({"resumed", "auto_resumed", "requeued", "caller_hung_up"})
_TRIGGERS = frozenset({"feature_code", "api", "phone"})
_STATES = frozenset({"held", "refused"}) | HOLD_OUTCOMES


class Note(Protocol):
    """``CallState.note``: queue a timeline entry."""

    def __call__(self, at: datetime, kind: str, channel: str = "", **detail: Any) -> None: ...


@dataclass(slots=True)
class _Open:
    number: int
    started_at: datetime
    started_by: str
    trigger: str
    channel: str


def _seconds(start: datetime, end: datetime) -> float:
    return round(max((end - start).total_seconds(), 0.0), 3)


@dataclass(slots=True)
class HoldState:
    """The holds of one tracked call."""

    by: str = ""  # HOTLINE_HOLD_BY: who asked for the next hold
    trigger: str = ""  # HOTLINE_HOLD_TRIGGER
    open: _Open | None = None
    rejoining: bool = False  # resumed or refused: the next bridge is the agent's leg again

    def apply_var(
        self, record: CallRecord, note: Note | None, name: str, raw: str, channel: str, at: datetime
    ) -> tuple[str, bool]:
        """One of ``HOLD_VARS``; ``note`` None: replaying a stored timeline (totals kept)."""
        if name == "HOTLINE_HOLD_BY":
            self.by = safe_token(raw, 32)
            return self.by, True
        if name == "HOTLINE_HOLD_TRIGGER":
            value = safe_word(raw, 16).lower()
            valid = value in _TRIGGERS
            self.trigger = value if valid else self.trigger
            return value, valid
        value = safe_word(raw, 16).lower()
        if value not in _STATES:
            return value, False
        if value == "held":
            self._start(record, note, channel, at, self.by or record.agent, self.trigger)
        elif value == "refused":
            self.rejoining = True
        else:
            self.rejoining = value != "requeued"
            self._end(record, note, at, value)
        return value, True

    def phone(self, record: CallRecord, note: Note, name: str, channel: str, at: datetime) -> None:
        """AMI Hold/Unhold on the agent's leg: the agent's phone held the caller."""
        if name == "Hold" and self.open is None:
            self._start(record, note, channel, at, record.agent, "phone")
        elif name == "Unhold" and self.open is not None and self.open.trigger == "phone":
            self._end(record, note, at, "resumed")

    def close(self, record: CallRecord, note: Note, at: datetime) -> None:
        """The call ended: a hold still open ended with the caller hanging up."""
        self._end(record, note, at, "caller_hung_up")

    def _start(
        self,
        record: CallRecord,
        note: Note | None,
        channel: str,
        at: datetime,
        by: str,
        trigger: str,
    ) -> None:
        if self.open is not None:
            return  # already held (a repeated variable, or a phone hold inside ours)
        if note is not None:
            record.hold_count += 1
        # one hold is open at a time, the latest: replayed, the stored count already has it
        number = record.hold_count
        self.open = _Open(number, at, by, trigger or "feature_code", channel)
        self.by, self.trigger = "", ""

    def _end(self, record: CallRecord, note: Note | None, at: datetime, outcome: str) -> None:
        segment, self.open = self.open, None
        if segment is None or note is None:
            return
        seconds = _seconds(segment.started_at, at)
        record.hold_seconds = round(record.hold_seconds + seconds, 3)
        note(
            at,
            "hold_segment",
            segment.channel,
            number=segment.number,
            started_at=segment.started_at.isoformat(),
            ended_at=at.isoformat(),
            seconds=seconds,
            agent=record.agent,
            started_by=segment.started_by,
            trigger=segment.trigger,
            outcome=outcome,
        )
