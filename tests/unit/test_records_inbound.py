"""The call-record builder on inbound hotline calls: IVR variables, queue, agent, score.

Event tables as in ``test_records`` (name, channel, uniqueid, linkedid, seconds after T0,
headers). Every call answers on ring 2 at 6.0 s (HOTLINE_RINGS), enters the flow and,
depending on the test, joins a queue and reaches agent 1001 on its own channel.
"""

from __future__ import annotations

import pytest

from hotline.callrecord import CallRecord, Disposition, ScoreStatus
from hotline.record_fields import agent_id, safe_path
from hotline.records import CallRecordBuilder
from hotline.spool import decode_update, encode_update
from tests.unit.test_records import NOW, UP, ami, at, entries, final, kinds, run

CALLER = "PJSIP/carrier-00000007"
AGENT = "PJSIP/agent-1001-00000008"
MEMBER = "Queue=repair Interface=PJSIP/agent-1001 MemberName=agent-1001"
RING = "ChannelState=4 ChannelStateDesc=Ring"
DOWN = "ChannelState=0 ChannelStateDesc=Down"

START = f"""
Newchannel  {CALLER}  300.1  300.1  0.0  {RING} CallerIDNum=13800138000 Exten=95007
VarSet      {CALLER}  300.1  300.1  0.0  Variable=HOTLINE_DIRECTION Value=inbound
Newstate    {CALLER}  300.1  300.1  6.0  {UP}
VarSet      {CALLER}  300.1  300.1  6.0  Variable=HOTLINE_RINGS Value=2
VarSet      {CALLER}  300.1  300.1  6.1  Variable=HOTLINE_FLOW Value=hotline
"""
MENU = f"""
VarSet      {CALLER}  300.1  300.1  12.0  Variable=HOTLINE_MENU_PATH Value=main>2
VarSet      {CALLER}  300.1  300.1  12.0  Variable=HOTLINE_CATEGORY Value=repair
VarSet      {CALLER}  300.1  300.1  12.0  Variable=HOTLINE_QUEUE Value=repair
VarSet      {CALLER}  300.1  300.1  12.0  Variable=HOTLINE_QUEUE_PRIORITY Value=5
VarSet      {CALLER}  300.1  300.1  12.0  Variable=HOTLINE_FLOW_RESULT Value=queue
QueueCallerJoin  {CALLER}  300.1  300.1  12.5  Queue=repair Position=1 Count=1
"""
AGENT_ANSWERS = f"""
Newchannel  {AGENT}  300.2  300.1  13.0  {DOWN} Exten=s
AgentCalled {CALLER}  300.1  300.1  13.0  dest=300.2 {MEMBER}
Newstate    {AGENT}  300.2  300.1  17.5  {UP}
QueueCallerLeave  {CALLER}  300.1  300.1  17.5  Queue=repair Position=1 Count=0
AgentConnect  {CALLER}  300.1  300.1  17.5  dest=300.2 {MEMBER} HoldTime=5 RingTime=4
"""


def agent_hangs_up(at_s: float) -> str:
    return f"""
AgentComplete  {CALLER}  300.1  300.1  {at_s}  dest=300.2 {MEMBER} TalkTime=60 Reason=agent
Hangup      {AGENT}  300.2  300.1  {at_s}  Cause=16 Cause-txt=Normal
VarSet      {CALLER}  300.1  300.1  {at_s}  Variable=HOTLINE_QUEUESTATUS Value=CONTINUE
"""


def caller_hangs_up(at_s: float) -> str:
    return f"Hangup  {CALLER}  300.1  300.1  {at_s}  Cause=16 Cause-txt=Normal\n"


def score(value: str, at_s: float = 80.0) -> str:
    return f"VarSet  {CALLER}  300.1  300.1  {at_s}  Variable=HOTLINE_SCORE Value={value}\n"


def var(name: str, value: str, at_s: float) -> str:
    return f"VarSet  {CALLER}  300.1  300.1  {at_s}  Variable={name} Value={value}\n"


def record_of(table: str) -> CallRecord:
    return final(run(ami(table)))


