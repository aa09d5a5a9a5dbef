"""Promised callbacks on the real sandbox: a caller who asked for a callback in the queue
is dialled back by the dialer and reaches an agent; an agent's promise made through the
API is kept the same way. Customers are carrier-simulator numbers (``1390005xxxx``: they
answer and say hello), agents the simulator's phones."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dialer.feature import DialerFeature
from hotline.config import Settings
from hotline.config_callbacks import CallbackSettings
from hotline.sandbox import Sandbox
from hotline.service import HotlineService
from hotline.testcall import live_call
from ivr.callbacks import CallbackRepository, CallbackRequest, CallbackStatus
from tests.integration.dialer_support import ALL_DAY, dialer_settings
from tests.integration.inbound_support import (
    ServiceFactory,
    api,
    login,
    set_agent,
)

pytestmark = pytest.mark.asterisk


@pytest.fixture
def callback_settings(inbound_settings: Settings, tmp_path: Path) -> Settings:
    settings = dialer_settings(inbound_settings, tmp_path, allowed_patterns=[r"139000[0-9]\d{4}"])
    return settings.model_copy(
        # open all day: the default windows (08:00-21:00 local) failed the tests after 21:00
        update={
            "callbacks": CallbackSettings(
                dispatch_seconds=0.5, answer_within_minutes=5, windows=ALL_DAY
            )
        }
    )


async def poll(check: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.5)


async def closed(service: HotlineService, request_id: int) -> CallbackRequest:
    repo = CallbackRepository(service.sessions)
    found: list[CallbackRequest] = []

    async def done() -> bool:
        request = await repo.get(request_id)
        found[:] = [request] if request is not None else []
        return request is not None and request.status is CallbackStatus.DONE

    await poll(done, 90, f"callback {request_id} still open: {found}")
    return found[0]


async def call_record(service: HotlineService, number: str) -> dict[str, Any]:
    """The record of the callback call to ``number`` (outbound, final)."""
    feature = next(f for f in service.features if isinstance(f, DialerFeature))
    campaign = await feature.repo.campaign(service.settings.callbacks.campaign)
    assert campaign is not None
    attempts = [a for a in await feature.repo.attempts_of(campaign.id) if a["number"] == number]
    assert len(attempts) == 1, attempts
    assert attempts[0]["disposition"] == "answered_human", attempts
    found: dict[str, Any] = {}

    async def final() -> bool:
        status, record = await api(service, "GET", f"/api/v1/calls/{attempts[0]['code']}")
        found.update(record if status == 200 else {})
        return status == 200 and record.get("disposition") != "in_progress"

    await poll(final, 30, f"no final record of the callback to {number}")
    return found


@pytest.fixture
def stay(inbound_asterisk: Sandbox) -> Iterator[Callable[[str], None]]:
    """Customers that stay on the line 40 s once they answer."""

    def put(number: str) -> None:
        inbound_asterisk.carrier.cli(f"database put customer/{number} stay 40")

    yield put
    inbound_asterisk.carrier.cli("database deltree customer")


async def promise(service: HotlineService, number: str, **fields: str) -> dict[str, Any]:
    """An agent's promise through the API, due in half an hour."""
    due = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    body = {"number": number, "due_by": due} | fields
    status, made = await api(service, "POST", "/api/v1/callbacks", body)
    assert status == 201 and isinstance(made, dict), made
    return made


async def test_a_queue_callback_request_is_dialled_back_and_reaches_an_agent(
    make_service: ServiceFactory, callback_settings: Settings, stay: Callable[[str], None]
) -> None:
    service, spy, events = await make_service(base=callback_settings)
    customer = "13900050601"
    stay(customer)
    await set_agent(callback_settings, "1001", rings=1, talk=3)
    async with live_call(callback_settings, customer) as call:
        await spy.wait_for("menu-main")
        await call.press("6")  # reception: nobody logged in, the callback offer after 10 s
        await spy.wait_for("queue-callback-offer", within=30)
        await call.press("1")
        await call.wait_ended(30)
    [request] = [
        r
        for r in await CallbackRepository(service.sessions).by_status(list(CallbackStatus))
        if r.number == customer
    ]
    await login(service, "1001", "reception")
    done = await closed(service, request.id)
    assert (done.outcome, done.queue, done.contact_id is not None) == ("reached", "reception", True)
    await spy.wait_for("callback-intro")
    record = await call_record(service, customer)
    assert (record["direction"], record["queue"], record["agent"]) == (
        "outbound",
        "reception",
        "1001",
    )
    joins = events.named("QueueCallerJoin", Queue="reception")
    assert len(joins) == 2  # the first call's wait, then the callback
    assert done.due_by is not None and done.closed_at is not None
    assert done.closed_at <= done.due_by  # kept within answer_within_minutes


async def test_an_agents_promise_through_the_api_is_kept(
    make_service: ServiceFactory, callback_settings: Settings, stay: Callable[[str], None]
) -> None:
    service, _, _ = await make_service(base=callback_settings)
    customer = "13900050602"
    stay(customer)
    await set_agent(callback_settings, "1001", rings=1, talk=2)
    await login(service, "1001", "repair")
    made = await promise(service, customer, queue="repair", promised_by="1001")
    assert (made["source"], made["promised_by"], made["status"]) == ("api", "1001", "pending")
    status, refused = await api(service, "POST", "/api/v1/callbacks", {"number": customer})
    assert (status, refused["field"]) == (400, "due_by")
    done = await closed(service, made["id"])
    assert done.outcome == "reached"
    record = await call_record(service, customer)
    assert (record["queue"], record["agent"]) == ("repair", "1001")
    status, alerts = await api(service, "GET", "/api/v1/callbacks/overdue")
    assert status == 200 and alerts == {"alerts": []}


async def test_a_promise_naming_an_agent_rings_the_agent_first(
    make_service: ServiceFactory, callback_settings: Settings, stay: Callable[[str], None]
) -> None:
    service, spy, _ = await make_service(base=callback_settings)
    customer = "13900050603"
    stay(customer)
    await set_agent(callback_settings, "1002", rings=1, talk=15)  # not in any queue: named
    made = await promise(service, customer, agent="1002", promised_by="1002")
    assert made["agent"] == "1002"
    done = await closed(service, made["id"])
    assert done.outcome == "reached"
    said = spy.prompts()
    assert said.index("callback-whisper") < said.index("callback-intro-agent")
    assert "callback-intro" not in said  # not the queue route
    feature = next(f for f in service.features if isinstance(f, DialerFeature))
    campaign = await feature.repo.campaign(f"{service.settings.callbacks.campaign}-agent")
    assert campaign is not None and campaign.agent_first
    [attempt] = await feature.repo.attempts_of(campaign.id)
    assert (attempt["number"], attempt["disposition"]) == (customer, "answered_human")
