"""The call-record builder, driven by AMI event sequences written as tables.

Each table row is one event: name, channel, uniqueid, linkedid, seconds after T0, then
``Header=value`` pairs (shell quoting for spaces). Like Asterisk itself, the helper repeats
a channel's snapshot headers (state, caller ID, exten) on its later events.
"""

from __future__ import annotations

import json
import logging
import shlex
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.callrecord import CallRecord, Direction, Disposition, TimelineEntry
from hotline.records import FLUSH_AT, CallRecordBuilder, RecordUpdate

EPOCH = 1_700_000_000.0
T0 = datetime.fromtimestamp(EPOCH, UTC)
NOW = T0 + timedelta(seconds=1000)
SNAPSHOT = ("Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName", "Exten")


def ami(table: str) -> list[dict[str, str]]:
    """Parse an event table into AMI events as Asterisk 22 sends them."""
    events: list[dict[str, str]] = []
    snapshots: dict[str, dict[str, str]] = {}
    linkedids: dict[str, str] = {}
    for line in table.strip().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, channel, uid, linkedid, offset, *extra = shlex.split(line)
        event = {"Event": name, "Channel": channel, "Uniqueid": uid, "Linkedid": linkedid}
        event |= snapshots.get(uid, {})
        event |= dict(pair.split("=", 1) for pair in extra)
        if "dest" in event:  # dest=<uniqueid>: the dialled side, as Dest-prefixed headers
            dest = event.pop("dest")
            event |= {"DestUniqueid": dest, "DestLinkedid": linkedids[dest]}
            event |= {"Dest" + key: value for key, value in snapshots[dest].items()}
        linkedids[uid] = linkedid
        if offset != "-":
            event["Timestamp"] = f"{EPOCH + float(offset):.6f}"
        snapshots[uid] = {key: event[key] for key in SNAPSHOT if key in event}
        events.append(event)
    return events


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def builder() -> CallRecordBuilder:
    return CallRecordBuilder(clock=lambda: NOW)


def run(events: Iterable[dict[str, str]], b: CallRecordBuilder | None = None) -> list[RecordUpdate]:
    b = b or builder()
    return [update for event in events for update in b.feed(event)]


def final(updates: Sequence[RecordUpdate]) -> CallRecord:
    finals = [u for u in updates if u.final]
    assert len(finals) == 1
    assert updates[-1].final
    return finals[0].record


def entries(updates: Iterable[RecordUpdate]) -> list[TimelineEntry]:
    return [entry for update in updates for entry in update.entries]


def kinds(updates: Iterable[RecordUpdate]) -> list[str]:
    return [entry.kind for entry in entries(updates)]


CALLER = "PJSIP/carrier-00000001"
RING = "ChannelState=4 ChannelStateDesc=Ring"
UP = "ChannelState=6 ChannelStateDesc=Up"

ANSWERED = f"""
# event     channel   uniqueid  linkedid  t     headers
Newchannel  {CALLER}  100.1     100.1     0.0   {RING} CallerIDNum=+8613800138000 Exten=95598
VarSet      {CALLER}  100.1     100.1     0.1   Variable=__HOTLINE_DIRECTION Value=inbound
VarSet      {CALLER}  100.1     100.1     0.1   Variable=HOTLINE_DID Value=95598
VarSet      {CALLER}  100.1     100.1     0.1   Variable=HOTLINE_CALLER Value=+8613800138000
VarSet      {CALLER}  100.1     100.1     0.1   Variable=HOTLINE_SIP_CALLID Value=abc-123@carrier
VarSet      {CALLER}  100.1     100.1     0.2   Variable=RINGTIME Value=5
Newstate    {CALLER}  100.1     100.1     6.0   {UP}
VarSet      {CALLER}  100.1     100.1     8.0   Variable=HOTLINE_FLOW Value=menu
VarSet      {CALLER}  100.1     100.1     40.0  Variable=HOTLINE_AGISTATUS Value=HANGUP
Hangup      {CALLER}  100.1     100.1     40.0  Cause=16 Cause-txt="Normal Clearing"
"""