def test_menu_queue_agent_then_score_9() -> None:
    scored = START + MENU + AGENT_ANSWERS + agent_hangs_up(77.5) + score("9")
    assert not any(update.final for update in run(ami(scored)))  # the caller is still on
    record = record_of(scored + caller_hangs_up(82.0))
    assert record.disposition is Disposition.ANSWERED
    assert (record.menu_path, record.category, record.queue) == ("main>2", "repair", "repair")
    assert record.rings_before_answer == 2
    assert record.wait_seconds == 5.0  # joined at 12.5, agent connected at 17.5
    assert record.agent == "1001"
    assert record.talk_seconds == 60.0  # 17.5 → 77.5
    assert (record.score, record.score_status) == (9, ScoreStatus.SCORED)
    assert record.connected_seconds == 76.0 and record.ended_at == at(82.0)
    assert (record.reason, record.description) == ("", "")


def test_timeline_tells_the_queue_and_agent_story() -> None:
    table = START + MENU + AGENT_ANSWERS + agent_hangs_up(77.5) + score("9") + caller_hangs_up(82)
    updates = run(ami(table))
    story = [k for k in kinds(updates) if k.startswith(("queue_", "agent_"))]
    assert story == ["queue_join", "agent_called", "queue_leave", "agent_connect", "agent_complete"]
    connect = next(e for e in entries(updates) if e.kind == "agent_connect")
    assert connect.detail == {"agent": "1001", "queue": "repair"}
    assert connect.channel == AGENT and connect.at == at(17.5)
    done = next(e for e in entries(updates) if e.kind == "agent_complete")
    assert done.detail["reason"] == "agent"


def test_caller_hanging_up_before_scoring_is_not_scored() -> None:
    record = record_of(START + MENU + AGENT_ANSWERS + agent_hangs_up(50.0) + caller_hangs_up(52.0))
    assert record.disposition is Disposition.ANSWERED
    assert (record.score, record.score_status) == (None, ScoreStatus.NOT_SCORED)
    assert record.talk_seconds == 32.5


def test_caller_hanging_up_on_the_agent_ends_the_talk_at_the_hangup() -> None:
    # no AgentComplete before the caller's Hangup: the open agent leg ends with the call
    table = START + MENU + AGENT_ANSWERS + caller_hangs_up(40.0)
    table += f"Hangup  {AGENT}  300.2  300.1  40.1  Cause=16 Cause-txt=Normal\n"
    record = record_of(table)
    assert record.talk_seconds == 22.6 and record.ended_at == at(40.1)
    assert record.score_status is ScoreStatus.NOT_SCORED


@pytest.mark.parametrize("value", ["11", "0", "x", "9a", "-1"])
def test_an_invalid_score_is_ignored_and_kept_on_the_timeline(value: str) -> None:
    table = START + MENU + AGENT_ANSWERS + agent_hangs_up(50.0) + score(value) + caller_hangs_up(81)
    updates = run(ami(table))
    record = final(updates)
    assert (record.score, record.score_status) == (None, ScoreStatus.NOT_SCORED)
    flagged = [e for e in entries(updates) if e.detail.get("name") == "HOTLINE_SCORE"]
    assert len(flagged) == 1 and flagged[0].detail.get("ignored") is True


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("10", 10), (" 7 ", 7)])
def test_scores_one_to_ten(value: str, expected: int) -> None:
    table = START + MENU + AGENT_ANSWERS + agent_hangs_up(50.0)
    table += f"VarSet  {CALLER}  300.1  300.1  80  Variable=HOTLINE_SCORE 'Value={value}'\n"
    record = record_of(table + caller_hangs_up(81))
    assert (record.score, record.score_status) == (expected, ScoreStatus.SCORED)


def test_an_empty_score_means_not_scored() -> None:
    table = START + MENU + AGENT_ANSWERS + agent_hangs_up(50.0)
    table += f"VarSet  {CALLER}  300.1  300.1  80  Variable=HOTLINE_SCORE\n"
    record = record_of(table + caller_hangs_up(81))
    assert record.score_status is ScoreStatus.NOT_SCORED


