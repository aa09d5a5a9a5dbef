"""Promised callbacks: requests to dialer contacts and back, overdue alerts, the report, the
API's validation (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from dialer.numbers import NumberGuard
from dialer.operations import OperationError, Operations
from dialer.promised.api import PromiseApi, parse_promise
from dialer.promised.dispatcher import CallbackDispatcher
from dialer.promised.store import PromisedStore
from dialer.repository import DialerRepository, Finished
from dialer.states import CampaignStatus, CampaignType, Disposition
from hotline.config_callbacks import CallbackSettings
from hotline.config_dialer import DialerSettings
from hotline.db import session_factory
from ivr.callbacks import CallbackRepository, CallbackStatus, NewCallback
from tests.unit.clocks import SetClock

SETTINGS = DialerSettings()
GUARD = NumberGuard(SETTINGS.allowed_patterns)
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: inside the windows
ZONES = ("Asia/Shanghai",)


class World:
    def __init__(self, engine: AsyncEngine) -> None:
        sessions = session_factory(engine)
        self.clock = SetClock(T0)
        self.repo = DialerRepository(sessions)
        self.ops = Operations(SETTINGS, self.repo, {CampaignType.PROMISED_CALLBACK: "callback"})
        self.store = PromisedStore(sessions)
        self.requests = CallbackRepository(sessions)
        self.dispatcher = CallbackDispatcher(CallbackSettings(), self.ops, self.store, self.clock)

    async def ask(self, number: str, **fields: Any) -> int:
        new = NewCallback(number=number, linkedid="x.1", requested_at=self.clock.now, **fields)
        return (await self.requests.request(new)).id

    async def call(self, disposition: Disposition) -> list[str]:
        """Claim every due contact and end each attempt with ``disposition``."""
        campaign = await self.dispatcher.campaign()
        claims = await self.repo.claim(campaign, 50, ZONES, "n1", self.clock.now, GUARD)
        await self.repo.apply(
            [Finished(c.code, disposition, self.clock.now) for c in claims], self.clock.now
        )
        return [c.number for c in claims]


@pytest.fixture
def world(engine: AsyncEngine) -> World:
    return World(engine)


async def test_the_callback_campaign_is_made_once_and_never_finishes_empty(world: World) -> None:
    made = await world.dispatcher.campaign()
    assert (made.type, made.status, made.agi_route) == (
        CampaignType.PROMISED_CALLBACK,
        CampaignStatus.RUNNING,
        "callback",
    )
    assert made.amd and not made.skip_holidays and made.priority == 50
    assert await world.dispatcher.campaign() == made
    await world.ask("13900050001")
    await world.dispatcher.tick()
    await world.call(Disposition.ANSWERED_HUMAN)
    assert await world.repo.close_finished(T0) == []  # empty, but it stays running
    assert (await world.dispatcher.campaign()).status is CampaignStatus.RUNNING


async def test_a_tick_with_no_open_request_only_asks_whether_one_is_open(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An idle hotline's dispatcher ran six reads every 2 s; the first tick makes the
    campaigns, later ones stop at one read while nothing is pending or dialling."""
    await world.dispatcher.tick()
    assert (await world.repo.campaign("promised-callbacks")) is not None
    read: list[str] = []
    for name in ("waiting_queues", "dispatch", "settle", "newly_overdue"):
        monkeypatch.setattr(world.store, name, lambda *a, _n=name, **k: read.append(_n))
    await world.dispatcher.tick()
    assert read == []
    request_id = await world.ask("13900050001")
    monkeypatch.undo()
    await world.dispatcher.tick()  # an open request: the full tick again
    moved = await world.requests.get(request_id)
    assert moved is not None and moved.status is CallbackStatus.DIALLING


async def test_a_request_is_dialled_when_due_and_closed_by_its_outcome(world: World) -> None:
    now_id = await world.ask("13900050001", queue="repair", category="gas_fault")
    later_id = await world.ask("13900050002", due_at=T0 + timedelta(hours=2))
    await world.dispatcher.tick()
    moved = await world.requests.get(now_id)
    assert moved is not None and moved.status is CallbackStatus.DIALLING
    assert moved.due_by == T0 + timedelta(minutes=60)  # answer_within_minutes from the ask
    waiting = await world.requests.get(later_id)
    assert waiting is not None and waiting.status is CallbackStatus.PENDING
    [contact] = await world.repo.contacts_of((await world.dispatcher.campaign()).id)
    assert contact["number"] == "13900050001"
    assert await world.call(Disposition.ANSWERED_HUMAN) == ["13900050001"]
    campaign_id = (await world.dispatcher.campaign()).id
    [code] = [a["code"] for a in await world.repo.attempts_of(campaign_id)]
    facts = await world.store.facts(code)
    assert facts is not None and (facts.callback_id, facts.queue) == (now_id, "repair")
    await world.dispatcher.tick()
    done = await world.requests.get(now_id)
    assert done is not None and (done.status, done.outcome) == (CallbackStatus.DONE, "reached")
    # due two hours later: dispatched then, with its own due_by counted from then
    world.clock.now = T0 + timedelta(hours=2)
    await world.dispatcher.tick()
    later = await world.requests.get(later_id)
    assert later is not None and later.status is CallbackStatus.DIALLING
    assert later.due_by == T0 + timedelta(hours=3)


