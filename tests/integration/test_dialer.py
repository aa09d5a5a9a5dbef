"""The dialer on the real sandbox: customers by number pattern at the carrier simulator.

Each test runs the service in-process with a database of its own and a campaign open all
day, asserts on the attempts in the database, the call records, and the INVITEs that
reached the carrier (its own AMI), and leaves no channel behind (``asterisk`` fixture).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from dialer.feature import DialerFeature
from dialer.states import Disposition
from hotline.callrecord import Direction
from hotline.callrecord import Disposition as CallDisposition
from hotline.config import Settings
from hotline.sandbox import Sandbox
from hotline.service import HotlineService
from tests.integration.conftest import wait_until
from tests.integration.dialer_support import (
    CarrierWatch,
    campaign_with,
    dialer_settings,
    wait_settled,
)

pytestmark = pytest.mark.asterisk

ANSWERS = "13900000101"  # rings 5 s, answers, silent (the default context hangs up ~9 s later)
BUSY = "13900010101"
NO_ANSWER = "13900020101"
CONGESTION = "13900030101"
UNALLOCATED = "13900040101"


@pytest.fixture
def settings(sandbox_settings: Settings, tmp_path: Path) -> Settings:
    return dialer_settings(
        sandbox_settings,
        tmp_path,
        dnc=["13900000102"],
        allowed_patterns=[r"139000[0-9]\d{4}"],  # the simulator's customers only
    )


@pytest.fixture
async def service(asterisk: Sandbox, settings: Settings) -> AsyncIterator[HotlineService]:
    svc = HotlineService(settings)
    await svc.start()
    await wait_until(lambda: svc.ami.connected, 10, "AMI did not connect")
    yield svc
    await svc.stop()


def dialer_of(service: HotlineService) -> DialerFeature:
    feature = next(f for f in service.features if f.name == "dialer")
    assert isinstance(feature, DialerFeature)
    return feature


async def test_each_kind_of_customer_gets_its_disposition(
    service: HotlineService, settings: Settings
) -> None:
    dialer = dialer_of(service)
    numbers = [ANSWERS, BUSY, NO_ANSWER, CONGESTION, UNALLOCATED]
    async with CarrierWatch(settings) as carrier:
        made = await campaign_with(dialer.ops, "kinds", numbers)
        contacts = await wait_settled(dialer.repo, made.id, 45)
    results = {c["number"]: (c["state"], c["last_disposition"]) for c in contacts}
    assert results == {
        ANSWERS: ("done", "answered_human"),
        BUSY: ("done", "busy"),
        NO_ANSWER: ("done", "no_answer"),
        CONGESTION: ("done", "congestion"),
        UNALLOCATED: ("done", "invalid_number"),
    }
    assert carrier.calls == {number: 1 for number in numbers}
    attempts = {a["number"]: a for a in await dialer.repo.attempts_of(made.id)}
    answered = attempts[ANSWERS]
    assert answered["answered_at"] is not None and answered["ended_at"] is not None
    assert (
        timedelta(seconds=4)
        < answered["answered_at"] - answered["created_at"]
        < timedelta(seconds=7)
    )  # the customer rings 5 s
    assert (attempts[BUSY]["hangup_cause"], attempts[UNALLOCATED]["hangup_cause"]) == (17, 1)
    # ring timeout 6 s: the no-answer attempt is given up after it, not before
    ring = attempts[NO_ANSWER]["ended_at"] - attempts[NO_ANSWER]["created_at"]
    assert timedelta(seconds=5.5) < ring < timedelta(seconds=8)
    # every attempt is an outbound call record keyed on its code
    deadline = asyncio.get_running_loop().time() + 10
    while asyncio.get_running_loop().time() < deadline:  # the last hangups being written
        stored = [await service.records.get(a["code"]) for a in attempts.values()]
        if all(r is not None and r.finished for r in stored):
            break
        await asyncio.sleep(0.1)
    for number, attempt in attempts.items():
        record = await service.records.get(attempt["code"])
        assert record is not None, number
        assert record.direction is Direction.OUTBOUND and record.called == number
        assert record.finished
    record = await service.records.get(answered["code"])
    assert record is not None and record.disposition is CallDisposition.ANSWERED
    progress = await dialer.repo.progress(made.id)
    assert progress["finished"] == 5 and progress["attempts"]["total"] == 5


async def test_retries_happen_at_the_right_times(
    service: HotlineService, settings: Settings
) -> None:
    dialer = dialer_of(service)
    async with CarrierWatch(settings) as carrier:
        made = await campaign_with(
            dialer.ops,
            "retries",
            [BUSY, CONGESTION],
            max_attempts=3,
            retry={"busy": 4, "congestion": 2},
        )
        await wait_settled(dialer.repo, made.id, 40)
    attempts = await dialer.repo.attempts_of(made.id)
    for number, disposition, delay in ((BUSY, "busy", 4), (CONGESTION, "congestion", 2)):
        mine = [a for a in attempts if a["number"] == number]
        assert [a["seq"] for a in mine] == [1, 2, 3]
        assert {a["disposition"] for a in mine} == {disposition}
        for before, after in itertools.pairwise(mine):
            gap = (after["created_at"] - before["ended_at"]).total_seconds()
            assert delay <= gap < delay + 1.5, (number, gap)
        assert carrier.calls[number] == 3
    progress = await dialer.repo.progress(made.id)
    assert progress["results"] == {"busy": 1, "congestion": 1}


async def test_dnc_and_disallowed_numbers_are_never_dialled(
    service: HotlineService, settings: Settings, asterisk: Sandbox
) -> None:
    dialer = dialer_of(service)
    opt_out = "13900050103"  # answers and presses 9: "do not call me again"
    asterisk.carrier.cli(f"database put customer/{opt_out} dtmf 9")
    asterisk.carrier.cli(f"database put customer/{opt_out} delay 2")
    asterisk.carrier.cli(f"database put customer/{opt_out} stay 6")
    await dialer.ops.add_dnc("13900010104", "asked on the phone")
    configured, by_api, foreign = "13900000102", "13900010104", "13800000105"
    try:
        async with CarrierWatch(settings) as carrier:
            made = await campaign_with(dialer.ops, "dnc", [configured, by_api, opt_out])
            # the import refuses a number outside the allowed patterns …
            report = await dialer.ops.import_contacts("dnc", f"number\n{foreign}\n".encode(), "csv")
            assert report.added == 0 and "toll-fraud guard" in report.rejected[0][1]
            # … and one that reached the table another way is still never dialled
            await campaign_with(dialer.ops, "guard", [foreign])
            await wait_settled(dialer.repo, made.id, 30)
            second = await campaign_with(dialer.ops, "again", [opt_out, configured])
            await wait_settled(dialer.repo, second.id, 10)
            guard = await dialer.repo.campaign("guard")
            assert guard is not None
            await wait_settled(dialer.repo, guard.id, 10)
    finally:
        asterisk.carrier.cli(f"database deltree customer/{opt_out}")
    assert carrier.calls == {opt_out: 1}  # nothing else ever reached the carrier
    states = {c["number"]: c["state"] for c in await dialer.repo.contacts_of(made.id)}
    assert states == {configured: "dnc", by_api: "dnc", opt_out: "dnc"}
    assert {c["state"] for c in await dialer.repo.contacts_of(second.id)} == {"dnc"}
    assert [c["state"] for c in await dialer.repo.contacts_of(guard.id)] == ["blocked"]
    listed = {d["number"]: d["source"] for d in await dialer.repo.dnc()}
    assert listed == {configured: "config", by_api: "api", opt_out: "optout"}
    [attempt] = await dialer.repo.attempts_of(made.id)
    assert attempt["disposition"] == Disposition.ANSWERED_HUMAN.value


async def test_answering_machines_are_told_apart_when_amd_is_on(
    service: HotlineService, settings: Settings
) -> None:
    dialer = dialer_of(service)
    machine, person = "13900060101", "13900070101"
    async with CarrierWatch(settings) as carrier:
        made = await campaign_with(dialer.ops, "amd", [machine, person], amd=True)
        contacts = await wait_settled(dialer.repo, made.id, 40)
    assert {c["number"]: c["last_disposition"] for c in contacts} == {
        machine: "answered_machine",
        person: "answered_human",
    }
    attempts = {a["number"]: a for a in await dialer.repo.attempts_of(made.id)}
    assert attempts[machine]["amd_status"] == "MACHINE:LONGGREETING"  # not taken for a person
    assert attempts[person]["amd_status"] == "HUMAN:HUMAN"
    assert carrier.calls == {machine: 1, person: 1}
