"""Real SIP calls from the carrier simulator into the hotline, asserted on the database.

Each call goes carrier Asterisk → PJSIP trunk → hotline Asterisk → dialplan → FastAGI
(this test's service) with RFC 4733 digits, and the record comes from AMI events.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from hotline.ami import AmiEvent
from hotline.callrecord import CallRecord, Direction, Disposition, TimelineEntry
from hotline.config import Settings
from hotline.errors import AmiError
from hotline.render import ring_wait_seconds
from hotline.sandbox import Sandbox
from hotline.service import HotlineService
from hotline.testcall import CallOptions, carrier_client, place_call, wait_for_record
from ivr.agi import AgiChannel
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.asterisk


async def call_and_record(
    service: HotlineService, settings: Settings, options: CallOptions
) -> CallRecord:
    placed = await place_call(settings, options)
    return await wait_for_record(service.records, placed.sip_call_id, within=15)


def var_values(timeline: list[TimelineEntry], name: str) -> list[str]:
    return [
        str(entry.detail.get("value"))
        for entry in timeline
        if entry.kind == "var" and entry.detail.get("name") == name
    ]


async def test_call_through_the_ivr_yields_one_complete_record(
    service: HotlineService, sandbox_settings: Settings
) -> None:
    """The emergency key pressed during the greeting reaches the flow; no agent is on duty."""
    record = await call_and_record(
        service,
        sandbox_settings,
        CallOptions(press="1", press_after=1, caller="13912345678", stay=14),
    )
    assert record.direction is Direction.INBOUND
    assert record.disposition is Disposition.ABANDONED_QUEUE
    assert record.caller == "13912345678"
    assert record.called == record.did == sandbox_settings.inbound.number
    assert record.flow == "hotline"
    assert (record.menu_path, record.category, record.queue) == ("1", "emergency", "emergency")
    assert not record.end_estimated
    assert record.answered_at is not None and record.ended_at is not None
    assert record.started_at <= record.answered_at <= record.ended_at
    # answered on ring 2: one 5 s cadence plus 1 s into the ring
    rung = (record.answered_at - record.started_at).total_seconds()
    assert abs(rung - ring_wait_seconds(sandbox_settings)) < 1.0, rung
    assert record.hangup_cause == 16
    timeline = await service.records.timeline(record.linkedid)
    # the key went over RFC 4733 from the simulator and reached the FastAGI flow
    assert var_values(timeline, "HOTLINE_MENU_PATH") == ["1"]
    assert var_values(timeline, "HOTLINE_FLOW_RESULT") == ["queue"]
    assert [e.seq for e in timeline] == list(range(1, len(timeline) + 1))
    assert len(await service.records.recent(100)) == len(
        {r.linkedid for r in await service.records.recent(100)}
    )


async def test_fallback_serves_the_caller_when_fastagi_is_down(
    service: HotlineService, sandbox_settings: Settings
) -> None:
    joined: list[AmiEvent] = []
    service.ami.subscribe(joined.append, ["QueueCallerJoin"])
    await service.agi.stop()
    record = await call_and_record(service, sandbox_settings, CallOptions(stay=12))
    # no agent in the fallback queue: the caller waited there, then hung up
    assert record.fallback and record.disposition is Disposition.ABANDONED_QUEUE
    assert record.answered_at is not None and record.ended_at is not None
    timeline = await service.records.timeline(record.linkedid)
    assert var_values(timeline, "HOTLINE_AGISTATUS") == ["FAILURE"]
    assert [e["Queue"] for e in joined] == [sandbox_settings.inbound.fallback_queue]


async def test_fallback_serves_the_caller_when_the_flow_fails(
    asterisk: Sandbox, sandbox_settings: Settings
) -> None:
    async def broken(call: AgiChannel) -> None:
        await call.answer()
        raise RuntimeError("flow bug")

    service = HotlineService(sandbox_settings, routes={sandbox_settings.inbound.agi_route: broken})
    await service.start()
    try:
        await wait_until(lambda: service.ami.connected, 10, "AMI did not connect")
        record = await call_and_record(service, sandbox_settings, CallOptions(stay=12))
        timeline = await service.records.timeline(record.linkedid)
    finally:
        await service.stop()
    assert record.fallback and record.disposition is Disposition.ABANDONED_QUEUE
    # the AGI itself ended well (the flow set no result): its status is not noted, the
    # fallback is
    assert var_values(timeline, "HOTLINE_AGISTATUS") == []
    assert var_values(timeline, "HOTLINE_DISPOSITION") == ["fallback"]


async def test_caller_hanging_up_mid_flow_still_yields_a_record(
    service: HotlineService, sandbox_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hotline.service")
    # Greeting ~3.5 s, then the flow's prompt and digit wait: leaving at 6 s is mid-flow.
    record = await call_and_record(service, sandbox_settings, CallOptions(press_after=1, stay=5))
    assert record.disposition is Disposition.ABANDONED_IVR
    assert record.ended_at is not None and not record.end_estimated
    assert record.connected_seconds is not None and 5 <= record.connected_seconds < 9
    await wait_until(lambda: service.agi.sessions_open == 0, 5, "AGI session still open")
    ended = [r.getMessage() for r in caplog.records if record.linkedid in r.getMessage()]
    assert any(message.endswith("ended: hangup") for message in ended), ended
    timeline = await service.records.timeline(record.linkedid)
    assert var_values(timeline, "HOTLINE_FLOW_RESULT") == []


async def test_ami_drop_mid_call_keeps_the_record_and_resends_nothing(
    service: HotlineService, sandbox_settings: Settings, asterisk: Sandbox
) -> None:
    """The AMI link breaks while a call is up and an Originate awaits its response."""
    customer = "13900020001"  # the simulator lets this one ring and never answer
    invites: list[AmiEvent] = []
    carrier = carrier_client(sandbox_settings)
    carrier.subscribe(
        lambda e: invites.append(e) if e.get("Exten") == customer else None, ["Newchannel"]
    )
    await carrier.connect()
    try:
        call = asyncio.create_task(place_call(sandbox_settings, CallOptions(stay=16)))
        await wait_until(lambda: service.recorder.calls_in_progress == 1, 15, "no call")
        await wait_until(lambda: service.agi.sessions_open == 1, 15, "the call is not in the flow")
        # A synchronous Originate stays pending until answer or timeout: the risky case.
        originate = asyncio.create_task(
            service.ami.action(
                "Originate",
                Channel=f"PJSIP/{customer}@carrier",
                Application="Wait",
                Data="1",
                Timeout="20000",
            )
        )
        await wait_until(lambda: len(invites) == 1, 5, "the customer was not dialled")
        reconnects = service.ami.reconnects
        # Break the TCP link the way a network fault would (the client did not ask for it).
        service.ami._manager.protocol.transport.abort()
        await wait_until(lambda: service.ami.reconnects == reconnects + 1, 10, "no reconnect")
        await asyncio.sleep(2)  # a re-sent Originate would have reached the carrier by now
        assert len(invites) == 1, [e.get("Channel") for e in invites]
        with pytest.raises(AmiError, match="outcome unknown"):
            await asyncio.wait_for(originate, 1)
        placed = await call
        record = await wait_for_record(service.records, placed.sip_call_id, within=15)
    finally:
        asterisk.hotline.cli("channel request hangup all")
        await carrier.close()
    assert record.disposition is Disposition.ABANDONED_IVR  # left in the menu
    assert not record.end_estimated
    assert record.ended_at is not None and record.answered_at is not None
    assert record.ended_at - record.answered_at > timedelta(seconds=14)
