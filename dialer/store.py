"""The dialer's storage basics: value types, row conversion, one session per method.

Each repository method is one transaction (commit or roll back in ``_session``;
lower-layer errors become ``DatabaseError`` there, except ``IntegrityError``, which the
claim path turns into "someone else was first").
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.campaigns import Campaign
from dialer.states import AttemptStatus, ContactState, Disposition
from hotline.db.engine import DATABASE_ERRORS, database_failure
from hotline.db.models_dialer import CampaignRow, ContactRow, DncRow

__all__ = [
    "Answered",
    "CampaignExists",
    "Claim",
    "ContactSlot",
    "Finished",
    "InFlight",
    "Raced",
    "Store",
    "campaign_of",
    "dialect_insert",
    "new_code",
    "open_contact",
    "refresh_zones",
]

logger = logging.getLogger(__name__)


class Raced(Exception):
    """A claim found its contacts taken between its read and its write."""


class CampaignExists(ValueError):
    """A campaign of that name exists already."""


@dataclass(frozen=True)
class Claim:
    """One attempt committed as ``dialing``: everything the Originate needs."""

    attempt_id: int
    code: str
    campaign_id: int
    contact_id: int
    number: str
    seq: int
    agent: str = ""  # agent-first campaigns: the agent whose phone rings first


@dataclass(frozen=True)
class InFlight:
    """An attempt of this node still ``dialing`` or ``up`` in the database."""

    code: str
    campaign_id: int
    status: AttemptStatus
    created_at: datetime


@dataclass(frozen=True)
class Answered:
    code: str
    at: datetime


@dataclass(frozen=True)
class Finished:
    code: str
    disposition: Disposition
    at: datetime
    answered_at: datetime | None = None
    cause: int | None = None
    dial_status: str = ""
    amd: str = ""
    optout: bool = False
    detail: str = ""
    refund: bool = False  # nothing was sent: the attempt does not count for the contact


def campaign_of(row: CampaignRow) -> Campaign:
    """A campaign row as plain data."""
    return Campaign(
        id=row.id,
        name=row.name,
        type=row.type,
        status=row.status,
        priority=row.priority,
        trunk=row.trunk,
        caller_id=row.caller_id,
        max_concurrent=row.max_concurrent,
        cps=row.cps,
        timezone=row.timezone,
        windows={day: [(str(a), str(b)) for a, b in spans] for day, spans in row.windows.items()},
        skip_holidays=row.skip_holidays,
        holiday_country=row.holiday_country,
        deadline=row.deadline,
        retry={str(k): int(v) for k, v in row.retry.items()},
        max_attempts=row.max_attempts,
        amd=row.amd,
        amd_silence_is_human=row.amd_silence_is_human,
        agent_first=row.agent_first,
        record=row.record,
        agi_route=row.agi_route,
        context=row.context,
        ring_timeout=row.ring_timeout,
        timezones=tuple(row.timezones or ()),
    )


def dialect_insert(session: AsyncSession) -> Any:
    """The dialect's ``insert`` (the one with ON CONFLICT and RETURNING)."""
    name = session.get_bind().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert


def new_code(contact_id: int, seq: int) -> str:
    """Unique per attempt (a random part survives database resets); the channel's Uniqueid."""
    return f"dl-{contact_id}-{seq}-{secrets.token_hex(4)}"


async def refresh_zones(session: AsyncSession, campaign_id: int) -> None:
    """Keep the campaign's list of its contacts' time zones (the scheduler opens each)."""
    zones = (
        await session.scalars(
            select(ContactRow.timezone).where(ContactRow.campaign_id == campaign_id).distinct()
        )
    ).all()
    await session.execute(
        update(CampaignRow)
        .where(CampaignRow.id == campaign_id)
        .values(timezones=sorted(zones), updated_at=func.now())
    )


@dataclass(frozen=True)
class ContactSlot:
    """A number's contact in a campaign after ``open_contact``."""

    id: int
    state: ContactState
    fresh: bool  # made now, or its calls were over and a new round starts now


async def open_contact(
    session: AsyncSession, campaign: Campaign, number: str, data: dict[str, Any], now: datetime
) -> ContactSlot:
    """Make the number's contact pending for a new reason (a ticket, a callback request):
    a new contact, or a new round of one whose calls are over (done or expired: its
    retries start again, its attempt numbers go on). One still being dialled, or on the
    DNC list, is left as it is (``fresh`` False)."""
    statement = dialect_insert(session)(ContactRow).values(
        campaign_id=campaign.id,
        number=number,
        name="",
        timezone=campaign.timezone,
        data=data,
        state=ContactState.PENDING,
        attempts=0,
        next_at=now,
        source_line=None,
    )
    made = await session.scalar(
        statement.on_conflict_do_update(
            index_elements=["campaign_id", "number"],
            set_={
                "data": statement.excluded.data,
                "state": ContactState.PENDING,
                "round_base": ContactRow.attempts,
                "next_at": now,
                "last_disposition": None,
            },
            where=ContactRow.state.in_([ContactState.DONE, ContactState.EXPIRED]),
        ).returning(ContactRow.id)
    )
    if made is not None:
        return ContactSlot(int(made), ContactState.PENDING, True)
    found = (
        await session.execute(
            select(ContactRow.id, ContactRow.state).where(
                ContactRow.campaign_id == campaign.id, ContactRow.number == number
            )
        )
    ).one()
    return ContactSlot(int(found.id), ContactState(found.state), False)


class Store:
    """Owns the session factory; subclasses add the queries."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The session factory (to build another store on the same database)."""
        return self._sessions

    @asynccontextmanager
    async def _session(self, what: str) -> AsyncIterator[AsyncSession]:
        try:
            async with self._sessions() as session, session.begin():
                yield session
        except DATABASE_ERRORS as exc:
            if isinstance(exc, IntegrityError):
                raise
            raise database_failure(what, exc) from exc

    async def _add_dnc(self, session: AsyncSession, number: str, source: str, reason: str) -> None:
        await session.execute(
            dialect_insert(session)(DncRow)
            .values(number=number, source=source, reason=reason[:255])
            .on_conflict_do_nothing(index_elements=["number"])
        )