def test_caller_hanging_up_in_the_queue_is_abandoned_queue() -> None:
    table = START + MENU
    table += f"""
Newchannel  {AGENT}  300.2  300.1  13.0  {DOWN} Exten=s
AgentCalled {CALLER}  300.1  300.1  13.0  dest=300.2 {MEMBER}
AgentRingNoAnswer {CALLER}  300.1  300.1  38.0  dest=300.2 {MEMBER} RingTime=25000
Hangup      {AGENT}  300.2  300.1  38.0  Cause=19 Cause-txt=NoAnswer
QueueCallerAbandon  {CALLER}  300.1  300.1  42.5  Queue=repair Position=1 HoldTime=30
QueueCallerLeave  {CALLER}  300.1  300.1  42.5  Queue=repair Count=0
"""
    updates = run(ami(table + caller_hangs_up(42.5)))
    record = final(updates)
    assert record.disposition is Disposition.ABANDONED_QUEUE
    assert record.wait_seconds == 30.0 and record.queue == "repair"
    assert (record.agent, record.talk_seconds, record.score_status) == ("", None, None)
    no_answer = next(e for e in entries(updates) if e.kind == "agent_no_answer")
    assert no_answer.detail == {"agent": "1001", "queue": "repair", "ring_ms": 25000}


def test_a_call_ending_in_the_queue_without_leave_events_waited_until_its_end() -> None:
    record = record_of(START + MENU + caller_hangs_up(30.0))
    assert record.disposition is Disposition.ABANDONED_QUEUE
    assert record.wait_seconds == 17.5


def test_requeued_caller_waits_from_the_first_join() -> None:
    table = START + MENU
    table += f"""
QueueCallerLeave  {CALLER}  300.1  300.1  22.5  Queue=repair Count=0
VarSet  {CALLER}  300.1  300.1  22.5  Variable=HOTLINE_QUEUESTATUS Value=TIMEOUT
VarSet  {CALLER}  300.1  300.1  22.5  Variable=HOTLINE_FLOW_RESULT
VarSet  {CALLER}  300.1  300.1  26.0  Variable=HOTLINE_FLOW_RESULT Value=requeue
QueueCallerJoin  {CALLER}  300.1  300.1  26.0  Queue=repair Position=1 Count=1
"""
    table += AGENT_ANSWERS.replace("13.0", "27.0").replace("17.5", "32.5")
    record = record_of(table + agent_hangs_up(60.0) + caller_hangs_up(61.0))
    assert record.disposition is Disposition.ANSWERED
    assert record.wait_seconds == 20.0  # 12.5 → 32.5, the callback offer included
    assert record.talk_seconds == 27.5


def test_caller_hanging_up_in_the_ivr_is_abandoned_ivr() -> None:
    record = record_of(START + var("HOTLINE_MENU_PATH", "main", 9.0) + caller_hangs_up(15.0))
    assert record.disposition is Disposition.ABANDONED_IVR
    assert (record.menu_path, record.queue, record.wait_seconds) == ("main", "", None)


def test_a_flow_that_finished_is_answered() -> None:
    table = START + var("HOTLINE_MENU_PATH", "main>3", 9.0) + var("HOTLINE_FLOW_RESULT", "done", 30)
    assert record_of(table + caller_hangs_up(31.0)).disposition is Disposition.ANSWERED


def test_a_call_that_never_entered_the_ivr_keeps_the_plain_answered() -> None:
    table = START.replace("Variable=HOTLINE_RINGS Value=2", "Variable=HOTLINE_X Value=2")
    record = record_of(table + caller_hangs_up(15.0))
    assert record.disposition is Disposition.ANSWERED and record.rings_before_answer is None


@pytest.mark.parametrize("flow", ["no_input", "after_hours", "blocked", "callback_requested"])
def test_the_flows_disposition_wins_over_abandonment(flow: str) -> None:
    table = START + var("HOTLINE_DISPOSITION", flow, 20.0) + caller_hangs_up(25.0)
    assert record_of(table).disposition is Disposition(flow)


