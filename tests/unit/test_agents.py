"""Agents: the state tracker from AMI event tables, control and API against a fake AMI.

The fake AMI (``QueueAmi``, built on ``test_ami.FakeAmi``) keeps queue membership the way
app_queue does: QueueAdd/QueueRemove/QueuePause answer with Asterisk's own messages and
push the QueueMember* events, QueueStatus lists the members.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.ami import AmiClient
from hotline.config import Settings
from hotline.config_queues import AgentSettings, QueueSettings, QueuesSettings
from hotline.db import CallRecordRepository, create_engine, session_factory
from hotline.errors import AmiNotConnected
from hotline.feature import FeatureContext
from hotline.live import LiveHub
from hotline.web.app import WebDeps, create_app
from ivr.agents import (
    AgentControl,
    AgentsFeature,
    AgentStatus,
    AgentTracker,
    NotLoggedIn,
    UnknownAgent,
    UnknownQueue,
)
from ivr.lookup import Bill, Customer
from tests.unit.test_ami import FakeAmi, Headers, _frame, make_client, until
from tests.unit.test_live import take

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EPOCH = T0.timestamp()
TOKEN = "agents-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUEUES = QueuesSettings(
    queues=(
        QueueSettings(name="repair", wrapup_seconds=15),
        QueueSettings(name="billing", wrapup_seconds=0),
        QueueSettings(name="reception"),
    ),
    agents=(
        AgentSettings(id="1001", name="张三", queues=("repair", "reception")),
        AgentSettings(id="1002", name="Li", queues=()),
    ),
)


@pytest.fixture(autouse=True)
def no_hotline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)


# the tracker, from event tables


def ev(name: str, at: float = 0.0, **headers: str) -> dict[str, str]:
    """An AMI event ``at`` seconds after T0 (``Timestamp`` as Asterisk sends it)."""
    return {"Event": name, "Timestamp": f"{EPOCH + at:.6f}", **headers}


def member(name: str, queue: str, at: float = 0.0, agent: str = "1001", **extra: str) -> Headers:
    base = {"Queue": queue, "Interface": f"PJSIP/agent-{agent}", "MemberName": f"agent-{agent}"}
    return ev(name, at, **{"Status": "1", "Paused": "0", "InCall": "0", **base, **extra})


def call_event(name: str, at: float, linkedid: str = "300.1", **extra: str) -> Headers:
    return ev(
        name,
        at,
        Queue="repair",
        Interface="PJSIP/agent-1001",
        MemberName="agent-1001",
        Channel="PJSIP/carrier-00000007",
        CallerIDNum="13800138000",
        Linkedid=linkedid,
        DestChannel="PJSIP/agent-1001-00000008",
        **extra,
    )


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def tracker(clock: Clock | None = None) -> AgentTracker:
    wrapups = {queue.name: queue.wrapup_seconds for queue in QUEUES.queues}
    return AgentTracker(
        {a.id: a.name for a in QUEUES.agents}, lambda q: wrapups.get(q, 0), clock or Clock()
    )


def status(t: AgentTracker, agent: str = "1001") -> AgentStatus:
    state = t.get(agent)
    assert state is not None
    return state.status(t.now())


def test_agents_start_logged_out_and_login_makes_them_available() -> None:
    t = tracker()
    assert [a.id for a in t.agents()] == ["1001", "1002"]
    assert status(t) is AgentStatus.LOGGED_OUT and t.get("1001").name == "张三"  # type: ignore[union-attr]
    t.feed(member("QueueMemberAdded", "repair"))
    assert status(t) is AgentStatus.AVAILABLE and status(t, "1002") is AgentStatus.LOGGED_OUT
    t.feed(member("QueueMemberRemoved", "repair"))
    assert status(t) is AgentStatus.LOGGED_OUT


def test_a_queue_call_rings_connects_completes_and_wraps_up() -> None:
    clock = Clock()
    t = tracker(clock)
    t.feed(member("QueueMemberAdded", "repair"))
    t.feed(call_event("AgentCalled", 10))
    assert status(t) is AgentStatus.RINGING and t.get("1001").ringing == "300.1"  # type: ignore[union-attr]
    t.feed(call_event("AgentRingNoAnswer", 35, RingTime="25000"))
    assert status(t) is AgentStatus.AVAILABLE
    t.feed(call_event("AgentCalled", 37))
    t.feed(
        ev("UserEvent", 40, UserEvent="HotlineAgentConnect", Endpoint="agent-1001")
        | {"Linkedid": "300.1", "Account": "1234567897"}
    )
    t.feed(call_event("AgentConnect", 40, HoldTime="28", RingTime="3"))
    state = t.get("1001")
    assert state is not None and state.call is not None
    assert status(t) is AgentStatus.ON_CALL and state.ringing == ""
    assert (state.call.linkedid, state.call.queue, state.call.caller) == (
        "300.1",
        "repair",
        "13800138000",
    )
    assert state.call.account == "1234567897"
    assert state.call.agent_channel == "PJSIP/agent-1001-00000008"
    assert state.call.connected_at == T0 + timedelta(seconds=40)
    t.feed(call_event("AgentComplete", 100, TalkTime="60", Reason="agent"))
    assert state.call is None and state.calls_taken == 1
    assert state.last_call_end == T0 + timedelta(seconds=100)
    clock.now = T0 + timedelta(seconds=110)
    assert status(t) is AgentStatus.WRAPUP  # repair: 15 s of wrap-up
    clock.now = T0 + timedelta(seconds=115)
    assert status(t) is AgentStatus.AVAILABLE


def test_the_screen_pop_event_after_connect_fills_in_the_account() -> None:
    t = tracker()
    t.feed(member("QueueMemberAdded", "repair"))
    t.feed(call_event("AgentConnect", 40))
    t.feed(
        ev("UserEvent", 40, UserEvent="HotlineAgentConnect", Endpoint="agent-1001")
        | {"Linkedid": "300.1", "Account": "12a34"}
    )
    assert t.get("1001").call.account == "1234"  # type: ignore[union-attr]
    t.feed(ev("UserEvent", 41, UserEvent="Other", Endpoint="agent-1001", Account="9"))
    assert t.get("1001").call.account == "1234"  # type: ignore[union-attr]


def test_pause_in_every_queue_is_paused_in_one_is_still_available() -> None:
    t = tracker()
    t.feed(member("QueueMemberAdded", "repair"))
    t.feed(member("QueueMemberAdded", "reception"))
    t.feed(member("QueueMemberPause", "repair", Paused="1", PausedReason="lunch"))
    assert status(t) is AgentStatus.AVAILABLE
    t.feed(member("QueueMemberPause", "reception", Paused="1", PausedReason="lunch"))
    assert status(t) is AgentStatus.PAUSED
    assert [m.reason for m in t.get("1001").memberships.values()] == ["lunch", "lunch"]  # type: ignore[union-attr]
    t.feed(member("QueueMemberPause", "repair", Paused="0"))
    assert status(t) is AgentStatus.AVAILABLE
    assert t.get("1001").memberships["repair"].reason == ""  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ("1", "available"),
        ("0", "available"),
        ("2", "busy"),
        ("3", "busy"),
        ("4", "unavailable"),
        ("5", "unavailable"),
        ("8", "busy"),
    ],
)
def test_the_phones_device_state(device: str, expected: str) -> None:
    t = tracker()
    t.feed(member("QueueMemberStatus", "repair", Status=device))
    assert status(t).value == expected


def test_a_status_saying_not_in_call_clears_a_call_whose_end_was_missed() -> None:
    t = tracker()
    t.feed(member("QueueMemberAdded", "repair"))
    t.feed(call_event("AgentConnect", 40))
    t.feed(member("QueueMemberStatus", "repair", InCall="1", Status="2"))
    assert status(t) is AgentStatus.ON_CALL
    t.feed(member("QueueMemberStatus", "repair", InCall="0", Status="1"))
    assert status(t) is AgentStatus.AVAILABLE


def test_snapshot_replaces_memberships() -> None:
    t = tracker()
    t.feed(member("QueueMemberAdded", "repair"))
    t.feed(member("QueueMemberAdded", "billing", agent="1002"))
    t.feed(call_event("AgentConnect", 40))
    rows = [
        {"Event": "QueueParams", "Queue": "reception"},
        {"Event": "QueueMember", "Queue": "reception", "Location": "PJSIP/agent-1001"}
        | {"Name": "agent-1001", "Status": "1", "Paused": "1", "PausedReason": "meeting"},
    ]
    t.snapshot(rows)
    one, two = t.get("1001"), t.get("1002")
    assert one is not None and two is not None
    assert list(one.memberships) == ["reception"] and one.memberships["reception"].paused
    assert status(t) is AgentStatus.ON_CALL  # still a member: the call stays
    assert status(t, "1002") is AgentStatus.LOGGED_OUT
    t.snapshot([])
    assert status(t) is AgentStatus.LOGGED_OUT and one.call is None


@pytest.mark.parametrize(
    "interface", ["PJSIP/agent-9999", "PJSIP/phone-1001", "Local/1001@x", "", "PJSIP/agent-1001x"]
)
def test_members_that_are_not_configured_agents_are_ignored(interface: str) -> None:
    t = tracker()
    t.feed(member("QueueMemberAdded", "repair") | {"Interface": interface})
    t.feed(call_event("AgentConnect", 1) | {"Interface": interface})
    assert all(a.status(t.now()) is AgentStatus.LOGGED_OUT for a in t.agents())


# control, against a fake AMI that keeps queue membership


class QueueAmi(FakeAmi):
    """FakeAmi plus app_queue's member actions and events."""

    def __init__(self) -> None:
        super().__init__()
        self.members: dict[tuple[str, str], dict[str, str]] = {}
        self.queues = {queue.name for queue in QUEUES.queues}

    def _reply(self, action: Headers, writer: asyncio.StreamWriter) -> bool:
        name = action["Action"].lower()
        if name not in {"queueadd", "queueremove", "queuepause", "queuestatus"}:
            return super()._reply(action, writer)
        aid = {"ActionID": action.get("ActionID", "")}
        problem, events = self._apply(name, action)
        if name == "queuestatus":
            rows = [
                {"Event": "QueueMember", **aid, "Queue": q, "Location": i, "Name": i[6:]} | m
                for (q, i), m in sorted(self.members.items())
            ]
            replies = [
                {"Response": "Success", **aid, "EventList": "start", "Message": "follows"},
                *rows,
                {"Event": "QueueStatusComplete", **aid, "EventList": "Complete"},
            ]
        elif problem:
            replies = [{"Response": "Error", **aid, "Message": problem}]
        else:
            replies = [{"Response": "Success", **aid, "Message": "done"}]
        for headers in replies:
            writer.write(_frame(headers))
        for event in events:
            self.push(event)
        return True

    def _apply(self, name: str, action: Headers) -> tuple[str, list[Headers]]:
        queue, interface = action.get("Queue", ""), action.get("Interface", "")
        key = (queue, interface)
        base = {"Queue": queue, "Interface": interface, "MemberName": interface[6:]}
        if name == "queueadd":
            if queue not in self.queues:
                return "Unable to add interface to queue: No such queue", []
            if key in self.members:
                return "Unable to add interface: Already there", []
            self.members[key] = {"Paused": "0", "PausedReason": "", "Status": "1"}
            return "", [{"Event": "QueueMemberAdded", **base, **self.members[key]}]
        if name == "queueremove":
            if self.members.pop(key, None) is None:
                return "Unable to remove interface: Not there", []
            return "", [{"Event": "QueueMemberRemoved", **base}]
        if name == "queuepause":
            keys = [k for k in self.members if k[1] == interface and queue in ("", k[0])]
            if not keys:
                return "Interface not found", []
            paused = "1" if action.get("Paused") == "true" else "0"
            events = []
            for k in keys:
                self.members[k] |= {"Paused": paused, "PausedReason": action.get("Reason", "")}
                events.append(
                    {"Event": "QueueMemberPause", **base, "Queue": k[0]} | self.members[k]
                )
            return "", events
        return "", []

    def sent(self, action: str) -> list[Headers]:
        return [a for a in self.received if a["Action"].lower() == action.lower()]


