"""The dialer engine: claims due contacts, originates, follows events, writes outcomes.

One loop per node, ticking every ``dialer.tick_seconds``:

1. settle and expire attempts in flight (``InFlightTable.tick``), sweep stale ones;
2. every second, reload running campaigns, in-flight counts and when each campaign's first
   waiting contact falls due from the database (so the CLI, the API and other nodes steer
   it), and close campaigns that are done; a campaign is claimed from only once a contact
   is due;
3. ask the scheduler for grants, claim that many contacts (each attempt committed as
   ``dialing``), register each attempt, then send its Originate once.

No claim is made until this node has reconciled with Asterisk since its last login;
AMI events and reconciliation only queue changes for the writer, so the AMI reader never
waits on the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from dialer.campaigns import Campaign
from dialer.dispositions import TRACKED_EVENTS
from dialer.inflight import InFlightTable
from dialer.numbers import NumberGuard
from dialer.originate import Outcome, originate
from dialer.repository import Claim, DialerRepository
from dialer.scheduler import CampaignLoad, Scheduler
from dialer.states import CampaignStatus, Disposition
from dialer.writer import ChangeWriter
from hotline.ami import AmiClient, AmiEvent
from hotline.config_dialer import DialerSettings
from hotline.errors import AmiError, DatabaseError
from hotline.live import LiveHub
from hotline.record_fields import event_time, utc_now

__all__ = ["DialerEngine"]

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0
IDLE_TICK_SECONDS = 0.5  # no running campaign, nothing in flight: a started one waits ≤1.5 s
CLOSE_SECONDS = 5.0
SWEEP_SECONDS = 5.0


class DialerEngine:
    def __init__(
        self,
        settings: DialerSettings,
        ami: AmiClient,
        repo: DialerRepository,
        clock: Callable[[], datetime] = utc_now,
        live: LiveHub | None = None,
    ) -> None:
        self.settings = settings
        self._live = live
        self._shown: dict[int, tuple[str, int]] = {}  # campaign → (status, in flight) shown
        self._ami = ami
        self._repo = repo
        self._clock = clock
        self.guard = NumberGuard(settings.allowed_patterns)
        self._dnc = frozenset(settings.dnc)
        self.scheduler = Scheduler(
            settings.trunks,
            settings.max_concurrent,
            max(settings.burst_seconds, 2 * settings.tick_seconds),
        )
        self.table = InFlightTable(settings.settle_seconds, settings.reconcile_grace_seconds)
        self.writer = ChangeWriter(repo, clock)
        self._campaigns: dict[int, Campaign] = {}  # running: the ones dialled
        self._paused: dict[int, Campaign] = {}  # shown on the live feed, not dialled
        self._others: dict[int, int] = {}  # in flight on other nodes, per campaign
        self._dry: set[int] = set()  # campaigns whose last claim found fewer contacts than asked
        self._first_due: dict[int, datetime] = {}  # running campaign → first waiting contact due
        self._reconciled = False
        self._task: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._unsubscribe: list[Callable[[], None]] = []
        self._last_refresh = self._last_close = self._last_sweep = 0.0
        self.originated = 0
        self.claimed = 0
        self.peak_active = 0

    # life

    async def start(self) -> None:
        # hooks first, before anything awaits: the first AMI login must find them
        self._unsubscribe = [
            self._ami.subscribe(self._on_event, TRACKED_EVENTS),
            self._ami.on_connected(self._on_connected),
        ]
        self.writer.start()
        try:
            await self._repo.sync_config_dnc(self.settings.dnc)
        except DatabaseError as exc:
            log.warning("dialer: configured DNC list not stored yet: %s", exc)
        self._task = asyncio.create_task(self._loop(), name="dialer-engine")
        log.info("dialer engine started on node %s", self.settings.node)

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._sends):
            with contextlib.suppress(Exception):
                await task
        await self.writer.stop()

    def health(self) -> dict[str, Any]:
        return {
            "node": self.settings.node,
            "reconciled": self._reconciled,
            "active_calls": len(self.table),
            "peak_active": self.peak_active,
            "claimed": self.claimed,
            "originated": self.originated,
            "running_campaigns": len(self._campaigns),
            "writes_pending": self.writer.pending,
        }

    # AMI side (never blocks)

    def _on_event(self, event: AmiEvent) -> None:
        # Asterisk's own Timestamp: a busy loop must not make calls look slower than they were
        self.writer.put(self.table.feed(event, event_time(event, self._clock)))

    async def _on_connected(self, rows: list[AmiEvent]) -> None:
        """After every login: square in-flight attempts with the live channels."""
        try:
            stored = await self._repo.in_flight(self.settings.node)
        except DatabaseError as exc:
            log.warning("dialer: reconciliation postponed, database: %s", exc)
            self._reconciled = False
            return
        await self._refresh(force=True)
        changes = self.table.reconcile(
            rows,
            stored,
            self._clock(),
            {c.id: c.ring_timeout for c in self._campaigns.values()},
            {c.id: c.trunk for c in self._campaigns.values()},
        )
        self.writer.put(changes)
        self._reconciled = True
        log.info("dialer: reconciled %d in-flight attempt(s)", len(self.table))

    async def _reconcile_now(self) -> None:
        """Reconcile on our own when the login hook could not (e.g. the database was down)."""
        try:
            response = await self._ami.action("CoreShowChannels")
        except AmiError as exc:
            log.warning("dialer: CoreShowChannels failed: %s", exc)
            return
        await self._on_connected([e for e in response.events if e.name == "CoreShowChannel"])

    async def _sweep(self) -> None:
        """Attempts long past their ring timeout with no end seen: ask Asterisk about them."""
        stale = self.table.stale(self._clock())
        if not stale:
            return
        try:
            response = await self._ami.action("CoreShowChannels")
        except AmiError as exc:
            log.warning("dialer: stale sweep postponed: %s", exc)
            return
        rows = [e for e in response.events if e.name == "CoreShowChannel"]
        self.writer.put(self.table.reconcile(rows, (), self._clock(), {}, {}, only=stale))

    # the loop

    async def _loop(self) -> None:
        while True:
            busy = bool(self._campaigns) or len(self.table) > 0
            await asyncio.sleep(self.settings.tick_seconds if busy else IDLE_TICK_SECONDS)
            try:
                await self._tick()
            except DatabaseError as exc:
                log.warning("dialer: tick skipped, database: %s", exc)
                await asyncio.sleep(1.0)
            except Exception:
                log.exception("dialer: tick failed")
                await asyncio.sleep(1.0)

    async def _tick(self) -> None:
        now = self._clock()
        self.writer.put(self.table.tick(now))
        if not self._ami.connected:
            self._reconciled = False  # the next login's hook reconciles first
            return
        if not self._reconciled:
            await self._reconcile_now()
            return
        mono = time.monotonic()
        if mono - self._last_sweep >= SWEEP_SECONDS:
            self._last_sweep = mono
            await self._sweep()
        if mono - self._last_close >= CLOSE_SECONDS:
            self._last_close = mono
            for name in await self._repo.close_finished(now):
                log.info("dialer: campaign %s finished", name)
        await self._refresh()
        local = self.table.by_campaign()
        loads = [
            CampaignLoad(c, self._load(c.id, local), self._has_due(c.id, now))
            for c in self._campaigns.values()
        ]
        self._show_campaigns(local)
        grants = self.scheduler.plan(loads, now, len(self.table), self.table.by_trunk())
        for grant in grants:
            campaign = self._campaigns[grant.campaign_id]
            count = min(grant.count, self.settings.claim_batch)  # short claim transactions
            claims = await self._repo.claim(
                campaign, count, grant.zones, self.settings.node, now, self.guard, self._dnc
            )
            self.scheduler.refund(grant, grant.count - len(claims))
            if len(claims) < count:
                self._dry.add(campaign.id)
            for claim in claims:
                self._dial(claim, campaign)

    def _load(self, campaign_id: int, local: dict[int, int]) -> int:
        return local.get(campaign_id, 0) + self._others.get(campaign_id, 0)

    def _has_due(self, campaign_id: int, now: datetime) -> bool:
        """A contact falls due by now (as of the last refresh) and no claim since ran dry:
        an empty running campaign (the callbacks' own, between requests) is not claimed
        from every second, and a retry is still claimed on the first tick it is due."""
        first = self._first_due.get(campaign_id)
        return first is not None and first <= now and campaign_id not in self._dry

    def _shown_campaigns(self) -> list[Campaign]:
        return [*self._campaigns.values(), *self._paused.values()]

    def live_campaigns(self) -> list[dict[str, Any]]:
        """Running and paused campaigns, this node's calls in flight (a dashboard's snapshot)."""
        local = self.table.by_campaign()
        return [_campaign_json(c, local.get(c.id, 0)) for c in self._shown_campaigns()]

    def _show_campaigns(self, local: dict[int, int]) -> None:
        """Running and paused campaigns, calls in flight, on the live feed when they change."""
        if self._live is None:
            return
        for campaign in self._shown_campaigns():
            state = (campaign.status.value, local.get(campaign.id, 0))
            if self._shown.get(campaign.id) != state:
                self._shown[campaign.id] = state
                self._live.publish("campaign", _campaign_json(campaign, state[1]))
        for gone in set(self._shown) - set(self._campaigns) - set(self._paused):
            del self._shown[gone]
            self._live.publish("campaign", {"id": gone, "status": "stopped", "in_flight": 0})

    async def _refresh(self, force: bool = False) -> None:
        mono = time.monotonic()
        if not force and mono - self._last_refresh < REFRESH_SECONDS:
            return
        self._last_refresh = mono
        steering = await self._repo.steering([CampaignStatus.RUNNING, CampaignStatus.PAUSED])
        listed, counts = steering.campaigns, steering.active
        self._first_due = steering.first_due
        running = [c for c in listed if c.status is CampaignStatus.RUNNING]
        self._paused = {c.id: c for c in listed if c.status is CampaignStatus.PAUSED}
        local = self.table.by_campaign()
        for gone in set(self._campaigns) - {c.id for c in running}:
            self.scheduler.forget(gone)
        self._campaigns = {c.id: c for c in running}
        self._others = {cid: max(0, n - local.get(cid, 0)) for cid, n in counts.items()}
        self._dry.clear()

    # origination

    def _dial(self, claim: Claim, campaign: Campaign) -> None:
        self.claimed += 1
        self.table.add(
            claim.code, campaign.id, campaign.trunk, self._clock(), campaign.ring_timeout
        )
        self.peak_active = max(self.peak_active, len(self.table))
        task = asyncio.create_task(self._send(claim, campaign), name=f"originate {claim.code}")
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _send(self, claim: Claim, campaign: Campaign) -> None:
        outcome, why = await originate(self._ami, claim, campaign, self.settings, self.guard)
        attempt = self.table.get(claim.code)
        if attempt is not None:
            attempt.sending = False
        now = self._clock()
        if outcome is Outcome.SENT:
            self.originated += 1
        elif outcome is Outcome.NOT_SENT:
            self.writer.put(
                self.table.close(claim.code, Disposition.FAILED, now, f"not sent: {why}", True)
            )
        elif outcome is Outcome.BLOCKED:
            self.writer.put(self.table.close(claim.code, Disposition.BLOCKED, now, why))
        elif outcome is Outcome.REFUSED:
            self.writer.put(self.table.close(claim.code, Disposition.FAILED, now, why))
        else:  # UNKNOWN: maybe dialling; the next login's reconciliation (or a sweep) decides
            self.originated += 1


def _campaign_json(campaign: Campaign, in_flight: int) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "type": campaign.type.value,
        "status": campaign.status.value,
        "in_flight": in_flight,
    }