def test_callback_request_after_a_queue_wait_is_callback_requested() -> None:
    table = START + MENU + f"QueueCallerLeave  {CALLER}  300.1  300.1  102.5  Queue=repair\n"
    table += var("HOTLINE_CALLBACK_ID", "17", 110)
    table += var("HOTLINE_DISPOSITION", "callback_requested", 110)
    table += var("HOTLINE_FLOW_RESULT", "done", 111) + caller_hangs_up(112.0)
    record = record_of(table)
    assert record.disposition is Disposition.CALLBACK_REQUESTED
    assert record.wait_seconds == 90.0 and record.score_status is None


def test_an_agent_who_connected_makes_it_answered_whatever_the_flow_said_after() -> None:
    table = START + MENU + AGENT_ANSWERS + agent_hangs_up(50.0)
    table += var("HOTLINE_DISPOSITION", "no_input", 70) + caller_hangs_up(71.0)
    assert record_of(table).disposition is Disposition.ANSWERED


def test_a_fallback_call_an_agent_took_is_answered_and_marked_fallback() -> None:
    table = START + var("HOTLINE_AGISTATUS", "FAILURE", 6.2)
    table += var("HOTLINE_DISPOSITION", "fallback", 6.2)
    table += MENU.replace("HOTLINE_FLOW_RESULT Value=queue", "HOTLINE_X Value=y")
    table += AGENT_ANSWERS + caller_hangs_up(40.0)
    table += f"Hangup  {AGENT}  300.2  300.1  40.0  Cause=16 Cause-txt=Normal\n"
    record = record_of(table)
    assert record.fallback and record.disposition is Disposition.ANSWERED
    assert record.agent == "1001" and record.wait_seconds == 5.0


@pytest.mark.parametrize(
    ("value", "rings"), [("1", 1), ("5", 5), ("0", 0), ("x", None), ("99", None)]
)
def test_rings_before_answer(value: str, rings: int | None) -> None:
    table = START.replace("HOTLINE_RINGS Value=2", f"HOTLINE_RINGS Value={value}")
    assert record_of(table + caller_hangs_up(10.0)).rings_before_answer == rings


def test_an_answered_ivr_call_that_ended_unseen_is_not_called_abandoned() -> None:
    b = CallRecordBuilder(clock=lambda: NOW)
    run(ami(START), b)
    updates = b.reconcile([])  # AMI came back and the call is gone: its end is estimated
    record = final(updates)
    assert record.end_estimated and record.disposition is Disposition.ANSWERED


def test_a_spooled_record_keeps_its_score_status() -> None:
    updates = run(ami(START + MENU + AGENT_ANSWERS + agent_hangs_up(50.0) + caller_hangs_up(51)))
    decoded = decode_update(encode_update(updates[-1]))
    assert decoded.record == updates[-1].record
    assert decoded.record.score_status is ScoreStatus.NOT_SCORED


@pytest.mark.parametrize(
    ("interface", "member", "expected"),
    [
        ("PJSIP/agent-1001", "agent-1001", "1001"),
        ("PJSIP/agent-12345678", "", "12345678"),
        ("Local/2000@agents", "Zhang San", "ZhangSan"),
        ("SIP/phone-7", "phone 7", "phone7"),
        ("PJSIP/agent-1001-0000002", "x", "x"),
    ],
)
def test_agent_id_from_the_member_interface(interface: str, member: str, expected: str) -> None:
    assert agent_id(interface, member) == expected


def test_menu_path_keeps_keys_and_separators_only() -> None:
    assert safe_path("main>2>*\r\n<script>") == "main>2>*script>"
    assert len(safe_path("1>" * 200)) == 128


def test_an_empty_disposition_withdraws_the_flows_earlier_one() -> None:
    """After hours, then the emergency key: the caller was served after all."""
    table = START + var("HOTLINE_DISPOSITION", "after_hours", 8.0)
    table += f"VarSet  {CALLER}  300.1  300.1  20  Variable=HOTLINE_DISPOSITION\n"
    table += MENU.replace("12.", "21.") + caller_hangs_up(40.0)
    assert record_of(table).disposition is Disposition.ABANDONED_QUEUE
