"""Apology calls on the real sandbox: tickets in through the API, the dialer calls carrier-
simulator customers who press keys when the questions start; an SMS gateway (a local
aiohttp server) receives the apology SMS of tickets nobody could be reached for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hotline.config import Settings
from hotline.config_apology import ApologySettings
from hotline.sandbox import Sandbox
from tests.integration.campaign_support import Customers, customers_of
from tests.integration.conftest import wait_until
from tests.integration.dialer_support import dialer_settings, wait_settled
from tests.integration.inbound_support import (
    ServiceFactory,
    api,
    set_agent,
)
from tests.sms_gateway import FakeSmsGateway, sms_gateway

pytestmark = pytest.mark.asterisk

CONVENIENT = "apology-convenience"


@pytest.fixture
async def gateway() -> AsyncIterator[FakeSmsGateway]:
    async with sms_gateway() as fake:
        yield fake


@pytest.fixture
async def calls(
    make_service: ServiceFactory,
    inbound_settings: Settings,
    inbound_asterisk: Sandbox,
    gateway: FakeSmsGateway,
    tmp_path: Path,
) -> AsyncIterator[Customers]:
    settings = dialer_settings(
        inbound_settings, tmp_path, allowed_patterns=[r"139000[0-9]\d{4}"], max_attempts=2
    )
    apology = ApologySettings.model_validate(
        {
            "digit_timeout_seconds": 4,
            "sms": {"url": gateway.url, "retry_seconds": 1, "poll_seconds": 0.5},
        }
    )
    settings = settings.model_copy(update={"apology": apology})
    async for customers in customers_of(make_service, settings, inbound_asterisk):
        yield customers


def ticket(ticket_id: str, number: str, kind: str = "attitude", **extra: str) -> dict[str, str]:
    return {
        "ticket_id": ticket_id,
        "acceptance_no": f"A{ticket_id}",
        "number": number,
        "contact_date": "2026-11-28",
        "topic": "燃气费账单",
        "kind": kind,
        "agent": "1001",
    } | extra


async def campaign(
    calls: Customers, name: str, tickets: list[dict[str, str]], **fields: Any
) -> int:
    campaign_id = await calls.create(name, "apology", **fields)
    status, report = await api(calls.service, "POST", f"/api/v1/campaigns/{name}/tickets", tickets)
    assert status == 200 and not report["rejected"], report
    await calls.start(name)
    return campaign_id


async def tickets_of(calls: Customers, name: str) -> dict[str, dict[str, Any]]:
    status, body = await api(calls.service, "GET", f"/api/v1/campaigns/{name}/tickets")
    assert status == 200, body
    return {t["ticket_id"]: t for t in body["tickets"]}


async def test_an_automated_apology_is_heard_to_the_end(calls: Customers) -> None:
    number = "13900050701"
    await calls.stay(number)
    campaign_id = await campaign(calls, "sorry", [ticket("T-701", number, "service_error")])
    code = await calls.answer(campaign_id, number, [(CONVENIENT, "1")])
    contacts = await wait_settled(calls.dialer.repo, campaign_id, 90)
    assert [(c["state"], c["last_disposition"]) for c in contacts] == [("done", "answered_human")]
    found = (await tickets_of(calls, "sorry"))["T-701"]
    assert (found["status"], found["last_outcome"]) == ("apologised", "apologised")
    said = calls.spy.prompts(code)
    assert said == [
        "apology-intro",
        "apology-about",
        "month-11",
        "day-28",
        CONVENIENT,
        "apology-script-service-error",
        "apology-amends-service-error",
        "apology-thanks",
    ]
    status, outbox = await api(calls.service, "GET", "/api/v1/sms")
    assert status == 200 and outbox == {"sms": []}


async def test_later_is_rescheduled_and_called_again(calls: Customers) -> None:
    number = "13900050702"
    await calls.stay(number)
    campaign_id = await campaign(calls, "again", [ticket("T-702", number)], retry={"later": 2})
    first = await calls.answer(campaign_id, number, [(CONVENIENT, "2")])
    await calls.spy.wait_for("apology-later", linkedid=first)
    await calls.answer(campaign_id, number, [(CONVENIENT, "1")], seq=2)
    await wait_settled(calls.dialer.repo, campaign_id, 90)
    attempts = await calls.dialer.repo.attempts_of(campaign_id)
    assert [a["disposition"] for a in attempts] == ["later", "answered_human"]
    found = (await tickets_of(calls, "again"))["T-702"]
    assert (found["status"], found["reschedules"]) == ("apologised", 1)


async def test_tickets_not_reached_get_one_sms_retried_past_a_gateway_failure(
    calls: Customers, gateway: FakeSmsGateway
) -> None:
    fake = gateway
    fake.fail = 1
    never = "13900020703"  # rings, never answers
    yesterday = (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=1)).isoformat()
    tickets = [
        ticket("T-703", never),
        ticket("T-704", "13900050704", verified_at=yesterday),  # its deadline has passed
    ]
    campaign_id = await campaign(calls, "unreached", tickets, max_attempts=1, ring_timeout=6)
    await wait_settled(calls.dialer.repo, campaign_id, 60)

    async def both_sent() -> bool:
        status, body = await api(calls.service, "GET", "/api/v1/sms")
        return status == 200 and [s["status"] for s in body["sms"]] == ["sent", "sent"]

    deadline = asyncio.get_running_loop().time() + 30
    while not await both_sent():
        assert asyncio.get_running_loop().time() < deadline, fake.requests
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)  # nothing more may arrive
    by_ticket: dict[str, list[str]] = {}
    for body, key in fake.requests:
        by_ticket.setdefault(body["ticket_id"], []).append(key)
    assert sorted(by_ticket) == ["T-703", "T-704"]
    posts = sorted(len(keys) for keys in by_ticket.values())
    assert posts == [1, 2]  # the first post failed (503) and was retried once, same key
    assert all(len(set(keys)) == 1 for keys in by_ticket.values())
    assert len(fake.requests) - fake.fail == 3
    found = await tickets_of(calls, "unreached")
    assert {t: found[t]["status"] for t in found} == {
        "T-703": "unreachable",
        "T-704": "unreachable",
    }
    attempts = await calls.dialer.repo.attempts_of(campaign_id)
    assert [(a["number"], a["disposition"]) for a in attempts] == [(never, "no_answer")]
    assert not calls.channels.named("Newchannel", Exten="13900050704")  # never dialled
    texts = {body["ticket_id"]: body["text"] for body, _ in fake.requests}
    assert "11月28日" in texts["T-703"] and "AT-703" in texts["T-703"]


async def test_an_agent_assisted_apology_rings_the_agent_first(
    calls: Customers, inbound_settings: Settings
) -> None:
    number = "13900050705"
    await calls.stay(number)
    await set_agent(inbound_settings, "1001", rings=1, talk=30)
    campaign_id = await campaign(
        calls, "assisted", [ticket("T-705", number, "service_error")], agent_first=True
    )
    code = await calls.code_of(campaign_id, number)
    # the agent's phone rang and heard the ticket before the customer was dialled
    await calls.spy.wait_for("apology-connecting", linkedid=code)
    assert calls.spy.prompts(code)[:2] == ["apology-whisper", "apology-kind-service-error"]
    await wait_until(
        lambda: bool(calls.channels.named("Newchannel", Exten=number)), 30, "customer not dialled"
    )
    agent_leg, customer_leg = (
        calls.channels.named("Newchannel", Exten="agent-1001")[-1],
        calls.channels.named("Newchannel", Exten=number)[0],
    )
    events = calls.channels.events
    assert events.index(agent_leg) < events.index(customer_leg)  # the agent's phone first
    await calls.spy.wait_for(CONVENIENT)  # on the customer's own channel
    await asyncio.sleep(0.8)
    await calls.carrier.action(
        "PlayDTMF", Channel=customer_leg["Channel"], Digit="1", Duration="200"
    )
    await wait_settled(calls.dialer.repo, campaign_id, 90)
    [attempt] = await calls.dialer.repo.attempts_of(campaign_id)
    assert attempt["disposition"] == "answered_human", attempt
    found = (await tickets_of(calls, "assisted"))["T-705"]
    assert found["status"] == "apologised"
    assert "apology-script-service-error" not in calls.spy.prompts()  # the agent speaks
