"""The call-record builder on holds: segments and totals from the hold dialplan's variables
and from the agent's phone (AMI Hold/Unhold), in event tables as in ``test_records``.

The call of ``test_records_inbound`` reaches agent 1001 at 17.5 s; the service moves it
out of the bridge at 30 s (BridgeLeave) and the music starts at 33 s (HOTLINE_HOLD=held).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hotline.callrecord import CallRecord, TimelineEntry
from hotline.records import CallRecordBuilder, RecordUpdate
from tests.unit.test_records import ami, at, builder, entries, final, run
from tests.unit.test_records_inbound import (
    AGENT,
    AGENT_ANSWERS,
    CALLER,
    MENU,
    START,
    caller_hangs_up,
    var,
)

BRIDGE = "BridgeUniqueid=b1"
IN_CALL = f"""
BridgeEnter {AGENT}   300.2  300.1  17.5  {BRIDGE}
BridgeEnter {CALLER}  300.1  300.1  17.5  {BRIDGE}
"""
HELD = f"""
{var("HOTLINE_HOLD_BY", "1001", 30.0)}
{var("HOTLINE_HOLD_TRIGGER", "feature_code", 30.0)}
BridgeLeave {CALLER}  300.1  300.1  30.0  {BRIDGE}
BridgeLeave {AGENT}   300.2  300.1  30.0  {BRIDGE}
{var("HOTLINE_HOLD", "held", 33.0)}
"""


def rejoin(at_s: float, outcome: str = "resumed") -> str:
    return f"""
{var("HOTLINE_HOLD", outcome, at_s)}
BridgeEnter {AGENT}   300.2  300.1  {at_s + 2}  BridgeUniqueid=b2
BridgeEnter {CALLER}  300.1  300.1  {at_s + 2}  BridgeUniqueid=b2
"""


def agent_leaves(at_s: float) -> str:
    return f"Hangup  {AGENT}  300.2  300.1  {at_s}  Cause=16 Cause-txt=Normal\n"


def segments(updates: list[RecordUpdate]) -> list[TimelineEntry]:
    return [e for e in entries(updates) if e.kind == "hold_segment"]


BEFORE = START + MENU + AGENT_ANSWERS + IN_CALL + HELD


def test_hold_resumed_by_the_agent_is_one_segment_and_talk_excludes_it() -> None:
    table = BEFORE + rejoin(53.0) + agent_leaves(70.0) + caller_hangs_up(75.0)
    updates = run(ami(table))
    record = final(updates)
    assert (record.hold_count, record.hold_seconds) == (1, 20.0)  # 33 → 53
    # talk: 17.5 → 30 (out of the bridge), then 55 (back) → 70 (the agent hangs up)
    assert record.talk_seconds == 27.5
    [segment] = segments(updates)
    assert segment.detail == {
        "number": 1,
        "started_at": at(33.0).isoformat(),
        "ended_at": at(53.0).isoformat(),
        "seconds": 20.0,
        "agent": "1001",
        "started_by": "1001",
        "trigger": "feature_code",
        "outcome": "resumed",
    }


def test_every_way_a_hold_ends_names_its_outcome() -> None:
    for outcome in ("resumed", "auto_resumed", "requeued"):
        table = BEFORE + rejoin(40.0, outcome) + caller_hangs_up(60.0) + agent_leaves(60.1)
        record_updates = run(ami(table))
        assert [s.detail["outcome"] for s in segments(record_updates)] == [outcome]
    updates = run(ami(BEFORE + caller_hangs_up(45.0) + agent_leaves(45.3)))
    [segment] = segments(updates)
    assert segment.detail["outcome"] == "caller_hung_up" and segment.detail["seconds"] == 12.0
    assert final(updates).hold_seconds == 12.0


def test_two_holds_are_numbered_and_summed() -> None:
    again = f"""
{var("HOTLINE_HOLD_TRIGGER", "api", 60.0)}
{var("HOTLINE_HOLD_BY", "sup-7", 60.0)}
{var("HOTLINE_HOLD", "held", 61.0)}
"""
    table = BEFORE + rejoin(43.0) + again + rejoin(66.0, "auto_resumed")
    table += caller_hangs_up(70) + agent_leaves(70.1)
    updates = run(ami(table))
    record = final(updates)
    assert (record.hold_count, record.hold_seconds) == (2, 15.0)
    details = [s.detail for s in segments(updates)]
    assert [(d["number"], d["trigger"], d["started_by"]) for d in details] == [
        (1, "feature_code", "1001"),
        (2, "api", "sup-7"),
    ]


def test_a_refusal_is_no_hold_and_odd_values_are_ignored() -> None:
    table = START + MENU + AGENT_ANSWERS + IN_CALL
    table += var("HOTLINE_HOLD", "refused", 31.0) + var("HOTLINE_HOLD", "frozen", 32.0)
    table += var("HOTLINE_HOLD_TRIGGER", "telepathy", 32.0)
    table += caller_hangs_up(40.0) + agent_leaves(40.1)
    updates = run(ami(table))
    assert final(updates).hold_count == 0 and not segments(updates)
    ignored = [e.detail["value"] for e in entries(updates) if e.detail.get("ignored")]
    assert ignored == ["frozen", "telepathy"]


def test_the_agents_phone_holding_is_a_phone_segment() -> None:
    table = START + MENU + AGENT_ANSWERS + IN_CALL
    table += f"Hold    {CALLER}  300.1  300.1  25.0\n"  # the caller's phone: not a hold of ours
    table += f"Unhold  {CALLER}  300.1  300.1  26.0\n"
    table += f"Hold    {AGENT}  300.2  300.1  30.0  MusicClass=default\n"
    table += f"Unhold  {AGENT}  300.2  300.1  38.5\n"
    table += agent_leaves(50.0) + caller_hangs_up(52.0)
    updates = run(ami(table))
    record = final(updates)
    assert (record.hold_count, record.hold_seconds) == (1, 8.5)
    [segment] = segments(updates)
    assert (segment.detail["trigger"], segment.detail["outcome"]) == ("phone", "resumed")
    assert segment.channel == AGENT


def test_a_phone_hold_ended_by_the_dialplan_requeue_is_requeued() -> None:
    table = START + MENU + AGENT_ANSWERS + IN_CALL
    table += f"Hold    {AGENT}  300.2  300.1  30.0\n" + agent_leaves(35.0)
    table += var("HOTLINE_HOLD", "requeued", 35.1) + caller_hangs_up(50.0)
    [segment] = segments(run(ami(table)))
    assert (segment.detail["trigger"], segment.detail["outcome"]) == ("phone", "requeued")


def test_a_hold_open_at_a_restart_is_finished_from_the_stored_timeline() -> None:
    before = CallRecordBuilder()
    stored = run(ami(BEFORE), before)
    record: CallRecord = stored[-1].record
    assert record.hold_count == 1 and record.ended_at is None
    timeline = entries(stored)
    after = CallRecordBuilder(await_restore=True)
    held = after.adopt_unfinished([record], {record.linkedid: timeline})
    assert not held
    rows: list[dict[str, Any]] = [
        {
            "Channel": CALLER,
            "Uniqueid": "300.1",
            "Linkedid": "300.1",
            "Duration": "00:00:50",
            "ChannelState": "6",
            "ChannelStateDesc": "Up",
            "ChanVariable": ["HOTLINE_HOLD=requeued"],
        },
    ]
    updates = after.reconcile(rows)
    updates += run(ami(caller_hangs_up(80.0)), after)
    final_record = final(updates)
    assert final_record.hold_count == 1  # not counted twice
    [segment] = segments(updates)
    assert (segment.detail["number"], segment.detail["outcome"]) == (1, "requeued")
    assert segment.detail["started_at"] == at(33.0).isoformat()
    assert timedelta(seconds=segment.detail["seconds"]) > timedelta(0)


def test_dashboards_learn_when_a_hold_starts_and_ends() -> None:
    """The update at each hold change carries ``held_since`` (the live feed shows it)."""
    b = builder()
    run(ami(START + MENU + AGENT_ANSWERS + IN_CALL), b)
    [held] = run(ami(HELD), b)
    assert held.held_since == at(33.0) and held.record.hold_count == 1
    assert [(r.linkedid, since) for r, since in b.live_records()] == [("300.1", at(33.0))]
    [back] = run(ami(rejoin(53.0)), b)
    assert back.held_since is None
    assert [since for _, since in b.live_records()] == [None]


def test_a_phone_hold_and_unhold_each_update_the_dashboards() -> None:
    b = builder()
    run(ami(START + MENU + AGENT_ANSWERS + IN_CALL), b)
    [held] = run(ami(f"Hold    {AGENT}  300.2  300.1  30.0\n"), b)
    [back] = run(ami(f"Unhold  {AGENT}  300.2  300.1  41.0\n"), b)
    assert (held.held_since, back.held_since) == (at(30.0), None)
    assert back.record.hold_seconds == 11.0
