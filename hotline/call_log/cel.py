"""Asterisk's call log read back: CEL lines (cel_custom JSON) as the AMI events the record
builder already understands. Pure code.

Reading the log through the same builder as the live events means a record rebuilt from
the log follows the very rules of a live one (dispositions, waits, talk time). What CEL
says maps onto AMI like this (``asterisk-conf/cel.conf`` tracks these events, and the
dialplans add the user events):

===========================================  ===========================================
CEL                                          AMI event given to the builder
===========================================  ===========================================
CHAN_START                                   Newchannel
ANSWER                                       Newstate (Up)
HANGUP (extra: hangupcause)                  Hangup (Cause)
BRIDGE_ENTER / BRIDGE_EXIT (extra: bridge_id) BridgeEnter / BridgeLeave
APP_START Queue (appdata: queue,options…)    QueueCallerJoin
APP_END Queue                                QueueCallerLeave after an agent, else
                                             QueueCallerAbandon
USER_DEFINED HOTLINE_VARS (N=v&N=v)          one VarSet per variable
USER_DEFINED HOTLINE_AGENT (endpoint), on    AgentConnect (the caller's queue, the agent)
the agent's channel once connected
LINKEDID_END                                 (none: the call is over; ``CelRow.ends_call``)
===========================================  ===========================================

Every value here came from Asterisk, and some from a caller's signalling: the builder cuts
each one to a safe charset and length (``hotline.record_fields``), as it does for AMI.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["CelError", "CelRow", "parse_line", "to_ami_events"]

#: the user events the dialplans raise (``CELGenUserEvent``)
VARS_EVENT = "HOTLINE_VARS"
AGENT_EVENT = "HOTLINE_AGENT"
_VAR = re.compile(r"HOTLINE_[A-Z0-9_]{1,40}")
_MAX_LINE = 64 * 1024


class CelError(ValueError):
    """A line of the call log that is not a CEL record of ours (logged and skipped)."""


@dataclass(frozen=True, slots=True)
class CelRow:
    """One CEL event as the log holds it; ``end`` is the byte offset just past its line."""

    event: str  # CHAN_START, ANSWER, …, USER_DEFINED
    at: float  # seconds since the epoch (Asterisk's clock, like AMI Timestamps)
    uniqueid: str
    linkedid: str
    channel: str = ""
    cid_name: str = ""
    cid_num: str = ""
    exten: str = ""
    context: str = ""
    app: str = ""
    appdata: str = ""
    user_event: str = ""  # USER_DEFINED's own name
    extra: dict[str, Any] = field(default_factory=dict)
    end: int = 0

    @property
    def ends_call(self) -> bool:
        """The last channel of the call is gone: the log has all of it."""
        return self.event == "LINKEDID_END"

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.at, UTC)


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    return value if isinstance(value, str) else str(value)


def _extra(raw: Any) -> dict[str, Any]:
    """``eventextra``: a JSON object in a string (HANGUP, BRIDGE_*), or a user event's text."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {"extra": raw}
    return value if isinstance(value, dict) else {"extra": raw}


def parse_line(line: bytes, end: int = 0) -> CelRow:
    """One line of the log; ``CelError`` naming what is wrong with it."""
    if len(line) > _MAX_LINE:
        raise CelError(f"line of {len(line)} bytes is longer than {_MAX_LINE}")
    try:
        data = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CelError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CelError("not a JSON object")
    enum = _text(data, "eventenum") or _text(data, "eventtype")
    uniqueid, linkedid = _text(data, "uniqueid"), _text(data, "linkedid")
    if not enum or not uniqueid or not linkedid:
        raise CelError("eventenum, uniqueid or linkedid missing")
    try:
        at = float(data.get("eventtime", ""))
    except (TypeError, ValueError) as exc:
        raise CelError(f"eventtime {data.get('eventtime')!r} is not a time") from exc
    if not math.isfinite(at) or at <= 0:
        raise CelError(f"eventtime {at!r} is not a time")
    user = _text(data, "userdeftype")
    if enum == "USER_DEFINED" and not user:
        user = _text(data, "eventtype")  # older mappings: the user event's own name there
    return CelRow(
        event=enum,
        at=at,
        uniqueid=uniqueid,
        linkedid=linkedid,
        channel=_text(data, "channame"),
        cid_name=_text(data, "name"),
        cid_num=_text(data, "num"),
        exten=_text(data, "exten"),
        context=_text(data, "context"),
        app=_text(data, "appname"),
        appdata=_text(data, "appdata"),
        user_event=user if enum == "USER_DEFINED" else "",
        extra=_extra(data.get("eventextra")),
        end=end,
    )


