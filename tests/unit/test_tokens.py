"""API tokens and roles: the rules as a table, the hashed store (SQLite and PostgreSQL),
and the middleware answering 401/403 on a real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.cli import main
from hotline.db import CallRecordRepository, session_factory
from hotline.db.models_tokens import ApiTokenRow
from hotline.web.app import WebDeps, create_app
from hotline.web.roles import Role, allowed
from hotline.web.tokens import TokenStore, token_hash
from tests.unit.test_web import Health

ADMIN = "settings-admin-token"


@pytest.mark.parametrize(
    ("role", "method", "path", "own", "ok"),
    [
        (Role.ADMIN, "DELETE", "/api/v1/dnc/13900000001", "", True),
        (Role.SUPERVISOR, "GET", "/api/v1/campaigns", "", True),
        (Role.SUPERVISOR, "POST", "/api/v1/campaigns/visits/pause", "", True),
        (Role.SUPERVISOR, "POST", "/api/v1/campaigns", "", False),
        (Role.SUPERVISOR, "POST", "/api/v1/campaigns/visits/contacts", "", False),
        (Role.SUPERVISOR, "POST", "/api/v1/agents/1001/pause", "", True),
        (Role.SUPERVISOR, "DELETE", "/api/v1/blocklist/13900000001", "", False),
        (Role.AGENT, "GET", "/api/v1/calls", "1001", True),
        (Role.AGENT, "PATCH", "/api/v1/calls/1700000000.1", "1001", True),
        (Role.AGENT, "POST", "/api/v1/calls/1700000000.1/hold", "1001", True),
        (Role.AGENT, "POST", "/api/v1/agents/1001/pause", "1001", True),
        (Role.AGENT, "POST", "/api/v1/agents/1002/pause", "1001", False),
        (Role.AGENT, "GET", "/api/v1/agents/1002", "1001", False),
        (Role.AGENT, "GET", "/api/v1/campaigns", "1001", False),
        (Role.AGENT, "POST", "/api/v1/campaigns/visits/pause", "1001", False),
        (Role.AGENT, "POST", "/api/v1/callbacks", "1001", True),
        (Role.AGENT, "GET", "/api/v1/dnc", "1001", False),
        # recordings and quality review: supervisors and admins, never agents
        (Role.SUPERVISOR, "GET", "/api/v1/calls/1700000000.1/recording", "", True),
        (Role.AGENT, "GET", "/api/v1/calls/1700000000.1/recording", "1001", False),
        (Role.AGENT, "GET", "/api/v1/recordings/1700000000.1", "1001", False),
        (Role.AGENT, "GET", "/api/v1/recordings/playbacks", "1001", False),
        (Role.SUPERVISOR, "POST", "/api/v1/qa/samples", "", True),
        (Role.SUPERVISOR, "PUT", "/api/v1/qa/reviews/1700000000.1", "", True),
        (Role.AGENT, "GET", "/api/v1/qa/reviews", "1001", False),
        (Role.AGENT, "PUT", "/api/v1/qa/reviews/1700000000.1", "1001", False),
        (Role.AGENT, "POST", "/api/v1/qa/samples", "1001", False),
    ],
)
def test_what_each_role_may_do(role: Role, method: str, path: str, own: str, ok: bool) -> None:
    verdict = allowed(role, method, path, own)
    assert verdict.ok is ok, verdict
    if not ok:
        assert verdict.why


async def test_tokens_are_stored_hashed_checked_and_revoked(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    store = TokenStore(sessions)
    token_id, secret = await store.create("张三的坐席", Role.AGENT, "1001")
    caller = await store.check(secret)
    assert caller is not None and (caller.role, caller.agent) == (Role.AGENT, "1001")
    assert await store.check(secret + "x") is None
    async with sessions() as session:
        stored = (await session.scalars(select(ApiTokenRow))).one()
    assert stored.token_hash == token_hash(secret) and secret not in stored.token_hash
    [listed] = await store.tokens()
    assert (listed["id"], listed["role"], listed["revoked_at"]) == (token_id, "agent", None)
    assert "token" not in listed and "token_hash" not in listed
    assert await store.revoke(token_id)
    assert not await store.revoke(token_id)
    assert await store.check(secret) is None  # revoking clears this node's cache


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[tuple[TestClient[Any, Any], TokenStore]]:
    sessions = session_factory(engine)
    store = TokenStore(sessions)

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    def routes(app: web.Application) -> None:
        app.router.add_post("/api/v1/campaigns", ok)
        app.router.add_post("/api/v1/campaigns/{ref}/{action}", ok)
        app.router.add_post("/api/v1/agents/{agent}/pause", ok)

    app = create_app(WebDeps(ADMIN, CallRecordRepository(sessions), Health(), store), [routes])
    test_client: TestClient[Any, Any] = TestClient(TestServer(app))
    await test_client.start_server()
    yield test_client, store
    await test_client.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_middleware_answers_by_role(
    client: tuple[TestClient[Any, Any], TokenStore],
) -> None:
    http, store = client
    _, agent = await store.create("agent 1001", Role.AGENT, "1001")
    _, supervisor = await store.create("班长", Role.SUPERVISOR)
    expectations = [
        (ADMIN, "POST", "/api/v1/campaigns", 200),
        (supervisor, "POST", "/api/v1/campaigns", 403),
        (supervisor, "POST", "/api/v1/campaigns/visits/pause", 200),
        (supervisor, "GET", "/api/v1/calls", 200),
        (agent, "GET", "/api/v1/calls", 200),
        (agent, "POST", "/api/v1/agents/1001/pause", 200),
        (agent, "POST", "/api/v1/agents/1002/pause", 403),
        (agent, "POST", "/api/v1/campaigns/visits/pause", 403),
        (agent, "GET", "/api/v1/openapi.json", 200),
        ("not-a-token", "GET", "/api/v1/openapi.json", 401),
        ("not-a-token", "GET", "/api/v1/calls", 401),
    ]
    for token, method, path, status in expectations:
        response = await http.request(method, path, headers=bearer(token))
        assert response.status == status, (token[:6], method, path, await response.text())
        if status == 403:
            assert (
                "may not" in (await response.json())["error"]
                or "acts only" in (await response.json())["error"]
            )
    missing = await http.get("/api/v1/calls")
    assert missing.status == 401
    assert (await http.get("/health")).status == 200


def test_token_commands(runner: CliRunner) -> None:
    made = runner.invoke(main, ["token", "create", "--role", "supervisor", "--name", "班长"])
    assert made.exit_code == 0, made.output
    assert made.output.startswith("token #1 (supervisor): ")
    bad = runner.invoke(main, ["token", "create", "--role", "agent", "--name", "x"])
    assert bad.exit_code == 2 and "configured agent" in bad.output
    wrong = runner.invoke(
        main, ["token", "create", "--role", "admin", "--name", "x", "--agent", "1001"]
    )
    assert wrong.exit_code == 2
    listed = runner.invoke(main, ["token", "list"])
    assert "supervisor" in listed.output and "active" in listed.output
    assert runner.invoke(main, ["token", "revoke", "1"]).exit_code == 0
    assert runner.invoke(main, ["token", "revoke", "1"]).exit_code == 1
