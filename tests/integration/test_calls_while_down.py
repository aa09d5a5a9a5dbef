"""Calls that begin and end while the service is down still get their records.

The service process is killed; three callers ring the hotline and the dialplan fallback
serves them without it: one is taken by an agent, one gives up in the queue, one hangs
up during the greeting. Nobody listened to AMI. When the service starts again it reads
Asterisk's own call log (CEL) from its stored position and rebuilds each call, once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hotline.ami import AmiClient
from hotline.callrecord import CallRecord, Direction, Disposition, RecordSource
from hotline.config import DatabaseSettings, Settings
from hotline.db import CallRecordRepository, create_engine, session_factory
from hotline.sandbox import Sandbox
from hotline.testcall import live_call
from tests.integration.dialer_support import ServiceProcess
from tests.integration.inbound_support import (
    EventLog,
    api_at,
    set_agent,
)

pytestmark = pytest.mark.asterisk

TAKEN, GAVE_UP, HUNG_UP = "13912340011", "13912340012", "13912340013"


@pytest.fixture
def settings(inbound_settings: Settings, tmp_path: Path) -> Settings:
    database = DatabaseSettings(
        url=f"sqlite+aiosqlite:///{tmp_path / 'records.db'}", spool_dir=tmp_path / "spool"
    )
    return inbound_settings.model_copy(update={"database": database})


@pytest.fixture
def proc(settings: Settings, tmp_path: Path, inbound_asterisk: Sandbox) -> Iterator[ServiceProcess]:
    service = ServiceProcess(settings, tmp_path)
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
async def records(settings: Settings) -> AsyncIterator[CallRecordRepository]:
    engine = create_engine(settings.database.url)
    try:
        yield CallRecordRepository(session_factory(engine))
    finally:
        await engine.dispose()


@pytest.fixture
async def hotline_events(settings: Settings) -> AsyncIterator[EventLog]:
    """The hotline's AMI as the test sees it (its own login): who queued, who connected."""
    events = EventLog()
    client = AmiClient.from_settings(settings.asterisk)
    client.subscribe(events, ["QueueCallerJoin", "AgentConnect", "VarSet"])
    await client.connect()
    try:
        yield events
    finally:
        await client.close()


async def passes_of_the_call_log(settings: Settings, count: int, within: float = 15) -> None:
    """Until the running service has read the call log ``count`` times (its /health)."""
    url = f"http://{settings.web.host}:{settings.web.port}/health"
    deadline = asyncio.get_running_loop().time() + within
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while asyncio.get_running_loop().time() < deadline:
            async with session.get(url) as response:
                report = await response.json()
            if (report.get("call_log") or {}).get("passes", 0) >= count:
                return
            await asyncio.sleep(0.2)
    raise AssertionError(f"the call log was not read {count} times in {within:g} s")


async def rebuilt(
    records: CallRecordRepository, sip_call_id: str, proc: ServiceProcess, within: float = 30
) -> CallRecord:
    """The record of the call once the call log has accounted for it."""
    deadline = asyncio.get_running_loop().time() + within
    record = None
    while asyncio.get_running_loop().time() < deadline:
        record = await records.find_by_sip_call_id(sip_call_id)
        if record is not None and record.finished and record.source is not RecordSource.AMI:
            return record
        await asyncio.sleep(0.2)
    raise AssertionError(f"no record from the log for {sip_call_id}: {record}\n{proc.log_text()}")


async def looked_at(settings: Settings, linkedid: str, within: float = 20) -> dict[str, Any]:
    """The call's recording once the running service has looked at its file."""
    deadline = asyncio.get_running_loop().time() + within
    body: Any = None
    while asyncio.get_running_loop().time() < deadline:
        status, body = await api_at(settings, "GET", f"/api/v1/recordings/{linkedid}")
        if status == 200 and body["status"] != "pending":
            return dict(body)
        await asyncio.sleep(0.25)
    raise AssertionError(f"recording of {linkedid} not looked at: {body}")


