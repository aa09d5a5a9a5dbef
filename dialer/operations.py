"""What an operator can do with campaigns, shared by the CLI and the API.

Both front ends call these and only format the results, so a rule (which transitions are
allowed, how an import is reported) exists once. Errors are ``OperationError`` with an
HTTP-like ``status`` and the ``field`` at fault, which the API returns as JSON and the CLI
prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from dialer.campaigns import Campaign, SpecError, build_spec
from dialer.contacts import Format, ImportRefused, Progress, parse_contacts
from dialer.numbers import NumberGuard
from dialer.repository import CampaignExists, DialerRepository
from dialer.scheduler import calling_status
from dialer.states import CampaignStatus, CampaignType
from hotline.config import Settings
from hotline.config_dialer import DialerSettings
from hotline.phone import dnc_number
from hotline.record_fields import utc_now

__all__ = [
    "TRANSITIONS",
    "Action",
    "ImportReport",
    "OperationError",
    "Operations",
    "flow_routes",
]

Action = Literal["start", "pause", "resume"]

#: action → (target status, statuses it may come from)
TRANSITIONS: dict[str, tuple[CampaignStatus, tuple[CampaignStatus, ...]]] = {
    "start": (CampaignStatus.RUNNING, (CampaignStatus.DRAFT, CampaignStatus.PAUSED)),
    "pause": (CampaignStatus.PAUSED, (CampaignStatus.RUNNING,)),
    "resume": (CampaignStatus.RUNNING, (CampaignStatus.PAUSED,)),
}


def flow_routes(settings: Settings) -> dict[CampaignType, str]:
    """The FastAGI route of each campaign type that has a flow (its campaigns' default)."""
    return {
        CampaignType.CALLBACK_SURVEY: settings.survey.agi_route,
        CampaignType.PROMISED_CALLBACK: settings.callbacks.agi_route,
        CampaignType.APOLOGY: settings.apology.agi_route,
    }


class OperationError(Exception):
    def __init__(self, status: int, field: str, message: str) -> None:
        self.status = status
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class ImportReport:
    rows: int
    added: int
    merged_in_file: int
    merged_existing: int
    rejected: list[tuple[int, str]]

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "added": self.added,
            "merged_in_file": self.merged_in_file,
            "merged_existing": self.merged_existing,
            "rejected": [{"line": line, "reason": reason} for line, reason in self.rejected],
        }


class Operations:
    def __init__(
        self,
        settings: DialerSettings,
        repo: DialerRepository,
        routes: Mapping[CampaignType, str] | None = None,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.routes = dict(routes or {})  # campaign type → its flow's FastAGI route
        self.guard = NumberGuard(settings.allowed_patterns)

    async def create(self, data: dict[str, Any], now: datetime | None = None) -> Campaign:
        try:
            spec = build_spec(data, self.settings, now, self.routes)
        except SpecError as exc:
            raise OperationError(400, exc.field, str(exc)) from exc
        try:
            return await self.repo.create_campaign(spec)
        except CampaignExists as exc:
            raise OperationError(409, "name", str(exc)) from exc

    async def get(self, ref: str) -> Campaign:
        campaign = await self.repo.campaign(ref)
        if campaign is None:
            raise OperationError(404, "campaign", f"no campaign {ref!r}")
        return campaign

    async def import_contacts(
        self,
        ref: str,
        data: bytes,
        fmt: Format,
        progress: Progress | None = None,
        now: datetime | None = None,
    ) -> ImportReport:
        campaign = await self.get(ref)
        if campaign.status is CampaignStatus.FINISHED:
            raise OperationError(409, "status", f"campaign {campaign.name} is finished")
        try:
            parsed = parse_contacts(data, fmt, self.guard, campaign.timezone, progress)
        except ImportRefused as exc:
            raise OperationError(400, "file", str(exc)) from exc
        added, merged = await self.repo.add_contacts(campaign.id, parsed.contacts, now or utc_now())
        return ImportReport(
            parsed.rows,
            added,
            parsed.merged,
            merged,
            [(r.line, r.reason) for r in parsed.rejected],
        )

    async def transition(self, ref: str, action: str) -> Campaign:
        if action not in TRANSITIONS:
            raise OperationError(404, "action", f"no action {action!r}")
        campaign = await self.get(ref)
        target, sources = TRANSITIONS[action]
        if not await self.repo.set_status(campaign.id, target, sources):
            allowed = ", ".join(s.value for s in sources)
            raise OperationError(
                409,
                "status",
                f"cannot {action} campaign {campaign.name}: it is {campaign.status.value} "
                f"(allowed from {allowed})",
            )
        return await self.get(str(campaign.id))

    async def status(self, ref: str, now: datetime | None = None) -> dict[str, Any]:
        campaign = await self.get(ref)
        return await self._describe(campaign, now or utc_now())

    async def list(self, now: datetime | None = None) -> list[dict[str, Any]]:
        now = now or utc_now()
        return [await self._describe(c, now) for c in await self.repo.campaigns()]

    async def _describe(self, campaign: Campaign, now: datetime) -> dict[str, Any]:
        zones, why = calling_status(campaign, now)
        return campaign.to_json() | {
            "progress": await self.repo.progress(campaign.id),
            "calling_now": bool(zones),
            "not_calling_because": why,
        }

    async def add_dnc(self, number: str, reason: str = "", source: str = "api") -> str:
        try:
            normal = dnc_number(number)
        except ValueError as exc:
            raise OperationError(400, "number", str(exc)) from None
        await self.repo.add_dnc(normal, source, reason)
        return normal
