"""The dialer's repository: campaigns, contacts, progress and the DNC list.

``DialerRepository`` is the one object the rest of the dialer uses; the attempt side
(claims, outcomes) lives in ``dialer.attempts`` and the shared basics in ``dialer.store``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.attempts import AttemptStore, active_counts_in
from dialer.campaigns import Campaign, CampaignSpec
from dialer.contacts import ContactIn
from dialer.states import FINAL_CONTACT, CampaignStatus, CampaignType, ContactState
from dialer.store import (
    Answered,
    CampaignExists,
    Claim,
    Finished,
    InFlight,
    campaign_of,
    dialect_insert,
    refresh_zones,
)
from hotline.db.models_dialer import AttemptRow, CampaignRow, ContactRow, DncRow

__all__ = [
    "Answered",
    "CampaignExists",
    "Claim",
    "ConfigDncEntry",
    "DialerRepository",
    "Finished",
    "InFlight",
]

logger = logging.getLogger(__name__)

_CHUNK = 1000


#: Campaign types fed continuously by the service: they stay running when empty.
CONTINUOUS = frozenset({CampaignType.PROMISED_CALLBACK})


class ConfigDncEntry(Exception):
    """The number is on the DNC list by the settings, not by a change that can be undone."""


@dataclass(frozen=True)
class Steering:
    """``DialerRepository.steering``: ``first_due`` lacks a campaign with no waiting contact."""

    campaigns: list[Campaign]
    active: dict[int, int]
    first_due: dict[int, datetime]


class DialerRepository(AttemptStore):
    """Campaigns, contacts, attempts and the DNC list."""

    # campaigns

    async def create_campaign(self, spec: CampaignSpec) -> Campaign:
        values = spec.model_dump(mode="json")
        values["retry"] = {k: int(v) for k, v in values["retry"].items()}
        values["deadline"], values["type"] = spec.deadline, spec.type
        row = CampaignRow(**values, status=CampaignStatus.DRAFT, timezones=[])
        try:
            async with self._session("create_campaign") as session:
                session.add(row)
                await session.flush()
                return campaign_of(row)
        except IntegrityError as exc:
            raise CampaignExists(f"campaign {spec.name!r} exists already") from exc

    async def campaign(self, ref: str | int) -> Campaign | None:
        """By id (digits) or by name."""
        text = str(ref)
        column = CampaignRow.id if text.isdigit() else CampaignRow.name
        value: Any = int(text) if text.isdigit() else text
        async with self._session("campaign") as session:
            row = (await session.scalars(select(CampaignRow).where(column == value))).first()
            return None if row is None else campaign_of(row)

    async def campaigns(self, statuses: Iterable[CampaignStatus] | None = None) -> list[Campaign]:
        query = select(CampaignRow).order_by(CampaignRow.id)
        if statuses is not None:
            query = query.where(CampaignRow.status.in_(list(statuses)))
        async with self._session("campaigns") as session:
            return [campaign_of(row) for row in (await session.scalars(query)).all()]

    async def steering(self, statuses: Iterable[CampaignStatus]) -> Steering:
        """What the engine reads every second, in one session (a session costs more CPU
        than any of these reads): the campaigns in ``statuses``, the attempts in flight
        per campaign, and when the first waiting contact of each running one falls due."""
        query = select(CampaignRow).where(CampaignRow.status.in_(list(statuses)))
        async with self._session("steering") as session:
            rows = (await session.scalars(query.order_by(CampaignRow.id))).all()
            campaigns = [campaign_of(row) for row in rows]
            due: dict[int, datetime] = {}
            for campaign in campaigns:
                if campaign.status is not CampaignStatus.RUNNING:
                    continue
                first = await session.scalar(  # the due index's first entry: O(log n)
                    select(func.min(ContactRow.next_at)).where(
                        ContactRow.campaign_id == campaign.id,
                        ContactRow.state == ContactState.PENDING,
                    )
                )
                if first is not None:
                    due[campaign.id] = first
            return Steering(campaigns, await active_counts_in(session), due)

    async def set_status(
        self, campaign_id: int, status: CampaignStatus, allowed_from: Iterable[CampaignStatus]
    ) -> bool:
        """Move a campaign to ``status`` if it is in one of ``allowed_from``; False if not."""
        async with self._session("set_status") as session:
            result = await session.execute(
                update(CampaignRow)
                .where(CampaignRow.id == campaign_id, CampaignRow.status.in_(list(allowed_from)))
                .values(status=status, updated_at=func.now())
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # contacts

    async def add_contacts(
        self, campaign_id: int, contacts: Sequence[ContactIn], now: datetime
    ) -> tuple[int, int]:
        """Insert new contacts; a number already in the campaign is merged (left as it is).

        Returns (added, merged). Runs in one transaction, so a failed import adds nothing.
        """
        added = 0
        async with self._session("add_contacts") as session:
            insert = dialect_insert(session)
            # a contact without a zone of its own is called in the campaign's
            default_zone = await session.scalar(
                select(CampaignRow.timezone).where(CampaignRow.id == campaign_id)
            )
            if default_zone is None:
                raise ValueError(f"no campaign #{campaign_id}")
            for start in range(0, len(contacts), _CHUNK):
                chunk = contacts[start : start + _CHUNK]
                rows = [
                    {
                        "campaign_id": campaign_id,
                        "number": c.number,
                        "name": c.name,
                        "timezone": c.timezone or default_zone,
                        "data": c.data,
                        "state": ContactState.PENDING,
                        "attempts": 0,
                        "next_at": now,
                        "source_line": c.line,
                    }
                    for c in chunk
                ]
                statement = (
                    insert(ContactRow)
                    .values(rows)
                    .on_conflict_do_nothing(index_elements=["campaign_id", "number"])
                    .returning(ContactRow.id)
                )
                added += len((await session.execute(statement)).all())
            await refresh_zones(session, campaign_id)
        return added, len(contacts) - added

    # the dialling path

    async def close_finished(self, now: datetime) -> list[str]:
        """Expire contacts past their campaign's deadline; finish running campaigns with
        nothing left to dial. Returns the names of campaigns finished now."""
        finished: list[str] = []
        async with self._session("close_finished") as session:
            running = (
                await session.scalars(
                    select(CampaignRow).where(CampaignRow.status == CampaignStatus.RUNNING)
                )
            ).all()
            for row in running:
                expired = row.deadline is not None and row.deadline <= now
                if row.type in CONTINUOUS and not expired:
                    continue  # fed as requests come (promised callbacks): never "done"
                if expired:
                    await session.execute(
                        update(ContactRow)
                        .where(
                            ContactRow.campaign_id == row.id,
                            ContactRow.state == ContactState.PENDING,
                        )
                        .values(state=ContactState.EXPIRED)
                    )
                left = await session.scalar(
                    select(func.count())
                    .select_from(ContactRow)
                    .where(
                        ContactRow.campaign_id == row.id,
                        ContactRow.state.in_([ContactState.PENDING, ContactState.DIALING]),
                    )
                )
                if left:
                    continue
                any_contact = await session.scalar(
                    select(ContactRow.id).where(ContactRow.campaign_id == row.id).limit(1)
                )
                if any_contact is None and not expired:
                    continue  # started before its import: it waits for contacts
                row.status = CampaignStatus.FINISHED
                finished.append(row.name)
        return finished

    async def progress(self, campaign_id: int) -> dict[str, Any]:
        """Counters from the database: contacts by state and result, attempts by disposition."""
        async with self._session("progress") as session:
            states = await self._counts(
                session,
                select(ContactRow.state, func.count())
                .where(ContactRow.campaign_id == campaign_id)
                .group_by(ContactRow.state),
            )
            results = await self._counts(
                session,
                select(ContactRow.last_disposition, func.count())
                .where(
                    ContactRow.campaign_id == campaign_id,
                    ContactRow.state.in_(list(FINAL_CONTACT)),
                )
                .group_by(ContactRow.last_disposition),
            )
            attempts = await self._counts(
                session,
                select(AttemptRow.disposition, func.count())
                .where(AttemptRow.campaign_id == campaign_id)
                .group_by(AttemptRow.disposition),
            )
        contacts = {state.value: states.get(state.value, 0) for state in ContactState}
        finished = sum(contacts[state.value] for state in FINAL_CONTACT)
        return {
            "contacts": {"total": sum(contacts.values()), **contacts},
            "pending": contacts["pending"],
            "dialing": contacts["dialing"],
            "finished": finished,
            "results": {k: v for k, v in results.items() if k},
            "attempts": {
                "total": sum(attempts.values()),
                "in_flight": attempts.get("", 0),
                **{k: v for k, v in attempts.items() if k},
            },
        }

    @staticmethod
    async def _counts(session: AsyncSession, query: Any) -> dict[str, int]:
        """``key → count`` rows; a NULL key (no disposition yet) becomes ""."""
        rows = (await session.execute(query)).all()
        return {("" if key is None else str(key)): int(count) for key, count in rows}

    async def contacts_of(self, campaign_id: int) -> list[dict[str, Any]]:
        query = (
            select(ContactRow).where(ContactRow.campaign_id == campaign_id).order_by(ContactRow.id)
        )
        async with self._session("contacts_of") as session:
            return [
                {
                    "id": r.id,
                    "number": r.number,
                    "name": r.name,
                    "state": r.state.value,
                    "attempts": r.attempts,
                    "next_at": r.next_at,
                    "last_disposition": None
                    if r.last_disposition is None
                    else r.last_disposition.value,
                }
                for r in (await session.scalars(query)).all()
            ]

    # DNC

    async def add_dnc(self, number: str, source: str, reason: str = "") -> None:
        async with self._session("add_dnc") as session:
            await self._add_dnc(session, number, source, reason)
            # contacts waiting for a call to this number will not get one
            await session.execute(
                update(ContactRow)
                .where(ContactRow.number == number, ContactRow.state == ContactState.PENDING)
                .values(state=ContactState.DNC)
            )

    async def remove_dnc(self, number: str) -> bool:
        """Take a number off the list; False if it was not on it. ``ConfigDncEntry`` for a
        number from the settings (``dialer.dnc``): it would come back at the next start."""
        async with self._session("remove_dnc") as session:
            source = await session.scalar(select(DncRow.source).where(DncRow.number == number))
            if source == "config":
                raise ConfigDncEntry(f"{number} is in the settings (dialer.dnc); remove it there")
            result = await session.execute(delete(DncRow).where(DncRow.number == number))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def dnc(self) -> list[dict[str, Any]]:
        async with self._session("dnc") as session:
            rows = (await session.scalars(select(DncRow).order_by(DncRow.number))).all()
            return [
                {
                    "number": r.number,
                    "source": r.source,
                    "reason": r.reason,
                    "created_at": r.created_at.isoformat(),
                }
                for r in rows
            ]

    async def sync_config_dnc(self, numbers: Iterable[str]) -> None:
        """The settings' DNC list becomes the rows of source ``config`` (others untouched)."""
        wanted = set(numbers)
        async with self._session("sync_config_dnc") as session:
            await session.execute(
                delete(DncRow).where(
                    and_(DncRow.source == "config", DncRow.number.not_in(list(wanted)))
                )
            )
            for number in sorted(wanted):
                await self._add_dnc(session, number, "config", "settings dialer.dnc")
