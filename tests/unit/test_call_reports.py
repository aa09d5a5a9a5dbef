"""Reports from call records (service level, abandonment, scores) and the report API's
JSON and CSV (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.call_reports import CallReports
from hotline.callrecord import CallRecord, Direction, Disposition
from hotline.db import CallRecordRepository, session_factory
from hotline.web.app import WebDeps, create_app
from hotline.web.report_api import add_report, report_span
from tests.unit.test_web import Health

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
SPAN = (T0 - timedelta(hours=1), T0 + timedelta(hours=1))


def call(n: int, disposition: Disposition, **fields: Any) -> CallRecord:
    record = CallRecord(f"1700000000.{n}", Direction.INBOUND, T0 + timedelta(seconds=n))
    record.ended_at = T0 + timedelta(seconds=n + 60)
    record.disposition = disposition
    for name, value in fields.items():
        setattr(record, name, value)
    return record


async def stored(engine: AsyncEngine) -> CallReports:
    sessions = session_factory(engine)
    repo = CallRecordRepository(sessions)
    answered = Disposition.ANSWERED
    for record in (
        call(1, answered, queue="repair", agent="1001", wait_seconds=5.0, score=9, category="leak"),
        call(2, answered, queue="repair", agent="1001", wait_seconds=45.0, score=7),
        call(3, Disposition.ABANDONED_QUEUE, queue="repair", wait_seconds=70.0),
        call(
            4, answered, queue="billing", agent="1002", wait_seconds=12.0, score=10, category="bill"
        ),
        call(5, Disposition.ABANDONED_IVR),
        call(6, Disposition.CALLBACK_REQUESTED, queue="billing", wait_seconds=90.0),
    ):
        await repo.save(record)
    return CallReports(sessions, threshold=20)


async def test_service_level_per_queue_and_in_all(engine: AsyncEngine) -> None:
    rows = {r["queue"]: r for r in await (await stored(engine)).service_level(*SPAN)}
    assert list(rows) == ["billing", "repair", "(all)"]
    repair = rows["repair"]
    assert (repair["offered"], repair["answered"], repair["answered_in_time"]) == (3, 2, 1)
    assert repair["service_level"] == 0.333 and repair["abandoned_queue"] == 1
    assert repair["answer_speed"] == {
        "0-10s": 1,
        "10-20s": 0,
        "20-30s": 0,
        "30-60s": 1,
        "60-120s": 0,
        "120s+": 0,
    }
    everything = rows["(all)"]
    assert (everything["offered"], everything["answered_in_time"]) == (5, 2)
    assert everything["callback_requested"] == 1


async def test_abandonment_and_scores(engine: AsyncEngine) -> None:
    reports = await stored(engine)
    [row] = await reports.abandonment(*SPAN)
    assert row == {
        "calls": 6,
        "answered": 3,
        "abandoned": 0,
        "abandoned_ivr": 1,
        "abandoned_queue": 1,
        "no_input": 0,
        "other": 1,
    }
    scores = {r["agent"]: r for r in await reports.scores(*SPAN)}
    assert (scores["1001"]["scored"], scores["1001"]["average"]) == (2, 8.0)
    assert scores["1001"]["distribution"]["9"] == 1 and scores["1002"]["average"] == 10.0
    by_category = await reports.scores_by_category(*SPAN)
    assert [(r["category"], r["scored"], r["average"]) for r in by_category] == [
        ("", 1, 7.0),  # the caller chose no category
        ("bill", 1, 10.0),
        ("leak", 1, 9.0),
    ]


def test_report_span_defaults_to_today_and_names_bad_fields() -> None:
    now = datetime(2026, 11, 30, 10, 30).astimezone()
    since, until = report_span({}, now)
    assert (since.hour, since.minute, until) == (0, 0, now)
    for query, field in (({"since": "yesterday"}, "since:"), ({"until": "2026-01-01"}, "until:")):
        try:
            report_span(query, now)
        except ValueError as exc:
            assert str(exc).startswith(field)
        else:
            raise AssertionError(query)


async def test_reports_answer_json_and_csv(engine: AsyncEngine) -> None:
    reports = await stored(engine)

    def routes(app: web.Application) -> None:
        add_report(app, "service-level", reports.service_level)

    sessions = session_factory(engine)
    app = create_app(WebDeps("t", CallRecordRepository(sessions), Health()), [routes])
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    auth = {"Authorization": "Bearer t"}
    span = {"since": SPAN[0].isoformat(), "until": SPAN[1].isoformat()}
    try:
        body = await (
            await client.get("/api/v1/reports/service-level", params=span, headers=auth)
        ).json()
        assert body["report"] == "service-level" and len(body["rows"]) == 3
        answer = await client.get(
            "/api/v1/reports/service-level", params=span | {"format": "csv"}, headers=auth
        )
        assert answer.content_type == "text/csv"
        table = list(csv.DictReader(io.StringIO(await answer.text())))
        assert [r["queue"] for r in table] == ["billing", "repair", "(all)"]
        assert table[1]["service_level"] == "0.333" and table[1]["answer_speed"].startswith("{")
        bad = await client.get("/api/v1/reports/service-level?format=xml", headers=auth)
        assert bad.status == 400 and (await bad.json())["error"].startswith("format:")
        backwards = await client.get(
            "/api/v1/reports/service-level",
            params={"since": SPAN[1].isoformat(), "until": SPAN[0].isoformat()},
            headers=auth,
        )
        assert backwards.status == 400
    finally:
        await client.close()
