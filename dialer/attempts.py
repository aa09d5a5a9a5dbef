"""Attempts: the claim that commits them before any Originate, and their outcomes.

* ``claim`` selects due contacts ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite is one
  node), re-checks DNC and the guard, and commits each attempt as ``dialing`` with a fresh
  code *before* anyone may send its Originate. Two nodes never see the same row, and
  ``(contact_id, seq)`` is unique besides.
* ``apply`` writes answers and final dispositions idempotently: an attempt already
  ``done`` is left alone, so a replayed batch changes nothing.
* Nothing here ever turns an attempt back into something that may be sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.campaigns import Campaign
from dialer.numbers import NumberGuard
from dialer.scheduler import after_attempt
from dialer.states import ACTIVE_ATTEMPT, AttemptStatus, ContactState, Disposition
from dialer.store import (
    Answered,
    Claim,
    Finished,
    InFlight,
    Raced,
    Store,
    campaign_of,
    dialect_insert,
    new_code,
)
from hotline.db.models_dialer import AttemptRow, CampaignRow, ContactRow, DncRow

__all__ = ["AttemptStore"]

logger = logging.getLogger(__name__)

# Core tables for the hot claim path
_CONTACTS = cast(Table, ContactRow.__table__)
_ATTEMPTS = cast(Table, AttemptRow.__table__)
_DNC = cast(Table, DncRow.__table__)


async def active_counts_in(session: AsyncSession) -> dict[int, int]:
    """Attempts in flight per campaign, on every node, read in ``session``."""
    query = (
        select(AttemptRow.campaign_id, func.count())
        .where(AttemptRow.status.in_(list(ACTIVE_ATTEMPT)))
        .group_by(AttemptRow.campaign_id)
    )
    return {cid: int(n) for cid, n in (await session.execute(query)).all()}


class AttemptStore(Store):
    """Claims, in-flight attempts and their outcomes."""

    async def claim(
        self,
        campaign: Campaign,
        count: int,
        zones: Sequence[str],
        node: str,
        now: datetime,
        guard: NumberGuard,
        dnc: frozenset[str] = frozenset(),
    ) -> list[Claim]:
        """Take up to ``count`` due contacts and commit one ``dialing`` attempt for each.

        Contacts on the DNC list or refused by the guard are closed (``dnc``/``blocked``)
        in the same transaction and never get an attempt.
        """
        contacts, dnc_table = _CONTACTS, _DNC
        query = (
            select(
                contacts.c.id,
                contacts.c.number,
                contacts.c.attempts,
                dnc_table.c.number.label("listed"),
            )
            .select_from(contacts.outerjoin(dnc_table, dnc_table.c.number == contacts.c.number))
            .where(
                contacts.c.campaign_id == campaign.id,
                contacts.c.state == ContactState.PENDING,
                contacts.c.next_at <= now,
            )
            .order_by(contacts.c.next_at, contacts.c.id)
            .limit(count)
            .with_for_update(of=contacts, skip_locked=True)
        )
        if set(zones) != set(campaign.callee_zones()):
            query = query.where(contacts.c.timezone.in_(list(zones)))
        if campaign.agent_first:  # the agent rides in the contact's data
            query = query.add_columns(contacts.c.data)
        try:
            return await self._claim(query, campaign, node, now, guard, dnc)
        except (Raced, IntegrityError):
            # Only possible without row locks (SQLite with two writers): the unique
            # (contact_id, seq) or the state check stopped a double claim; nothing committed.
            logger.info(
                "claim for campaign %s raced another claimer; retried next tick", campaign.id
            )
            return []

    async def _claim(
        self,
        query: Any,
        campaign: Campaign,
        node: str,
        now: datetime,
        guard: NumberGuard,
        dnc: frozenset[str],
    ) -> list[Claim]:
        """The claim transaction, on Core statements: it runs many times a second, and the
        ORM's per-statement work cost more than the database's (measured: ~3x)."""
        contacts, attempts = _CONTACTS, _ATTEMPTS
        claims: list[Claim] = []
        async with self._session("claim") as session:
            conn = await session.connection()
            rows = (await conn.execute(query)).all()
            if not rows:
                return []
            closed: dict[ContactState, list[int]] = {ContactState.DNC: [], ContactState.BLOCKED: []}
            values: list[dict[str, Any]] = []
            agents: dict[int, str] = {}
            busy = await self._busy_agents(conn, campaign) if campaign.agent_first else set()
            for row in rows:
                if campaign.agent_first:
                    agent = str((row.data or {}).get("agent", ""))
                    if agent in busy:
                        continue  # one call at a time per agent: left pending for later
                    busy.add(agent)
                    agents[row.id] = agent
                if row.listed is not None or row.number in dnc:
                    closed[ContactState.DNC].append(row.id)
                    continue
                if not guard.allowed(row.number):
                    logger.warning("toll-fraud guard: %s refused before dialling", row.number)
                    closed[ContactState.BLOCKED].append(row.id)
                    continue
                seq = row.attempts + 1
                values.append(
                    {
                        "campaign_id": campaign.id,
                        "contact_id": row.id,
                        "seq": seq,
                        "code": new_code(row.id, seq),
                        "node": node,
                        "number": row.number,
                        "status": AttemptStatus.DIALING,
                        "created_at": now,
                        "dial_status": "",
                        "amd_status": "",
                        "detail": "",
                    }
                )
            for state, ids in closed.items():
                if ids:
                    await conn.execute(
                        update(contacts)
                        .where(contacts.c.id.in_(ids))
                        .values(state=state, last_disposition=Disposition.BLOCKED)
                    )
            if values:
                taken = await conn.execute(
                    update(contacts)
                    .where(
                        contacts.c.id.in_([v["contact_id"] for v in values]),
                        contacts.c.state == ContactState.PENDING,
                    )
                    .values(state=ContactState.DIALING, attempts=contacts.c.attempts + 1)
                )
                if taken.rowcount != len(values):
                    raise Raced  # another claimer got there first: roll back, claim nothing
                inserted = await conn.execute(
                    dialect_insert(session)(attempts)
                    .values(values)
                    .returning(attempts.c.id, attempts.c.code)
                )
                made = {code: attempt_id for attempt_id, code in inserted.all()}
                claims = [
                    Claim(
                        made[v["code"]],
                        v["code"],
                        campaign.id,
                        v["contact_id"],
                        v["number"],
                        v["seq"],
                        agents.get(v["contact_id"], ""),
                    )
                    for v in values
                ]
        return claims

    async def _busy_agents(self, conn: Any, campaign: Campaign) -> set[str]:
        """Agents of an agent-first campaign with one of its calls in flight."""
        contacts, attempts = _CONTACTS, _ATTEMPTS
        found = await conn.execute(
            select(contacts.c.data)
            .select_from(attempts.join(contacts, contacts.c.id == attempts.c.contact_id))
            .where(
                attempts.c.campaign_id == campaign.id,
                attempts.c.status.in_(list(ACTIVE_ATTEMPT)),
            )
        )
        return {str((data or {}).get("agent", "")) for (data,) in found.all()}

    async def in_flight(self, node: str) -> list[InFlight]:
        """This node's attempts still dialing or up (to reconcile after a gap)."""
        query = select(
            AttemptRow.code, AttemptRow.campaign_id, AttemptRow.status, AttemptRow.created_at
        ).where(AttemptRow.status.in_(list(ACTIVE_ATTEMPT)), AttemptRow.node == node)
        async with self._session("in_flight") as session:
            return [InFlight(*row) for row in (await session.execute(query)).all()]

    async def active_counts(self) -> dict[int, int]:
        """Attempts in flight per campaign, on every node."""
        async with self._session("active_counts") as session:
            return await active_counts_in(session)

    async def apply(self, changes: Sequence[Answered | Finished], now: datetime) -> None:
        """Write answers and final dispositions in one transaction; repeats change nothing.

        Core statements, a few per batch rather than several per change: at 50 calls a
        second this runs for every answer and every end, and the ORM's per-row work was
        the dialer's largest CPU cost.
        """
        attempts, contacts = _ATTEMPTS, _CONTACTS
        codes = list({change.code for change in changes})
        async with self._session("apply") as session:
            conn = await session.connection()
            rows = (
                await conn.execute(
                    select(
                        attempts.c.code,
                        attempts.c.status,
                        attempts.c.campaign_id,
                        attempts.c.contact_id,
                        attempts.c.answered_at,
                        contacts.c.state,
                        contacts.c.attempts,
                        contacts.c.round_base,
                        contacts.c.number,
                    )
                    .select_from(attempts.join(contacts, contacts.c.id == attempts.c.contact_id))
                    .where(attempts.c.code.in_(codes))
                    .with_for_update(of=contacts)
                )
            ).all()
            found = {row.code: row for row in rows}
            done: set[str] = {row.code for row in rows if row.status == AttemptStatus.DONE}
            answered: dict[str, datetime] = {}
            finished: list[tuple[Finished, Any]] = []
            for change in changes:
                row = found.get(change.code)
                if row is None or change.code in done:
                    continue
                if isinstance(change, Answered):
                    answered.setdefault(change.code, change.at)
                else:
                    done.add(change.code)
                    finished.append((change, row))
            for code, at in answered.items():
                if code in {change.code for change, _ in finished}:
                    continue  # written with its end below
                await conn.execute(
                    update(attempts)
                    .where(attempts.c.code == code, attempts.c.status == AttemptStatus.DIALING)
                    .values(status=AttemptStatus.UP, answered_at=at)
                )
            if finished:
                await self._finish(session, conn, finished, answered, now)

    async def _finish(
        self,
        session: AsyncSession,
        conn: Any,
        finished: list[tuple[Finished, Any]],
        answered: dict[str, datetime],
        now: datetime,
    ) -> None:
        attempts, contacts = _ATTEMPTS, _CONTACTS
        campaigns: dict[int, Campaign] = {}
        for change, row in finished:
            await conn.execute(
                update(attempts)
                .where(attempts.c.code == change.code)
                .values(
                    status=AttemptStatus.DONE,
                    disposition=change.disposition,
                    answered_at=row.answered_at or answered.get(change.code) or change.answered_at,
                    ended_at=change.at,
                    hangup_cause=change.cause,
                    dial_status=change.dial_status[:32],
                    amd_status=change.amd[:64],
                    detail=change.detail[:255],
                )
            )
            if change.optout:
                await self._add_dnc(session, row.number, "optout", f"opted out on {change.code}")
            if row.state != ContactState.DIALING:
                continue  # closed meanwhile (e.g. the campaign expired); its state stays final
            values: dict[str, Any] = {"last_disposition": change.disposition}
            if change.optout:
                values["state"] = ContactState.DNC
            elif change.disposition is Disposition.BLOCKED:
                values["state"] = ContactState.BLOCKED
            elif change.refund:
                values.update(
                    state=ContactState.PENDING, next_at=now, attempts=max(0, row.attempts - 1)
                )
            else:
                campaign = campaigns.get(row.campaign_id)
                if campaign is None:
                    found = await session.get(CampaignRow, row.campaign_id)
                    if found is None:
                        continue
                    campaign = campaigns[row.campaign_id] = campaign_of(found)
                made = row.attempts - row.round_base  # this round's (a callback re-asked)
                step = after_attempt(campaign, made, change.disposition, now)
                values["state"] = step.state
                if step.next_at is not None:
                    values["next_at"] = step.next_at
            await conn.execute(
                update(contacts).where(contacts.c.id == row.contact_id).values(**values)
            )

    # campaign life

    async def attempts_of(self, campaign_id: int) -> list[dict[str, Any]]:
        """Every attempt of a campaign, oldest first (tests, audits)."""
        query = (
            select(AttemptRow).where(AttemptRow.campaign_id == campaign_id).order_by(AttemptRow.id)
        )
        async with self._session("attempts_of") as session:
            rows = (await session.scalars(query)).all()
            return [
                {
                    "id": r.id,
                    "code": r.code,
                    "contact_id": r.contact_id,
                    "seq": r.seq,
                    "node": r.node,
                    "number": r.number,
                    "status": r.status.value,
                    "disposition": None if r.disposition is None else r.disposition.value,
                    "created_at": r.created_at,
                    "answered_at": r.answered_at,
                    "ended_at": r.ended_at,
                    "hangup_cause": r.hangup_cause,
                    "dial_status": r.dial_status,
                    "amd_status": r.amd_status,
                    "detail": r.detail,
                }
                for r in rows
            ]