async def test_a_number_called_back_before_is_called_again_for_a_new_request(
    world: World,
) -> None:
    first = await world.ask("13900050001")
    await world.dispatcher.tick()
    await world.call(Disposition.ANSWERED_HUMAN)
    await world.dispatcher.tick()
    second = await world.ask("13900050001")
    assert second != first
    await world.dispatcher.tick()
    assert await world.call(Disposition.BUSY) == ["13900050001"]
    world.clock.now += timedelta(hours=3)  # retries used up (max 3 attempts, busy 300 s)
    for _ in range(2):
        world.clock.now += timedelta(seconds=301)
        await world.call(Disposition.BUSY)
    await world.dispatcher.tick()
    closed = await world.requests.get(second)
    assert closed is not None and closed.outcome == "unreachable"


async def test_overdue_requests_are_alerted_once(world: World) -> None:
    await world.repo.add_dnc("13900050009", "optout", "test")
    late = await world.ask("13900050001", due_by=T0 + timedelta(minutes=5))
    dnc = await world.ask("13900050009")
    await world.dispatcher.tick()
    assert not world.dispatcher.alerts
    world.clock.now = T0 + timedelta(minutes=6)
    await world.dispatcher.tick()
    await world.dispatcher.tick()
    assert [a["callback_id"] for a in world.dispatcher.alerts] == [late]
    report = await world.store.report(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert report == [
        {
            "source": "ivr",
            "queue": "",
            "requested": 2,
            "reached": 0,
            "reached_in_time": 0,
            "overdue": 1,
            "open": 2,  # the DNC number is closed when its claim finds it listed
            "unreachable": 0,
        }
    ]
    await world.call(Disposition.ANSWERED_HUMAN)  # the DNC number's contact is closed at claim
    await world.dispatcher.tick()
    closed = await world.requests.get(dnc)
    assert closed is not None and closed.outcome == "dnc"
    reached = await world.requests.get(late)
    assert reached is not None and reached.outcome == "reached"
    report = await world.store.report(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert (report[0]["reached"], report[0]["reached_in_time"], report[0]["open"]) == (1, 0, 0)
    assert report[0]["unreachable"] == 1  # the DNC one


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "(body)"),
        ({"number": "13900050001"}, "due_by"),
        ({"number": "4008001234", "due_by": "2026-11-30T12:00:00+08:00"}, "number"),
        ({"number": "13900050001", "due_by": "2026-11-30T12:00:00"}, "due_by"),
        ({"number": "13900050001", "due_by": "2026-11-30T09:00:00+08:00"}, "due_by"),
        ({"number": "13900050001", "due_by": "2026-11-30T12:00+08:00", "queue": "x"}, "queue"),
        ({"number": "13900050001", "due_by": "2026-11-30T12:00+08:00", "who": 1}, "who"),
        ({"number": "13900050001", "due_by": "2026-11-30T12:00+08:00", "note": 5}, "note"),
        (
            {
                "number": "13900050001",
                "due_by": "2026-11-30T12:00+08:00",
                "not_before": "2026-11-30T13:00+08:00",
            },
            "not_before",
        ),
    ],
)
def test_a_bad_promise_names_its_field(body: Any, field: str) -> None:
    api = PromiseApi(None, None, GUARD, frozenset({"repair"}), lambda: T0)  # type: ignore[arg-type]
    with pytest.raises(OperationError) as refused:
        parse_promise(body, api)
    assert refused.value.field == field


def test_a_promise_is_read_with_its_due_time() -> None:
    api = PromiseApi(None, None, GUARD, frozenset({"repair"}), lambda: T0)  # type: ignore[arg-type]
    body = {
        "number": "+86 139 0005 0001",
        "due_by": "2026-11-30T16:00:00+08:00",
        "queue": "repair",
        "promised_by": "1001",
        "note": "账单核对结果",
    }
    new = parse_promise(body, api)
    assert (new.number, new.source, new.queue, new.promised_by) == (
        "13900050001",
        "api",
        "repair",
        "1001",
    )
    assert new.due_by == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


async def test_a_request_naming_an_agent_rings_that_agent_first(world: World) -> None:
    named = await world.ask("13900050001", agent="1001", queue="repair")
    plain = await world.ask("13900050002")
    await world.dispatcher.tick()
    by_agent = await world.dispatcher.campaign(agent_first=True)
    assert (by_agent.name, by_agent.agent_first, by_agent.agi_route) == (
        "promised-callbacks-agent",
        True,
        "callback",
    )
    claims = await world.repo.claim(by_agent, 10, ZONES, "n1", T0, GUARD)
    assert [(c.number, c.agent) for c in claims] == [("13900050001", "1001")]
    facts = await world.store.facts(claims[0].code)
    assert facts is not None and (facts.callback_id, facts.number) == (named, "13900050001")
    customer_first = await world.dispatcher.campaign()
    [other] = await world.repo.claim(customer_first, 10, ZONES, "n1", T0, GUARD)
    assert (other.number, other.agent) == ("13900050002", "")
    assert plain != named


def test_a_promise_may_name_a_configured_agent() -> None:
    api = PromiseApi(None, None, GUARD, frozenset(), lambda: T0, frozenset({"1001"}))  # type: ignore[arg-type]
    body = {"number": "13900050001", "due_by": "2026-11-30T16:00:00+08:00", "agent": "1001"}
    assert parse_promise(body, api).agent == "1001"
    with pytest.raises(OperationError) as refused:
        parse_promise(body | {"agent": "1009"}, api)
    assert refused.value.field == "agent"