def test_inbound_answered_by_dialplan_and_hung_up_by_caller() -> None:
    updates = run(ami(ANSWERED))
    record = final(updates)
    assert record.started_at <= record.answered_at <= record.ended_at  # type: ignore[operator]
    assert (record.started_at, record.answered_at, record.ended_at) == (at(0), at(6), at(40))
    assert record.disposition is Disposition.ANSWERED
    assert record.duration_seconds == 40 and record.connected_seconds == 34
    assert record.direction is Direction.INBOUND
    assert (record.caller, record.did, record.called) == ("+8613800138000", "95598", "95598")
    assert (record.sip_call_id, record.flow, record.channel) == ("abc-123@carrier", "menu", CALLER)
    assert (record.hangup_cause, record.hangup_cause_text) == (16, "Normal Clearing")
    assert not record.end_estimated
    assert kinds(updates) == ["newchannel"] + ["var"] * 4 + ["answer", "var", "var", "hangup"]
    names = [e.detail["name"] for e in entries(updates) if e.kind == "var"]
    assert "RINGTIME" not in names and "HOTLINE_DIRECTION" in names


def test_caller_hangs_up_before_answer_is_abandoned() -> None:
    record = final(
        run(
            ami(f"""
Newchannel  {CALLER}  200.1  200.1  0.0  {RING} CallerIDNum=13800138000 Exten=95598
VarSet      {CALLER}  200.1  200.1  0.1  Variable=__HOTLINE_DIRECTION Value=inbound
Hangup      {CALLER}  200.1  200.1  3.5  Cause=16 Cause-txt=Normal
""")
        )
    )
    assert record.disposition is Disposition.ABANDONED
    assert record.answered_at is None and record.ended_at == at(3.5)
    assert record.connected_seconds is None and record.caller == "13800138000"


def test_unanswered_outbound_call_failed() -> None:
    record = final(
        run(
            ami("""
Newchannel  PJSIP/trunk-01  300.1  300.1  0  ChannelState=0 ChannelStateDesc=Down Exten=s
VarSet      PJSIP/trunk-01  300.1  300.1  0  Variable=HOTLINE_DIRECTION Value=outbound
Hangup      PJSIP/trunk-01  300.1  300.1  9  Cause=17 Cause-txt="User busy"
""")
        )
    )
    assert (record.direction, record.disposition) == (Direction.OUTBOUND, Disposition.FAILED)


AGENT = "PJSIP/agent1001-00000002"
L1, L2 = "Local/1001@agents-1;1", "Local/1001@agents-1;2"
QUEUE_CALL = f"""
# caller reaches the fallback queue; a Local member rings agent 1001 who answers
Newchannel  {CALLER}  400.1  400.1  0   {RING} CallerIDNum=13800138000 Exten=95598
Newstate    {CALLER}  400.1  400.1  6   {UP}
VarSet      {CALLER}  400.1  400.1  20  Variable=HOTLINE_DISPOSITION Value=fallback
Newchannel  {L1}      400.2  400.1  21  {RING} Exten=1001
Newchannel  {L2}      400.3  400.1  21  {RING} Exten=1001
DialBegin   {CALLER}  400.1  400.1  21  dest=400.2 DialString=Local/1001@agents
Newchannel  {AGENT}   400.4  400.1  21  {RING} CallerIDNum=1001 Exten=1001
DialBegin   {L2}      400.3  400.1  21  dest=400.4 DialString=agent1001
Newstate    {AGENT}   400.4  400.1  29  {UP}
DialEnd     {L2}      400.3  400.1  29  dest=400.4 DialStatus=ANSWER
Newstate    {L1}      400.2  400.1  29  {UP}
DialEnd     {CALLER}  400.1  400.1  29  dest=400.2 DialStatus=ANSWER
BridgeEnter {CALLER}  400.1  400.1  29  BridgeUniqueid=b1
BridgeEnter {L1}      400.2  400.1  29  BridgeUniqueid=b1
BridgeLeave {CALLER}  400.1  400.1  90  BridgeUniqueid=b1
Hangup      {CALLER}  400.1  400.1  90  Cause=16
BridgeLeave {L1}      400.2  400.1  90  BridgeUniqueid=b1
Hangup      {L1}      400.2  400.1  90  Cause=16
Hangup      {L2}      400.3  400.1  91  Cause=16
Hangup      {AGENT}   400.4  400.1  92  Cause=16
"""


def test_call_with_queue_member_ends_after_last_channel() -> None:
    events = ami(QUEUE_CALL)
    b = builder()
    updates = run(events[:-1], b)
    assert not any(u.final for u in updates) and b.in_flight() == {"400.1"}
    updates += run(events[-1:], b)
    record = final(updates)
    assert b.in_flight() == set()
    assert record.ended_at == at(92) and record.answered_at == at(6)
    assert record.channel == CALLER and record.caller == "13800138000"
    assert record.fallback and record.disposition is Disposition.ANSWERED
    all_kinds = kinds(updates)
    for kind in ("dial_begin", "dial_end", "bridge_enter", "bridge_leave"):
        assert kind in all_kinds
    statuses = [e.detail["dialstatus"] for e in entries(updates) if e.kind == "dial_end"]
    assert statuses == ["ANSWER", "ANSWER"]
    assert all_kinds.count("hangup") == 4 and all_kinds.count("answer") == 3


