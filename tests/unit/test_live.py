"""The live feed: fan-out, dropping a dashboard that falls behind, and the SSE route."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline import live
from hotline.live import LiveEvent, LiveHub, Subscription
from hotline.web.app import WebDeps, create_app
from tests.unit.test_web import Health


async def take(stream: AsyncIterator[LiveEvent | None], count: int) -> list[LiveEvent | None]:
    return [await anext(stream) for _ in range(count)]


async def test_every_dashboard_gets_every_change_in_order() -> None:
    hub = LiveHub(clock=lambda: 1.0)
    first, second = hub.stream(), hub.stream()
    waiting = [asyncio.ensure_future(take(s, 2)) for s in (first, second)]
    await asyncio.sleep(0)
    assert hub.clients == 2
    hub.publish("queue", {"queue": "repair", "waiting": 1})
    hub.publish("call", {"linkedid": "1.1"})
    for got in await asyncio.gather(*waiting):
        assert [(e[1], json.loads(e[2])) for e in got if e] == [
            ("queue", {"queue": "repair", "waiting": 1, "at": 1.0}),
            ("call", {"linkedid": "1.1", "at": 1.0}),
        ]
    await first.aclose()
    await second.aclose()
    assert hub.clients == 0


async def test_a_dashboard_that_falls_behind_is_dropped_not_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(live, "MAX_BEHIND", 3)
    hub = LiveHub()
    slow = hub.stream()
    started = asyncio.ensure_future(anext(slow))
    await asyncio.sleep(0)
    for n in range(5):
        hub.publish("call", {"n": n})  # never blocks
    assert hub.clients == 0 and hub.dropped == 1
    with pytest.raises(StopAsyncIteration):
        await started
        await anext(slow)


async def test_keepalive_when_nothing_happens() -> None:
    hub = LiveHub()
    assert await anext(hub.stream(keepalive=0.01)) is None


class Feed:
    def __init__(self) -> None:
        self.hub = LiveHub()

    def stream(self) -> Subscription:
        return self.hub.stream()

    def snapshot(self) -> dict[str, Any]:
        # a change while the snapshot is taken: the new dashboard must still get it
        self.hub.publish("call", {"linkedid": "2.2"})
        return {"calls": [{"linkedid": "1.1"}], "queues": []}


async def test_the_sse_route_sends_a_snapshot_then_changes() -> None:
    feed = Feed()
    app = create_app(WebDeps("t", None, Health(), live=feed))  # type: ignore[arg-type]
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        response = await client.get("/api/v1/live", headers={"Authorization": "Bearer t"})
        assert response.content_type == "text/event-stream"
        assert await response.content.readline() == b"event: snapshot\n"
        snapshot = await response.content.readline()
        assert json.loads(snapshot.removeprefix(b"data: "))["calls"] == [{"linkedid": "1.1"}]
        await response.content.readline()
        assert await response.content.readline() == b"id: 1\n"  # subscribed before it
        assert await response.content.readline() == b"event: call\n"
        assert b'"2.2"' in await response.content.readline()
        await response.content.readline()
        feed.hub.publish("agent", {"interface": "PJSIP/agent-1001", "paused": True})
        assert await response.content.readline() == b"id: 2\n"
        assert await response.content.readline() == b"event: agent\n"
        data = json.loads((await response.content.readline()).removeprefix(b"data: "))
        assert data["paused"] is True
        response.close()
        refused = await client.get("/api/v1/live")
        assert refused.status == 401
    finally:
        await client.close()


async def test_a_burst_is_taken_at_once_and_a_drop_still_ends_the_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = LiveHub(clock=lambda: 1.0)
    events = hub.stream()
    for n in range(3):
        hub.publish("queue", {"waiting": n})
    first = await anext(events)
    assert (
        first is not None
        and first[3] == b'id: 1\nevent: queue\ndata: {"waiting": 0, "at": 1.0}\n\n'
    )
    assert [e[0] for e in events.ready()] == [2, 3] and events.ready() == []
    monkeypatch.setattr(live, "MAX_BEHIND", 2)
    slow = hub.stream()
    for n in range(3):
        hub.publish("queue", {"waiting": n})
    assert slow.ready() == []  # dropped: its queue holds only the end
    with pytest.raises(StopAsyncIteration):
        await anext(slow)
    assert hub.clients == 1
    events.close()
