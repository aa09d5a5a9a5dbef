"""The inbound HTTP API (blocklist, callbacks) in the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hotline.ami import AmiClient
from hotline.config import Settings
from hotline.db import CallRecordRepository, create_engine, session_factory, upgrade
from hotline.db.transaction import Sessions
from hotline.feature import FeatureContext
from hotline.web.app import WebDeps, create_app
from ivr.blocklist import Blocklist, BlockSource
from ivr.callbacks import CallbackRepository, CallbackStatus, NewCallback
from ivr.feature import InboundFeature
from ivr.routes import InboundApi, install_routes

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/x"
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


class Health:
    def health(self) -> dict[str, Any]:
        return {"ok": True}


async def serve(sessions: Sessions, config_numbers: tuple[str, ...] = ()) -> TestClient[Any, Any]:
    api = InboundApi(Blocklist(sessions, config_numbers), CallbackRepository(sessions))

    def installer(app: web.Application) -> None:
        install_routes(app, api)

    app = create_app(WebDeps(TOKEN, CallRecordRepository(sessions), Health()), [installer])
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    await upgrade(database_url)
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def client(sessions: Sessions) -> AsyncIterator[TestClient[Any, Any]]:
    client = await serve(sessions)
    yield client
    await client.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/blocklist"),
        ("POST", "/api/v1/blocklist"),
        ("DELETE", "/api/v1/blocklist/13800138000"),
        ("GET", "/api/v1/callbacks"),
    ],
)
async def test_every_route_needs_the_token(
    client: TestClient[Any, Any], method: str, path: str
) -> None:
    response = await client.request(method, path, json={"number": "13800138000"})
    assert response.status == 401
    assert await response.json() == {"error": "missing bearer token"}
    wrong = {"Authorization": "Bearer nope"}
    assert (await client.request(method, path, headers=wrong)).status == 401


async def test_blocklist_add_list_remove(client: TestClient[Any, Any]) -> None:
    body = {"number": "008613900139000", "reason": " abusive "}
    response = await client.post("/api/v1/blocklist", json=body, headers=AUTH)
    assert response.status == 201
    created = await response.json()
    assert (created["number"], created["reason"], created["source"]) == (
        "+8613900139000",
        "abusive",
        "api",
    )
    assert datetime.fromisoformat(created["added_at"]).tzinfo is not None
    again = await client.post("/api/v1/blocklist", json={"number": "13900139000"}, headers=AUTH)
    assert again.status == 200 and await again.json() == created
    listed = await (await client.get("/api/v1/blocklist", headers=AUTH)).json()
    assert listed == {"blocklist": [created]}
    assert (await client.delete("/api/v1/blocklist/+8613900139000", headers=AUTH)).status == 204
    missing = await client.delete("/api/v1/blocklist/13900139000", headers=AUTH)
    assert missing.status == 404
    assert (await missing.json())["error"].startswith("number: 13900139000 is not on")
    assert await (await client.get("/api/v1/blocklist", headers=AUTH)).json() == {"blocklist": []}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"number": "12"}, "number: digits with an optional leading +, 3 to 20 characters"),
        ({"number": "1" * 21}, "number: digits"),
        ({"number": "138-0013"}, "number: digits"),
        ({"number": 13800138000}, "number: digits"),
        ({}, "number: digits"),
        ({"number": "13800138000", "reason": 5}, "reason: text of at most 255 characters"),
        ({"number": "13800138000", "reason": "x" * 256}, "reason: text of at most 255"),
        (["13800138000"], "body: a JSON object with number and reason"),
    ],
)
async def test_bad_blocklist_input_is_a_400_naming_the_field(
    client: TestClient[Any, Any], body: Any, error: str
) -> None:
    response = await client.post("/api/v1/blocklist", json=body, headers=AUTH)
    assert response.status == 400
    assert (await response.json())["error"].startswith(error)


async def test_not_json_is_a_400(client: TestClient[Any, Any]) -> None:
    response = await client.post("/api/v1/blocklist", data=b"{nope", headers=AUTH)
    assert (response.status, await response.json()) == (400, {"error": "body: not valid JSON"})
    bad = await client.delete("/api/v1/blocklist/12", headers=AUTH)
    assert bad.status == 400


async def test_config_numbers_cannot_be_removed_over_the_api(sessions: Sessions) -> None:
    client = await serve(sessions, ("13700137000",))
    try:
        await Blocklist(sessions, ("13700137000",)).sync_config()
        response = await client.delete("/api/v1/blocklist/13700137000", headers=AUTH)
        assert response.status == 409
        assert "ivr.blocklist" in (await response.json())["error"]
        listed = await (await client.get("/api/v1/blocklist", headers=AUTH)).json()
        assert [e["source"] for e in listed["blocklist"]] == ["config"]
    finally:
        await client.close()


async def test_callbacks_by_status(client: TestClient[Any, Any], sessions: Sessions) -> None:
    repo = CallbackRepository(sessions)
    first = await repo.request(
        NewCallback("13800138000", "1.1", "repair", "repair", 5, 2, None, T0)
    )
    second = await repo.request(NewCallback("13900139000", "1.2", requested_at=T0))
    await repo.request(NewCallback("13800138000", "1.3", "repair", "repair", 5, 1, None, T0))
    assert await repo.mark(second.id, CallbackStatus.DONE)
    body = await (await client.get("/api/v1/callbacks?status=open", headers=AUTH)).json()
    assert body == {
        "callbacks": [
            {
                "id": first.id,
                "number": "13800138000",
                "linkedid": "1.1",
                "queue": "repair",
                "category": "repair",
                "requested_at": T0.isoformat(),
                "status": "pending",
                "priority": 5,
                "position": 1,
                "merge_count": 1,
                "due_at": None,
                "source": "ivr",
                "promised_by": "",
                "agent": "",
                "note": "",
                "due_by": None,
                "outcome": "",
                "closed_at": None,
                "overdue_alerted_at": None,
            }
        ]
    }
    default = await (await client.get("/api/v1/callbacks", headers=AUTH)).json()
    assert default == body
    done = await (await client.get("/api/v1/callbacks?status=done", headers=AUTH)).json()
    assert [c["id"] for c in done["callbacks"]] == [second.id]
    bad = await client.get("/api/v1/callbacks?status=later", headers=AUTH)
    assert bad.status == 400
    assert (await bad.json())["error"].startswith("status: one of open, pending")


async def test_database_down_is_a_503() -> None:
    engine = create_engine(UNREACHABLE, connect_timeout=2)
    client = await serve(session_factory(engine))
    try:
        for method, path in [("GET", "/api/v1/blocklist"), ("GET", "/api/v1/callbacks")]:
            response = await client.request(method, path, headers=AUTH)
            assert response.status == 503
            assert (await response.json())["error"].startswith("database unavailable")
        add = await client.post("/api/v1/blocklist", json={"number": "123"}, headers=AUTH)
        assert add.status == 503
    finally:
        await client.close()
        await engine.dispose()


async def test_the_feature_installs_its_routes_and_flows(sessions: Sessions) -> None:
    settings = Settings(ivr={"blocklist": ["95007"]})
    context = FeatureContext(
        settings,
        AmiClient.from_settings(settings.asterisk),
        sessions,
        CallRecordRepository(sessions),
    )
    feature = InboundFeature(context, clock=lambda: T0)
    assert set(feature.agi_routes()) == {"hotline", "hotline-score", "hotline-queue-timeout"}
    assert feature.health() == {"open": True}
    await feature.start()  # syncs ivr.blocklist into the table
    app = create_app(WebDeps(TOKEN, context.records, Health()), [feature.add_routes])
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        listed = await (await client.get("/api/v1/blocklist", headers=AUTH)).json()
        assert [(e["number"], e["source"]) for e in listed["blocklist"]] == [("95007", "config")]
        assert await Blocklist(sessions).is_blocked("95007")
        entry, _ = await feature.blocklist.add("13800138000", "", BlockSource.API)
        assert await feature.deps.blocklist.is_blocked(entry.number)
    finally:
        await client.close()
        await feature.stop()
