"""The web app: open ``/health``, bearer-token ``/api/v1``, call records from the database.

Runs the real app on a local port with aiohttp's own test server and client, against the
real repository on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.callrecord import CallRecord, Direction, Disposition, TimelineEntry
from hotline.db import CallRecordRepository, create_engine, session_factory, upgrade
from hotline.web.app import WebDeps, create_app

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
T0 = datetime(2024, 11, 23, 8, 30, 0, tzinfo=UTC)
UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/x"
API_PATHS = ["/api/v1/calls", "/api/v1/calls/1700000000.1", "/api/v1/no-such-route"]


class Health:
    """A HealthSource whose answer the test sets."""

    def __init__(self, ok: bool = True) -> None:
        self.ok = ok

    def health(self) -> dict[str, Any]:
        return {"ok": self.ok, "ami_connected": self.ok}


@pytest.fixture
async def repository(database_url: str) -> AsyncIterator[CallRecordRepository]:
    await upgrade(database_url)
    engine = create_engine(database_url)
    yield CallRecordRepository(session_factory(engine))
    await engine.dispose()


async def serve(
    records: CallRecordRepository, token: str = TOKEN, health: Health | None = None
) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(
        TestServer(create_app(WebDeps(token, records, health or Health())))
    )
    await client.start_server()
    return client


@pytest.fixture
async def client(repository: CallRecordRepository) -> AsyncIterator[TestClient[Any, Any]]:
    client = await serve(repository)
    yield client
    await client.close()


@pytest.fixture
async def unreachable() -> AsyncIterator[CallRecordRepository]:
    """A repository whose database refuses connections: any query fails."""
    engine = create_engine(UNREACHABLE, connect_timeout=2)
    yield CallRecordRepository(session_factory(engine))
    await engine.dispose()


@pytest.fixture
async def offline(unreachable: CallRecordRepository) -> AsyncIterator[TestClient[Any, Any]]:
    """A client for checks that must be decided before any database access."""
    client = await serve(unreachable)
    yield client
    await client.close()


def record(linkedid: str, started: float, **changes: Any) -> CallRecord:
    fields: dict[str, Any] = {
        "caller": "+8613800138000",
        "did": "95007",
        "called": "95007",
        "disposition": Disposition.ANSWERED,
        "answered_at": T0 + timedelta(seconds=started + 5),
        "ended_at": T0 + timedelta(seconds=started + 45),
    }
    fields |= changes
    return CallRecord(linkedid, Direction.INBOUND, T0 + timedelta(seconds=started), **fields)


# /health


@pytest.mark.parametrize(("ok", "status"), [(True, 200), (False, 503)])
async def test_health_is_open_and_follows_the_health_source(
    unreachable: CallRecordRepository, ok: bool, status: int
) -> None:
    client = await serve(unreachable, health=Health(ok))
    try:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            response = await client.get("/health", headers=headers)
            assert response.status == status
            assert (await response.json()) == {"ok": ok, "ami_connected": ok}
    finally:
        await client.close()


# authentication


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer  {TOKEN}",
        f"Basic {TOKEN}",
        f"Token {TOKEN}",
        TOKEN,
    ],
)
async def test_api_refuses_requests_without_the_right_bearer_token(
    offline: TestClient[Any, Any], path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await offline.get(path, headers=headers)
    assert response.status == 401
    assert set(await response.json()) == {"error"}


async def test_token_check_accepts_any_case_of_the_scheme(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/v1/calls", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status == 200


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("sent", ["", "anything"])
async def test_api_is_closed_when_no_token_is_configured(
    unreachable: CallRecordRepository, path: str, sent: str
) -> None:
    client = await serve(unreachable, token="")
    try:
        response = await client.get(path, headers={"Authorization": f"Bearer {sent}"})
        assert response.status == 401
    finally:
        await client.close()


# GET /api/v1/calls


async def test_calls_newest_first_with_limit(
    client: TestClient[Any, Any], repository: CallRecordRepository
) -> None:
    for linkedid, started in [("1700000000.2", 60), ("1700000000.1", 0), ("1700000000.3", 120)]:
        await repository.save(record(linkedid, started))

    response = await client.get("/api/v1/calls", headers=AUTH)
    assert response.status == 200
    calls = (await response.json())["calls"]
    assert [c["linkedid"] for c in calls] == ["1700000000.3", "1700000000.2", "1700000000.1"]
    first = calls[0]
    assert first["started_at"] == (T0 + timedelta(seconds=120)).isoformat()
    assert first["disposition"] == "answered" and first["direction"] == "inbound"
    assert first["duration_seconds"] == 45 and first["connected_seconds"] == 40
    assert first["talk_seconds"] is None  # no agent took it
    assert first["caller"] == "+8613800138000"

    response = await client.get("/api/v1/calls", params={"limit": "2"}, headers=AUTH)
    assert [c["linkedid"] for c in (await response.json())["calls"]] == [
        "1700000000.3",
        "1700000000.2",
    ]
    response = await client.get("/api/v1/calls", params={"limit": "500"}, headers=AUTH)
    assert response.status == 200 and len((await response.json())["calls"]) == 3


async def test_calls_empty_database(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/v1/calls", headers=AUTH)
    assert response.status == 200
    assert await response.json() == {"calls": [], "next_cursor": None}


@pytest.mark.parametrize(
    "limit",
    ["0", "501", "abc", "-1", "1.5", "", "²", pytest.param("9" * 5000, id="5000-digits")],
)
async def test_calls_limit_out_of_range_is_400_naming_limit(
    offline: TestClient[Any, Any], limit: str
) -> None:
    response = await offline.get("/api/v1/calls", params={"limit": limit}, headers=AUTH)
    assert response.status == 400
    assert (await response.json())["error"].startswith("limit")


# GET /api/v1/calls/{linkedid}


async def test_call_with_its_timeline(
    client: TestClient[Any, Any], repository: CallRecordRepository
) -> None:
    linkedid = "1700000000.7"
    entries = [
        TimelineEntry(linkedid, 1, T0, "newchannel", "PJSIP/carrier-00000007", {"exten": "95007"}),
        TimelineEntry(linkedid, 2, T0 + timedelta(seconds=5), "answer", "PJSIP/carrier-00000007"),
        TimelineEntry(linkedid, 3, T0 + timedelta(seconds=45), "hangup", detail={"cause": 16}),
    ]
    await repository.save(record(linkedid, 0, flow="hotline"), entries[::-1])
    await repository.save(record("1700000000.8", 10), [])  # another call, not in the answer

    response = await client.get(f"/api/v1/calls/{linkedid}", headers=AUTH)
    assert response.status == 200
    body = await response.json()
    assert body["linkedid"] == linkedid and body["flow"] == "hotline"
    assert body["ended_at"] == (T0 + timedelta(seconds=45)).isoformat()
    assert body["timeline"] == [
        {
            "seq": 1,
            "at": T0.isoformat(),
            "kind": "newchannel",
            "channel": "PJSIP/carrier-00000007",
            "detail": {"exten": "95007"},
        },
        {
            "seq": 2,
            "at": (T0 + timedelta(seconds=5)).isoformat(),
            "kind": "answer",
            "channel": "PJSIP/carrier-00000007",
            "detail": {},
        },
        {
            "seq": 3,
            "at": (T0 + timedelta(seconds=45)).isoformat(),
            "kind": "hangup",
            "channel": "",
            "detail": {"cause": 16},
        },
    ]


async def test_unknown_call_is_404(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/v1/calls/1700000000.404", headers=AUTH)
    assert response.status == 404
    assert "1700000000.404" in (await response.json())["error"]


async def test_linkedid_outside_the_allowed_characters_is_404(
    offline: TestClient[Any, Any],
) -> None:
    response = await offline.get("/api/v1/calls/" + "1" * 65, headers=AUTH)
    assert response.status == 404


# database down


@pytest.mark.parametrize("path", ["/api/v1/calls", "/api/v1/calls/1700000000.1"])
async def test_database_error_is_503(unreachable: CallRecordRepository, path: str) -> None:
    client = await serve(unreachable)
    try:
        response = await client.get(path, headers=AUTH)
        assert response.status == 503
        assert (await response.json())["error"].startswith("database unavailable")
        health = await client.get("/health")  # the probe does not touch the database
        assert health.status == 200
    finally:
        await client.close()


async def test_calls_are_filtered_and_paged_with_a_cursor(
    repository: CallRecordRepository, client: TestClient[Any, Any]
) -> None:
    for n in range(7):
        record = CallRecord(
            f"1700000000.{n}",
            Direction.INBOUND if n % 2 else Direction.OUTBOUND,
            T0 + timedelta(minutes=n),
        )
        record.caller = "13900000001" if n < 3 else "13900000002"
        record.queue = "repair" if n % 2 else ""
        record.agent = "1001" if n == 5 else ""
        await repository.save(record)
    pages: list[list[str]] = []
    params: dict[str, str] = {"limit": "3"}
    while True:
        body = await (await client.get("/api/v1/calls", params=params, headers=AUTH)).json()
        pages.append([c["linkedid"][-1] for c in body["calls"]])
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert pages == [["6", "5", "4"], ["3", "2", "1"], ["0"]]
    cases = [
        ({"direction": "inbound"}, ["5", "3", "1"]),
        ({"queue": "repair", "agent": "1001"}, ["5"]),
        ({"number": "13900000001"}, ["2", "1", "0"]),
        (
            {
                "since": (T0 + timedelta(minutes=2)).isoformat(),
                "until": (T0 + timedelta(minutes=4)).isoformat(),
            },
            ["3", "2"],
        ),
    ]
    for query, expected in cases:
        body = await (await client.get("/api/v1/calls", params=query, headers=AUTH)).json()
        assert [c["linkedid"][-1] for c in body["calls"]] == expected, query
    for bad, field in (
        ({"direction": "sideways"}, "direction:"),
        ({"cursor": "not-a-cursor"}, "cursor:"),
        ({"number": "12ab"}, "number:"),
        ({"disposition": "happy"}, "disposition:"),
        ({"since": "2026-12-01T00:00:00+00:00", "until": "2026-11-01T00:00:00+00:00"}, "until:"),
    ):
        response = await client.get("/api/v1/calls", params=bad, headers=AUTH)
        assert response.status == 400 and (await response.json())["error"].startswith(field)


async def test_a_database_error_never_shows_its_sql_or_parameters(tmp_path: Any) -> None:
    """SQLAlchemy's messages carry the statement and its values: a caller's number, a
    token's hash. Error bodies (and the unauthenticated ones above all) say only what
    failed and how."""
    from hotline.web.tokens import TokenStore

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}")  # no tables
    sessions = session_factory(engine)
    app = create_app(WebDeps(TOKEN, CallRecordRepository(sessions), Health(), TokenStore(sessions)))
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        listed = await client.get("/api/v1/calls?number=13800138000", headers=AUTH)
        anonymous = await client.get(
            "/api/v1/calls", headers={"Authorization": "Bearer someone-elses-token"}
        )
        for response in (listed, anonymous):
            assert response.status == 503
            text = await response.text()
            for leak in ("SELECT", "[SQL", "call_records", "api_tokens", "13800138000"):
                assert leak not in text, text
            assert "OperationalError" in text  # what kind of failure, for the admin
    finally:
        await client.close()
        await engine.dispose()


async def test_a_body_over_the_limit_is_a_json_413(repository: CallRecordRepository) -> None:
    app = create_app(WebDeps(TOKEN, repository, Health()), max_body=1024)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        response = await client.patch("/api/v1/calls/1700000000.1", data=b"x" * 2048, headers=AUTH)
        assert response.status == 413
        assert (await response.json())["error"] == "body: larger than the limit of 1 KiB"
    finally:
        await client.close()


def test_uploads_of_64_mib_are_accepted_by_default() -> None:
    from hotline.web.app import MAX_BODY

    assert MAX_BODY == 64 * 1024 * 1024
