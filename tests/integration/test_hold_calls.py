"""Hold and resume on the real sandbox: SIP callers, simulated agents, the database.

The caller is a SIP call from the carrier simulator through the menu to an agent; the
agent is the simulator's phone ``agent-<id>``, whose hold key (``*1``) the test presses on
the simulator's side of the agent's call (RFC 4733, as a desk phone sends it). The
session's limits are short (``inbound_support``): reassurance every 5 s, the agent alerted
at 6 s, the caller taken back at 12 s, and the dialplan's own deadline at 17 s.

What the caller heard is asserted from HOTLINE_HOLD_PROMPT, which the hold dialplan sets
when a prompt has played to its end, and from the stored timeline. Every test ends with no
channel left on either Asterisk (the ``inbound_asterisk`` fixture).
"""

from __future__ import annotations

import asyncio
import contextlib
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hotline.ami import AmiClient, AmiEvent
from hotline.call_log.cel import parse_line
from hotline.callrecord import CallRecord, Disposition, RecordSource, ScoreStatus
from hotline.config import Settings
from hotline.db import CallRecordRepository, create_engine, session_factory
from hotline.errors import HotlineError
from hotline.recordings.feature import service_folder
from hotline.sandbox import Sandbox
from hotline.service import HotlineService
from hotline.testcall import LiveCall, carrier_client, live_call, wait_for_record
from ivr.hold.feature import HoldFeature
from tests.integration.conftest import wait_until
from tests.integration.inbound_support import (
    EventLog,
    PromptSpy,
    ServiceFactory,
    api,
    api_at,
    carrier_events,
    login,
    record_of,
    set_agent,
)
from tests.integration.test_inbound_calls import var_values
from tests.integration.test_recordings import recording_of
from tests.integration.test_service_crash import ServiceProcess, completed

pytestmark = pytest.mark.asterisk

HOLD_KEY = "*1"


async def press_on(carrier: AmiClient, channel: str, digits: str) -> None:
    """Keys from the simulator's side of a channel (the agent's desk phone)."""
    for digit in digits:
        await carrier.action("PlayDTMF", Channel=channel, Digit=digit, Duration="200")
        await asyncio.sleep(0.35)


async def agent_phone(phones: EventLog, agent: str) -> str:
    """The simulator's channel of the agent's phone once it answered."""
    answered = await phones.wait("UserEvent", UserEvent="HotlineAgentAnswered", Agent=agent)
    return answered["Channel"]


@dataclass
class OnCall:
    """A caller in a call with agent 1001 (the simulator's phone ``phone``)."""

    service: HotlineService
    spy: PromptSpy
    events: EventLog
    call: LiveCall
    carrier: AmiClient
    phones: EventLog
    connected: AmiEvent  # AgentConnect: Channel is the caller, DestChannel the agent
    phone: str

    async def hold_key(self) -> None:
        await press_on(self.carrier, self.phone, HOLD_KEY)

    def service_view(self) -> dict[str, Any] | None:
        """The hold controller's view of this call."""
        feature = next(f for f in self.service.features if isinstance(f, HoldFeature))
        return feature.controller.get(self.connected["Linkedid"])

    async def said(self, name: str, value: str, within: float = 30) -> AmiEvent:
        return await self.events.wait("VarSet", within, Variable=name, Value=value)


class DeskPhone:
    """Agent 1001's desk phone buttons over the simulator's ARI: with DB(agent/1001/stasis)
    set, the phone's answered call sits in Stasis(hotline-sim) until the test presses hold,
    unhold or hangs up; hold is a re-INVITE to the hotline (moh_passthrough)."""

    APP = "hotline-sim"

    def __init__(self, settings: Settings) -> None:
        carrier = settings.carrier
        self._base = f"http://{carrier.sip_bind}:{carrier.ari_port}/ari"
        secret = carrier.ami_secret.get_secret_value()
        self._auth = {"Authorization": aiohttp.encode_basic_auth(carrier.ami_user, secret)}
        self._session: aiohttp.ClientSession | None = None
        self._reader: asyncio.Task[None] | None = None
        self.answered: list[str] = []  # channel ids that entered Stasis

    async def __aenter__(self) -> DeskPhone:
        self._session = aiohttp.ClientSession(headers=self._auth)
        url = self._base.replace("http", "ws", 1) + f"/events?app={self.APP}"
        ws = await self._session.ws_connect(url)  # the app exists while this is open
        self._reader = asyncio.create_task(self._read(ws))
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._session is not None:
            await self._session.close()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            event = message.json() if message.type is aiohttp.WSMsgType.TEXT else {}
            if event.get("type") == "StasisStart":
                self.answered.append(event["channel"]["id"])

    async def channel(self) -> str:
        await wait_until(lambda: bool(self.answered), 10, "the desk phone never answered")
        return self.answered[-1]

    async def press(self, method: str, path: str) -> None:
        assert self._session is not None
        async with self._session.request(method, self._base + path) as response:
            assert response.status in (200, 204), await response.text()

    async def hold(self) -> None:
        await self.press("POST", f"/channels/{await self.channel()}/hold")

    async def unhold(self) -> None:
        await self.press("DELETE", f"/channels/{await self.channel()}/hold")

    async def hang_up(self) -> None:
        await self.press("DELETE", f"/channels/{await self.channel()}")


