"""An agent token acts only on the calls its own agent is on.

It could hold and resume any call, write the notes of any call and promise callbacks in
another agent's name. Supervisors and admins act on every call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.callrecord import CallRecord, Direction
from hotline.config import Settings
from hotline.db import upgrade
from hotline.service import HotlineService
from hotline.web.roles import Role
from hotline.web.tokens import TokenStore
from ivr.hold.feature import HoldFeature

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
AGENTS = [
    {"id": "1001", "name": "张三", "queues": ["reception"]},
    {"id": "1002", "name": "李四", "queues": ["reception"]},
]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[HotlineService]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'scope.db'}"
    await upgrade(url)
    made = HotlineService(
        Settings(
            var_dir=tmp_path,
            database={"url": url, "spool_dir": tmp_path / "spool"},
            web={"token": "admin-token"},
            asterisk={"ami_secret": "a"},
            carrier={"ami_secret": "c"},
            queues={"agents": AGENTS},
            call_log={"enabled": False},
        )
    )
    yield made
    await made.engine.dispose()


@pytest.fixture
async def http(service: HotlineService) -> AsyncIterator[TestClient[Any, Any]]:
    client: TestClient[Any, Any] = TestClient(TestServer(service.web_app))
    await client.start_server()
    yield client
    await client.close()


async def bearer(service: HotlineService, role: Role, agent: str = "") -> dict[str, str]:
    token = (await TokenStore(service.sessions).create(f"{role}-{agent}", role, agent))[1]
    return {"Authorization": f"Bearer {token}"}


def on_call(service: HotlineService, linkedid: str, agent: str) -> None:
    """The agent answers the caller (the AgentConnect the hold controller follows)."""
    hold = next(f for f in service.features if isinstance(f, HoldFeature))
    hold.controller.feed(
        {
            "Event": "AgentConnect",
            "Linkedid": linkedid,
            "Uniqueid": linkedid,
            "Channel": "PJSIP/carrier-00000001",
            "DestChannel": f"PJSIP/agent-{agent}-00000002",
            "Interface": f"PJSIP/agent-{agent}",
            "MemberName": f"agent-{agent}",
            "Queue": "reception",
        }
    )


async def test_notes_only_on_the_agents_own_calls(
    service: HotlineService, http: TestClient[Any, Any]
) -> None:
    for linkedid, agent in (("1.1", "1001"), ("2.1", "1002")):
        await service.records.save(CallRecord(linkedid, Direction.INBOUND, T0, agent=agent))
    mine = await bearer(service, Role.AGENT, "1001")
    note = {"reason": "billing"}
    assert (await http.patch("/api/v1/calls/1.1", json=note, headers=mine)).status == 200
    refused = await http.patch("/api/v1/calls/2.1", json=note, headers=mine)
    assert refused.status == 403
    assert "acts only on calls agent 1001 is on" in (await refused.json())["error"]
    stored = await service.records.get("2.1")
    assert stored is not None and stored.reason == ""  # changed nothing
    boss = await bearer(service, Role.SUPERVISOR)
    assert (await http.patch("/api/v1/calls/2.1", json=note, headers=boss)).status == 200


async def test_hold_and_resume_only_of_the_agents_own_calls(
    service: HotlineService, http: TestClient[Any, Any]
) -> None:
    on_call(service, "3.1", "1002")
    mine = await bearer(service, Role.AGENT, "1001")
    for verb in ("hold", "resume"):
        response = await http.post(f"/api/v1/calls/3.1/{verb}", headers=mine)
        assert response.status == 403, verb
    theirs = await bearer(service, Role.AGENT, "1002")
    response = await http.post("/api/v1/calls/3.1/hold", headers=theirs)
    assert response.status == 503  # allowed: it goes to AMI (down in this test)


async def test_callbacks_are_promised_in_the_agents_own_name(
    service: HotlineService, http: TestClient[Any, Any]
) -> None:
    mine = await bearer(service, Role.AGENT, "1001")
    due = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    body: dict[str, Any] = {"number": "13900001234", "due_by": due, "agent": "1002"}
    refused = await http.post("/api/v1/callbacks", json=body, headers=mine)
    assert refused.status == 403 and (await refused.json())["field"] == "agent"
    own = await http.post("/api/v1/callbacks", json=body | {"agent": "1001"}, headers=mine)
    assert own.status == 201, await own.text()
