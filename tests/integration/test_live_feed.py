"""The live feed on the real sandbox: a dashboard connected to ``/api/v1/live`` sees a real
SIP call appear, join a queue and end, from the AMI event flow."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from hotline.config import Settings
from hotline.testcall import live_call
from tests.integration.conftest import wait_until
from tests.integration.inbound_support import (
    ServiceFactory,
)

pytestmark = pytest.mark.asterisk


async def read_events(response: aiohttp.ClientResponse, into: list[tuple[str, Any]]) -> None:
    kind = ""
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            into.append((kind, json.loads(line.removeprefix("data: "))))


async def test_a_dashboard_sees_a_call_join_a_queue_and_end(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    _, spy, _ = await make_service()
    web = inbound_settings.web
    headers = {"Authorization": f"Bearer {web.token.get_secret_value()}"}
    seen: list[tuple[str, Any]] = []
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{web.host}:{web.port}/api/v1/live", headers=headers) as response,
    ):
        reader = asyncio.create_task(read_events(response, seen))
        try:
            async with live_call(inbound_settings) as call:
                await spy.wait_for("menu-main")
                await call.press("6")  # reception: nobody logged in, the caller waits
                await wait_until(
                    lambda: any(k == "queue" and e["waiting"] == 1 for k, e in seen),
                    20,
                    "no queue event",
                )
            await wait_until(
                lambda: any(k == "call" and e["final"] for k, e in seen), 20, "no final call"
            )
        finally:
            reader.cancel()
    assert seen[0][0] == "snapshot"
    calls = [e for k, e in seen if k == "call"]
    linkedids = {e["linkedid"] for e in calls}
    assert len(linkedids) == 1 and calls[-1]["direction"] == "inbound"
    queues = [e for k, e in seen if k == "queue" and e["queue"] == "reception"]
    assert [q["waiting"] for q in queues][:1] == [1] and queues[-1]["waiting"] == 0
