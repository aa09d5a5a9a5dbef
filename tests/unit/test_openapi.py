"""The OpenAPI document lists exactly the service's routes, with the roles the middleware
enforces."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.config import Settings
from hotline.db import upgrade
from hotline.service import HotlineService
from hotline.web.openapi import ROUTES, document
from hotline.web.openapi_schemas import REQUESTS, RESPONSES
from hotline.web.roles import Role, allowed

SAMPLE = {"agent": "1001", "action": "pause", "linkedid": "1700000000.1", "number": "13900000001"}


@pytest.fixture
def service(tmp_path: Path) -> HotlineService:
    settings = Settings(
        var_dir=tmp_path,
        database={"url": f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"},
        web={"token": "t"},
        asterisk={"ami_secret": "a"},
        carrier={"ami_secret": "c"},
    )
    return HotlineService(settings)


def test_every_route_is_documented_and_every_documented_route_exists(
    service: HotlineService,
) -> None:
    served = {
        (route.method, route.resource.canonical)
        for route in service.web_app.router.routes()
        if route.method != "HEAD"
        and route.resource is not None
        and not route.resource.canonical.startswith("/ui")  # the console's pages, not API
    }
    documented = {(method, path) for method, path, *_ in ROUTES}
    assert served - documented == set(), "routes without documentation"
    assert documented - served == set(), "documentation of routes that do not exist"


@pytest.mark.parametrize(("method", "path", "roles"), [(m, p, r) for m, p, r, *_ in ROUTES])
def test_documented_roles_are_the_enforced_ones(method: str, path: str, roles: str) -> None:
    if not roles:
        return  # /health: open
    concrete = re.sub(r"{(\w+)}", lambda m: SAMPLE.get(m.group(1), "x"), path)
    may = {role.value for role in Role if allowed(role, method, concrete, "1001").ok}
    assert may == set(roles.split(", ")), (method, path)


def test_the_document_is_openapi_with_bearer_security() -> None:
    doc = document()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert doc["paths"]["/health"]["get"]["security"] == []
    hold = doc["paths"]["/api/v1/calls/{linkedid}/hold"]["post"]
    assert hold["parameters"][0]["name"] == "linkedid" and "403" in hold["responses"]


def test_the_document_is_valid_openapi_3_1() -> None:
    from openapi_spec_validator import validate

    validate(document())  # the schemas included


def test_every_schema_belongs_to_a_documented_route() -> None:
    documented = {(method, path) for method, path, *_ in ROUTES}
    assert set(REQUESTS) - documented == set() and set(RESPONSES) - documented == set()
    with_json = {(m, p) for m, p, _, _, bodies in ROUTES if "application/json" in bodies}
    assert set(REQUESTS) <= with_json


@pytest.fixture
async def http(service: HotlineService) -> AsyncIterator[TestClient[Any, Any]]:
    await upgrade(service.settings.database.url)
    client: TestClient[Any, Any] = TestClient(TestServer(service.web_app))
    await client.start_server()
    yield client
    await client.close()
    await service.engine.dispose()


@pytest.mark.parametrize(
    ("method", "path"),
    [key for key, schema in REQUESTS.items() if schema.get("additionalProperties") is False],
)
async def test_a_field_the_schema_does_not_have_is_refused_by_name(
    http: TestClient[Any, Any], method: str, path: str
) -> None:
    concrete = re.sub(r"{(\w+)}", lambda m: SAMPLE.get(m.group(1), "x"), path)
    admin = {"Authorization": "Bearer t"}
    valid = {"number": "13900000001"} if path in ("/api/v1/blocklist", "/api/v1/dnc") else {}
    body = valid | {"colour": "blue"}  # otherwise acceptable: the unknown field is the fault
    response = await http.request(method, concrete, json=body, headers=admin)
    answer = await response.json()
    assert response.status == 400 and "colour" in answer["error"], (path, answer)


async def test_a_campaign_spec_outside_the_schema_is_refused_by_name(
    http: TestClient[Any, Any],
) -> None:
    schema = document()["components"]["schemas"]["CampaignSpec"]
    assert schema["required"] == ["name"] and "windows" in schema["properties"]
    response = await http.post(
        "/api/v1/campaigns", json={"name": "x", "colour": 1}, headers={"Authorization": "Bearer t"}
    )
    assert response.status == 400 and "colour" in (await response.json())["error"]
