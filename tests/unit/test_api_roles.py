"""Every documented route, called by every role, on SQLite and on PostgreSQL.

Against the real service's app (AMI down): no token → 401; a role the route does not admit
→ 403 naming it; an admitted role never gets 401/403/500 (2xx, a 4xx with the field or id
named, or 503 where AMI is needed). Unknown ids are 404, and a few reads are checked for
their real answer on each database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.config import Settings
from hotline.db import upgrade
from hotline.service import HotlineService
from hotline.web.openapi import ROUTES
from hotline.web.roles import Role
from hotline.web.tokens import TokenStore

ADMIN = "roles-admin-token"
OWN_AGENT = "1001"
#: a value per path parameter; none of them exists in the empty database
PARAMS = {
    "linkedid": "1700000000.99",
    "agent": OWN_AGENT,
    "ref": "no-such-campaign",
    "action": "pause",
    "id": "987654",
    "number": "13900000001",
}
#: the admin's answer where the id in the path is unknown
UNKNOWN = {
    ("GET", "/api/v1/calls/{linkedid}"): 404,
    ("PATCH", "/api/v1/calls/{linkedid}"): 404,
    ("GET", "/api/v1/campaigns/{ref}"): 404,
    ("POST", "/api/v1/campaigns/{ref}/{action}"): 404,
    ("POST", "/api/v1/campaigns/{ref}/contacts"): 404,
    ("GET", "/api/v1/survey/samples/{id}"): 404,
    ("DELETE", "/api/v1/blocklist/{number}"): 404,
    ("DELETE", "/api/v1/dnc/{number}"): 404,
}
BODIES: dict[str, Any] = {"PATCH": {"reason": "billing"}, "POST": {}}
#: the routes that act through Asterisk: 503 while AMI is down (as here)
NEEDS_AMI = {
    ("POST", "/api/v1/calls/{linkedid}/hold"),
    ("POST", "/api/v1/calls/{linkedid}/resume"),
    *(("POST", f"/api/v1/agents/{{agent}}/{verb}") for verb in ("login", "logout", "pause")),
    ("POST", "/api/v1/agents/{agent}/unpause"),
}


@pytest.fixture
async def http(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[TestClient[Any, Any], dict[str, str]]]:
    await upgrade(database_url)
    service = HotlineService(
        Settings(
            var_dir=tmp_path,
            database={"url": database_url, "spool_dir": tmp_path / "spool"},
            web={"token": ADMIN},
            asterisk={"ami_secret": "a"},
            carrier={"ami_secret": "c"},
            queues={"agents": [{"id": OWN_AGENT, "name": "张三", "queues": ["reception"]}]},
        )
    )
    store = TokenStore(service.sessions)
    tokens = {
        "admin": ADMIN,
        "supervisor": (await store.create("s", Role.SUPERVISOR))[1],
        "agent": (await store.create("a", Role.AGENT, OWN_AGENT))[1],
    }
    client: TestClient[Any, Any] = TestClient(TestServer(service.web_app))
    await client.start_server()
    yield client, tokens
    await client.close()
    await service.engine.dispose()


def concrete(path: str) -> str:
    for name, value in PARAMS.items():
        path = path.replace("{" + name + "}", value)
    return path


async def call(
    client: TestClient[Any, Any], method: str, path: str, token: str | None
) -> tuple[int, str]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    body = BODIES.get(method)
    response = await client.request(method, concrete(path), json=body, headers=headers)
    streaming = path == "/api/v1/live" and response.status == 200  # it never ends
    text = "" if streaming else await response.text()
    response.close()
    return response.status, text


async def test_every_route_answers_every_role_as_documented(
    http: tuple[TestClient[Any, Any], dict[str, str]],
) -> None:
    client, tokens = http
    problems = []
    for method, path, roles, _, _ in ROUTES:
        if not roles:  # /health: open to all
            continue
        status, _ = await call(client, method, path, None)
        if status != 401:
            problems.append(f"{method} {path} without a token: {status}")
        for role, token in tokens.items():
            status, text = await call(client, method, path, token)
            admitted = role in roles.split(", ")
            if not admitted and (status != 403 or role not in text):
                problems.append(f"{method} {path} as {role}: {status} {text[:80]}")
            down = status == 503 and (method, path) in NEEDS_AMI
            if admitted and (status in (401, 403) or (status >= 500 and not down)):
                problems.append(f"{method} {path} as {role}: {status} {text[:80]}")
            if 400 <= status < 600 and '"error"' not in text:
                problems.append(f"{method} {path} as {role}: {status} without an error")
            expected = UNKNOWN.get((method, path))
            if admitted and expected is not None and status != expected:
                problems.append(f"{method} {path} as {role}, unknown id: {status}, not {expected}")
    assert problems == []


async def test_reads_answer_the_same_on_each_database(
    http: tuple[TestClient[Any, Any], dict[str, str]],
) -> None:
    client, tokens = http
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    added = await client.post(
        "/api/v1/blocklist", json={"number": "13900000002", "reason": "骚扰"}, headers=admin
    )
    assert added.status == 201
    listed = await (await client.get("/api/v1/blocklist", headers=admin)).json()
    assert [(e["number"], e["reason"]) for e in listed["blocklist"]] == [("+8613900000002", "骚扰")]
    calls = await (await client.get("/api/v1/calls?direction=inbound", headers=admin)).json()
    assert calls == {"calls": [], "next_cursor": None}
    level = await client.get("/api/v1/reports/service-level?format=csv", headers=admin)
    assert level.status == 200 and level.content_type == "text/csv"
    agent = await client.get(f"/api/v1/agents/{OWN_AGENT}", headers=admin)
    assert (await agent.json())["status"] == "logged_out"