@contextlib.asynccontextmanager
async def desk_phone(settings: Settings) -> AsyncIterator[DeskPhone]:
    """Agent 1001's phone driven over ARI for the duration (the DB flag is removed after)."""
    carrier = carrier_client(settings)
    await carrier.connect()
    try:
        await carrier.action("DBPut", Family="agent", Key="1001/stasis", Val="1")
        async with DeskPhone(settings) as desk:
            yield desk
    finally:
        with contextlib.suppress(HotlineError):
            await carrier.action("DBDel", Family="agent", Key="1001/stasis")
        await carrier.close()


@contextlib.asynccontextmanager
async def on_call(
    make_service: ServiceFactory,
    settings: Settings,
    hold: dict[str, Any] | None = None,
    *,
    second_agent: bool = False,
) -> AsyncIterator[OnCall]:
    """Menu key 2 (repair) to agent 1001, who stays on until the test hangs up their phone;
    with ``second_agent``, 1002 is logged in after them (answers, talks 3 s)."""
    service, spy, events = await make_service(hold=hold)
    await set_agent(settings, "1001", rings=0, talk=120)
    await login(service, "1001", "repair")  # linear: 1001 is rung first
    if second_agent:
        await set_agent(settings, "1002", rings=0, talk=3)
        await login(service, "1002", "repair")
    carrier, phones = await carrier_events(settings)
    try:
        async with live_call(settings) as call:
            await spy.wait_for("menu-main")
            await call.press("2")
            connected = await events.wait("AgentConnect", Queue="repair")
            phone = await agent_phone(phones, "1001")
            yield OnCall(service, spy, events, call, carrier, phones, connected, phone)
    finally:
        await carrier.close()


async def segments(service: HotlineService, record: CallRecord) -> list[tuple[str, ...]]:
    rows = await service.records.hold_segments(record.linkedid)
    return [(r["trigger"], r["outcome"], r["started_by"], r["agent"]) for r in rows]