@pytest.fixture
async def queue_ami() -> AsyncIterator[QueueAmi]:
    server = QueueAmi()
    await server.start()
    yield server
    await server.stop()


async def close(client: AmiClient) -> None:
    """Close once in-flight answers are in: on Python 3.11, ``asyncio.wait_for`` swallows a
    cancel that lands as its inner future completes, and ``AmiClient.close`` then waits for
    its supervisor forever (reported; not this feature's to fix)."""
    await asyncio.sleep(0.1)
    await asyncio.wait_for(client.close(), 5)


@pytest.fixture
async def ami(queue_ami: QueueAmi) -> AsyncIterator[AmiClient]:
    client = make_client(queue_ami.port)
    await client.connect()
    yield client
    await close(client)


async def test_login_joins_the_agents_queues_once(queue_ami: QueueAmi, ami: AmiClient) -> None:
    control = AgentControl(ami, QUEUES)
    assert await control.login("1001") == {"repair": "added", "reception": "added"}
    add = queue_ami.sent("QueueAdd")[0]
    assert {k: add[k] for k in ("Queue", "Interface", "MemberName", "StateInterface")} == {
        "Queue": "repair",
        "Interface": "PJSIP/agent-1001",
        "MemberName": "agent-1001",
        "StateInterface": "PJSIP/agent-1001",
    }
    assert (add["Penalty"], add["Paused"]) == ("0", "false")
    assert await control.login("1001", ["repair", "billing"]) == {
        "repair": "already",
        "billing": "added",
    }
    assert set(queue_ami.members) == {
        ("repair", "PJSIP/agent-1001"),
        ("reception", "PJSIP/agent-1001"),
        ("billing", "PJSIP/agent-1001"),
    }


