"""Apology tickets, their outcomes, the SMS outbox and its sender (SQLite and PostgreSQL;
the SMS gateway is a local aiohttp server that fails when told to)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from dialer.apology.operations import ApologyOps, deadline_of
from dialer.apology.outbox import SmsOutbox
from dialer.apology.store import ApologyStore
from dialer.apology.tickets import parse_tickets
from dialer.apology.worker import ApologyWorker
from dialer.numbers import NumberGuard
from dialer.operations import OperationError, Operations, flow_routes
from dialer.repository import DialerRepository, Finished
from dialer.states import Disposition
from hotline.config import Settings
from hotline.config_apology import ApologySettings
from hotline.db import session_factory
from tests.sms_gateway import FakeSmsGateway, sms_gateway

SETTINGS = Settings()
GUARD = NumberGuard(SETTINGS.dialer.allowed_patterns)
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
HEADER = "ticket_id,acceptance_no,number,contact_date,topic,kind,agent,verified_at\n"


def tickets_csv(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def row(ticket: str, number: str, kind: str = "attitude", verified: str = "") -> str:
    return f"{ticket},A-{ticket},{number},2026-11-29,燃气费,{kind},1001,{verified}"


def test_ticket_rows_are_checked_by_field() -> None:
    data = tickets_csv(
        row("T-1", "13900050001", "服务差错"),
        row("T-2", "13900050002", "rude"),
        "T-3,A-3,13900050003,2026-12-01,燃气费,attitude,1001,2026-11-30T09:00",
        row("T-1", "13900050004"),
        row("T-5", "4008001234"),
    )
    parsed = parse_tickets(data, "csv", GUARD, "Asia/Shanghai", T0)
    assert [(t.ticket_id, t.kind) for t in parsed.tickets] == [("T-1", "service_error")]
    assert parsed.tickets[0].verified_at == T0  # none given: the import time
    reasons = {r.line: r.reason for r in parsed.rejected}
    assert reasons[3].startswith("kind rude:")
    assert reasons[4] == "contact_date: after the ticket was verified"
    assert reasons[5] == "ticket_id T-1: repeated"
    assert reasons[6].startswith("number 4008001234:")


def test_the_deadline_is_the_end_of_the_verification_day() -> None:
    late_evening = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    assert deadline_of(late_evening, "Asia/Shanghai", "23:59") == datetime(
        2026, 11, 30, 15, 59, 59, tzinfo=UTC
    )
    after_midnight = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 on Dec 1st there
    assert deadline_of(after_midnight, "Asia/Shanghai", "18:00").date() == date(2026, 12, 1)


class World:
    def __init__(self, engine: AsyncEngine, url: str = "") -> None:
        sessions = session_factory(engine)
        self.now = T0
        apology = ApologySettings.model_validate(
            {"sms": {"url": url, "retry_seconds": 1, "max_attempts": 3}}
        )
        self.repo = DialerRepository(sessions)
        self.ops = Operations(SETTINGS.dialer, self.repo, flow_routes(SETTINGS))
        self.store = ApologyStore(sessions)
        self.outbox = SmsOutbox(sessions)
        self.apology = ApologyOps(apology, self.ops, self.store, self.outbox)
        self.worker = ApologyWorker(
            apology, "燃气客服热线", self.store, self.outbox, lambda: self.now
        )

    async def campaign(self) -> int:
        made = await self.ops.create({"name": "sorry", "type": "apology"}, T0)
        assert made.agi_route == "apology" and made.amd
        await self.ops.transition("sorry", "start")
        return made.id

    async def call_all(self, disposition: Disposition) -> list[str]:
        campaign = await self.ops.get("sorry")
        claims = await self.repo.claim(campaign, 50, ("Asia/Shanghai",), "n1", self.now, GUARD)
        await self.repo.apply([Finished(c.code, disposition, self.now) for c in claims], self.now)
        return [c.code for c in claims]


@pytest.fixture
async def gateway() -> AsyncIterator[FakeSmsGateway]:
    async with sms_gateway() as fake:
        yield fake


async def test_outcomes_close_tickets_and_only_unreached_ones_get_an_sms(
    engine: AsyncEngine,
) -> None:
    world = World(engine)
    await world.campaign()
    report = await world.apology.import_tickets(
        "sorry",
        tickets_csv(
            row("T-1", "13900050001"), row("T-2", "13900050002"), row("T-3", "13900050003")
        ),
        "csv",
        T0,
    )
    assert (report["added"], report["past_deadline"], report["rejected"]) == (3, 0, [])
    again = await world.apology.import_tickets(
        "sorry", tickets_csv(row("T-1", "13900050001")), "csv", T0
    )
    assert (again["added"], again["known"]) == (0, 1)
    codes = await world.call_all(Disposition.ANSWERED_HUMAN)
    assert len(codes) == 3
    facts = await world.store.begin(codes[0])
    assert facts is not None and facts.contact_date == date(2026, 11, 29)
    by_code = {c: (await world.store.begin(c)).ticket_id for c in codes}  # type: ignore[union-attr]
    await world.store.outcome(codes[0], "apologised", T0)
    await world.store.outcome(codes[1], "refused", T0)
    await world.store.outcome(codes[2], "hung_up", T0)
    await world.worker.tick()
    tickets = {t["ticket_id"]: t for t in await world.apology.tickets("sorry")}
    assert tickets[by_code[codes[0]]]["status"] == "apologised"
    assert tickets[by_code[codes[1]]]["status"] == "refused"
    assert tickets[by_code[codes[2]]]["status"] == "unreachable"  # hung up: the SMS apologises
    [sms] = await world.outbox.outbox()
    assert sms["ticket_id"] == by_code[codes[2]] and sms["status"] == "pending"  # no gateway set
    assert "11月29日" in sms["text"] and f"A-{by_code[codes[2]]}" in sms["text"]
    await world.worker.tick()
    assert len(await world.outbox.outbox()) == 1  # settled twice: still one SMS
    report_rows = await world.store.report(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert report_rows == [
        {
            "agent": "1001",
            "tickets": 3,
            "apologised": 1,
            "apologised_in_time": 1,
            "refused": 1,
            "unreachable": 1,
            "open": 0,
            "sms_sent": 0,
        }
    ]


async def test_a_ticket_past_its_deadline_is_not_called_and_its_sms_is_retried_once_sent(
    engine: AsyncEngine, gateway: FakeSmsGateway
) -> None:
    fake = gateway
    fake.fail = 1
    world = World(engine, fake.url)
    await world.worker.start()
    try:
        await world.campaign()
        data = tickets_csv(row("T-9", "13900050009", verified="2026-11-29T10:00"))
        report = await world.apology.import_tickets("sorry", data, "csv", T0)
        assert report["past_deadline"] == 1
        assert await world.call_all(Disposition.ANSWERED_HUMAN) == []  # never dialled
        await world.worker.tick()  # queued, posted: 503
        world.now += timedelta(seconds=2)
        await world.worker.tick()  # posted again: 200
        world.now += timedelta(seconds=60)
        await world.worker.tick()  # nothing left to send
    finally:
        await world.worker.stop()
    assert len(fake.requests) == 2
    bodies = [body for body, _ in fake.requests]
    keys = {key for _, key in fake.requests}
    assert keys == {"hotline-sms-1"} and bodies[0] == bodies[1]
    assert fake.delivered == ["T-9"]  # accepted once
    assert bodies[0]["to"] == "13900050009" and bodies[0]["ticket_id"] == "T-9"
    [sms] = await world.outbox.outbox()
    assert (sms["status"], sms["attempts"], sms["gateway_ref"]) == ("sent", 2, "m2")
    [ticket] = await world.apology.tickets("sorry")
    assert ticket["status"] == "unreachable"


async def test_the_gateway_is_given_up_after_the_last_attempt(
    engine: AsyncEngine, gateway: FakeSmsGateway
) -> None:
    fake = gateway
    fake.fail = 99
    world = World(engine, fake.url)
    await world.worker.start()
    try:
        await world.campaign()
        data = tickets_csv(row("T-9", "13900050009", verified="2026-11-29T10:00"))
        await world.apology.import_tickets("sorry", data, "csv", T0)
        for _ in range(5):
            await world.worker.tick()
            world.now += timedelta(seconds=10)
    finally:
        await world.worker.stop()
    [sms] = await world.outbox.outbox()
    assert (sms["status"], sms["attempts"]) == ("failed", 3)
    assert sms["last_error"] == "gateway answered 503"
    assert len(fake.requests) == 3


async def test_a_reschedule_past_the_deadline_is_pulled_in_and_the_deadline_expires_it(
    engine: AsyncEngine,
) -> None:
    world = World(engine)
    await world.campaign()
    evening = "2026-11-30T21:00:00+08:00"  # deadline 23:59:59 local = 15:59:59 UTC
    await world.apology.import_tickets(
        "sorry", tickets_csv(row("T-1", "13900050001", verified=evening)), "csv", T0
    )
    world.now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 23:00 local
    [code] = await world.call_all(Disposition.LATER)  # "later": 1800 s → 23:30, fine
    await world.worker.tick()
    [contact] = await world.repo.contacts_of((await world.ops.get("sorry")).id)
    assert contact["state"] == "pending"
    assert contact["next_at"] == world.now + timedelta(seconds=1800)
    world.now = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    await world.call_all(Disposition.LATER)  # would be 00:00 next day: pulled in
    await world.worker.tick()
    [contact] = await world.repo.contacts_of((await world.ops.get("sorry")).id)
    assert contact["state"] == "pending"
    assert contact["next_at"] == datetime(2026, 11, 30, 15, 54, 59, tzinfo=UTC)
    assert code
    world.now = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # past the deadline
    await world.worker.tick()
    [contact] = await world.repo.contacts_of((await world.ops.get("sorry")).id)
    assert contact["state"] == "expired"
    [ticket] = await world.apology.tickets("sorry")
    assert ticket["status"] == "unreachable"
    assert len(await world.outbox.outbox()) == 1


async def test_only_apology_campaigns_take_tickets(engine: AsyncEngine) -> None:
    world = World(engine)
    await world.ops.create({"name": "plain"}, T0)
    with pytest.raises(OperationError) as refused:
        await world.apology.import_tickets("plain", tickets_csv(row("T-1", "13900050001")), "csv")
    assert refused.value.field == "type"
