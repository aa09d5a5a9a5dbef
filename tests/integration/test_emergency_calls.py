"""Gas-leak callers first, on the real sandbox.

An agent sits in reception and emergency (queues.conf ``weight`` from the queues'
priority): while a reception caller has waited longer, the next free moment of that agent
goes to the emergency caller. An emergency caller is never offered a callback, however
long the wait: the emergency queue's only limit is the overflow's. When no agent takes the
caller within ``ivr.emergency_overflow.after_seconds``, the on-call list rings in turn.
"""

from __future__ import annotations

import asyncio

import pytest

from hotline.callrecord import Disposition
from hotline.config import Settings
from hotline.testcall import live_call
from ivr.callbacks import CallbackRepository
from tests.integration.inbound_support import (
    ON_CALL,
    OVERFLOW_AFTER,
    ServiceFactory,
    login,
    record_of,
    set_agent,
)
from tests.integration.test_recordings import recording_of

pytestmark = pytest.mark.asterisk

EMERGENCY_KEY = "1"  # 燃气泄漏, during the greeting or in the main menu
RECEPTION_KEY = "6"  # 人工服务


async def test_an_agent_in_both_queues_takes_the_emergency_caller_first(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    service, spy, events = await make_service()
    await set_agent(inbound_settings, "1001", rings=0, talk=120)  # on the line until hung up
    await login(service, "1001", "reception", "emergency")
    async with (
        live_call(inbound_settings, "13912340021") as busy,
        live_call(inbound_settings, "13912340022") as waiting,
        live_call(inbound_settings, "13912340023") as gas_leak,
    ):
        # the three calls are answered together; each goes where its keys take it
        await spy.wait_for("menu-main", count=3)
        await busy.press(RECEPTION_KEY)
        first = await events.wait("AgentConnect", Queue="reception")
        await waiting.press(RECEPTION_KEY)  # waits: the only agent is busy
        await events.wait("QueueCallerJoin", Queue="reception", CallerIDNum="13912340022")
        await gas_leak.press(EMERGENCY_KEY)  # joins later than the reception caller
        await events.wait("QueueCallerJoin", Queue="emergency", CallerIDNum="13912340023")
        await service.ami.action("Hangup", Channel=first["DestChannel"])  # the agent is free
        await events.wait("AgentConnect", Queue="emergency")
        assert [e["Queue"] for e in events.named("AgentConnect")] == ["reception", "emergency"]
        assert events.named("AgentConnect")[1]["CallerIDNum"] == "13912340023"
        for call in (gas_leak, waiting, busy):
            await call.hangup()
    served = await record_of(service, gas_leak.sip_call_id)
    left = await record_of(service, waiting.sip_call_id)
    assert (served.queue, served.agent, served.disposition) == (
        "emergency",
        "1001",
        Disposition.ANSWERED,
    )
    assert (left.queue, left.disposition) == ("reception", Disposition.ABANDONED_QUEUE)


async def test_an_emergency_caller_is_never_offered_a_callback(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    service, spy, events = await make_service()
    reception = inbound_settings.queues.get("reception")
    assert reception is not None and reception.callback_after_seconds == 10
    async with live_call(inbound_settings) as call:
        await spy.wait_for("welcome")
        await call.press(EMERGENCY_KEY)
        joined = await events.wait("QueueCallerJoin", Queue="emergency")
        # past reception's callback offer (10 s) and then some: still waiting, no offer
        with pytest.raises(AssertionError):
            await spy.wait_for("queue-callback-offer", within=reception.callback_after_seconds + 8)
        assert not events.named("QueueCallerLeave", Uniqueid=joined["Uniqueid"])
        await call.hangup()
    record = await record_of(service, call.sip_call_id)
    assert (record.queue, record.disposition) == ("emergency", Disposition.ABANDONED_QUEUE)
    assert record.wait_seconds is not None and record.wait_seconds > 18
    requests = await CallbackRepository(service.sessions).list_open()
    assert [r for r in requests if r.linkedid == record.linkedid] == []


async def test_no_agent_for_a_gas_leak_caller_rings_the_on_call_list_in_turn(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    overflow = inbound_settings.ivr.emergency_overflow
    assert (overflow.after_seconds, overflow.numbers) == (OVERFLOW_AFTER, ON_CALL)
    service, spy, events = await make_service()  # nobody logged in to the emergency queue
    async with live_call(inbound_settings) as call:
        await spy.wait_for("welcome")
        await call.press(EMERGENCY_KEY)
        joined = await events.wait("QueueCallerJoin", Queue="emergency")
        first = await events.wait("DialBegin", within=OVERFLOW_AFTER + 15)
        [left] = events.named("QueueCallerLeave", Uniqueid=joined["Uniqueid"])
        waited = float(left["Timestamp"]) - float(joined["Timestamp"])
        assert OVERFLOW_AFTER - 1 <= waited < OVERFLOW_AFTER + 2
        # 正在为您转接值班人员 (about 3 s), then the first on-call number
        assert 1 < float(first["Timestamp"]) - float(left["Timestamp"]) < 8
        answered = await events.wait(
            "VarSet", Variable="HOTLINE_OVERFLOW", Value=f"answered:{ON_CALL[1]}", within=30
        )
        dialled = [e["DialString"] for e in events.named("DialBegin")]
        assert dialled == [f"{number}@carrier" for number in ON_CALL]  # in turn: 1st rang out
        assert events.named("DialEnd")[0]["DialStatus"] == "NOANSWER"
        assert float(answered["Timestamp"]) > float(events.named("DialEnd")[0]["Timestamp"])
        await asyncio.sleep(2)  # the caller tells the engineer where the smell is
        await call.hangup()
    record = await record_of(service, call.sip_call_id)
    assert (record.queue, record.agent, record.disposition) == (
        "emergency",
        f"oncall-{ON_CALL[1]}",
        Disposition.ANSWERED,
    )
    assert record.wait_seconds is not None and record.wait_seconds >= OVERFLOW_AFTER
    assert record.talk_seconds is not None and record.talk_seconds > 0
    timeline = await service.records.timeline(record.linkedid)
    said = [e.detail["value"] for e in timeline if e.detail.get("name") == "HOTLINE_OVERFLOW"]
    assert said == [f"ringing:{ON_CALL[0]}", f"ringing:{ON_CALL[1]}", f"answered:{ON_CALL[1]}"]
    # the gas-leak call with the engineer on call is recorded like an agent's
    assert record.recording_file.endswith(f"/{record.linkedid}.wav"), record
    recording = await recording_of(service, record.linkedid)
    assert recording["status"] == "ok" and recording["seconds"] > 1.5, recording
