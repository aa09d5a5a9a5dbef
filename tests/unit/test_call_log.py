"""Asterisk's call log read back: CEL lines → AMI events → the record, and what the log
does with each call by what the database already holds.

``data/cel_fallback_answered.jsonl`` is a real log (Asterisk 22.10 in the sandbox): the
service down, a caller greeted by the dialplan fallback, queued in reception, taken by
agent 1001 who talks 3 s and hangs up.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.call_log.cel import CelError, CelRow, parse_line, to_ami_events
from hotline.call_log.engine import merge, rebuild, resolve
from hotline.callrecord import (
    CallRecord,
    Direction,
    Disposition,
    RecordSource,
    ScoreStatus,
    TimelineEntry,
)
from hotline.records import CallRecordBuilder

ANSWERED_LOG = Path(__file__).parent / "data" / "cel_fallback_answered.jsonl"


def log_rows(path: Path = ANSWERED_LOG) -> list[CelRow]:
    return [parse_line(line) for line in path.read_bytes().splitlines() if line.strip()]


def line(**fields: object) -> bytes:
    base: dict[str, object] = {
        "eventtype": "CHAN_START",
        "eventenum": "CHAN_START",
        "eventtime": 1796228674.5,
        "uniqueid": "h-1.0",
        "linkedid": "h-1.0",
        "channame": "PJSIP/carrier-00000000",
    }
    return json.dumps(base | fields).encode()


# the lines


def test_a_line_becomes_a_row() -> None:
    row = parse_line(line(num="13800001111", exten="95007", context="from-carrier"), end=99)
    assert (row.event, row.uniqueid, row.linkedid, row.end) == ("CHAN_START", "h-1.0", "h-1.0", 99)
    assert row.time == datetime.fromtimestamp(1796228674.5, UTC)
    assert (row.cid_num, row.exten, row.context) == ("13800001111", "95007", "from-carrier")


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (line(uniqueid=""), "missing"),
        (line(eventtime="soon"), "not a time"),
        (line(eventtime=-1), "not a time"),
        (b"\xff\xfe", "not JSON"),
        (line(appdata="x" * 70000), "longer than"),
    ],
)
def test_a_line_that_is_not_ours_is_refused_with_the_reason(raw: bytes, why: str) -> None:
    with pytest.raises(CelError, match=why):
        parse_line(raw)


def test_user_events_carry_their_name_and_text() -> None:
    extra = json.dumps({"extra": "HOTLINE_RINGS=2"})
    row = parse_line(line(eventtype="HOTLINE_VARS", eventenum="USER_DEFINED", eventextra=extra))
    assert (row.event, row.user_event, row.extra) == (
        "USER_DEFINED",
        "HOTLINE_VARS",
        {"extra": "HOTLINE_RINGS=2"},
    )


# the events


def test_the_log_reads_as_the_ami_events_of_the_call() -> None:
    names = [event["Event"] for event in to_ami_events(log_rows())]
    assert names == [
        "Newchannel",
        *["VarSet"] * 4,  # direction, DID, caller, SIP Call-ID
        "Newstate",
        "VarSet",  # HOTLINE_RINGS
        "VarSet",  # HOTLINE_DISPOSITION=fallback
        "QueueCallerJoin",
        "Newchannel",  # the agent's leg
        "Newstate",
        "AgentConnect",
        "BridgeEnter",
        "BridgeEnter",
        "BridgeLeave",
        "BridgeLeave",
        "Hangup",
        "QueueCallerLeave",  # left with an agent, not abandoned
        "Hangup",
    ]
    connect = next(e for e in to_ami_events(log_rows()) if e["Event"] == "AgentConnect")
    assert connect["Interface"] == "PJSIP/agent-1001" and connect["Queue"] == "reception"
    assert connect["Uniqueid"] == connect["Linkedid"]  # the caller's channel, as in AMI
    assert connect["DestChannel"].startswith("PJSIP/agent-1001-")


def test_a_queue_left_without_an_agent_is_abandoned() -> None:
    rows = [r for r in log_rows() if r.channel.startswith("PJSIP/carrier") or r.ends_call]
    rows = [r for r in rows if r.user_event != "HOTLINE_AGENT"]
    names = [e["Event"] for e in to_ami_events(rows)]
    assert "QueueCallerAbandon" in names and "AgentConnect" not in names


def test_only_hotline_variables_are_taken_from_a_user_event() -> None:
    extra = json.dumps({"extra": "HOTLINE_RINGS=2&PATH=/bin&hotline_x=1&HOTLINE_OK&HOTLINE_A=b"})
    row = parse_line(line(eventtype="HOTLINE_VARS", eventenum="USER_DEFINED", eventextra=extra))
    assert [(e["Variable"], e["Value"]) for e in to_ami_events([row])] == [
        ("HOTLINE_RINGS", "2"),
        ("HOTLINE_A", "b"),
    ]


# rebuilding


def test_a_call_the_service_never_saw_is_rebuilt_whole() -> None:
    rows = log_rows()
    rebuilt = rebuild(rows[0].linkedid, rows)
    assert rebuilt is not None
    record = rebuilt.record
    assert record.source is RecordSource.LOG and record.fallback
    assert (record.direction, record.disposition) == (Direction.INBOUND, Disposition.ANSWERED)
    assert (record.caller, record.did, record.queue, record.agent) == (
        "13800001111",
        "95007",
        "reception",
        "1001",
    )
    assert record.started_at == rows[0].time and record.ended_at == rows[-1].time
    assert not record.end_estimated and record.hangup_cause == 16
    assert record.rings_before_answer == 2 and record.score_status is ScoreStatus.NOT_SCORED
    assert record.talk_seconds == pytest.approx(3.0, abs=0.05)
    assert record.sip_call_id == "729d5835-33ac-43b3-9666-ec4866ea9782"
    assert [e.seq for e in rebuilt.entries] == list(range(1, len(rebuilt.entries) + 1))
    assert record.last_seq == len(rebuilt.entries)


def test_a_log_cut_short_by_asterisk_stopping_is_finished_estimated() -> None:
    rows = [r for r in log_rows() if r.event not in ("HANGUP", "LINKEDID_END")]
    rebuilt = rebuild(rows[0].linkedid, rows)
    assert rebuilt is not None
    assert rebuilt.record.end_estimated and rebuilt.record.ended_at == rows[-1].time


def live_part(rows: list[CelRow], until: int) -> tuple[CallRecord, list[TimelineEntry]]:
    """What a live builder wrote of the call before the service died at row ``until``,
    with the flow's own variables (which only AMI sees) thrown in."""
    builder = CallRecordBuilder()
    events = to_ami_events(rows[:until])
    updates = [u for event in events for u in builder.feed(event)]
    linkedid = rows[0].linkedid
    at = rows[until - 1].time
    flow = {
        "Event": "VarSet",
        "Timestamp": f"{at.timestamp():.6f}",
        "Channel": rows[0].channel,
        "Uniqueid": linkedid,
        "Linkedid": linkedid,
        "Variable": "HOTLINE_MENU_PATH",
        "Value": "2>1",
    }
    updates += builder.feed(flow)
    updates += builder.reconcile([])  # the service came back: the call is gone
    timeline = [e for u in updates for e in u.entries]
    return updates[-1].record, timeline


