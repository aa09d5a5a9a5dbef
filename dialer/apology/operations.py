"""What an operator does with an apology campaign: import tickets, read them and the SMS.

A ticket's deadline is ``apology.deadline`` (e.g. 23:59) on the day it was verified, in
the dialer's time zone: the service standard asks for the apology the same day. A ticket
imported after its deadline is not called; its SMS apology goes out at once.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from dialer.apology.outbox import SmsOutbox
from dialer.apology.store import ApologyStore
from dialer.apology.tickets import parse_tickets
from dialer.contacts import Format, ImportRefused, Rejected
from dialer.operations import OperationError, Operations
from dialer.states import CampaignStatus, CampaignType
from hotline.config_apology import ApologySettings
from hotline.record_fields import utc_now

__all__ = ["ApologyOps", "deadline_of"]


def deadline_of(verified_at: datetime, zone: str, hhmm: str) -> datetime:
    """The end of ``hhmm``'s minute on the local day of ``verified_at``."""
    tz = ZoneInfo(zone)
    hours, minutes = (int(part) for part in hhmm.split(":"))
    day = verified_at.astimezone(tz).date()
    local = datetime.combine(day, time(hours, minutes, 59), tz)
    return local.astimezone(verified_at.tzinfo)


class ApologyOps:
    def __init__(
        self,
        settings: ApologySettings,
        ops: Operations,
        store: ApologyStore,
        outbox: SmsOutbox,
        agents: frozenset[str] = frozenset(),
    ) -> None:
        self.settings = settings
        self.agents = agents  # configured agents: an agent-assisted call rings one of them
        self.ops = ops
        self.store = store
        self.outbox = outbox

    async def import_tickets(
        self, ref: str, data: bytes, fmt: Format, now: datetime | None = None
    ) -> dict[str, Any]:
        campaign = await self.ops.get(ref)
        if campaign.type is not CampaignType.APOLOGY:
            raise OperationError(
                409, "type", f"campaign {campaign.name} is {campaign.type.value}, not apology"
            )
        if campaign.status is CampaignStatus.FINISHED:
            raise OperationError(409, "status", f"campaign {campaign.name} is finished")
        now = now or utc_now()
        zone = self.ops.settings.timezone
        try:
            parsed = parse_tickets(data, fmt, self.ops.guard, zone, now)
        except ImportRefused as exc:
            raise OperationError(400, "file", str(exc)) from exc
        if campaign.agent_first:  # the responsible agent's phone rings first: it must exist
            for t in parsed.tickets:
                if t.agent not in self.agents:
                    reason = f"ticket {t.ticket_id}: agent {t.agent} is not a configured agent"
                    parsed.rejected.append(Rejected(t.line, reason))
            parsed.tickets = [t for t in parsed.tickets if t.agent in self.agents]
        hhmm = self.settings.deadline
        deadlines = [deadline_of(t.verified_at, zone, hhmm) for t in parsed.tickets]
        stored = await self.store.add_tickets(campaign, parsed.tickets, deadlines, now)
        return {
            "rows": parsed.rows,
            "added": stored.added,
            "known": stored.known,
            "past_deadline": sum(d <= now for d in deadlines),
            "rejected": [{"line": r.line, "reason": r.reason} for r in parsed.rejected],
        }

    async def tickets(self, ref: str) -> list[dict[str, Any]]:
        campaign = await self.ops.get(ref)
        return await self.store.tickets(campaign.id)