def test_outbound_through_local_takes_the_real_channel_as_party() -> None:
    record = final(
        run(
            ami("""
Newchannel  Local/c@outbound-1;1  500.1  500.1  0  ChannelState=0 ChannelStateDesc=Down
Newchannel  Local/c@outbound-1;2  500.2  500.1  0  ChannelState=0 ChannelStateDesc=Down
VarSet      Local/c@outbound-1;2  500.2  500.1  0  Variable=HOTLINE_DIRECTION Value=outbound
Newchannel  PJSIP/trunk-07        500.3  500.1  1  ChannelState=0 ChannelStateDesc=Down Exten=s
Newstate    PJSIP/trunk-07        500.3  500.1  9  ChannelState=6 ChannelStateDesc=Up
Hangup      PJSIP/trunk-07        500.3  500.1  30 Cause=16
Hangup      Local/c@outbound-1;2  500.2  500.1  30 Cause=16
Hangup      Local/c@outbound-1;1  500.1  500.1  30 Cause=16
""")
        )
    )
    assert record.channel == "PJSIP/trunk-07" and record.answered_at == at(9)
    assert (record.direction, record.disposition) == (Direction.OUTBOUND, Disposition.ANSWERED)


def flow_call(disposition: str) -> str:
    return f"""
Newchannel  {CALLER}  600.1  600.1  0   {RING} CallerIDNum=13800138000
Newstate    {CALLER}  600.1  600.1  5   {UP}
VarSet      {CALLER}  600.1  600.1  30  Variable=HOTLINE_DISPOSITION Value={disposition}
Hangup      {CALLER}  600.1  600.1  31  Cause=16
"""


def test_flow_disposition_overrides() -> None:
    assert final(run(ami(flow_call("no_input")))).disposition is Disposition.NO_INPUT


def test_invalid_flow_disposition_is_ignored_with_a_note() -> None:
    updates = run(ami(flow_call("'bogus;DROP'")))
    assert final(updates).disposition is Disposition.ANSWERED
    (note,) = [e for e in entries(updates) if e.kind == "var"]
    assert note.detail == {"name": "HOTLINE_DISPOSITION", "value": "bogusdrop", "ignored": True}


def test_caller_id_and_signalling_junk_is_sanitised() -> None:
    junk_num = "'+86 (138) 0013-8000<script>\x00'"
    junk_name = "'Zhang\x07 San <b>;DROP'"
    junk_callid = "'a b<c>\"d\x00X-Evil: 1'"
    long_flow = "x" * 500
    cid = f"CallerIDNum={junk_num} CallerIDName={junk_name}"
    updates = run(
        ami(f"""
Newchannel  {CALLER}  700.1  700.1  0  {RING} {cid} Exten=955-98
VarSet      {CALLER}  700.1  700.1  0  Variable=HOTLINE_SIP_CALLID Value={junk_callid}
VarSet      {CALLER}  700.1  700.1  0  Variable=HOTLINE_FLOW Value={long_flow}
Hangup      {CALLER}  700.1  700.1  2  Cause=x16 Cause-txt='\x1b[31mred'
""")
    )
    record = final(updates)
    assert (record.caller, record.did, record.called) == ("+8613800138000", "95598", "95598")
    assert record.caller_name == "Zhang San bDROP"
    assert record.sip_call_id == "abcdX-Evil:1"
    assert record.flow == "x" * 64
    assert record.hangup_cause is None and record.hangup_cause_text == "31mred"
    for entry in entries(updates):
        assert all(str(v).isprintable() for v in entry.detail.values()), entry


