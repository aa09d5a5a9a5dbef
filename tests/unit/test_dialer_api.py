"""The dialer's HTTP API and CLI against a real database (the engine is not running)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from dialer.api import install_routes
from dialer.operations import Operations
from dialer.repository import DialerRepository
from hotline.cli import main
from hotline.config_dialer import DialerSettings
from hotline.db import CallRecordRepository, create_engine, session_factory, upgrade
from hotline.web.app import WebDeps, create_app

TOKEN = "dialer-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ALL_DAY = {"mon": [["00:00", "24:00"]]}


class Health:
    def health(self) -> dict[str, Any]:
        return {"ok": True}


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[TestClient[Any, Any]]:
    await upgrade(database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    ops = Operations(DialerSettings(dnc=["13900000099"]), DialerRepository(sessions))
    app = create_app(
        WebDeps(TOKEN, CallRecordRepository(sessions), Health()),
        [lambda app: install_routes(app, ops)],
    )
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()
    await engine.dispose()


async def test_token_auth_applies(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/v1/campaigns")
    assert response.status == 401
    response = await client.post("/api/v1/campaigns", json={"name": "x"})
    assert response.status == 401


async def test_campaign_life_over_the_api(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/api/v1/campaigns",
        json={"name": "survey-1", "type": "callback_survey", "priority": 7, "windows": ALL_DAY},
        headers=AUTH,
    )
    assert response.status == 201, await response.text()
    made = await response.json()
    assert (made["status"], made["priority"], made["type"]) == ("draft", 7, "callback_survey")
    # the site's retry rule, plus the survey's: machines and unfinished surveys come back
    assert made["retry"] == {
        "busy": 600,
        "no_answer": 1800,
        "congestion": 300,
        "unknown": 1800,
        "failed": 300,
        "later": 3600,
        "answered_machine": 3600,
    }
    assert made["amd"] is True
    csv = "number,name\n13900000001,a\n13900000001,dup\nbad,b\n13800000002,c\n"
    response = await client.post(
        "/api/v1/campaigns/survey-1/contacts",
        data=csv.encode(),
        headers={**AUTH, "Content-Type": "text/csv"},
    )
    report = await response.json()
    assert response.status == 200
    assert report["added"] == 2 and report["merged_in_file"] == 1
    assert report["rejected"] == [{"line": 4, "reason": report["rejected"][0]["reason"]}]
    response = await client.post(
        f"/api/v1/campaigns/{made['id']}/contacts",
        json=[{"number": "13900000003"}, {"number": "13900000001"}],
        headers=AUTH,
    )
    assert (await response.json())["merged_existing"] == 1
    for action, status in (("start", "running"), ("pause", "paused"), ("resume", "running")):
        response = await client.post(f"/api/v1/campaigns/survey-1/{action}", headers=AUTH)
        assert response.status == 200 and (await response.json())["status"] == status
    response = await client.post("/api/v1/campaigns/survey-1/resume", headers=AUTH)
    assert response.status == 409 and (await response.json())["field"] == "status"
    body = await (await client.get("/api/v1/campaigns/survey-1", headers=AUTH)).json()
    assert body["progress"]["contacts"]["pending"] == 3
    assert body["progress"]["pending"] == 3
    listing = await (await client.get("/api/v1/campaigns", headers=AUTH)).json()
    assert [c["name"] for c in listing["campaigns"]] == ["survey-1"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "bad", "cps": 0}, "cps"),
        ({"name": "bad", "retry": {"busy": -1}}, "retry"),
        ({"name": "bad", "retry": {"bogus": 5}}, "retry.bogus"),
        ({"name": "bad", "windows": {"mon": [["11:00", "09:00"]]}}, "windows"),
        ({"name": "bad", "windows": {"someday": []}}, "windows"),
        ({"name": "bad", "timezone": "Mars/Base"}, "timezone"),
        ({"name": "bad", "trunk": "nope"}, "trunk"),
        ({"name": "bad", "deadline": "2026-11-23T20:00:00"}, "deadline"),
        ({"name": "bad", "type": "spam"}, "type"),
        ({"name": "bad", "extra": 1}, "extra"),
        ({"name": "202612"}, "name"),  # would be read as an id in paths
        ({"name": ".."}, "name"),  # a path step
        ({"cps": 1}, "name"),
        ([1, 2], "(body)"),
    ],
)
async def test_invalid_campaigns_are_400_naming_the_field(
    client: TestClient[Any, Any], body: Any, field: str
) -> None:
    response = await client.post("/api/v1/campaigns", json=body, headers=AUTH)
    assert response.status == 400
    assert (await response.json())["field"] == field


async def test_unknown_campaigns_are_404_and_bad_files_400(client: TestClient[Any, Any]) -> None:
    for path in ("/api/v1/campaigns/nope", "/api/v1/campaigns/42"):
        response = await client.get(path, headers=AUTH)
        assert response.status == 404 and (await response.json())["field"] == "campaign"
    response = await client.post("/api/v1/campaigns/nope/start", headers=AUTH)
    assert response.status == 404
    await client.post("/api/v1/campaigns", json={"name": "c"}, headers=AUTH)
    response = await client.post(
        "/api/v1/campaigns/c/contacts",
        data="号码\n13900000001\n".encode("gbk"),
        headers={**AUTH, "Content-Type": "text/csv"},
    )
    body = await response.json()
    assert response.status == 400 and body["field"] == "file" and "UTF-8" in body["error"]
    response = await client.post("/api/v1/campaigns", json={"name": "c"}, headers=AUTH)
    assert response.status == 409 and (await response.json())["field"] == "name"
    response = await client.post("/api/v1/campaigns", data=b"{", headers=AUTH)
    assert response.status == 400


async def test_dnc_over_the_api(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/api/v1/dnc", json={"number": "+86 139 0000 0001", "reason": "asked"}, headers=AUTH
    )
    assert response.status == 201 and (await response.json())["number"] == "13900000001"
    response = await client.post("/api/v1/dnc", json={"number": "abc"}, headers=AUTH)
    assert response.status == 400 and (await response.json())["field"] == "number"
    listed = (await (await client.get("/api/v1/dnc", headers=AUTH)).json())["dnc"]
    assert [(d["number"], d["source"], d["reason"]) for d in listed] == [
        ("13900000001", "api", "asked")
    ]
    assert (await client.delete("/api/v1/dnc/13900000001", headers=AUTH)).status == 200
    assert (await client.delete("/api/v1/dnc/13900000001", headers=AUTH)).status == 404


def test_cli_campaign_commands(tmp_path: Path) -> None:
    config = tmp_path / "hotline.yaml"
    config.write_text(
        yaml.safe_dump({"database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"}})
    )
    (tmp_path / "contacts.csv").write_text("number,name\n13900000001,a\nxx,b\n")
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(main, ["--config", str(config), *args], catch_exceptions=False)

    made = run("campaign", "create", "cli-1", "--cps", "2", "--retry", "busy=60", "--amd")
    assert made.exit_code == 0, made.output
    assert "cli-1 (#1) created, status draft" in made.output
    imported = run("campaign", "import", "cli-1", str(tmp_path / "contacts.csv"))
    assert imported.exit_code == 3  # some rows were rejected
    assert "1 added" in imported.output and "line 3: number xx" in imported.output
    assert run("campaign", "start", "cli-1").output.strip() == "campaign cli-1: running"
    again = run("campaign", "resume", "cli-1")
    assert again.exit_code == 1 and "cannot resume" in again.output
    status = run("campaign", "status", "cli-1")
    assert "contacts 1: pending 1" in status.output
    assert "cli-1" in run("campaign", "list").output
    bad = run("campaign", "create", "cli-2", "--cps", "0")
    assert bad.exit_code == 1 and "cps" in bad.output
    assert run("campaign", "status", "nope").exit_code == 1
    assert run("dnc", "add", "13900000002").exit_code == 0
    assert "13900000002  cli" in run("dnc", "list").output
