"""One call's holds as a pure state machine: events in, effects out, segments recorded.

The rules of the service standard: the agent asks before the caller waits (对不起,麻烦您稍等
片刻,好吗?); with consent ``ask`` the caller must press 1, otherwise they stay connected
and the agent hears a short tone; a held caller hears music with a reassurance every N s;
at the soft limit the agent is alerted, at the hard limit the caller is resumed without
them; on return the caller hears 对不起,让您久等了. A caller is never dropped because of a
hold: an agent who hangs up while the caller is held sends them back to the queue, at top
priority, with an apology.

A hold the agent's phone starts (SIP re-INVITE, seen as AMI Hold/Unhold) is only
observed: the phone, not the service, holds the media, so there is nothing to move;
it is recorded and alerted like the others, and its hard limit alerts once more.

No I/O and no clock of its own: time comes with every event, so every rule is tested from
tables. The caller of this code turns effects into AMI actions and segments into rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

__all__ = [
    "Effect",
    "HoldCall",
    "HoldLimits",
    "HoldOutcome",
    "HoldPhase",
    "HoldSegment",
    "HoldTrigger",
]


class HoldTrigger(StrEnum):
    FEATURE_CODE = "feature_code"  # the agent's keypad (features.conf applicationmap)
    API = "api"
    PHONE = "phone"  # the agent's phone put the call on hold (AMI Hold/Unhold)


class HoldOutcome(StrEnum):
    RESUMED = "resumed"
    AUTO_RESUMED = "auto_resumed"  # the hard limit
    REQUEUED = "requeued"  # the agent hung up while the caller was held
    CALLER_HUNG_UP = "caller_hung_up"


class HoldPhase(StrEnum):
    CONNECTED = "connected"
    ASKING = "asking"  # consent ``ask``: waiting for the caller's 1
    HELD = "held"
    ENDED = "ended"


Effect = Literal[
    "ask_consent",  # the caller hears the request and may press 1 (consent ``ask``)
    "announce_hold",  # the caller hears the request, then holds (consent ``announce``)
    "move_to_hold",  # caller to the hold context (music, reassurance), agent to waiting
    "tone_to_agent",  # consent refused: the agent hears a short tone, the call goes on
    "alert_agent",  # a limit was reached: tone to the agent and an API event
    "rejoin",  # the caller hears 对不起,让您久等了 and is bridged back to the agent
    "requeue",  # the caller goes back to the queue at top priority, with an apology
    "free_agent",  # the caller is gone: the agent's waiting leg is released
]


@dataclass(frozen=True, slots=True)
class HoldLimits:
    consent: Literal["announce", "ask"] = "announce"
    soft_seconds: float = 60.0
    hard_seconds: float = 180.0

    def __post_init__(self) -> None:
        if not 0 < self.soft_seconds <= self.hard_seconds:
            raise ValueError("hold limits: 0 < soft_seconds <= hard_seconds")


@dataclass(slots=True)
class HoldSegment:
    """One hold, as its row will say."""

    started_at: datetime
    started_by: str
    trigger: HoldTrigger
    ended_at: datetime | None = None
    outcome: HoldOutcome | None = None
    alerted: bool = False  # the soft limit was reached: a hold over the limit

    @property
    def seconds(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(slots=True)
class HoldCall:
    """The holds of one call between a caller and an agent."""

    limits: HoldLimits = field(default_factory=HoldLimits)
    phase: HoldPhase = HoldPhase.CONNECTED
    segments: list[HoldSegment] = field(default_factory=list)
    _asked: tuple[str, HoldTrigger] | None = None
    _hard_alerted: bool = False

    @property
    def current(self) -> HoldSegment | None:
        return self.segments[-1] if self.phase is HoldPhase.HELD else None

    @property
    def asked(self) -> tuple[str, HoldTrigger] | None:
        """Who asked and how, while the caller's consent is awaited."""
        return self._asked

    @property
    def hold_count(self) -> int:
        return len(self.segments)

    def hold_seconds(self, now: datetime) -> float:
        """Seconds held so far, the running hold counted up to ``now``."""
        return sum(((s.ended_at or now) - s.started_at).total_seconds() for s in self.segments)

    def request(self, at: datetime, by: str, trigger: HoldTrigger) -> list[Effect]:
        """The agent (or their phone) asks to hold; ignored unless connected."""
        if self.phase is not HoldPhase.CONNECTED:
            return []
        if trigger is HoldTrigger.PHONE:
            self._start(at, by, trigger)
            return []
        if self.limits.consent == "ask":
            self.phase, self._asked = HoldPhase.ASKING, (by, trigger)
            return ["ask_consent"]
        self._start(at, by, trigger)
        return ["announce_hold", "move_to_hold"]

    def consent(self, at: datetime, accepted: bool) -> list[Effect]:
        """The caller's answer to the request (consent ``ask``)."""
        if self.phase is not HoldPhase.ASKING or self._asked is None:
            return []
        by, trigger = self._asked
        self._asked = None
        if not accepted:
            self.phase = HoldPhase.CONNECTED
            return ["tone_to_agent"]
        self._start(at, by, trigger)
        return ["move_to_hold"]

    def resume(self, at: datetime) -> list[Effect]:
        """The agent takes the caller back (feature code again, API, or Unhold)."""
        segment = self.current
        if segment is None:
            return []
        self._end(at, HoldOutcome.RESUMED)
        return [] if segment.trigger is HoldTrigger.PHONE else ["rejoin"]

    def tick(self, now: datetime) -> list[Effect]:
        """Limits: alert at the soft one; resume (or alert again) at the hard one."""
        segment = self.current
        if segment is None:
            return []
        held = (now - segment.started_at).total_seconds()
        if held >= self.limits.hard_seconds:
            if segment.trigger is not HoldTrigger.PHONE:
                self._end(now, HoldOutcome.AUTO_RESUMED)
                return ["rejoin"]
            if not self._hard_alerted:
                self._hard_alerted = True
                return ["alert_agent"]
            return []
        if held >= self.limits.soft_seconds and not segment.alerted:
            segment.alerted = True
            return ["alert_agent"]
        return []

    def agent_hung_up(self, at: datetime) -> list[Effect]:
        """The agent left: a held caller goes back to the queue, never dropped."""
        if self.phase is HoldPhase.ASKING:
            self.phase, self._asked = HoldPhase.ENDED, None
            return []  # the caller was still connected: the queue's own rules apply
        if self.current is None:
            self.phase = HoldPhase.ENDED
            return []
        self._end(at, HoldOutcome.REQUEUED)
        self.phase = HoldPhase.ENDED
        return ["requeue"]

    def caller_hung_up(self, at: datetime) -> list[Effect]:
        """The caller left: recorded; an agent waiting for them is freed."""
        held = self.current
        self.phase, self._asked = HoldPhase.ENDED, None
        if held is None:
            return []
        held.ended_at, held.outcome = at, HoldOutcome.CALLER_HUNG_UP
        return [] if held.trigger is HoldTrigger.PHONE else ["free_agent"]

    def _start(self, at: datetime, by: str, trigger: HoldTrigger) -> None:
        self.segments.append(HoldSegment(at, by, trigger))
        self.phase, self._hard_alerted = HoldPhase.HELD, False

    def _end(self, at: datetime, outcome: HoldOutcome) -> None:
        segment = self.segments[-1]
        segment.ended_at, segment.outcome = at, outcome
        self.phase = HoldPhase.CONNECTED
