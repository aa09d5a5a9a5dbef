"""PATCH /api/v1/calls/{linkedid}: the agent's reason and description on a call record.

The API runs the real app against the real repository (SQLite and PostgreSQL); the CLI
(``hotline call reason``) is run against that app served from a thread, the way an agent
would use it against ``hotline serve``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from click.testing import CliRunner

from hotline.cli import main
from hotline.cli_agents import api_request
from hotline.config import load_settings
from hotline.db import CallRecordRepository, create_engine, session_factory, upgrade
from hotline.web.app import NOTE_LIMITS, WebDeps, create_app
from tests.unit.test_web import AUTH, TOKEN, Health, record, serve


@pytest.fixture
async def repository(database_url: str) -> AsyncIterator[CallRecordRepository]:
    await upgrade(database_url)
    engine = create_engine(database_url)
    yield CallRecordRepository(session_factory(engine))
    await engine.dispose()


@pytest.fixture
async def client(repository: CallRecordRepository) -> AsyncIterator[TestClient[Any, Any]]:
    await repository.save(record("1700000000.1", 0))
    client = await serve(repository)
    yield client
    await client.close()


async def patch(client: TestClient[Any, Any], body: Any, linkedid: str = "1700000000.1") -> Any:
    return await client.patch(f"/api/v1/calls/{linkedid}", json=body, headers=AUTH)


async def test_reason_and_description_are_stored_and_shown(
    client: TestClient[Any, Any], repository: CallRecordRepository
) -> None:
    body = {"reason": "燃气泄漏", "description": "厨房有气味,已派抢修。\n客户在家。"}
    response = await patch(client, body)
    assert response.status == 200
    shown = await response.json()
    assert (shown["reason"], shown["description"]) == (body["reason"], body["description"])
    assert shown["linkedid"] == "1700000000.1" and shown["disposition"] == "answered"
    stored = await repository.get("1700000000.1")
    assert stored is not None and (stored.reason, stored.description) == tuple(body.values())
    listed = (await (await client.get("/api/v1/calls", headers=AUTH)).json())["calls"][0]
    assert listed["reason"] == "燃气泄漏"


async def test_only_the_fields_given_change(
    client: TestClient[Any, Any], repository: CallRecordRepository
) -> None:
    await patch(client, {"reason": "账单", "description": "first"})
    response = await patch(client, {"description": "second"})
    assert (await response.json())["reason"] == "账单"
    stored = await repository.get("1700000000.1")
    assert stored is not None and (stored.reason, stored.description) == ("账单", "second")


async def test_the_record_builder_never_overwrites_the_notes(
    client: TestClient[Any, Any], repository: CallRecordRepository
) -> None:
    """An agent sets the reason while the call is still up; the call's end is saved later."""
    await patch(client, {"reason": "报修"})
    later = record("1700000000.1", 0, hangup_cause=16, score=8)
    assert later.reason == ""
    await repository.save(later)
    stored = await repository.get("1700000000.1")
    assert stored is not None and (stored.reason, stored.score) == ("报修", 8)
    await repository.save(replace(later, reason="builder", description="builder"))
    stored = await repository.get("1700000000.1")
    assert stored is not None and (stored.reason, stored.description) == ("报修", "")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "x" * (NOTE_LIMITS["reason"] + 1)}, "reason: at most 64"),
        ({"description": "x" * (NOTE_LIMITS["description"] + 1)}, "description: at most 2000"),
        ({"reason": 5}, "reason: must be a string"),
        ({"description": None}, "description: must be a string"),
        ({"reason": "a\nb"}, "reason: control characters"),
        ({"description": "bell\x07"}, "description: control characters"),
        ({"reason": "x", "agent": "1001"}, "agent: not a field"),
        ({}, "body: give reason"),
        (["reason"], "body: a JSON object"),
        ("reason", "body: a JSON object"),
    ],
)
async def test_invalid_bodies_are_400_naming_the_field(
    client: TestClient[Any, Any], repository: CallRecordRepository, body: Any, field: str
) -> None:
    response = await patch(client, body)
    assert response.status == 400
    assert (await response.json())["error"].startswith(field)
    stored = await repository.get("1700000000.1")
    assert stored is not None and (stored.reason, stored.description) == ("", "")