def _base(row: CelRow, event: str) -> dict[str, str]:
    return {
        "Event": event,
        "Timestamp": f"{row.at:.6f}",
        "Channel": row.channel,
        "Uniqueid": row.uniqueid,
        "Linkedid": row.linkedid,
    }


def _variables(text: str) -> Iterator[tuple[str, str]]:
    """``HOTLINE_A=1&HOTLINE_B=x`` (the dialplan's values are filtered: no ``&`` in them)."""
    for item in text.split("&"):
        name, sep, value = item.partition("=")
        if sep and _VAR.fullmatch(name):
            yield name, value


@dataclass
class _Queue:
    """A caller's stay in one queue, while the translation walks the call's rows."""

    name: str
    caller: CelRow
    agent_took: bool = False


def to_ami_events(rows: Sequence[CelRow]) -> list[dict[str, str]]:
    """The AMI events the rows of one call stand for, in the log's order."""
    events: list[dict[str, str]] = []
    queues: dict[str, _Queue] = {}  # caller uniqueid → the queue it is in
    for row in rows:
        kind = row.event
        if kind == "CHAN_START":
            events.append(
                _base(row, "Newchannel")
                | {
                    "ChannelState": "0",
                    "CallerIDNum": row.cid_num,
                    "CallerIDName": row.cid_name,
                    "Exten": row.exten,
                    "Context": row.context,
                }
            )
        elif kind == "ANSWER":
            events.append(_base(row, "Newstate") | {"ChannelState": "6", "ChannelStateDesc": "Up"})
        elif kind == "HANGUP":
            cause = row.extra.get("hangupcause", "")
            events.append(_base(row, "Hangup") | {"Cause": str(cause), "Cause-txt": ""})
        elif kind in ("BRIDGE_ENTER", "BRIDGE_EXIT"):
            name = "BridgeEnter" if kind == "BRIDGE_ENTER" else "BridgeLeave"
            bridge = str(row.extra.get("bridge_id", ""))
            events.append(_base(row, name) | {"BridgeUniqueid": bridge})
        elif kind == "APP_START" and row.app.lower() == "queue":
            queue = row.appdata.split(",", 1)[0]
            queues[row.uniqueid] = _Queue(queue, row)
            events.append(_base(row, "QueueCallerJoin") | {"Queue": queue})
        elif kind == "APP_END" and row.app.lower() == "queue":
            stay = queues.pop(row.uniqueid, None)
            if stay is not None:
                name = "QueueCallerLeave" if stay.agent_took else "QueueCallerAbandon"
                events.append(_base(row, name) | {"Queue": stay.name})
        elif kind == "USER_DEFINED" and row.user_event == VARS_EVENT:
            for name, value in _variables(str(row.extra.get("extra", ""))):
                events.append(_base(row, "VarSet") | {"Variable": name, "Value": value})
        elif kind == "USER_DEFINED" and row.user_event == AGENT_EVENT:
            stay = next((q for q in queues.values() if not q.agent_took), None)
            if stay is None:
                continue  # an agent leg outside a queue (agent-first outbound): not a queue's
            stay.agent_took = True
            endpoint = str(row.extra.get("extra", ""))
            events.append(
                _base(stay.caller, "AgentConnect")
                | {
                    "Timestamp": f"{row.at:.6f}",
                    "Queue": stay.name,
                    "Interface": f"PJSIP/{endpoint}",
                    "MemberName": endpoint,
                    "DestChannel": row.channel,
                    "DestUniqueid": row.uniqueid,
                }
            )
    return events