async def test_three_calls_while_the_service_is_down_each_get_one_record(
    settings: Settings,
    proc: ServiceProcess,
    records: CallRecordRepository,
    hotline_events: EventLog,
) -> None:
    fallback = settings.inbound.fallback_queue
    proc.start()
    await proc.wait_ready()
    login = {"queues": [fallback]}
    status, body = await api_at(settings, "POST", "/api/v1/agents/1001/login", login)
    assert status == 200, body
    await set_agent(settings, "1001", rings=0, talk=120)  # on the line until the caller leaves
    proc.kill()

    async with contextlib.AsyncExitStack() as calls:
        taken = await calls.enter_async_context(live_call(settings, TAKEN))
        await hotline_events.wait("AgentConnect", CallerIDNum=TAKEN, Queue=fallback)
        gave_up = await calls.enter_async_context(live_call(settings, GAVE_UP))
        await hotline_events.wait("QueueCallerJoin", CallerIDNum=GAVE_UP, Queue=fallback)
        await gave_up.hangup()  # the only agent is busy: tired of waiting
        hung_up = await calls.enter_async_context(live_call(settings, HUNG_UP))
        await hotline_events.wait(
            "VarSet", CallerIDNum=HUNG_UP, Variable="HOTLINE_DISPOSITION", Value="fallback"
        )
        await hung_up.hangup()  # the fallback's greeting is playing
        await taken.hangup()
    assert await records.recent(100) == []  # nobody recorded anything meanwhile

    proc.start()
    await proc.wait_ready()
    by_caller = {
        TAKEN: await rebuilt(records, taken.sip_call_id, proc),
        GAVE_UP: await rebuilt(records, gave_up.sip_call_id, proc),
        HUNG_UP: await rebuilt(records, hung_up.sip_call_id, proc),
    }
    assert len(await records.recent(100)) == 3  # one record per call, no more
    for caller, record in by_caller.items():
        assert (record.caller, record.direction, record.source) == (
            caller,
            Direction.INBOUND,
            RecordSource.LOG,
        )
        assert record.fallback and not record.end_estimated
        assert record.did == settings.inbound.number
        assert record.rings_before_answer == settings.inbound.answer_after_rings
    answered, abandoned, greeted = by_caller[TAKEN], by_caller[GAVE_UP], by_caller[HUNG_UP]
    assert (answered.disposition, answered.queue, answered.agent) == (
        Disposition.ANSWERED,
        fallback,
        "1001",
    )
    assert answered.talk_seconds is not None and answered.talk_seconds > 0
    # the fallback queue recorded the call; the call log named the file on the record
    assert answered.recording_file.endswith(f"/{answered.linkedid}.wav"), answered
    recording = await looked_at(settings, answered.linkedid)
    assert recording["status"] == "ok", recording
    assert abs(recording["seconds"] - answered.talk_seconds) <= 1.0, recording
    assert abandoned.recording_file == greeted.recording_file == ""  # no agent: no recording
    assert (abandoned.disposition, abandoned.queue, abandoned.agent) == (
        Disposition.ABANDONED_QUEUE,
        fallback,
        "",
    )
    assert abandoned.wait_seconds is not None and abandoned.wait_seconds > 0
    assert (greeted.disposition, greeted.queue) == (Disposition.ABANDONED_IVR, "")
    for record in by_caller.values():
        timeline = await records.timeline(record.linkedid)
        assert [e.seq for e in timeline] == list(range(1, len(timeline) + 1))
    # a second restart reads the log from its stored position: nothing is added
    proc.stop()
    proc.start()
    await proc.wait_ready()  # it has read the log from its stored position once
    await passes_of_the_call_log(settings, 2)  # and once more on its timer
    again = {record.linkedid: record for record in await records.recent(100)}
    assert again == {record.linkedid: record for record in by_caller.values()}
