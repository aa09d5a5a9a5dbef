"""The OpenAPI document lists exactly the service's routes, with the roles the middleware
enforces."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.config import Settings
from hotline.service import HotlineService
from hotline.web.openapi import ROUTES, document
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
