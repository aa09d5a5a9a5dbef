"""Prometheus metrics: queue waits from AMI events, the text exposition, and the route."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import CallRecordRepository, session_factory
from hotline.metrics import Metrics, QueueWaits
from hotline.web.app import WebDeps, create_app
from hotline.web.roles import Role
from hotline.web.tokens import TokenStore


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def queue_event(name: str, queue: str, caller: str) -> dict[str, str]:
    return {"Event": name, "Queue": queue, "Uniqueid": caller}


def test_queue_waits_follow_join_and_leave() -> None:
    clock = Clock()
    waits = QueueWaits(clock)
    waits.on_event(queue_event("QueueCallerJoin", "repair", "1.1"))
    clock.now = 110.0
    waits.on_event(queue_event("QueueCallerJoin", "repair", "1.2"))
    waits.on_event(queue_event("QueueCallerJoin", "billing", "1.3"))
    clock.now = 130.0
    assert waits.snapshot() == {"repair": (2, 30.0), "billing": (1, 20.0)}
    waits.on_event(queue_event("QueueCallerLeave", "repair", "1.1"))
    waits.on_event(queue_event("QueueCallerAbandon", "billing", "1.3"))
    assert waits.snapshot() == {"repair": (1, 20.0), "billing": (0, 0.0)}
    waits.forget()
    assert waits.snapshot() == {}


def test_the_exposition_has_every_family() -> None:
    metrics = Metrics()
    metrics.record_written(0.003)
    metrics.record_written(3.0)
    metrics.call_finished("inbound", "answered")
    metrics.call_finished("inbound", "answered")
    metrics.queues.on_event(queue_event("QueueCallerJoin", 're"pair', "1.1"))
    text = metrics.render(
        {
            "calls_in_progress": 4,
            "ami_connected": True,
            "ami_reconnects": 2,
            "records_spooled": 1,
            "dialer": {"originated": 17, "active_calls": 3},
        }
    )
    lines = set(text.splitlines())
    assert "hotline_calls_in_progress 4" in lines
    assert "hotline_ami_connected 1" in lines
    assert "hotline_ami_reconnects_total 2" in lines
    assert 'hotline_calls_total{direction="inbound",disposition="answered"} 2' in lines
    assert 'hotline_queue_callers{queue="re\\"pair"} 1' in lines  # label values escaped
    assert 'hotline_record_write_seconds_bucket{le="0.005"} 1' in lines
    assert 'hotline_record_write_seconds_bucket{le="+Inf"} 2' in lines
    assert "hotline_record_write_seconds_count 2" in lines
    assert "hotline_dialer_originated_total 17" in lines
    assert "# TYPE hotline_record_write_seconds histogram" in lines
    assert text.endswith("\n")


class Health:
    def health(self) -> dict[str, Any]:
        return {"ok": True, "calls_in_progress": 1}


async def test_metrics_are_served_to_supervisors_not_agents(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    tokens = TokenStore(sessions)
    _, supervisor = await tokens.create("wall", Role.SUPERVISOR)
    _, agent = await tokens.create("a", Role.AGENT, "1001")
    app = create_app(WebDeps("admin", CallRecordRepository(sessions), Health(), tokens, Metrics()))
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        seen = await client.get("/metrics", headers={"Authorization": f"Bearer {supervisor}"})
        assert seen.status == 200 and seen.content_type == "text/plain"
        assert "hotline_calls_in_progress 1" in await seen.text()
        refused = await client.get("/metrics", headers={"Authorization": f"Bearer {agent}"})
        assert refused.status == 403
        assert (await client.get("/metrics")).status == 401
    finally:
        await client.close()