def test_events_for_an_unknown_call_adopt_it_mid_call() -> None:
    events = ami(f"""
BridgeEnter {CALLER}  800.1  800.1  50  {UP} CallerIDNum=13800138000 BridgeUniqueid=b9
Newstate    {AGENT}   800.2  800.1  51  {UP}
Hangup      {CALLER}  800.1  800.1  70  Cause=16
Hangup      {AGENT}   800.2  800.1  71  Cause=16
""")
    b = builder()
    first = b.feed(events[0])
    assert len(first) == 1 and not first[0].final
    assert first[0].record.started_at == at(50) and first[0].record.answered_at == at(50)
    assert [e.detail.get("reason") for e in first[0].entries][:1] == ["first_seen_mid_call"]
    updates = first + run(events[1:], b)
    record = final(updates)
    assert record.caller == "13800138000" and record.ended_at == at(71)
    assert record.disposition is Disposition.ANSWERED


def test_reconcile_finishes_a_vanished_call_with_estimated_end() -> None:
    b = builder()
    run(ami(ANSWERED)[:7], b)  # answered, then AMI went away before the hangup
    updates = b.reconcile([])
    record = final(updates)
    assert record.end_estimated and record.ended_at == NOW
    assert record.disposition is Disposition.ANSWERED
    assert updates[0].entries[-1].kind == "reconciled" and b.in_flight() == set()


def test_reconcile_marks_a_never_answered_vanished_call_lost() -> None:
    b = builder()
    run(ami(ANSWERED)[:1], b)
    record = final(b.reconcile([]))
    assert record.disposition is Disposition.LOST and record.end_estimated


def row(channel: str, uid: str, linkedid: str, duration: str, state: str = "Up") -> dict[str, str]:
    code = {"Up": "6", "Ring": "4"}[state]
    return {
        "Event": "CoreShowChannel",
        "Channel": channel,
        "Uniqueid": uid,
        "Linkedid": linkedid,
        "CallerIDNum": "13800138000",
        "CallerIDName": "<unknown>",
        "Exten": "95598",
        "ChannelState": code,
        "ChannelStateDesc": state,
        "Duration": duration,
        "BridgeId": "",
        "Application": "AGI",
    }


def test_reconcile_adopts_a_live_untracked_call() -> None:
    b = builder()
    updates = b.reconcile([row(CALLER, "900.1", "900.1", "00:01:30"), {"Event": "Other"}])
    assert len(updates) == 1 and not updates[0].final
    record = updates[0].record
    assert record.started_at == NOW - timedelta(seconds=90) and record.answered_at == NOW
    assert (record.caller, record.caller_name, record.did) == ("13800138000", "", "95598")
    assert b.in_flight() == {"900.1"}
    hangup = ami(f"Hangup {CALLER} 900.1 900.1 1200 Cause=16")
    final_record = final(updates + run(hangup, b))
    assert final_record.ended_at == at(1200) and not final_record.end_estimated


def test_reconcile_drops_gone_channels_but_keeps_the_call() -> None:
    b = builder()
    events = ami(QUEUE_CALL)
    run(events[:14], b)  # caller bridged with the Local member; agent channel known
    updates = b.reconcile([row(AGENT, "400.4", "400.1", "00:00:10")])
    assert len(updates) == 1 and not updates[0].final
    gone = [e.channel for e in updates[0].entries if e.detail.get("reason") == "channel_gone"]
    assert gone == [CALLER, L1, L2]
    record = final(run(events[-1:], b))
    assert record.fallback and record.disposition is Disposition.ANSWERED
    assert not record.end_estimated


def restored(linkedid: str, answered: bool) -> CallRecord:
    return CallRecord(
        linkedid=linkedid,
        direction=Direction.INBOUND,
        started_at=at(0),
        caller="13800138000",
        did="95598",
        called="95598",
        channel=CALLER,
        answered_at=at(5) if answered else None,
        last_seq=5,
    )


def test_reconcile_after_adopt_unfinished_finishes_or_continues() -> None:
    b = builder()
    b.adopt_unfinished([restored("1.1", True), restored("2.1", False), restored("3.1", True)])
    assert b.in_flight() == {"1.1", "2.1", "3.1"}
    # a hangup seen before reconcile does not end a restored call: its live set is unknown
    assert run(ami(f"Hangup {CALLER} 3.1 3.1 50 {UP} Cause=16"), b) == []
    updates = b.reconcile([row(AGENT, "1.2", "1.1", "00:00:40")])
    by_id = {u.record.linkedid: u for u in updates}
    assert by_id["2.1"].final and by_id["2.1"].record.disposition is Disposition.LOST
    assert by_id["3.1"].final and not by_id["3.1"].record.end_estimated
    assert by_id["3.1"].record.ended_at == at(50)
    assert [e.seq for e in by_id["2.1"].entries] == [6]
    assert not by_id["1.1"].final and b.in_flight() == {"1.1"}
    assert by_id["1.1"].record.did == "95598" and by_id["1.1"].record.channel == CALLER
    done = run(ami(f"Hangup {AGENT} 1.2 1.1 1100 Cause=16"), b)
    record = final(done)
    assert record.disposition is Disposition.ANSWERED and record.answered_at == at(5)
    seqs = [e.seq for e in entries(updates + done) if e.linkedid == "1.1"]
    assert seqs == list(range(6, 6 + len(seqs)))