async def test_bad_requests_send_nothing(queue_ami: QueueAmi, ami: AmiClient) -> None:
    control = AgentControl(ami, QUEUES)
    with pytest.raises(UnknownAgent, match="agent 4711"):
        await control.login("4711")
    with pytest.raises(UnknownQueue, match="nope"):
        await control.login("1001", ["repair", "nope"])
    with pytest.raises(UnknownQueue, match="no default queues"):
        await control.login("1002")
    assert queue_ami.sent("QueueAdd") == []


async def test_logout_leaves_every_queue(queue_ami: QueueAmi, ami: AmiClient) -> None:
    control = AgentControl(ami, QUEUES)
    await control.login("1001")
    assert await control.logout("1001") == {
        "repair": "removed",
        "billing": "not_member",
        "reception": "removed",
    }
    assert queue_ami.members == {}
    assert await control.logout("1001", ["repair"]) == {"repair": "not_member"}


async def test_pause_and_unpause(queue_ami: QueueAmi, ami: AmiClient) -> None:
    control = AgentControl(ami, QUEUES)
    with pytest.raises(NotLoggedIn):
        await control.pause("1001", reason="lunch")
    await control.login("1001")
    assert await control.pause("1001", reason="lunch") == {"*": "paused"}
    pause = queue_ami.sent("QueuePause")[-1]
    assert "Queue" not in pause and pause["Reason"] == "lunch" and pause["Paused"] == "true"
    assert all(m["Paused"] == "1" for m in queue_ami.members.values())
    assert await control.unpause("1001", ["repair", "billing"]) == {
        "repair": "unpaused",
        "billing": "not_member",
    }
    assert queue_ami.members[("repair", "PJSIP/agent-1001")]["Paused"] == "0"
    with pytest.raises(NotLoggedIn):
        await control.unpause("1001", ["billing"])


