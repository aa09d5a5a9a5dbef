"""Dispositions under load: 50 busy, 50 unanswered and 50 congested customers, dialled while
other processes keep every core busy, are each classed as what they are.

This is the race of the busy customer classed ``failed``: under CPU load the
OriginateResponse overtakes the channel's own events, and an attempt judged on it alone
loses its hangup cause. The verdict must wait for the evidence, whatever its order.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialer.feature import DialerFeature
from hotline.config import Settings
from hotline.service import HotlineService
from tests.integration.dialer_support import (
    CarrierWatch,
    campaign_with,
    check_accounted,
    dialer_settings,
    wait_settled,
)
from tests.integration.test_dialer import service

pytestmark = [pytest.mark.asterisk, pytest.mark.exclusive]  # it loads every core
__all__ = ["service"]  # the dialer tests' service, on this module's settings

EACH = 50
KINDS = {"busy": "1390001", "no_answer": "1390002", "congestion": "1390003"}


@pytest.fixture
def settings(sandbox_settings: Settings, tmp_path: Path) -> Settings:
    return dialer_settings(
        sandbox_settings,
        tmp_path,
        allowed_patterns=[r"139000[0-9]{5}"],
        trunks={"carrier": {"cps": 25, "max_concurrent": 60}},
    )


@pytest.fixture
def cpu_load() -> Iterator[None]:
    """One spinning process per core, at the service's and Asterisk's priority."""
    spin = "while True: pass"
    procs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(os.cpu_count() or 2)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=10)


async def test_busy_unanswered_and_congested_customers_are_never_misclassified(
    service: HotlineService, settings: Settings, cpu_load: None
) -> None:
    dialer = next(f for f in service.features if isinstance(f, DialerFeature))
    numbers = {f"{prefix}{i:04d}": kind for kind, prefix in KINDS.items() for i in range(EACH)}
    async with CarrierWatch(settings) as carrier:
        made = await campaign_with(
            dialer.ops, "stress", numbers, cps=25, max_concurrent=60, ring_timeout=5
        )
        contacts = await wait_settled(dialer.repo, made.id, 180)
    attempts = await dialer.repo.attempts_of(made.id)
    check_accounted(contacts, attempts, carrier.calls)
    wrong = {
        a["number"]: (numbers[a["number"]], a["disposition"], a["hangup_cause"])
        for a in attempts
        if a["disposition"] != numbers[a["number"]]
    }
    assert wrong == {}, f"{len(wrong)} misclassified: {Counter(v[:2] for v in wrong.values())}"
    assert Counter(a["disposition"] for a in attempts) == {kind: EACH for kind in KINDS}
    assert carrier.calls == {number: 1 for number in numbers}