def test_a_call_seen_in_part_is_completed_by_the_log() -> None:
    rows = log_rows()
    killed_at = 3  # the service saw the caller answered, then died before the queue
    live, timeline = live_part(rows, killed_at)
    assert live.source is RecordSource.AMI_GAP and live.end_estimated
    assert (live.agent, live.queue, live.fallback) == ("", "", False)
    merged = merge(live, timeline, rows)
    assert merged is not None
    record = merged.record
    assert record.source is RecordSource.AMI_LOG and not record.end_estimated
    assert record.ended_at == rows[-1].time and record.disposition is Disposition.ANSWERED
    assert (record.agent, record.queue, record.menu_path) == ("1001", "reception", "2>1")
    assert record.fallback
    # the timeline goes on from the live part, with what the live side did not see only
    assert [e.seq for e in merged.entries] == list(
        range(live.last_seq + 1, live.last_seq + 1 + len(merged.entries))
    )
    kinds = [e.kind for e in merged.entries]
    assert "queue_join" in kinds and "agent_connect" in kinds
    assert kinds.count("newchannel") == 1  # the agent's leg; the caller's was seen live
    assert record.last_seq == live.last_seq + len(merged.entries)


def test_what_the_log_does_follows_what_is_stored() -> None:
    rows = log_rows()
    linkedid = rows[0].linkedid
    whole = rebuild(linkedid, rows)
    assert whole is not None
    live, timeline = live_part(rows, 6)
    seen_whole = replace(whole.record, source=RecordSource.AMI)
    in_progress = replace(live, ended_at=None, disposition=Disposition.IN_PROGRESS)

    def outcome(stored: CallRecord | None) -> RecordSource | None:
        done = resolve(linkedid, rows, stored, {linkedid: timeline})
        return None if done is None else done.record.source

    assert outcome(None) is RecordSource.LOG
    assert outcome(seen_whole) is None  # the live record is the whole story
    assert outcome(whole.record) is None  # rebuilt before (a re-read after a restart)
    assert outcome(replace(whole.record, source=RecordSource.AMI_LOG)) is None
    assert outcome(live) is RecordSource.AMI_LOG
    assert outcome(in_progress) is RecordSource.AMI_LOG