async def test_hold_key_holds_and_resumes_with_both_prompts(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    async with on_call(make_service, inbound_settings) as c:
        await asyncio.sleep(1)  # a word with the caller first
        await c.hold_key()
        await c.said("HOTLINE_HOLD_PROMPT", "hold-request")
        await c.said("HOTLINE_HOLD", "held")
        _, holds = await api(c.service, "GET", "/api/v1/holds")
        held = [h for h in holds["calls"] if h["linkedid"] == c.connected["Linkedid"]]
        assert held and held[0]["phase"] == "held" and held[0]["trigger"] == "feature_code"
        await asyncio.sleep(2)
        await c.hold_key()  # the agent is back
        await c.said("HOTLINE_HOLD", "resumed")
        await c.said("HOTLINE_HOLD_PROMPT", "hold-resume")
        await c.events.wait("BridgeEnter", Channel=c.connected["Channel"])
        await asyncio.sleep(1)  # they talk again, then the agent ends the call
        await c.carrier.action("Hangup", Channel=c.phone)
        await c.spy.wait_for("score")
        await c.call.press("9")
        await c.call.wait_ended(20)
    record = await record_of(c.service, c.call.sip_call_id)
    assert record.disposition is Disposition.ANSWERED and record.agent == "1001"
    assert (record.score, record.score_status) == (9, ScoreStatus.SCORED)
    assert record.hold_count == 1 and 2.0 <= record.hold_seconds < 10
    assert record.talk_seconds is not None and 1.5 <= record.talk_seconds < 6
    assert await segments(c.service, record) == [("feature_code", "resumed", "1001", "1001")]
    timeline = await c.service.records.timeline(record.linkedid)
    assert var_values(timeline, "HOTLINE_HOLD") == ["held", "resumed"]
    assert var_values(timeline, "HOTLINE_HOLD_PROMPT") == ["hold-request", "hold-resume"]
    _, detail = await api(c.service, "GET", f"/api/v1/calls/{record.linkedid}")
    assert detail["hold_count"] == 1 and detail["holds"][0]["outcome"] == "resumed"


async def test_api_hold_alerts_at_the_soft_limit_and_resumes_at_the_hard_limit(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    async with on_call(make_service, inbound_settings) as c:
        linkedid, service = c.connected["Linkedid"], c.service
        status, body = await api(service, "POST", "/api/v1/calls/nope/hold")
        assert status == 404, body
        status, body = await api(service, "POST", f"/api/v1/calls/{linkedid}/resume")
        assert status == 409, body  # not held
        status, body = await api(service, "POST", f"/api/v1/calls/{linkedid}/hold", [1])
        assert status == 400 and body["error"].startswith("body"), body
        status, body = await api(service, "POST", f"/api/v1/calls/{linkedid}/hold", {"by": "sup-7"})
        assert status == 200 and body["phase"] == "held", body
        status, body = await api(service, "POST", f"/api/v1/calls/{linkedid}/hold")
        assert status == 409, body  # already held
        await c.said("HOTLINE_HOLD", "held")

        async def alerted() -> list[dict[str, Any]]:
            _, holds = await api(service, "GET", "/api/v1/holds")
            return [a for a in holds["alerts"] if a["linkedid"] == linkedid]

        for _ in range(100):  # the soft limit (6 s)
            if await alerted():
                break
            await asyncio.sleep(0.1)
        alerts = await alerted()
        assert [a["kind"] for a in alerts] == ["soft_limit"], alerts
        assert 5.5 <= alerts[0]["held_seconds"] < 9
        await c.said("HOTLINE_HOLD_PROMPT", "hold-reassure")
        # the hard limit (12 s): back to the agent without them doing anything
        await c.said("HOTLINE_HOLD", "auto_resumed", within=15)
        await c.said("HOTLINE_HOLD_PROMPT", "hold-resume")
        await asyncio.sleep(1)
        await c.carrier.action("Hangup", Channel=c.phone)
        await c.spy.wait_for("score")
        await c.call.press("8")
        await c.call.wait_ended(20)
    record = await record_of(service, c.call.sip_call_id)
    assert record.score == 8 and record.hold_count == 1
    assert 11.0 <= record.hold_seconds < 16
    assert await segments(service, record) == [("api", "auto_resumed", "sup-7", "1001")]


async def test_consent_ask_refused_keeps_the_caller_then_accepted_holds(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    async with on_call(make_service, inbound_settings, {"consent": "ask"}) as c:
        caller, events = c.connected["Channel"], c.events
        await c.hold_key()
        await events.wait("BridgeLeave", Channel=caller)
        await asyncio.sleep(1)  # into 麻烦您稍等片刻,好吗?同意请按1
        await c.call.press("2")  # no
        await c.said("HOTLINE_HOLD", "refused")
        await events.wait("BridgeEnter", Channel=caller, Context="hotline-hold-rejoin")
        assert not events.named("VarSet", Variable="HOTLINE_HOLD", Value="held")
        await asyncio.sleep(1)
        await c.hold_key()  # asks again
        await wait_until(
            lambda: len(events.named("BridgeLeave", Channel=caller)) >= 2, 10, "not asked"
        )
        await asyncio.sleep(1)
        await c.call.press("1")  # yes
        await c.said("HOTLINE_HOLD", "held")
        await asyncio.sleep(1)
        await c.hold_key()
        await c.said("HOTLINE_HOLD", "resumed")
        await events.wait("BridgeEnter", Channel=caller, Exten="apology")
        await asyncio.sleep(1)
        await c.carrier.action("Hangup", Channel=c.phone)
        await c.spy.wait_for("score")
        await c.call.hangup()
    record = await record_of(c.service, c.call.sip_call_id)
    assert record.hold_count == 1
    assert await segments(c.service, record) == [("feature_code", "resumed", "1001", "1001")]
    timeline = await c.service.records.timeline(record.linkedid)
    assert var_values(timeline, "HOTLINE_HOLD") == ["refused", "held", "resumed"]
    assert var_values(timeline, "HOTLINE_HOLD_PROMPT")[:2] == ["hold-ask", "hold-ask"]


async def test_agent_hanging_up_during_hold_sends_the_caller_to_another_agent(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    async with on_call(make_service, inbound_settings, second_agent=True) as c:
        await c.hold_key()
        await c.said("HOTLINE_HOLD", "held")
        status, body = await api(c.service, "POST", "/api/v1/agents/1001/pause")
        assert status == 200, body  # the agent leaves for good
        await c.carrier.action("Hangup", Channel=c.phone)
        await c.said("HOTLINE_HOLD", "requeued")
        await c.said("HOTLINE_HOLD_PROMPT", "hold-requeue")
        joined = await wait_for_second(c.events, "QueueCallerJoin")
        assert joined["Position"] == "1" and joined["Queue"] == "repair"
        await agent_phone(c.phones, "1002")
        await c.spy.wait_for("score")  # 1002 talked 3 s and hung up
        await c.call.press("0")  # 10
        await c.call.wait_ended(20)
    record = await record_of(c.service, c.call.sip_call_id)
    assert record.agent == "1002" and record.score == 10
    assert await segments(c.service, record) == [("feature_code", "requeued", "1001", "1001")]
    # one recording for the call: both agents' parts, the caller's time in their bridges
    recording = await recording_of(c.service, record.linkedid)
    timeline = await c.service.records.timeline(record.linkedid)
    caller = [e for e in timeline if e.channel == record.channel]
    enters = [e.at for e in caller if e.kind == "bridge_enter"]
    leaves = [e.at for e in caller if e.kind == "bridge_leave"]
    assert len(enters) == len(leaves) == 2, [(e.kind, e.channel) for e in timeline]
    bridged = sum((b - a).total_seconds() for a, b in zip(enters, leaves, strict=True))
    assert recording["status"] == "ok", recording
    assert abs(recording["seconds"] - bridged) <= 1.0, (recording, bridged)
    assert (leaves[1] - enters[1]).total_seconds() >= 2.5  # 1002's 3 s are in it
    folder = service_folder(inbound_settings)
    assert folder is not None
    with wave.open(str(folder / record.recording_file)) as audio:  # a whole, valid WAV
        assert abs(audio.getnframes() / audio.getframerate() - recording["seconds"]) < 0.1
    priority = c.events.named("VarSet", Variable="HOTLINE_QUEUE_PRIORITY")[-1]
    assert priority["Value"] == str(inbound_settings.hold.requeue_priority)


async def test_caller_hanging_up_during_hold_frees_the_agent(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    async with on_call(make_service, inbound_settings) as c:
        await c.hold_key()
        await c.said("HOTLINE_HOLD", "held")
        await asyncio.sleep(1)
        await c.call.hangup()
        await c.events.wait("Hangup", Channel=c.connected["DestChannel"], within=10)
    record = await record_of(c.service, c.call.sip_call_id)
    assert record.disposition is Disposition.ANSWERED
    assert record.score_status is ScoreStatus.NOT_SCORED
    assert await segments(c.service, record) == [("feature_code", "caller_hung_up", "1001", "1001")]
    _, agent = await api(c.service, "GET", "/api/v1/agents/1001")
    assert agent["status"] == "available", agent


async def test_the_agents_phone_holding_is_recorded_and_hanging_up_in_it_requeues(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    """The desk phone's hold button (a SIP re-INVITE, AMI Hold/Unhold): nothing is moved,
    the hold is recorded as ``phone``; an agent who hangs up while their phone holds the
    caller sends them back to the queue, not to the score."""
    async with (
        desk_phone(inbound_settings) as desk,
        on_call(make_service, inbound_settings, second_agent=True) as c,
    ):
        agent_leg = c.connected["DestChannel"]
        await desk.hold()
        await c.events.wait("Hold", Channel=agent_leg)
        await wait_until(
            lambda: (c.service_view() or {}).get("trigger") == "phone", 5, "phone hold not seen"
        )
        await asyncio.sleep(2)
        await desk.unhold()
        await c.events.wait("Unhold", Channel=agent_leg)
        await asyncio.sleep(1)
        await desk.hold()
        await wait_until(lambda: len(c.events.named("Hold")) >= 2, 10, "no second hold")
        status, body = await api(c.service, "POST", "/api/v1/agents/1001/pause")
        assert status == 200, body  # the agent leaves for good
        await desk.hang_up()  # and leaves the caller on hold
        await c.said("HOTLINE_HOLD", "requeued")
        await agent_phone(c.phones, "1002")
        await c.spy.wait_for("score")
        await c.call.press("7")
        await c.call.wait_ended(20)
    record = await record_of(c.service, c.call.sip_call_id)
    assert record.agent == "1002" and record.score == 7 and record.hold_count == 2
    assert await segments(c.service, record) == [
        ("phone", "resumed", "1001", "1001"),
        ("phone", "requeued", "1001", "1001"),
    ]


async def wait_for_second(events: EventLog, name: str, within: float = 20) -> AmiEvent:
    await wait_until(lambda: len(events.named(name)) >= 2, within, f"no second {name}")
    return events.named(name)[1]


def logged_holds(settings: Settings, linkedid: str) -> list[str]:
    """The HOTLINE_HOLD values Asterisk's call log holds for the call (the dialplan's user
    events): what completes a record whose live writer died mid-hold."""
    path = Sandbox(settings).hotline.call_log
    rows = [parse_line(line) for line in path.read_bytes().splitlines() if line.strip()]
    texts = [str(r.extra.get("extra", "")) for r in rows if r.linkedid == linkedid]
    return [
        value
        for text in texts
        for name, _, value in (item.partition("=") for item in text.split("&"))
        if name == "HOTLINE_HOLD"
    ]


async def test_service_killed_during_hold_the_dialplan_requeues_the_caller(
    inbound_asterisk: object, inbound_settings: Settings, tmp_path: Path
) -> None:
    """SIGKILL while a caller is held: no AGI, no AMI; the hold context's own deadline
    (12 + 5 s) puts the caller back in the queue, where an agent answers. The service,
    started again, finishes the record, and the call log completes it with the hold that
        spanned its death."""
    proc = ServiceProcess(inbound_settings, tmp_path)
    hotline = AmiClient.from_settings(inbound_settings.asterisk)
    events = EventLog()
    hotline.subscribe(events)
    carrier, phones = await carrier_events(inbound_settings)
    await set_agent(inbound_settings, "1001", rings=0, talk=120)
    try:
        proc.start()
        await proc.wait_ready()
        await hotline.connect()
        status, body = await api_at(
            inbound_settings, "POST", "/api/v1/agents/1001/login", {"queues": ["repair"]}
        )
        assert status == 200, body
        async with live_call(inbound_settings) as call:
            await events.wait("VarSet", Variable="HOTLINE_FLOW")
            await asyncio.sleep(4)  # the greeting is over: the menu is playing
            await call.press("2")
            await events.wait("AgentConnect", Queue="repair")
            phone = await agent_phone(phones, "1001")
            await press_on(carrier, phone, HOLD_KEY)
            await events.wait("VarSet", Variable="HOTLINE_HOLD", Value="held")
            killed = asyncio.get_running_loop().time()
            proc.kill()
            await events.wait("VarSet", Variable="HOTLINE_HOLD", Value="requeued", within=25)
            waited = asyncio.get_running_loop().time() - killed
            assert 12 <= waited <= 22, waited  # the dialplan's deadline, not the service
            await wait_for_second(events, "QueueCallerJoin")
            await wait_until(
                lambda: len(events.named("AgentConnect")) >= 2, 20, "no agent after requeue"
            )
            proc.start()
            await proc.wait_ready()
            await asyncio.sleep(1)
            await call.hangup()
        engine = create_engine(inbound_settings.database.url)
        try:
            records = CallRecordRepository(session_factory(engine))
            record = await wait_for_record(records, call.sip_call_id, within=20)
            # seen with a gap (the service was dead): the call log completes it, and has
            # the hold even when the service died before it could write "held"
            whole = await completed(records, proc, record.linkedid)
            rows = await records.hold_segments(record.linkedid)
        finally:
            await engine.dispose()
        assert record.source is RecordSource.AMI_GAP
        assert logged_holds(inbound_settings, record.linkedid) == ["held", "requeued"]
        assert whole.hold_count == 1 and whole.disposition is Disposition.ANSWERED
        assert [(r["trigger"], r["outcome"]) for r in rows] == [("feature_code", "requeued")]
    finally:
        proc.stop()
        await hotline.close()
        await carrier.close()
