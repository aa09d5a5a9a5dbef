"""What the builder knows after an AMI gap or a restart: variables read back, rows restored.

Reconcile rows carry ``ChanVariable`` headers (read with AMI ``Status``); restored rows
come with their stored timeline; events of calls that may be stored ones wait until the rows
are loaded. Event tables and helpers are those of ``test_records``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline import records
from hotline.ami_actions import AmiEvent
from hotline.callrecord import Disposition, TimelineEntry
from hotline.records import CallRecordBuilder
from tests.unit.test_records import (
    CALLER,
    NOW,
    UP,
    ami,
    at,
    builder,
    entries,
    final,
    restored,
    row,
    run,
)

FALLBACK_VARS = [
    "HOTLINE_DISPOSITION=fallback",
    "HOTLINE_DID=95598",
    "HOTLINE_SIP_CALLID=abc@10.0.0.1",
    "HOTLINE_QUEUE=",
]


def with_vars(values: list[str], **row_args: str) -> AmiEvent:
    """A CoreShowChannel row as the AMI client gives it: ChanVariable repeated."""
    base = row(CALLER, row_args["uid"], row_args["linkedid"], row_args["duration"])
    return AmiEvent({**base, "ChanVariable": values})


def test_a_call_adopted_live_takes_the_variables_set_while_no_one_listened() -> None:
    b = builder()
    updates = b.reconcile([with_vars(FALLBACK_VARS, uid="7.1", linkedid="7.1", duration="0:00:20")])
    record = updates[0].record
    assert (record.did, record.sip_call_id, record.queue) == ("95598", "abc@10.0.0.1", "")
    names = [e.detail["name"] for e in entries(updates) if e.kind == "var"]
    assert names == ["HOTLINE_DISPOSITION", "HOTLINE_DID", "HOTLINE_SIP_CALLID"]  # empty: unset
    done = final(run(ami(f"Hangup {CALLER} 7.1 7.1 1100 {UP} Cause=16"), b))
    assert done.fallback and done.disposition is Disposition.ANSWERED


def test_a_tracked_call_reads_back_only_changed_variables() -> None:
    b = builder()
    seen = f"""
    Newchannel {CALLER} 8.1 8.1 0 {UP}
    VarSet     {CALLER} 8.1 8.1 1 Variable=HOTLINE_DID Value=95598
    """
    run(ami(seen), b)
    updates = b.reconcile([with_vars(FALLBACK_VARS, uid="8.1", linkedid="8.1", duration="0:00:09")])
    read_back = [e.detail["name"] for e in entries(updates) if e.kind == "var" and e.at == NOW]
    assert read_back == ["HOTLINE_DISPOSITION", "HOTLINE_SIP_CALLID"]  # DID was seen already
    again = b.reconcile([with_vars(FALLBACK_VARS, uid="8.1", linkedid="8.1", duration="0:00:19")])
    assert [e for e in entries(again) if e.kind == "var"] == []


def test_a_restored_call_gets_its_flow_variables_back_from_the_timeline() -> None:
    b = builder()
    stored = [
        TimelineEntry("1.1", 4, at(9), "var", CALLER, {"name": "HOTLINE_QUEUE", "value": "repair"}),
        TimelineEntry(
            "1.1", 5, at(9), "var", CALLER, {"name": "HOTLINE_DISPOSITION", "value": "fallback"}
        ),
    ]
    assert b.adopt_unfinished([restored("1.1", True)], {"1.1": stored}) == []
    updates = b.reconcile([])  # it ended while the service was down
    record = final(updates)
    assert record.fallback and record.disposition is Disposition.ANSWERED
    assert record.end_estimated
    assert record.queue == "repair"
    assert [e.seq for e in entries(updates)] == [6]  # only the reconcile note; nothing re-noted


def test_a_restored_answered_call_is_not_answered_twice() -> None:
    b = builder()
    b.adopt_unfinished([restored("1.1", True)])
    updates = b.reconcile([row(CALLER, "1.1", "1.1", "00:00:40")])
    assert [e.kind for e in entries(updates)] == ["reconciled"]
    assert updates[0].record.answered_at == at(5)


def test_a_flow_disposition_is_written_at_once() -> None:
    b = builder()
    run(ami(f"Newchannel {CALLER} 9.1 9.1 0 {UP}"), b)
    updates = run(ami(f"VarSet {CALLER} 9.1 9.1 3 Variable=HOTLINE_DISPOSITION Value=no_input"), b)
    assert len(updates) == 1 and not updates[0].final
    assert [e.detail.get("value") for e in entries(updates)] == ["no_input"]


def test_events_of_possibly_stored_calls_wait_for_the_restore() -> None:
    b = CallRecordBuilder(clock=lambda: NOW, await_restore=True)
    # a call that starts now cannot be a stored one: tracked at once
    assert run(ami(f"Newchannel {CALLER} 5.1 5.1 0 {UP}"), b)
    # a call first seen mid-call may be: its events and its live rows wait
    mid = ami(f"VarSet {CALLER} 1.1 1.1 60 Variable=HOTLINE_QUEUE Value=repair")
    assert run(mid, b) == []
    assert (
        b.reconcile([row(CALLER, "1.1", "1.1", "00:01:05"), row(CALLER, "5.1", "5.1", "0:01:05")])
        == []
    )
    assert b.in_flight() == {"5.1"}
    updates = b.adopt_unfinished([restored("1.1", True)])
    assert b.in_flight() == {"5.1", "1.1"}
    seqs = [e.seq for e in entries(updates)]
    assert seqs == list(range(6, 6 + len(seqs))) and seqs  # continues the stored row
    assert updates[-1].record.queue == "repair"
    assert updates[-1].record.started_at == at(0)  # the stored start, not one guessed from age


def test_held_unknown_live_calls_are_adopted_when_nothing_was_stored() -> None:
    b = CallRecordBuilder(clock=lambda: NOW, await_restore=True)
    assert b.reconcile([row(CALLER, "3.1", "3.1", "00:01:30")]) == []
    updates = b.adopt_unfinished([])
    assert updates[0].record.started_at == NOW - timedelta(seconds=90)
    assert b.in_flight() == {"3.1"}


def test_the_legs_of_a_call_do_not_blank_its_variables() -> None:
    """Every row lists every variable; an agent's leg has the caller's ones empty."""
    b = builder()
    caller = with_vars(FALLBACK_VARS, uid="6.1", linkedid="6.1", duration="0:00:30")
    agent = AmiEvent(
        {
            **row("PJSIP/agent-1001-00000002", "6.2", "6.1", "0:00:10"),
            "ChanVariable": ["HOTLINE_DISPOSITION=", "HOTLINE_DID=", "HOTLINE_QUEUE=repair"],
        }
    )
    updates = b.reconcile([agent, caller])
    record = updates[-1].record
    assert (record.did, record.queue) == ("95598", "repair")
    values = {e.detail["name"]: e.detail["value"] for e in entries(updates) if e.kind == "var"}
    assert values["HOTLINE_DISPOSITION"] == "fallback" and "" not in values.values()
    assert [e for e in entries(b.reconcile([agent, caller])) if e.kind == "var"] == []
    # the caller's own row gone: the agent's empty values still clear nothing
    b.reconcile([agent])
    done = final(run(ami("Hangup PJSIP/agent-1001-00000002 6.2 6.1 1100 Cause=16"), b))
    assert done.fallback and done.disposition is Disposition.ANSWERED
    assert done.did == "95598"


def test_a_snapshot_held_before_the_restore_squares_the_restored_calls() -> None:
    """DB down at start: the login's snapshot waits; the restore then ends what it lacked."""
    b = CallRecordBuilder(clock=lambda: NOW, await_restore=True)
    assert b.reconcile([row(CALLER, "2.1", "2.1", "00:02:00")]) == []  # 1.1 not live
    assert run(ami(f"Newchannel {CALLER} 5.1 5.1 1000 {UP}"), b)  # a new call, after it
    updates = b.adopt_unfinished([restored("1.1", True), restored("2.1", True)])
    by_id = {u.record.linkedid: u for u in updates}
    assert by_id["1.1"].final and by_id["1.1"].record.end_estimated
    assert by_id["1.1"].record.ended_at == NOW
    assert not by_id["2.1"].final  # live in the snapshot: continued
    assert b.in_flight() == {"2.1", "5.1"}  # the new call is not judged by an older snapshot


def test_too_many_held_events_go_on_without_the_restore(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(records, "MAX_DEFERRED", 2)
    b = CallRecordBuilder(clock=lambda: NOW, await_restore=True)
    events = ami(
        f"""
        VarSet  {CALLER} 4.1 4.1 1 Variable=HOTLINE_QUEUE Value=repair
        Newstate {CALLER} 4.1 4.1 2 {UP}
        Hangup  {CALLER} 4.1 4.1 3 {UP} Cause=16
        """
    )
    updates = run(events, b)
    assert final(updates).queue == "repair"
    seqs = [e.seq for e in entries(updates)]  # nothing lost: the held ones were replayed
    assert seqs == list(range(1, len(seqs) + 1))
    assert [e.kind for e in entries(updates)][:2] == ["reconciled", "var"]
    assert "going on without them" in caplog.text