async def test_longest_allowed_values_are_accepted(client: TestClient[Any, Any]) -> None:
    body = {"reason": "气" * 64, "description": "行\t" * 1000}
    response = await patch(client, body)
    assert response.status == 200 and (await response.json())["reason"] == "气" * 64


async def test_body_that_is_not_json_is_400(client: TestClient[Any, Any]) -> None:
    response = await client.patch(
        "/api/v1/calls/1700000000.1", data=b"reason=x", headers=AUTH | {"Content-Type": "x"}
    )
    assert response.status == 400 and "not valid JSON" in (await response.json())["error"]


async def test_unknown_call_is_404_and_nothing_is_created(
    client: TestClient[Any, Any], repository: CallRecordRepository
) -> None:
    response = await patch(client, {"reason": "x"}, linkedid="1700000099.9")
    assert response.status == 404 and "1700000099.9" in (await response.json())["error"]
    assert await repository.get("1700000099.9") is None


async def test_patch_needs_the_token(client: TestClient[Any, Any]) -> None:
    response = await client.patch("/api/v1/calls/1700000000.1", json={"reason": "x"})
    assert response.status == 401


async def test_database_down_is_503(unreachable: CallRecordRepository) -> None:
    client = await serve(unreachable)
    try:
        response = await patch(client, {"reason": "x"})
        assert response.status == 503
    finally:
        await client.close()


@pytest.fixture
async def unreachable() -> AsyncIterator[CallRecordRepository]:
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/x", connect_timeout=2)
    yield CallRecordRepository(session_factory(engine))
    await engine.dispose()


# the CLI against a served app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CallRecordRepository]:
    """The app on a free port in a thread of its own; settings point the CLI at it."""
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    port = _free_port()
    loop = asyncio.new_event_loop()
    ready, stop = threading.Event(), asyncio.Event()
    engine = create_engine(url)
    repository = CallRecordRepository(session_factory(engine))

    async def run() -> None:
        await upgrade(url)
        await repository.save(record("1700000000.5", 0))
        runner = web.AppRunner(create_app(WebDeps(TOKEN, repository, Health())))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await stop.wait()
        await runner.cleanup()
        await engine.dispose()

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    monkeypatch.setenv("HOTLINE_WEB__PORT", str(port))
    monkeypatch.setenv("HOTLINE_WEB__TOKEN", TOKEN)
    monkeypatch.setenv("HOTLINE_CONFIG", str(tmp_path / "none.yaml"))
    (tmp_path / "none.yaml").write_text("{}\n")
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(tmp_path / "no-secrets.yaml"))
    yield repository
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)
    loop.close()


def test_cli_sets_the_reason(served: CallRecordRepository) -> None:
    result = CliRunner().invoke(
        main, ["call", "reason", "1700000000.5", "--reason", "投诉", "--description", "态度"]
    )
    assert result.exit_code == 0, result.output
    assert "1700000000.5: reason='投诉'" in result.output
    shown = api_request(load_settings(), "GET", "/api/v1/calls/1700000000.5")
    assert (shown["reason"], shown["description"]) == ("投诉", "态度")
    answer = CliRunner().invoke(main, ["call", "reason", "1700000000.5", "--reason", "x" * 65])
    assert answer.exit_code == 1 and "400: reason: at most 64" in answer.output
    missing = CliRunner().invoke(main, ["call", "reason", "1700000099.1", "--reason", "x"])
    assert missing.exit_code == 1 and "404: no call with linkedid 1700000099.1" in missing.output
    nothing = CliRunner().invoke(main, ["call", "reason", "1700000000.5"])
    assert nothing.exit_code == 2 and "--reason and/or --description" in nothing.output


def test_cli_without_a_running_service_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOTLINE_WEB__PORT", str(_free_port()))
    monkeypatch.setenv("HOTLINE_WEB__TOKEN", TOKEN)
    monkeypatch.setenv("HOTLINE_CONFIG", str(tmp_path / "none.yaml"))
    (tmp_path / "none.yaml").write_text("{}\n")
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(tmp_path / "no-secrets.yaml"))
    result = CliRunner().invoke(main, ["call", "reason", "1700000000.5", "--reason", "x"])
    assert result.exit_code == 1 and "not reachable" in result.output and "running" in result.output