async def test_control_without_ami_raises_not_connected(queue_ami: QueueAmi) -> None:
    client = make_client(queue_ami.port)
    with pytest.raises(AmiNotConnected):
        await AgentControl(client, QUEUES).login("1001")


# the feature and its HTTP API


class Directory:
    """A CustomerDirectory with one customer; records which lookups were made."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.customer = Customer("1234567897", "张三", "13800138000", "幸福路 1 号")

    async def by_phone(self, phone: str) -> Customer | None:
        self.asked.append(f"phone:{phone}")
        return self.customer if phone == self.customer.phone else None

    async def by_account(self, account: str) -> Customer | None:
        self.asked.append(f"account:{account}")
        return self.customer if account == self.customer.account else None

    async def current_bill(self, account: str) -> Bill | None:
        return None


@pytest.fixture
def directory() -> Directory:
    return Directory()


@pytest.fixture
async def feature(
    ami: AmiClient, tmp_path: Path, directory: Directory
) -> AsyncIterator[AgentsFeature]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    sessions = session_factory(engine)
    context = FeatureContext(Settings(queues=QUEUES), ami, sessions, CallRecordRepository(sessions))
    found = AgentsFeature(context, directory)
    await found.start()
    yield found
    await found.stop()
    await engine.dispose()


@pytest.fixture
async def client(feature: AgentsFeature) -> AsyncIterator[TestClient[Any, Any]]:
    records = feature._context.records
    app = create_app(WebDeps(TOKEN, records, feature), [feature.add_routes])
    test_client: TestClient[Any, Any] = TestClient(TestServer(app))
    await test_client.start_server()
    yield test_client
    await test_client.close()


def logged_in(feature: AgentsFeature, agent: str = "1001") -> bool:
    state = feature.tracker.get(agent)
    return state is not None and bool(state.memberships)


async def test_start_takes_a_snapshot_of_the_queues(queue_ami: QueueAmi) -> None:
    queue_ami.members[("billing", "PJSIP/agent-1002")] = {"Paused": "1", "PausedReason": "x"}
    client = make_client(queue_ami.port)
    await client.connect()
    context = FeatureContext(Settings(queues=QUEUES), client, None, None)  # type: ignore[arg-type]
    found = AgentsFeature(context, Directory())
    try:
        await found.start()
        await until(lambda: found.snapshots >= 1)
        state = found.tracker.get("1002")
        assert state is not None and list(state.memberships) == ["billing"]
        assert state.status(found.tracker.now()) is AgentStatus.PAUSED
        assert found.health() == {"agents": 2, "logged_in": 1, "on_call": 0}
    finally:
        await found.stop()
        await close(client)


async def test_api_login_pause_and_state(
    client: TestClient[Any, Any], feature: AgentsFeature
) -> None:
    response = await client.post("/api/v1/agents/1001/login", headers=AUTH)
    assert response.status == 200
    body = await response.json()
    assert body["queues"] == {"repair": "added", "reception": "added"}
    await until(lambda: logged_in(feature))
    response = await client.post(
        "/api/v1/agents/1001/pause", json={"queues": ["repair"], "reason": "lunch"}, headers=AUTH
    )
    assert response.status == 200 and (await response.json())["queues"] == {"repair": "paused"}
    await until(lambda: feature.tracker.get("1001").memberships["repair"].paused)  # type: ignore[union-attr]
    agents = (await (await client.get("/api/v1/agents", headers=AUTH)).json())["agents"]
    assert [a["id"] for a in agents] == ["1001", "1002"]
    assert agents[0]["status"] == "available" and agents[1]["status"] == "logged_out"
    assert agents[0]["queues"] == [
        {"queue": "reception", "paused": False, "reason": ""},
        {"queue": "repair", "paused": True, "reason": "lunch"},
    ]
    one = await (await client.get("/api/v1/agents/1001", headers=AUTH)).json()
    assert one["name"] == "张三" and one["call"] is None


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/api/v1/agents/4711/login", None, 404, "agent 4711"),
        ("/api/v1/agents/1001/login", {"queues": "repair"}, 400, "queues:"),
        ("/api/v1/agents/1001/login", {"queues": ["nope"]}, 400, "queue:"),
        ("/api/v1/agents/1001/login", {"queue": "repair"}, 400, "queue: unknown field"),
        ("/api/v1/agents/1001/pause", {"reason": "x" * 65}, 400, "reason:"),
        ("/api/v1/agents/1001/pause", {}, 409, "not logged in"),
        ("/api/v1/agents/1002/login", {}, 400, "no default queues"),
        ("/api/v1/agents/4711/call", None, 404, "agent 4711"),
        ("/api/v1/agents/1001/call", None, 404, "not on a call"),
    ],
)
async def test_api_errors_name_the_problem(
    client: TestClient[Any, Any], path: str, body: Any, status: int, field: str
) -> None:
    if path.endswith("/call"):
        response = await client.get(path, headers=AUTH)
    else:
        response = await client.post(path, json=body, headers=AUTH)
    assert response.status == status
    assert field in (await response.json())["error"]


async def test_the_api_refuses_a_smuggled_pause_reason_by_name(
    client: TestClient[Any, Any],
    queue_ami: QueueAmi,
    feature: AgentsFeature,
) -> None:
    assert (await client.post("/api/v1/agents/1001/login", headers=AUTH)).status == 200
    await until(lambda: logged_in(feature))
    before = len(queue_ami.raw)
    response = await client.post(
        "/api/v1/agents/1001/pause",
        json={"reason": "lunch\r\n\r\nAction: Hangup\r\nChannel: /./"},
        headers=AUTH,
    )
    assert response.status == 400
    assert (await response.json())["error"].startswith("reason: control characters")
    for path in ("/api/v1/agents/1001%0A/pause", "/api/v1/agents/%D9%A1%D9%A0%D9%A0%D9%A1/pause"):
        assert (await client.post(path, json={}, headers=AUTH)).status == 404
    await asyncio.sleep(0.1)
    sent = bytes(queue_ami.raw)[before:]
    assert b"Hangup" not in sent and b"QueuePause" not in sent  # nothing reached AMI


async def test_api_is_behind_the_token(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/api/v1/agents")).status == 401
    assert (await client.post("/api/v1/agents/1001/login")).status == 401


async def test_api_without_ami_is_503(client: TestClient[Any, Any], ami: AmiClient) -> None:
    await close(ami)
    response = await client.post("/api/v1/agents/1001/login", headers=AUTH)
    assert response.status == 503 and "AMI" in (await response.json())["error"]


@pytest.mark.parametrize(("account", "asked"), [("1234567897", ["account:1234567897"]), ("", None)])
async def test_the_agents_call_with_the_callers_customer_data(
    client: TestClient[Any, Any],
    feature: AgentsFeature,
    queue_ami: QueueAmi,
    directory: Directory,
    account: str,
    asked: list[str] | None,
) -> None:
    queue_ami.push(member("QueueMemberAdded", "repair"))
    queue_ami.push(
        ev("UserEvent", 40, UserEvent="HotlineAgentConnect", Endpoint="agent-1001")
        | {"Linkedid": "300.1", "Account": account}
    )
    queue_ami.push(call_event("AgentConnect", 40))
    await until(lambda: feature.tracker.get("1001").call is not None)  # type: ignore[union-attr]
    response = await client.get("/api/v1/agents/1001/call", headers=AUTH)
    assert response.status == 200
    body = await response.json()
    assert (body["agent"], body["linkedid"], body["caller"]) == ("1001", "300.1", "13800138000")
    assert body["customer"] == {
        "account": "1234567897",
        "name": "张三",
        "phone": "13800138000",
        "address": "幸福路 1 号",
    }
    assert directory.asked == (asked or ["phone:13800138000"])
    state = await (await client.get("/api/v1/agents/1001", headers=AUTH)).json()
    assert state["status"] == "on_call" and state["call"]["account"] == account


def test_every_tracked_event_passes_the_ami_filter() -> None:
    from hotline.render import AMI_EVENTS
    from ivr.agents.feature import TRACKED_EVENTS

    assert set(TRACKED_EVENTS) <= set(AMI_EVENTS)


# the CLI: arguments to API requests (the API itself is tested above)


@pytest.fixture
def api_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Any]]:
    calls: list[tuple[str, str, Any]] = []
    agent = {
        "id": "1001",
        "status": "paused",
        "queues": [{"queue": "repair", "paused": True, "reason": "lunch"}],
        "call": {"linkedid": "300.1", "caller": "13800138000"},
    }

    def fake(settings: Settings, method: str, path: str, body: Any = None) -> dict[str, Any]:
        calls.append((method, path, body))
        if method == "GET":
            return {"agents": [agent]} if path.endswith("agents") else agent
        return {"queues": {"repair": "paused"}, "agent": agent}

    monkeypatch.setattr("hotline.cli_agents.api_request", fake)
    (tmp_path / "empty.yaml").write_text("{}\n")
    monkeypatch.setenv("HOTLINE_CONFIG", str(tmp_path / "empty.yaml"))
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(tmp_path / "none.yaml"))
    return calls


@pytest.mark.parametrize(
    ("argv", "request_made"),
    [
        (["login", "1001"], ("POST", "/api/v1/agents/1001/login", {"queues": []})),
        (
            ["logout", "1001", "--queue", "repair", "--queue", "billing"],
            ("POST", "/api/v1/agents/1001/logout", {"queues": ["repair", "billing"]}),
        ),
        (
            ["pause", "1001", "--reason", "lunch"],
            ("POST", "/api/v1/agents/1001/pause", {"queues": [], "reason": "lunch"}),
        ),
        (["unpause", "1001"], ("POST", "/api/v1/agents/1001/unpause", {"queues": []})),
        (["status"], ("GET", "/api/v1/agents", None)),
        (["status", "1001"], ("GET", "/api/v1/agents/1001", None)),
    ],
)
def test_cli_agent_commands(
    api_calls: list[tuple[str, str, Any]], argv: list[str], request_made: tuple[str, str, Any]
) -> None:
    from click.testing import CliRunner

    from hotline.cli import main

    result = CliRunner().invoke(main, ["agent", *argv])
    assert result.exit_code == 0, result.output
    assert api_calls == [request_made]
    assert "1001 paused      repair (paused: lunch)  call 300.1 from 13800138000" in result.output


def test_cli_agent_error_from_the_api_exits_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from hotline.cli import main
    from hotline.cli_agents import ApiError

    def refuse(*_: Any, **__: Any) -> dict[str, Any]:
        raise ApiError("404: agent 4711: not configured (queues.agents)")

    monkeypatch.setattr("hotline.cli_agents.api_request", refuse)
    (tmp_path / "empty.yaml").write_text("{}\n")
    monkeypatch.setenv("HOTLINE_CONFIG", str(tmp_path / "empty.yaml"))
    result = CliRunner().invoke(main, ["agent", "login", "4711"])
    assert result.exit_code == 1 and "404: agent 4711" in result.output


async def test_dashboards_get_an_agent_when_its_state_changes_and_only_then() -> None:
    hub = LiveHub(clock=lambda: 1.0)
    context = FeatureContext(Settings(queues=QUEUES), None, None, None, hub)  # type: ignore[arg-type]
    found = AgentsFeature(context, Directory(), clock=Clock())
    assert [(a["id"], a["status"]) for a in found.live_agents()] == [
        ("1001", "logged_out"),
        ("1002", "logged_out"),
    ]
    stream = hub.stream()
    waiting = asyncio.ensure_future(take(stream, 2))
    await asyncio.sleep(0)
    found._on_event(member("QueueMemberAdded", "repair"))  # type: ignore[arg-type]
    found._on_event(member("QueueMemberStatus", "repair"))  # type: ignore[arg-type]  # the same
    found._on_event(member("QueueMemberPause", "repair", Paused="1", PausedReason="lunch"))  # type: ignore[arg-type]
    shown = [json.loads(event[2]) for event in await waiting if event]
    assert [(a["id"], a["status"], a["queues"]) for a in shown] == [
        ("1001", "available", [{"queue": "repair", "paused": False, "reason": ""}]),
        ("1001", "paused", [{"queue": "repair", "paused": True, "reason": "lunch"}]),
    ]
    assert hub.published == 2
    await stream.aclose()


async def test_the_end_of_a_wrapup_reaches_every_dashboard() -> None:
    """Wrap-up ends with time: the ticker's look, or a second dashboard's snapshot, tells
    the dashboards already connected."""
    hub, clock = LiveHub(clock=lambda: 1.0), Clock()
    context = FeatureContext(Settings(queues=QUEUES), None, None, None, hub)  # type: ignore[arg-type]
    found = AgentsFeature(context, Directory(), clock=clock)
    first = hub.stream()
    for at, event in (
        (0, member("QueueMemberAdded", "repair")),
        (40, call_event("AgentConnect", 40, HoldTime="28", RingTime="3")),
        (100, call_event("AgentComplete", 100, TalkTime="60", Reason="agent")),
    ):
        clock.now = T0 + timedelta(seconds=at)
        found._on_event(event)  # type: ignore[arg-type]
    statuses = [json.loads(e[2])["status"] for e in await take(first, 3) if e]
    assert statuses == ["available", "on_call", "wrapup"]
    clock.now = T0 + timedelta(seconds=116)  # repair: 15 s of wrap-up
    second = found.live_agents()  # a dashboard connecting now
    assert [a["status"] for a in second] == ["available", "logged_out"]
    [told] = await take(first, 1)
    assert told is not None and json.loads(told[2])["status"] == "available"
    clock.now = T0 + timedelta(seconds=200)
    found._on_event(member("QueueMemberStatus", "repair", 200))  # type: ignore[arg-type]
    found._show_changes()  # the ticker: nothing changed, nothing sent
    assert hub.published == 4
    first.close()
