"""The scheduler with a fake clock: windows, holidays, deadlines, retries, CPS, priorities.

Times are written in the callee's local time (Asia/Shanghai, UTC+8) so the tables read
like the service standard they encode; 2026-11-23 is a Monday and no holiday in China,
2026-10-01 is National Day.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dialer.campaigns import Campaign
from dialer.pacer import TokenBucket
from dialer.scheduler import CampaignLoad, Scheduler, after_attempt, calling_status
from dialer.states import CampaignStatus, CampaignType, ContactState, Disposition
from hotline.config_dialer import DEFAULT_RETRY, DEFAULT_WINDOWS, TrunkSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)


def campaign(id: int = 1, **fields: Any) -> Campaign:
    values: dict[str, Any] = {
        "id": id,
        "name": f"c{id}",
        "type": CampaignType.IVR,
        "status": CampaignStatus.RUNNING,
        "priority": 5,
        "trunk": "carrier",
        "caller_id": "95007",
        "max_concurrent": 1000,
        "cps": 100.0,
        "timezone": "Asia/Shanghai",
        "windows": {d: list(s) for d, s in DEFAULT_WINDOWS.items()},
        "skip_holidays": True,
        "holiday_country": "CN",
        "deadline": None,
        "retry": dict(DEFAULT_RETRY),
        "max_attempts": 3,
        "amd": False,
        "agi_route": "",
        "context": "dialer-default",
        "ring_timeout": 30.0,
    }
    return Campaign(**(values | fields))


MONDAY = "2026-11-23"


@pytest.mark.parametrize(
    ("clock", "open_"),
    [
        ("08:59:59", False),
        ("09:00:00", True),
        ("11:29:59", True),
        ("11:30:00", False),  # lunch
        ("13:59", False),
        ("14:00", True),
        ("17:29", True),
        ("17:30", False),  # dinner
        ("19:00", True),
        ("20:29:59", True),
        ("20:30", False),  # rest
        ("23:00", False),
        ("03:00", False),
    ],
)
def test_default_windows_avoid_meal_and_rest_times(clock: str, open_: bool) -> None:
    zones, why = calling_status(campaign(), local(f"{MONDAY}T{clock}"))
    assert bool(zones) is open_
    assert (why == "") is open_
    if not open_:
        assert why == "outside the calling windows"


def test_windows_are_per_weekday_in_the_callees_zone() -> None:
    windows = {"mon": [("09:00", "12:00")], "sat": [("10:00", "11:00")]}
    weekday = campaign(windows=windows)
    assert calling_status(weekday, local("2026-11-23T09:30"))[0]  # Monday
    assert not calling_status(weekday, local("2026-11-24T09:30"))[0]  # Tuesday: none listed
    assert not calling_status(weekday, local("2026-11-28T09:30"))[0]  # Saturday, too early
    assert calling_status(weekday, local("2026-11-28T10:30"))[0]
    # 09:30 in Urumqi callers' own zone is 11:30 in Beijing; the callee's zone decides
    urumqi = ZoneInfo("Asia/Urumqi")
    west = campaign(windows=windows, timezone="Asia/Urumqi")
    assert calling_status(west, local("2026-11-23T09:30", urumqi))[0]
    assert not calling_status(west, local("2026-11-23T08:30", urumqi))[0]


def test_only_the_open_zones_of_a_campaign_are_granted() -> None:
    both = campaign(timezones=("Asia/Shanghai", "Asia/Urumqi"))
    # 09:30 Beijing = 07:30 Urumqi: only the Beijing callees may be called
    zones, _ = calling_status(both, local(f"{MONDAY}T09:30"))
    assert zones == ("Asia/Shanghai",)
    zones, _ = calling_status(both, local(f"{MONDAY}T11:20"))  # 09:20 in Urumqi
    assert zones == ("Asia/Shanghai", "Asia/Urumqi")


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        ("2026-10-01", True),  # National Day
        ("2026-10-05", True),  # Golden Week
        ("2026-02-17", True),  # Spring Festival
        ("2026-05-01", True),  # Labour Day
        ("2026-11-23", False),
        ("2026-09-30", False),
    ],
)
def test_public_holidays_are_skipped(day: str, holiday: bool) -> None:
    zones, why = calling_status(campaign(), local(f"{day}T10:00"))
    assert bool(zones) is not holiday
    assert why.startswith("public holiday") is holiday
    # a campaign that chose to call on holidays does
    assert calling_status(campaign(skip_holidays=False), local(f"{day}T10:00"))[0]


def test_deadline_and_status_close_a_campaign() -> None:
    deadline = local(f"{MONDAY}T10:00")
    due = campaign(deadline=deadline)
    assert calling_status(due, deadline - timedelta(seconds=1))[0]
    assert calling_status(due, deadline) == ((), "deadline passed")
    paused = campaign(status=CampaignStatus.PAUSED)
    assert calling_status(paused, local(f"{MONDAY}T10:00")) == ((), "campaign is paused")


NOW = local(f"{MONDAY}T10:00")


@pytest.mark.parametrize(
    ("disposition", "made", "state", "after"),
    [
        (Disposition.BUSY, 1, ContactState.PENDING, 600),
        (Disposition.NO_ANSWER, 1, ContactState.PENDING, 1800),
        (Disposition.CONGESTION, 2, ContactState.PENDING, 300),
        (Disposition.UNKNOWN, 1, ContactState.PENDING, 1800),
        (Disposition.BUSY, 3, ContactState.DONE, None),  # max 3 attempts
        (Disposition.ANSWERED_HUMAN, 1, ContactState.DONE, None),
        (Disposition.ANSWERED_MACHINE, 1, ContactState.DONE, None),
        (Disposition.INVALID_NUMBER, 1, ContactState.DONE, None),
        (Disposition.REJECTED, 1, ContactState.DONE, None),
    ],
)
def test_retry_rules_by_disposition(
    disposition: Disposition, made: int, state: ContactState, after: int | None
) -> None:
    step = after_attempt(campaign(), made, disposition, NOW)
    assert step.state is state
    assert step.next_at == (None if after is None else NOW + timedelta(seconds=after))


def test_a_retry_after_the_deadline_expires_the_contact() -> None:
    tight = campaign(deadline=NOW + timedelta(minutes=20))
    assert after_attempt(tight, 1, Disposition.CONGESTION, NOW).state is ContactState.PENDING
    assert after_attempt(tight, 1, Disposition.NO_ANSWER, NOW).state is ContactState.EXPIRED
    custom = campaign(retry={"answered_machine": 60}, max_attempts=2)
    assert after_attempt(custom, 1, Disposition.ANSWERED_MACHINE, NOW).next_at == NOW + timedelta(
        seconds=60
    )
    assert after_attempt(custom, 1, Disposition.BUSY, NOW).state is ContactState.DONE


def trunks(cps: float = 50, max_concurrent: int = 300) -> dict[str, TrunkSettings]:
    return {"carrier": TrunkSettings(cps=cps, max_concurrent=max_concurrent)}


def run_for(
    scheduler: Scheduler,
    loads: list[CampaignLoad],
    seconds: float,
    tick: float = 0.05,
    start: datetime = NOW,
) -> dict[int, int]:
    """Drive the scheduler for ``seconds`` of fake time; count grants per campaign."""
    totals: dict[int, int] = {}
    steps = round(seconds / tick)
    for step in range(steps + 1):
        for grant in scheduler.plan(loads, start + timedelta(seconds=step * tick), 0):
            totals[grant.campaign_id] = totals.get(grant.campaign_id, 0) + grant.count
    return totals


@pytest.mark.parametrize(("cps", "tick"), [(10, 0.05), (20, 0.05), (50, 0.05), (50, 0.25)])
def test_trunk_cps_is_held_over_time(cps: float, tick: float) -> None:
    scheduler = Scheduler(trunks(cps), 10000, burst_seconds=max(0.2, 2 * tick))
    totals = run_for(scheduler, [CampaignLoad(campaign(cps=500))], 20, tick)
    # one token to start with, then `cps` per second: never more, and not fewer
    assert totals[1] == pytest.approx(cps * 20 + 1, abs=1)


def test_campaign_cps_below_the_trunks() -> None:
    scheduler = Scheduler(trunks(50), 10000)
    totals = run_for(scheduler, [CampaignLoad(campaign(cps=5))], 10)
    assert totals[1] == pytest.approx(5 * 10 + 1, abs=1)


def test_cps_is_even_not_bursty() -> None:
    scheduler = Scheduler(trunks(20), 10000)
    counts = [
        sum(
            g.count
            for g in scheduler.plan(
                [CampaignLoad(campaign())], NOW + timedelta(seconds=s * 0.05), 0
            )
        )
        for s in range(1, 200)
    ]
    per_second = [sum(counts[i : i + 20]) for i in range(0, 180, 20)]
    assert all(19 <= n <= 21 for n in per_second), per_second
    assert max(counts) <= 2  # never a burst of a whole second's calls


def test_concurrency_limits_campaign_trunk_and_node() -> None:
    scheduler = Scheduler(trunks(500, max_concurrent=8), 6)
    scheduler.plan([CampaignLoad(campaign())], NOW, 0)  # makes the buckets
    at = NOW + timedelta(seconds=10)  # buckets full
    grants = scheduler.plan([CampaignLoad(campaign(max_concurrent=4), active=1)], at, 0)
    assert sum(g.count for g in grants) == 3  # campaign: 4 - 1 in flight
    grants = scheduler.plan([CampaignLoad(campaign(max_concurrent=100))], at, 2)
    assert sum(g.count for g in grants) <= 4  # node: 6 - 2
    grants = scheduler.plan([CampaignLoad(campaign(max_concurrent=100))], at, 0, {"carrier": 7})
    assert sum(g.count for g in grants) == 1  # trunk: 8 - 7


def test_higher_priority_first_then_lower_gets_the_rest() -> None:
    scheduler = Scheduler(trunks(10), 10000)
    high = CampaignLoad(campaign(1, priority=9))
    low = CampaignLoad(campaign(2, priority=1))
    totals = run_for(scheduler, [low, high], 10)
    assert totals.get(1, 0) >= 100 and totals.get(2, 0) == 0
    # once the urgent one is full (its concurrency), the other gets the trunk
    full = CampaignLoad(campaign(1, priority=9, max_concurrent=3), active=3)
    totals = run_for(Scheduler(trunks(10), 10000), [low, full], 10)
    assert totals.get(1, 0) == 0 and totals[2] >= 100
    # nor does a campaign with nothing due block the tier below
    dry = replace(high, has_due=False)
    totals = run_for(Scheduler(trunks(10), 10000), [low, dry], 10)
    assert totals[2] >= 100


def test_equal_priorities_share_fairly() -> None:
    scheduler = Scheduler(trunks(10), 10000)
    loads = [CampaignLoad(campaign(i, priority=5)) for i in (1, 2, 3)]
    totals = run_for(scheduler, loads, 30)
    assert sum(totals.values()) == pytest.approx(301, abs=1)
    assert max(totals.values()) - min(totals.values()) <= 2, totals


def test_closed_campaigns_get_nothing_and_refunds_return_tokens() -> None:
    scheduler = Scheduler(trunks(10), 10000)
    night = local(f"{MONDAY}T23:00")
    assert scheduler.plan([CampaignLoad(campaign())], night, 0) == []
    [first] = scheduler.plan([CampaignLoad(campaign())], NOW, 0)
    assert first.count == 1  # buckets start with one call, not a burst
    at = NOW + timedelta(seconds=5)
    [grant] = scheduler.plan([CampaignLoad(campaign())], at, 0)
    assert grant.count == 3  # the capacity of a 10 cps trunk: 1 + 0.2 s of calls
    assert scheduler.plan([CampaignLoad(campaign())], at, 0) == []
    scheduler.refund(grant, 3)
    [again] = scheduler.plan([CampaignLoad(campaign())], at, 0)
    assert again.count == 3


def test_token_bucket() -> None:
    bucket = TokenBucket(4, now=0.0, burst_seconds=1.0)
    assert bucket.available(0.0) == 1
    bucket.take(0.0)
    assert bucket.available(0.2) == 0
    assert bucket.available(0.25) == 1
    assert bucket.available(100.0) == 5  # capped: one call plus the burst
    with pytest.raises(ValueError, match="taking 6"):
        bucket.take(100.0, 6)
    with pytest.raises(ValueError):
        TokenBucket(0, 0.0)
