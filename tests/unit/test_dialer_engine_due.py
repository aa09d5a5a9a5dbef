"""When the engine claims (SQLite and PostgreSQL): only once a contact of the campaign is
due, as its once-a-second read says; then on the first tick it is due, without waiting for
another read. (An empty running campaign was claimed from every second.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from dialer.campaigns import Campaign, build_spec
from dialer.contacts import ContactIn
from dialer.engine import DialerEngine
from dialer.repository import DialerRepository
from dialer.states import CampaignStatus
from hotline.ami import AmiClient
from hotline.config_dialer import DialerSettings
from hotline.db import session_factory
from tests.unit.clocks import SetClock

SETTINGS = DialerSettings()
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: inside the windows


class Connected:
    """The engine's view of AMI here: connected, never asked anything."""

    connected = True


class Engine:
    def __init__(self, engine: AsyncEngine) -> None:
        self.repo = DialerRepository(session_factory(engine))
        self.clock = SetClock(T0)
        self.engine = DialerEngine(SETTINGS, cast(AmiClient, Connected()), self.repo, self.clock)
        self.engine._reconciled = True  # as after the first login's reconciliation
        self.claims: list[int] = []

    async def claim(self, campaign: Campaign, *args: Any, **kwargs: Any) -> list[Any]:
        self.claims.append(campaign.id)
        return []  # nothing dialled: only when the engine asks is under test

    async def running(self) -> Campaign:
        spec = build_spec({"name": "survey"}, SETTINGS, T0)
        made = await self.repo.create_campaign(spec)
        assert await self.repo.set_status(made.id, CampaignStatus.RUNNING, [CampaignStatus.DRAFT])
        return made

    async def tick(self, *, read: bool = False) -> None:
        if read:
            await self.engine._refresh(force=True)
        await self.engine._tick()


@pytest.fixture
def world(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    made = Engine(engine)
    monkeypatch.setattr(made.repo, "claim", made.claim)
    return made


async def test_an_empty_running_campaign_is_never_claimed_from(world: Engine) -> None:
    await world.running()
    for _ in range(5):
        await world.tick(read=True)
    assert world.claims == []


async def test_a_contact_is_claimed_on_the_first_tick_it_is_due(world: Engine) -> None:
    made = await world.running()
    due = T0 + timedelta(seconds=4)  # a retry falling due, as the last read saw it
    await world.repo.add_contacts(made.id, [ContactIn(2, "13900000001")], due)
    await world.tick(read=True)
    world.clock.now = due - timedelta(seconds=1)
    await world.tick()
    assert world.claims == []
    world.clock.now = due
    await world.tick()  # no new read since: the one before said when
    assert world.claims == [made.id]
    await world.tick()  # that claim came up short: not again until the next read
    assert world.claims == [made.id]
    await world.tick(read=True)
    assert world.claims == [made.id, made.id]