def test_the_same_event_seen_live_and_in_the_log_is_on_the_timeline_once() -> None:
    rows = log_rows()
    live, timeline = live_part(rows, 9)  # up to the queue join
    skewed = [  # the log's times trail AMI's by a few milliseconds
        replace(row, at=row.at + 0.004) if i < 9 else row for i, row in enumerate(rows)
    ]
    merged = merge(live, timeline, skewed)
    assert merged is not None
    assert [e.kind for e in merged.entries].count("queue_join") == 0
    first_unseen = min(e.at for e in merged.entries)
    assert first_unseen >= rows[9].time - timedelta(milliseconds=1)


def with_hold(rows: list[CelRow]) -> list[CelRow]:
    """The call of the log with a hold while bridged: the hold dialplan's user events on
    the caller's channel (agent 1001 pressed the hold key; 1.5 s later, resumed)."""
    caller = rows[0]
    at = rows[10].at

    def user(offset: float, text: str) -> CelRow:
        return CelRow(
            event="USER_DEFINED",
            at=at + offset,
            uniqueid=caller.uniqueid,
            linkedid=caller.linkedid,
            channel=caller.channel,
            user_event="HOTLINE_VARS",
            extra={"extra": text},
        )

    held = user(0.5, "HOTLINE_HOLD_BY=1001&HOTLINE_HOLD_TRIGGER=feature_code&HOTLINE_HOLD=held")
    return [*rows[:11], held, user(2.0, "HOTLINE_HOLD=resumed"), *rows[11:]]


def test_a_hold_the_service_died_before_seeing_is_on_the_record_from_the_log() -> None:
    rows = with_hold(log_rows())
    live, timeline = live_part(rows, 11)  # bridged; killed before "held" was written
    assert live.hold_count == 0
    merged = merge(live, timeline, rows)
    assert merged is not None
    assert merged.record.hold_count == 1
    assert merged.record.hold_seconds == pytest.approx(1.5, abs=0.01)
    segments = [e.detail for e in merged.entries if e.kind == "hold_segment"]
    assert [(s["number"], s["started_by"], s["trigger"], s["outcome"]) for s in segments] == [
        (1, "1001", "feature_code", "resumed")
    ]


def test_a_hold_seen_live_and_in_the_log_is_one_segment() -> None:
    rows = with_hold(log_rows())
    live, timeline = live_part(rows, 12)  # "held" seen; closed when the service came back
    assert live.hold_count == 1
    assert [e.kind for e in timeline].count("hold_segment") == 1
    merged = merge(live, timeline, rows)
    assert merged is not None
    assert merged.record.hold_count == 1
    assert [e.kind for e in merged.entries].count("hold_segment") == 0
