"""The quality review over HTTP (SQLite and PostgreSQL): a supervisor draws the sample and
scores a call, bad reviews are refused naming the field and change nothing, agents get
nothing, and the reports answer JSON and CSV."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import CallRecordRepository, session_factory
from hotline.quality.api import install_routes
from hotline.quality.config import DEFAULT_FORM, QualitySettings
from hotline.quality.store import QaStore
from hotline.web.app import WebDeps, create_app
from hotline.web.roles import Role
from hotline.web.tokens import TokenStore
from tests.unit.test_quality_store import DAY, T0, call
from tests.unit.test_tokens import bearer
from tests.unit.test_web import Health

ADMIN = "settings-admin-token"
SCORES = {item.key: 10 for item in DEFAULT_FORM}


@pytest.fixture
async def http(engine: AsyncEngine) -> AsyncIterator[tuple[TestClient[Any, Any], TokenStore]]:
    sessions = session_factory(engine)
    records, tokens = CallRecordRepository(sessions), TokenStore(sessions)
    settings = QualitySettings()
    await records.save_many([(call("c1", "1001", 0), []), (call("c2", "1001", 5, score=2), [])])

    def routes(app: web.Application) -> None:
        install_routes(app, QaStore(sessions, settings.timezone), settings)

    app = create_app(WebDeps(ADMIN, records, Health(), tokens), [routes])
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    yield client, tokens
    await client.close()


async def test_sample_review_and_reports(http: tuple[TestClient[Any, Any], TokenStore]) -> None:
    client, tokens = http
    _, supervisor = await tokens.create("sup-li", Role.SUPERVISOR)
    _, agent = await tokens.create("agent-1001", Role.AGENT, "1001")
    sup, ag = bearer(supervisor), bearer(agent)
    response = await client.post("/api/v1/qa/samples", json={"day": DAY.isoformat()}, headers=sup)
    assert response.status == 201, await response.text()
    assert sorted((await response.json())["picks"]) == ["low_score", "random"]
    again = await client.post("/api/v1/qa/samples", json={"day": DAY.isoformat()}, headers=sup)
    assert again.status == 200 and (await again.json())["added"] == 0
    listed = await (await client.get(f"/api/v1/qa/reviews?day={DAY}", headers=sup)).json()
    assert {r["linkedid"] for r in listed["reviews"]} == {"c1", "c2"}
    # refused, naming the field, and nothing stored
    for body, field in (
        ({"scores": SCORES | {"greeting": 11}}, "scores.greeting"),
        ({"scores": SCORES, "stars": 5}, "stars"),
        ([1, 2], "(body)"),
    ):
        bad = await client.put("/api/v1/qa/reviews/c2", json=body, headers=sup)
        assert bad.status == 400 and (await bad.json())["field"] == field
    still = await (await client.get("/api/v1/qa/reviews/c2", headers=sup)).json()
    assert still["status"] == "open" and still["total"] is None
    good = await client.put(
        "/api/v1/qa/reviews/c2", json={"scores": SCORES | {"closing": 0}}, headers=sup
    )
    assert good.status == 200
    saved = await good.json()
    assert (saved["total"], saved["reviewer"], saved["status"]) == (85.0, "sup-li", "reviewed")
    unknown = await client.put("/api/v1/qa/reviews/nope", json={"scores": SCORES}, headers=sup)
    assert unknown.status == 404
    # agents: nothing of it
    for method, path in (
        ("GET", "/api/v1/qa/reviews"),
        ("GET", "/api/v1/qa/form"),
        ("PUT", "/api/v1/qa/reviews/c1"),
        ("POST", "/api/v1/qa/samples"),
        ("GET", "/api/v1/reports/qa-agents"),
    ):
        refused = await client.request(method, path, json={}, headers=ag)
        assert refused.status == 403, (method, path)
    # the reports
    span = {
        "since": (T0 - timedelta(hours=8)).isoformat(),
        "until": (T0 + timedelta(hours=12)).isoformat(),
    }
    agents = await (await client.get("/api/v1/reports/qa-agents", params=span, headers=sup)).json()
    assert [(r["agent"], r["reviewed"], r["average"]) for r in agents["rows"]] == [
        ("1001", 1, 85.0)
    ]
    csv = await client.get("/api/v1/reports/qa-items", params=span | {"format": "csv"}, headers=sup)
    lines = (await csv.text()).splitlines()
    assert lines[0] == "item,title,day,reviews,average"
    assert any(line.startswith("closing,") and line.endswith(",1,0.0") for line in lines)