def test_update_emission_first_seen_answer_final_without_loss_or_repeat() -> None:
    b = builder()
    per_event = [b.feed(event) for event in ami(ANSWERED)]
    emitted_at = [i for i, ups in enumerate(per_event) if ups]
    assert emitted_at == [0, 6, 9]  # Newchannel, Newstate Up, Hangup
    updates = [u for ups in per_event for u in ups]
    assert [u.final for u in updates] == [False, False, True]
    assert updates[0].record.disposition is Disposition.IN_PROGRESS
    assert updates[1].record.answered_at == at(6) and updates[1].record.ended_at is None
    seqs = [e.seq for e in entries(updates)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert updates[-1].record.last_seq == seqs[-1]
    for entry in entries(updates):
        json.dumps(entry.detail)


def test_long_calls_flush_pending_entries_in_batches() -> None:
    b = builder()
    lines = [f"Newchannel {CALLER} 10.1 10.1 0 {UP}"]
    lines += [f"VarSet {CALLER} 10.1 10.1 {i} Variable=HOTLINE_X Value={i}" for i in range(100)]
    lines += [f"Hangup {CALLER} 10.1 10.1 200 Cause=16"]
    updates = run(ami("\n".join(lines)), b)
    assert all(len(u.entries) <= FLUSH_AT for u in updates)
    assert [e.seq for e in entries(updates)] == list(range(1, 104))


def test_duplicates_and_late_events_never_finish_a_call_twice() -> None:
    events = ami(ANSWERED)
    b = builder()
    updates = run(events + events + [events[-1]], b)
    final(updates)
    assert b.in_flight() == set()


def test_missing_timestamp_uses_the_clock_and_odd_events_are_ignored() -> None:
    b = builder()
    assert b.feed({"Event": "FullyBooted"}) == []
    assert b.feed({"Event": "Hangup", "Channel": "x"}) == []
    assert b.feed({"Event": "VarSet", "Linkedid": "1", "Uniqueid": "1", "Variable": "X"}) == []
    (update,) = b.feed({"Event": "Newchannel", "Uniqueid": "5.1", "Linkedid": "5.1"})
    assert update.record.started_at == NOW


def test_every_log_line_names_the_linkedid(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hotline")
    b = builder()
    run(ami(QUEUE_CALL.replace("fallback", "nonsense")), b)
    b.reconcile([row(CALLER, "77.1", "77.1", "00:00:01")])
    lines = [r for r in caplog.records if r.name.startswith("hotline.record")]
    assert lines
    for record in lines:
        assert any(lid in record.getMessage() for lid in ("400.1", "77.1")), record.getMessage()


# property: any interleaving and duplication of valid calls is absorbed


TWO_CALLS = ami(QUEUE_CALL) + ami(ANSWERED) + ami(flow_call("no_input"))


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    order=st.permutations(range(len(TWO_CALLS))),
    repeats=st.lists(st.integers(0, len(TWO_CALLS) - 1), max_size=10),
)
def test_any_interleaving_yields_exactly_one_final_per_call(
    order: list[int], repeats: list[int]
) -> None:
    errors = _Errors()
    logging.getLogger("hotline").addHandler(errors)
    try:
        sequence = [TWO_CALLS[i] for i in order]
        for position, index in enumerate(repeats):
            sequence.insert((position * 7) % (len(sequence) + 1), TWO_CALLS[index])
        b = builder()
        updates = run(sequence, b)
    finally:
        logging.getLogger("hotline").removeHandler(errors)
    assert errors.seen == []
    seen = {u.record.linkedid for u in updates}
    assert seen == {"400.1", "100.1", "600.1"}
    for linkedid in seen:
        mine = [u for u in updates if u.record.linkedid == linkedid]
        assert sum(u.final for u in mine) == 1 and mine[-1].final
        seqs = [e.seq for e in entries(mine)]
        assert seqs == list(range(1, len(seqs) + 1))
        record = mine[-1].record
        assert record.ended_at is not None and record.started_at <= record.ended_at
    assert b.in_flight() == set()
