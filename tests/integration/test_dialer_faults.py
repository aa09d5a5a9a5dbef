"""Faults mid-campaign: kill -9 and restart, an AMI drop, two nodes on one PostgreSQL.

What must hold after each (``check_accounted``): every contact ends in a final state, every
attempt is over with a disposition, and no number reached the carrier more often than it
had attempts, i.e. nobody was dialled twice for one attempt. An attempt whose fate
nobody saw is ``unknown`` and follows the retry rule, as a new attempt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from dialer.feature import DialerFeature
from dialer.operations import Operations
from dialer.repository import DialerRepository
from hotline.config import Settings
from hotline.db import create_engine, session_factory, upgrade
from hotline.sandbox import Sandbox
from hotline.service import HotlineService
from tests.integration.conftest import free_port, wait_until
from tests.integration.dialer_support import (
    CarrierWatch,
    ServiceProcess,
    campaign_with,
    check_accounted,
    dialer_settings,
    wait_settled,
)

pytestmark = pytest.mark.asterisk

# answer after 5 s of ringing and stay until the dialplan hangs up (~9 s later)
ANSWERING = [f"1390000{i:04d}" for i in range(201, 205)]
SLOW = [f"1390008{i:04d}" for i in range(201, 203)]  # answer after 12 s: cut by the ring timeout
NO_ANSWER = [f"1390002{i:04d}" for i in range(201, 204)]
BUSY = [f"1390001{i:04d}" for i in range(201, 204)]
MIX = ANSWERING + NO_ANSWER + BUSY
RULES: dict[str, Any] = {
    "max_attempts": 2,
    "retry": {"busy": 2, "no_answer": 2, "unknown": 2},
    "cps": 5,
}


async def open_ops(settings: Settings) -> tuple[Operations, AsyncEngine]:
    await upgrade(settings.database.url)
    engine = create_engine(settings.database.url)
    return Operations(settings.dialer, DialerRepository(session_factory(engine))), engine


async def attempts_up(repo: DialerRepository, campaign_id: int, want: int, within: float) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        attempts = await repo.attempts_of(campaign_id)
        if sum(a["status"] == "up" for a in attempts) >= want:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {want} answered calls in {within:g} s")


@pytest.fixture
def proc(sandbox_settings: Settings, tmp_path: Path) -> Iterator[ServiceProcess]:
    service = ServiceProcess(dialer_settings(sandbox_settings, tmp_path), tmp_path)
    try:
        yield service
    finally:
        service.stop()


async def test_kill_9_mid_campaign_and_restart(asterisk: Sandbox, proc: ServiceProcess) -> None:
    settings = proc.settings
    ops, engine = await open_ops(settings)
    try:
        async with CarrierWatch(settings) as carrier:
            proc.start()
            await proc.wait_ready()
            made = await campaign_with(ops, "crash", MIX, **RULES)
            await attempts_up(ops.repo, made.id, 2, 20)  # calls are up, others ring
            before = await ops.repo.attempts_of(made.id)
            proc.kill()
            await asyncio.sleep(1)
            proc.start()
            await proc.wait_ready()
            contacts = await wait_settled(ops.repo, made.id, 60)
            attempts = await ops.repo.attempts_of(made.id)
            await asyncio.sleep(1)  # late INVITEs would show now
        check_accounted(contacts, attempts, carrier.calls)
        up_at_kill = [a for a in before if a["status"] == "up"]
        assert up_at_kill
        for attempt in up_at_kill:
            # the call outlived the crash: adopted from the live channels, seen to its end
            after = next(a for a in attempts if a["code"] == attempt["code"])
            assert after["disposition"] == "answered_human"
            assert carrier.calls[attempt["number"]] == 1
        assert "restored from the database" in proc.log_text()
    finally:
        proc.stop()
        await engine.dispose()


async def test_ami_drop_mid_campaign(
    asterisk: Sandbox, sandbox_settings: Settings, tmp_path: Path
) -> None:
    settings = dialer_settings(sandbox_settings, tmp_path)
    service = HotlineService(settings)
    await service.start()
    try:
        await wait_until(lambda: service.ami.connected, 10, "AMI did not connect")
        dialer = next(f for f in service.features if isinstance(f, DialerFeature))
        async with CarrierWatch(settings) as carrier:
            made = await campaign_with(dialer.ops, "drop", MIX + SLOW, **RULES)
            await attempts_up(dialer.repo, made.id, 1, 20)
            reconnects = service.ami.reconnects
            service.ami._manager.protocol.transport.abort()  # a network fault
            await wait_until(lambda: service.ami.reconnects > reconnects, 15, "no reconnect")
            contacts = await wait_settled(dialer.repo, made.id, 60)
            attempts = await dialer.repo.attempts_of(made.id)
            await asyncio.sleep(1)
        check_accounted(contacts, attempts, carrier.calls)
        assert dialer.engine.health()["reconciled"]
    finally:
        await service.stop()


async def test_two_nodes_on_postgresql_share_one_campaign(
    asterisk: Sandbox, sandbox_settings: Settings, tmp_path: Path, postgres_url: str
) -> None:
    first = dialer_settings(sandbox_settings, tmp_path, postgres_url, node="node-a")
    second = first.model_copy(
        update={
            "dialer": first.dialer.model_copy(update={"node": "node-b"}),
            "agi": first.agi.model_copy(update={"port": free_port()}),
            "web": first.web.model_copy(update={"port": free_port()}),
        }
    )
    services = [HotlineService(first), HotlineService(second)]
    for service in services:
        await service.start()
    numbers = [f"139000{kind}{i:04d}" for kind in "134" for i in range(301, 311)] + ANSWERING
    try:
        for service in services:
            await wait_until(lambda s=service: s.ami.connected, 10, "AMI did not connect")
        dialer = next(f for f in services[0].features if isinstance(f, DialerFeature))
        async with CarrierWatch(first) as carrier:
            made = await campaign_with(dialer.ops, "shared", numbers, cps=20, max_concurrent=40)
            contacts = await wait_settled(dialer.repo, made.id, 40)
            attempts = await dialer.repo.attempts_of(made.id)
            await asyncio.sleep(1)
        check_accounted(contacts, attempts, carrier.calls)
        assert len(attempts) == len(numbers)  # one attempt each (max_attempts 1)
        assert carrier.calls == {number: 1 for number in numbers}
        nodes = {a["node"] for a in attempts}
        assert nodes == {"node-a", "node-b"}  # both claimed, neither twice
    finally:
        for service in services:
            await service.stop()
