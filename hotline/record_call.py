"""One call's state while the builder tracks it: its channels, variables and pending entries.

The interpretation step of the record pipeline: it knows what an event means for a call
(a channel appears, goes Up, hangs up; a HOTLINE_* variable pins a field) and derives the
record's fields from the call's first real channel; the inbound hotline's part (IVR
variables, queue, agent) is in ``hotline.record_inbound``. Routing events to calls, deciding when
to write and reconciling after AMI gaps stay in ``hotline.records``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.callrecord import CallRecord, Direction, Disposition, RecordSource, TimelineEntry
from hotline.record_fields import (
    channel_is_up,
    channel_variables,
    is_local,
    parse_int,
    safe_digits,
    safe_number,
    safe_text,
    safe_token,
    safe_word,
)
from hotline.record_hold import HOLD_VARS, HoldState
from hotline.record_inbound import INBOUND_VARS, OVERFLOW_VAR, InboundState
from hotline.recordings.files import RECORDING_VAR, safe_recording_name

__all__ = ["RECORD_VARS", "CallState", "ChannelState", "var_name"]

logger = logging.getLogger(__name__)

_CORE_VARS = frozenset(
    {
        "HOTLINE_DID",
        "HOTLINE_CALLER",
        "HOTLINE_SIP_CALLID",
        "HOTLINE_FLOW",
        "HOTLINE_DIRECTION",
        "HOTLINE_DISPOSITION",
        RECORDING_VAR,
    }
)
# Variables that shape the record: the AMI client asks Status for them at each login, so a
# reconcile row (CoreShowChannel) carries what was set while no one listened.
RECORD_VARS = _CORE_VARS | INBOUND_VARS | HOLD_VARS | {OVERFLOW_VAR}
# Written at once, not with the next milestone: a crash must not lose how the call went.
# (HOTLINE_FLOW and HOTLINE_RINGS are set just after the answer and ride on a later write.)
_URGENT_VARS = frozenset({"HOTLINE_DISPOSITION", "HOTLINE_SCORE", "HOTLINE_QUEUE", "HOTLINE_HOLD"})
_DIRECTIONS = frozenset(d.value for d in Direction)
_SETTABLE = frozenset(d.value for d in Disposition if d is not Disposition.IN_PROGRESS)


@dataclass(slots=True)
class ChannelState:
    """What the record needs from one channel, taken from the snapshot headers of its events."""

    name: str
    up_at: datetime | None = None
    dead: bool = False
    caller_num: str = ""
    caller_name: str = ""
    exten: str = ""
    cause: int | None = None
    cause_text: str = ""


@dataclass(slots=True)
class CallState:
    """A tracked call; ``record`` is the working copy that updates snapshot."""

    record: CallRecord
    last_at: datetime  # latest time seen for the call; the end is never before it
    confirmed: bool = True  # the live channel set is known (restored rows wait for reconcile)
    announced: bool = False  # the first-seen update went out
    answer_announced: bool = False
    channels: dict[str, ChannelState] = field(default_factory=dict)
    pinned: set[str] = field(default_factory=set)  # fields set by variables, not derived
    override: Disposition | None = None
    party_name: str = ""  # a restored record's channel: its party, if it shows up again
    pending: list[TimelineEntry] = field(default_factory=list)
    inbound: InboundState = field(default_factory=InboundState)
    hold: HoldState = field(default_factory=HoldState)
    vars_seen: dict[str, str] = field(default_factory=dict)  # last raw value per variable
    urgent: bool = False  # an update is due now (a variable that shapes the record changed)

    @property
    def linkedid(self) -> str:
        return self.record.linkedid

    def note(self, at: datetime, kind: str, channel: str = "", **detail: Any) -> None:
        """Queue a timeline entry; seq continues from the record so restarts never reuse one.

        A ``reconciled`` entry means part of the call was not watched: the record is then
        one the call log completes (``RecordSource.AMI_GAP``)."""
        if kind == "reconciled" and self.record.source is RecordSource.AMI:
            self.record.source = RecordSource.AMI_GAP
        self.record.last_seq += 1
        seq = self.record.last_seq
        self.pending.append(TimelineEntry(self.linkedid, seq, at, kind, channel, detail))
        logger.debug("call %s: #%s %s %s %s", self.linkedid, seq, kind, channel, detail)

    def live(self) -> list[str]:
        return [uid for uid, chan in self.channels.items() if not chan.dead]

    def party(self) -> ChannelState | None:
        """The call's first real channel: the linkedid's own, else the first non-Local one.

        A restored call keeps the party its row names, so a later leg never takes its place.
        """
        own = self.channels.get(self.linkedid)
        if own is not None and not is_local(own.name):
            return own
        if self.party_name:
            return next((c for c in self.channels.values() if c.name == self.party_name), None)
        return next((c for c in self.channels.values() if not is_local(c.name)), own)

    def touch(
        self,
        uid: str,
        event: Mapping[str, str],
        at: datetime,
        prefix: str = "",
        *,
        estimated: bool = False,
    ) -> ChannelState:
        """Register or update a channel from an event's (``prefix``-ed) snapshot headers.

        ``estimated``: the data is a reconcile row, so an Up seen here happened before ``at``.
        """
        name = safe_token(event.get(prefix + "Channel"))
        chan = self.channels.setdefault(uid, ChannelState(name))
        if chan.dead:
            return chan  # a hung-up channel never comes back, whatever arrives late
        chan.name = name or chan.name
        chan.caller_num = chan.caller_num or safe_number(event.get(prefix + "CallerIDNum"))
        chan.caller_name = chan.caller_name or safe_text(event.get(prefix + "CallerIDName"))
        chan.exten = chan.exten or safe_digits(event.get(prefix + "Exten"))
        if chan.up_at is None and channel_is_up(event, prefix):
            chan.up_at = at
            if not self._answer_known(chan):
                self.note(at, "answer", chan.name, **({"estimated": True} if estimated else {}))
        return chan

    def _answer_known(self, chan: ChannelState) -> bool:
        """A restored call's own party was answered before the restart: noted back then."""
        return (
            bool(self.party_name)
            and chan.name == self.party_name
            and (self.record.answered_at is not None)
        )

    def hangup(self, uid: str, event: Mapping[str, str], at: datetime) -> None:
        chan = self.touch(uid, event, at)
        if chan.dead:
            logger.debug("call %s: repeated Hangup for %s ignored", self.linkedid, uid)
            return
        chan.dead = True
        chan.cause = parse_int(event.get("Cause"))
        chan.cause_text = safe_text(event.get("Cause-txt"))
        self.note(at, "hangup", chan.name, cause=chan.cause, cause_txt=chan.cause_text)

    def leg_event(self, name: str, channel: str, at: datetime) -> None:
        """The agent's leg and holds: a phone's Hold/Unhold, the rejoin after a hold; the
        talk time ends when the caller leaves the agent's bridge or the agent hangs up."""
        agent_leg = bool(channel) and channel == self.inbound.agent_channel
        if name in ("Hold", "Unhold"):
            if agent_leg:
                self.hold.phone(self.record, self.note, name, channel, at)
                self.urgent = True  # dashboards show who is on hold now
        elif name == "BridgeEnter":
            party = self.party()
            if self.hold.rejoining and party is not None and channel == party.name:
                self.hold.rejoining = False
                self.inbound.connected_at = self.inbound.connected_at or at
        elif name == "BridgeLeave":
            party = self.party()
            if party is not None and channel == party.name:  # no longer with the agent
                self.inbound.end_agent_leg(self.record, at)
        elif name == "Hangup" and agent_leg:
            self.inbound.end_agent_leg(self.record, at)
        elif name == "Hangup":
            party = self.party()
            if party is not None and channel == party.name:  # held until the caller left
                self.close_holds(at)

    def close_holds(self, at: datetime) -> None:
        self.hold.close(self.record, self.note, at)

    def apply_row_vars(self, rows: Mapping[str, Mapping[str, str]], at: datetime) -> None:
        """Apply the record variables of a call's reconcile rows that changed since seen.

        Every row lists every variable, unset ones empty, and the legs differ (an agent's
        channel has none of the caller's): a variable takes its value from the call's own
        channel, else from the first leg that has one. Empty values never clear a field.
        """
        order = sorted(rows, key=lambda uid: uid != self.linkedid)  # its own channel first
        found: dict[str, tuple[str, str]] = {}
        for uid in order:
            channel = safe_token(rows[uid].get("Channel"))
            for name, raw in channel_variables(rows[uid]).items():
                if raw and name in RECORD_VARS and name not in found:
                    found[name] = (raw, channel)
        for name, (raw, channel) in found.items():
            if self.vars_seen.get(name) != raw:
                self.apply_var(channel, {"Variable": name, "Value": raw}, at)

    def replay_var(self, entry: TimelineEntry) -> None:
        """Restore a variable from a stored timeline entry after a restart (not noted again)."""
        name, value = str(entry.detail.get("name", "")), str(entry.detail.get("value", ""))
        if name.startswith("HOTLINE_") and not entry.detail.get("ignored"):
            self.apply_var(entry.channel, {"Variable": name, "Value": value}, entry.at, note=False)

    def apply_var(
        self, channel: str, event: Mapping[str, str], at: datetime, *, note: bool = True
    ) -> None:
        """Apply one HOTLINE_* variable; every one of them also goes on the timeline."""
        record, name, raw = self.record, var_name(event), event.get("Value", "")
        value, valid = safe_text(raw), True
        self.vars_seen[name] = raw
        self.urgent = self.urgent or (note and name in _URGENT_VARS)
        if name == "HOTLINE_DID":
            value = record.did = record.called = safe_digits(raw)
            self._pin("did", value)
        elif name == "HOTLINE_CALLER":
            value = record.caller = safe_number(raw)
            self._pin("caller", value)
        elif name == "HOTLINE_SIP_CALLID":
            value = record.sip_call_id = safe_token(raw)
        elif name == "HOTLINE_FLOW":
            value = record.flow = safe_token(raw, 64)
        elif name == "HOTLINE_DIRECTION":
            value = safe_word(raw, 16).lower()
            valid = value in _DIRECTIONS
            record.direction = Direction(value) if valid else record.direction
        elif name == "HOTLINE_DISPOSITION":
            value = safe_word(raw, 32).lower()
            valid = value in _SETTABLE or not value
            if value == Disposition.FALLBACK:  # a fact about the call, not its outcome
                record.fallback = True
            elif valid:  # an empty value withdraws the flow's earlier disposition
                self.override = Disposition(value) if value else None
        elif name == RECORDING_VAR:  # its name builds a path: the dialplan's shape or nothing
            valid = bool(safe_recording_name(raw))
            if valid:
                record.recording_file = raw
        elif name == OVERFLOW_VAR:
            value, valid = self.inbound.apply_overflow(record, raw, at)
        elif name in INBOUND_VARS:
            value, valid = self.inbound.apply_var(record, name, raw)
        elif name in HOLD_VARS:
            value, valid = self.hold.apply_var(
                record, self.note if note else None, name, raw, channel, at
            )
            if valid and value == "held":  # out of the agent's bridge: talk time stops
                self.inbound.end_agent_leg(record, at)
        if not note:
            return
        if valid:
            self.note(at, "var", channel, name=name, value=value)
        else:
            logger.warning("call %s: %s=%r not understood, ignored", self.linkedid, name, value)
            self.note(at, "var", channel, name=name, value=value, ignored=True)

    def refresh(self) -> None:
        """Derive the record's party fields from its first real channel."""
        record, party = self.record, self.party()
        if party is None:
            return
        record.channel = party.name
        if party.up_at is not None and record.answered_at is None:
            record.answered_at = party.up_at
        if party.caller_num and "caller" not in self.pinned:
            record.caller = party.caller_num
        if party.exten and "did" not in self.pinned:
            record.did = record.called = party.exten
        record.caller_name = party.caller_name or record.caller_name
        if party.dead:
            record.hangup_cause, record.hangup_cause_text = party.cause, party.cause_text

    def final_disposition(self, *, estimated: bool) -> Disposition:
        """A flow's own disposition first, else what the first channel's fate says.

        Inbound calls follow the precedence documented on ``Disposition``.
        """
        inbound = self.inbound.disposition(self.record, self.override, estimated=estimated)
        if inbound is not None:
            return inbound
        if self.record.answered_at is not None:
            return Disposition.ANSWERED
        party = self.party()
        if estimated and (party is None or not party.dead):
            return Disposition.LOST  # it ended while we were not looking
        if self.record.direction is Direction.INBOUND:
            return Disposition.ABANDONED
        return Disposition.FAILED

    def _pin(self, field_name: str, value: str) -> None:
        """A variable's value wins over channel data; an empty one hands the field back."""
        if value:
            self.pinned.add(field_name)
        else:
            self.pinned.discard(field_name)


def var_name(event: Mapping[str, str]) -> str:
    """The variable's name without the inheritance underscores (``__HOTLINE_DIRECTION``)."""
    return safe_word(event.get("Variable", "").lstrip("_"))
