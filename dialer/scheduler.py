"""The scheduler: which campaigns may start how many calls now. Pure, with time passed in.

A campaign may dial when it is running, before its deadline, and at least one of its
callees' time zones is inside a calling window on a day that is not a public holiday there.
How many calls it gets is the least of: its free concurrency (``max_concurrent`` minus its
attempts in flight on every node), the node's and the trunk's free concurrency, and the CPS
tokens of its trunk and of the campaign itself. Higher priorities are served first; among
equal priorities calls are handed out one at a time round-robin from a start that rotates
every tick, so no campaign of a tier starves another.

Which contacts are due (retry time reached, not on the DNC list, allowed by the guard) is
the claim query's job (``dialer.repository``); the scheduler only hands out capacity, and
the engine refunds what a claim could not use.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

import holidays

from dialer.campaigns import Campaign, parse_hhmm
from dialer.pacer import TokenBucket
from dialer.states import CampaignStatus, ContactState, Disposition
from hotline.config_dialer import WEEKDAYS, TrunkSettings

__all__ = [
    "CampaignLoad",
    "Grant",
    "NextStep",
    "Scheduler",
    "after_attempt",
    "calling_status",
    "holiday_name",
]


@dataclass(frozen=True)
class CampaignLoad:
    """A campaign and what it has in flight; ``has_due`` is False while none of its contacts
    is due yet, or its last claim ran dry."""

    campaign: Campaign
    active: int = 0
    has_due: bool = True


@dataclass(frozen=True)
class Grant:
    """Start up to ``count`` calls of ``campaign_id`` to callees in ``zones`` now."""

    campaign_id: int
    trunk: str
    count: int
    zones: tuple[str, ...]


@functools.lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year)


def holiday_name(country: str, day: date) -> str | None:
    """The public holiday on ``day`` in ``country``, or None (``holidays`` package data)."""
    name = _holidays(country, day.year).get(day)
    return None if name is None else str(name)


def _in_window(campaign: Campaign, local: datetime) -> bool:
    spans = campaign.windows.get(WEEKDAYS[local.weekday()], [])
    now = local.time().replace(tzinfo=None)
    return any(parse_hhmm(start) <= now < parse_hhmm(end) for start, end in spans)


def calling_status(campaign: Campaign, now: datetime) -> tuple[tuple[str, ...], str]:
    """The callee zones open now, and why none is when the tuple is empty."""
    if campaign.status is not CampaignStatus.RUNNING:
        return (), f"campaign is {campaign.status.value}"
    if campaign.deadline is not None and now >= campaign.deadline:
        return (), "deadline passed"
    open_zones: list[str] = []
    reason = "outside the calling windows"
    for zone in campaign.callee_zones():
        local = now.astimezone(ZoneInfo(zone))
        if campaign.skip_holidays:
            name = holiday_name(campaign.holiday_country, local.date())
            if name is not None:
                reason = f"public holiday ({name})"
                continue
        if _in_window(campaign, local):
            open_zones.append(zone)
    return tuple(open_zones), "" if open_zones else reason


@dataclass(frozen=True)
class NextStep:
    """What becomes of a contact after an attempt: final, or pending again from ``next_at``."""

    state: ContactState
    next_at: datetime | None = None


def after_attempt(
    campaign: Campaign, attempts_made: int, disposition: Disposition, now: datetime
) -> NextStep:
    """The retry rule: a retryable disposition with attempts left comes back after its delay.

    Answered calls, invalid numbers and rejections are final (unless the campaign lists them
    in ``retry``); so is any contact whose next try would fall after the deadline.
    """
    delay = campaign.retry_after(disposition)
    if delay is None or attempts_made >= campaign.max_attempts:
        return NextStep(ContactState.DONE)
    due = now + timedelta(seconds=delay)
    if campaign.deadline is not None and due >= campaign.deadline:
        return NextStep(ContactState.EXPIRED)
    return NextStep(ContactState.PENDING, due)


class Scheduler:
    """Hands out call starts; owns the CPS buckets (per trunk, per campaign)."""

    def __init__(
        self,
        trunks: Mapping[str, TrunkSettings],
        max_concurrent: int,
        burst_seconds: float = 0.2,
    ) -> None:
        self._trunks = dict(trunks)
        self._max_concurrent = max_concurrent
        self._burst = burst_seconds
        self._trunk_buckets: dict[str, TokenBucket] = {}
        self._campaign_buckets: dict[int, TokenBucket] = {}
        self._turn = 0

    def _bucket_of_trunk(self, trunk: str, at: float) -> TokenBucket:
        bucket = self._trunk_buckets.get(trunk)
        if bucket is None:
            bucket = TokenBucket(self._trunks[trunk].cps, at, self._burst)
            self._trunk_buckets[trunk] = bucket
        return bucket

    def _bucket_of(self, campaign: Campaign, at: float) -> TokenBucket:
        bucket = self._campaign_buckets.get(campaign.id)
        if bucket is None:
            bucket = TokenBucket(campaign.cps, at, self._burst)
            self._campaign_buckets[campaign.id] = bucket
        elif bucket.rate != campaign.cps:
            bucket.set_rate(campaign.cps, self._burst)
        return bucket

    def plan(
        self,
        loads: Sequence[CampaignLoad],
        now: datetime,
        node_active: int,
        trunk_active: Mapping[str, int] | None = None,
    ) -> list[Grant]:
        """The calls each campaign may start now; tokens for them are taken."""
        at = now.timestamp()
        trunk_used = dict(trunk_active or {})
        node_free = self._max_concurrent - node_active
        eligible: list[tuple[CampaignLoad, tuple[str, ...]]] = []
        for load in loads:
            campaign = load.campaign
            if not load.has_due or campaign.trunk not in self._trunks:
                continue
            zones, _ = calling_status(campaign, now)
            if zones and load.active < campaign.max_concurrent:
                eligible.append((load, zones))
        granted: dict[int, int] = {}
        tiers = groupby(
            sorted(eligible, key=lambda item: -item[0].campaign.priority),
            key=lambda item: item[0].campaign.priority,
        )
        for _, tier_items in tiers:
            tier = list(tier_items)
            start = self._turn % len(tier)
            tier = tier[start:] + tier[:start]
            progress = True
            while progress and node_free > 0:
                progress = False
                for load, _zones in tier:
                    campaign = load.campaign
                    trunk = self._trunks[campaign.trunk]
                    trunk_bucket = self._bucket_of_trunk(campaign.trunk, at)
                    bucket = self._bucket_of(campaign, at)
                    already = granted.get(campaign.id, 0)
                    if (
                        node_free > 0
                        and load.active + already < campaign.max_concurrent
                        and trunk_used.get(campaign.trunk, 0) < trunk.max_concurrent
                        and trunk_bucket.available(at) >= 1
                        and bucket.available(at) >= 1
                    ):
                        trunk_bucket.take(at)
                        bucket.take(at)
                        granted[campaign.id] = already + 1
                        trunk_used[campaign.trunk] = trunk_used.get(campaign.trunk, 0) + 1
                        node_free -= 1
                        progress = True
        self._turn += 1
        return [
            Grant(load.campaign.id, load.campaign.trunk, granted[load.campaign.id], zones)
            for load, zones in eligible
            if granted.get(load.campaign.id)
        ]

    def refund(self, grant: Grant, unused: int) -> None:
        """Return the tokens of calls a claim could not start (fewer contacts were due)."""
        if unused <= 0:
            return
        if grant.trunk in self._trunk_buckets:
            self._trunk_buckets[grant.trunk].refund(unused)
        if grant.campaign_id in self._campaign_buckets:
            self._campaign_buckets[grant.campaign_id].refund(unused)

    def forget(self, campaign_id: int) -> None:
        """Drop the bucket of a campaign that stopped (paused, finished)."""
        self._campaign_buckets.pop(campaign_id, None)
