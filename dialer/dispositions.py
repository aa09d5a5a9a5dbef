"""Dispositions from AMI events: one tracker per attempt, pure code (no I/O, time passed in).

Verified on Asterisk 22 (Originate with ``ChannelId`` = attempt code, ``Async: true``): every
event of the customer's channel carries ``Uniqueid`` = ``Linkedid`` = the code, DialEnd
carries it as ``DestUniqueid``. What each fate looks like there:

=============  ==========================  ============  =======================
customer       DialEnd DialStatus          Hangup Cause  OriginateResponse
=============  ==========================  ============  =======================
answers        ANSWER                      (at the end)  Success, Reason 4
busy           BUSY                        17            Failure, Reason 0
no answer      (none; our ring timeout)    19            Failure, Reason 3
congestion     CONGESTION                  34            Failure, Reason 0
unallocated    NOANSWER                    1             Failure, Reason 0
=============  ==========================  ============  =======================

So the hangup cause decides first (it is the most specific), then the dial status, then
the OriginateResponse reason. The disposition is a pure function of all the evidence
(``disposition_of``), and the attempt is not judged before the evidence is in, whatever
order it arrives in. The channel's own events travel through Stasis and keep their order;
the OriginateResponse is raised by the originating thread and can overtake every one of
them, Newchannel included (seen under CPU load: a busy customer's Failure/Reason 0 came
before any channel event, and judging it then gave ``failed``). So an unanswered attempt is
final when both its Hangup and its OriginateResponse were seen; ``settle`` seconds after the
Hangup when no response comes; and a Failure with no channel event at all waits ``settle``
seconds for the channel before it is taken as "never created".

With AMD on, the dialplan sets ``HOTLINE_AMD=<AMDSTATUS>:<AMDCAUSE>[:person]`` before it
routes the call; MACHINE makes it ``answered_machine``, unless the campaign's policy took
the silence for a person (``:person``, ``amd_silence_is_human``). The attempt keeps
``<STATUS>:<CAUSE KIND>[:person]`` (``MACHINE:INITIALSILENCE:person``) for the AMD report.
``HOTLINE_OPTOUT=1`` anywhere in the call (any channel of its linkedid) marks the callee
for the DNC list; ``HOTLINE_RETRY=1``
(a flow that got no answer, or a customer who asked to be called later) makes an answered
call ``later``, which the campaign's retry rule schedules like any other disposition.

Agent-first calls (``HOTLINE_AGENT_FIRST=1``): the attempt's channel is the agent's, so
its answer is the agent's; the customer's leg reports ``HOTLINE_CUSTOMER_ANSWERED=1`` or
``HOTLINE_CUSTOMER_DIAL=<DIALSTATUS>``, and that decides the disposition (an agent who
hangs up before the customer is dialled makes it ``failed``; one who never answers,
``no_answer``, both retried by the campaign's rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from dialer.states import Disposition
from hotline.record_fields import parse_int, safe_word

__all__ = [
    "TRACKED_EVENTS",
    "AttemptTracker",
    "Signal",
    "amd_summary",
    "disposition_of",
    "event_code",
]

#: AMI events the dialer reads (all pass the hotline's manager.conf event filter).
TRACKED_EVENTS = ("Newchannel", "Newstate", "DialEnd", "Hangup", "OriginateResponse", "VarSet")

_CAUSES: dict[int, Disposition] = {
    1: Disposition.INVALID_NUMBER,  # unallocated number
    3: Disposition.INVALID_NUMBER,  # no route to destination
    22: Disposition.INVALID_NUMBER,  # number changed
    28: Disposition.INVALID_NUMBER,  # invalid number format
    17: Disposition.BUSY,
    18: Disposition.NO_ANSWER,  # no user responding
    19: Disposition.NO_ANSWER,  # user alerting, no answer
    20: Disposition.NO_ANSWER,  # subscriber absent
    21: Disposition.REJECTED,  # call rejected
    34: Disposition.CONGESTION,  # no circuit available
    38: Disposition.CONGESTION,  # network out of order
    41: Disposition.CONGESTION,  # temporary failure
    42: Disposition.CONGESTION,  # switching equipment congestion
    44: Disposition.CONGESTION,  # requested channel not available
    47: Disposition.CONGESTION,  # resource unavailable
}
_DIAL_STATUS: dict[str, Disposition] = {
    "BUSY": Disposition.BUSY,
    "NOANSWER": Disposition.NO_ANSWER,
    "CANCEL": Disposition.NO_ANSWER,
    "CONGESTION": Disposition.CONGESTION,
    "CHANUNAVAIL": Disposition.FAILED,
}
_REASONS: dict[int, Disposition] = {
    3: Disposition.NO_ANSWER,  # AST_CONTROL_RINGING: rang until our timeout
    5: Disposition.BUSY,
    8: Disposition.CONGESTION,
}
_UP = "6"


class Signal(Enum):
    """What an event changed for the engine: the call was answered, or the attempt is over."""

    ANSWERED = "answered"
    FINAL = "final"


def event_code(event: Mapping[str, str]) -> str:
    """The attempt code an event belongs to (its channel's Uniqueid; VarSet: the call's)."""
    if event.get("Event") == "VarSet":
        return event.get("Linkedid", "")
    return event.get("Uniqueid") or event.get("DestUniqueid") or ""


def _var(event: Mapping[str, str]) -> str:
    return safe_word(event.get("Variable", "").lstrip("_"))


@dataclass
class AttemptTracker:
    """The evidence about one attempt, gathered from its events in any order."""

    code: str
    settle: timedelta = timedelta(seconds=2)
    channel_seen: bool = False
    answered_at: datetime | None = None
    hangup_at: datetime | None = None
    cause: int | None = None
    dial_status: str = ""
    response: str = ""  # "Success" or "Failure" once the OriginateResponse arrived
    response_at: datetime | None = None
    reason: int | None = None
    amd: str = ""
    optout: bool = False
    retry: bool = False
    agent_first: bool = False  # the attempt's channel is the agent's; the customer is dialled
    customer_answered: bool = False
    customer_dial: str = ""  # the customer leg's DIALSTATUS (agent-first)
    final: bool = False

    def feed(self, event: Mapping[str, str], at: datetime) -> Signal | None:
        """Take one event (already known to be this attempt's); returns what it changed."""
        if self.final:
            return None
        name = event.get("Event", "")
        own = (event.get("Uniqueid") or event.get("DestUniqueid")) == self.code
        was_answered = self.answered_at is not None
        if name == "VarSet":
            variable = _var(event)
            value = event.get("Value", "")
            if variable == "HOTLINE_AMD":
                self.amd = amd_summary(value)
            elif variable == "HOTLINE_OPTOUT":
                self.optout = self.optout or value.strip() not in ("", "0")
            elif variable == "HOTLINE_RETRY":
                self.retry = value.strip() not in ("", "0")
            elif variable == "HOTLINE_AGENT_FIRST":
                self.agent_first = True
            elif variable == "HOTLINE_CUSTOMER_ANSWERED":
                self.customer_answered = True
            elif variable == "HOTLINE_CUSTOMER_DIAL":
                self.customer_dial = safe_word(value, 32).upper()
        elif not own:
            return None  # another channel of the call (a flow's own dial): not the customer
        elif name in ("Newchannel", "Newstate"):
            self.channel_seen = True
            if event.get("ChannelState") == _UP:
                self._answer(at)
        elif name == "DialEnd":
            self.dial_status = safe_word(event.get("DialStatus"), 32).upper()
            if self.dial_status == "ANSWER":
                self._answer(at)
        elif name == "OriginateResponse":
            self.response = "Success" if event.get("Response") == "Success" else "Failure"
            self.response_at = at
            self.reason = parse_int(event.get("Reason"))
            if self.response == "Success":
                self._answer(at)
        elif name == "Hangup":
            self.channel_seen = True
            self.hangup_at = at
            self.cause = parse_int(event.get("Cause"))
        return self._signal(was_answered, at)

    def adopt(self, row: Mapping[str, str], at: datetime) -> Signal | None:
        """A CoreShowChannel row of this attempt's channel: it is alive (maybe answered)."""
        was_answered = self.answered_at is not None
        self.channel_seen = True
        if row.get("ChannelState") == _UP or row.get("ChannelStateDesc", "").lower() == "up":
            self._answer(at)
        return self._signal(was_answered, at)

    def _answer(self, at: datetime) -> None:
        if self.answered_at is None:
            self.answered_at = at

    def _signal(self, was_answered: bool, at: datetime) -> Signal | None:
        if self._is_final(at):
            self.final = True
            return Signal.FINAL
        if self.answered_at is not None and not was_answered:
            return Signal.ANSWERED
        return None

    def _is_final(self, at: datetime) -> bool:
        if self.hangup_at is not None:
            if self.answered_at is not None or self.response:
                return True
            return at - self.hangup_at >= self.settle
        # A failed Originate with no channel event yet: its channel's events may still be on
        # their way (the response overtakes them); none within ``settle``: never created.
        return (
            self.response == "Failure"
            and not self.channel_seen
            and self.response_at is not None
            and at - self.response_at >= self.settle
        )

    def check(self, at: datetime) -> Signal | None:
        """Called on every tick: an unanswered hangup settles without its OriginateResponse,
        a failed response without any channel event."""
        if self.final:
            return None
        return self._signal(self.answered_at is not None, at)

    @property
    def disposition(self) -> Disposition:
        if self.agent_first and self.answered_at is not None:
            # the agent answered: what counts is the customer's leg
            if self.customer_answered:
                return Disposition.LATER if self.retry else Disposition.ANSWERED_HUMAN
            return _DIAL_STATUS.get(self.customer_dial, Disposition.FAILED)
        return disposition_of(
            answered=self.answered_at is not None,
            amd=self.amd,
            retry=self.retry,
            cause=self.cause,
            dial_status=self.dial_status,
            reason=self.reason,
        )


def amd_summary(value: str) -> str:
    """``MACHINE:INITIALSILENCE-2500-2500:person`` → ``MACHINE:INITIALSILENCE:person``."""
    status, _, rest = value.partition(":")
    cause, _, policy = rest.partition(":")
    parts = [safe_word(status, 16).upper(), safe_word(cause.partition("-")[0], 24).upper()]
    if policy == "person":
        parts.append("person")
    return ":".join(parts).rstrip(":")


def disposition_of(
    *,
    answered: bool,
    amd: str = "",
    retry: bool = False,
    cause: int | None,
    dial_status: str,
    reason: int | None,
) -> Disposition:
    """The disposition from the evidence: answer, AMD and the flow's retry wish, else cause,
    dial status, reason."""
    if answered:
        if amd.partition(":")[0] == "MACHINE" and not amd.endswith(":person"):
            return Disposition.ANSWERED_MACHINE
        return Disposition.LATER if retry else Disposition.ANSWERED_HUMAN
    if cause is not None and cause in _CAUSES:
        return _CAUSES[cause]
    if dial_status in _DIAL_STATUS:
        return _DIAL_STATUS[dial_status]
    if reason is not None and reason in _REASONS:
        return _REASONS[reason]
    if cause == 16:  # normal clearing before an answer: the callee hung up while ringing
        return Disposition.NO_ANSWER
    return Disposition.FAILED
