"""The apology calls' storage: tickets in, outcomes from the flow, the SMS outbox.

* ``add_tickets`` stores tickets with their deadline and gives each customer one contact in
  the campaign (two tickets of one customer share the call), in one transaction.
* The flow's side (``begin``, ``outcome``) is keyed on the attempt code.
* ``settle`` closes open tickets that can no longer be reached (their contact is final, or
  their deadline passed) as ``unreachable`` and queues their apology SMS; the outbox's
  unique ``ticket_id`` makes that exactly one SMS per ticket, whatever runs twice.
* Sending is ``dialer.apology.outbox``'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update

from dialer.apology.tickets import Ticket
from dialer.campaigns import Campaign
from dialer.states import FINAL_CONTACT, ContactState
from dialer.store import Store, dialect_insert, open_contact, refresh_zones
from hotline.db.models_apology import ApologyTicketRow, SmsOutboxRow
from hotline.db.models_dialer import AttemptRow, ContactRow

__all__ = ["ApologyStore", "TicketFacts", "TicketsStored"]

OPEN = "open"
CLOSING_OUTCOMES = frozenset({"apologised", "refused"})


@dataclass(frozen=True)
class TicketsStored:
    added: int
    known: int  # ticket ids imported before (left as they are)


@dataclass(frozen=True)
class TicketFacts:
    ticket_id: str
    kind: str
    contact_date: date
    acceptance_no: str
    agent: str


class ApologyStore(Store):
    async def add_tickets(
        self,
        campaign: Campaign,
        tickets: Sequence[Ticket],
        deadlines: Sequence[datetime],
        now: datetime,
    ) -> TicketsStored:
        added = known = 0
        async with self._session("add_tickets") as session:
            insert = dialect_insert(session)
            for ticket, deadline in zip(tickets, deadlines, strict=True):
                if await session.get(ApologyTicketRow, ticket.ticket_id) is not None:
                    known += 1  # imported before: never called a second time for it
                    continue
                if deadline <= now:  # too late to call: the worker sends the SMS at once
                    contact_id = None
                else:
                    contact_id = await self._contact(session, campaign, ticket, now)
                await session.execute(
                    insert(ApologyTicketRow).values(
                        ticket_id=ticket.ticket_id,
                        acceptance_no=ticket.acceptance_no,
                        number=ticket.number,
                        contact_date=ticket.contact_date,
                        topic=ticket.topic,
                        kind=ticket.kind,
                        agent=ticket.agent,
                        verified_at=ticket.verified_at,
                        deadline=deadline,
                        campaign_id=campaign.id,
                        contact_id=contact_id,
                        status=OPEN,
                        last_outcome="",
                        reschedules=0,
                    )
                )
                added += 1
            await refresh_zones(session, campaign.id)
        return TicketsStored(added, known)

    async def _contact(
        self, session: Any, campaign: Campaign, ticket: Ticket, now: datetime
    ) -> int | None:
        """The customer's contact in the campaign, made or (if its calls were over) made
        pending again; one being dialled is shared. None for a DNC or blocked number."""
        data = {"ticket_id": ticket.ticket_id, "agent": ticket.agent}
        slot = await open_contact(session, campaign, ticket.number, data, now)
        return None if slot.state in (ContactState.DNC, ContactState.BLOCKED) else slot.id

    # the flow's side

    async def begin(self, code: str) -> TicketFacts | None:
        """The (first) open ticket behind an answered attempt."""
        row = ApologyTicketRow
        async with self._session("apology begin") as session:
            found = (
                await session.scalars(
                    select(row)
                    .join(AttemptRow, AttemptRow.contact_id == row.contact_id)
                    .where(AttemptRow.code == code)
                    .order_by(row.verified_at, row.ticket_id)
                )
            ).first()
            if found is None:
                return None
            return TicketFacts(
                found.ticket_id, found.kind, found.contact_date, found.acceptance_no, found.agent
            )

    async def outcome(self, code: str, outcome: str, now: datetime) -> None:
        """What the call achieved, for every open ticket of its contact."""
        row = ApologyTicketRow
        contact = select(AttemptRow.contact_id).where(AttemptRow.code == code).scalar_subquery()
        values: dict[str, Any] = {"last_outcome": outcome[:16]}
        if outcome in CLOSING_OUTCOMES:
            values |= {"status": outcome, "closed_at": now}
        elif outcome == "rescheduled":
            values["reschedules"] = row.reschedules + 1
        async with self._session("apology outcome") as session:
            await session.execute(
                update(row).where(row.contact_id == contact, row.status == OPEN).values(**values)
            )

    # the worker's side

    async def settle(self, now: datetime, text_of: Callable[[ApologyTicketRow], str]) -> list[str]:
        """Open tickets that cannot be reached any more: ``unreachable``, SMS queued."""
        row = ApologyTicketRow
        async with self._session("apology settle") as session:
            found = (
                await session.execute(
                    select(row, ContactRow.state)
                    .outerjoin(ContactRow, ContactRow.id == row.contact_id)
                    .where(row.status == OPEN)
                    .with_for_update(of=row, skip_locked=True)
                )
            ).all()
            closed: list[str] = []
            for ticket, state in found:
                final = state is None or state in FINAL_CONTACT
                late = ticket.deadline <= now
                if not (final or late):
                    continue
                if late and state is ContactState.PENDING:
                    await session.execute(
                        update(ContactRow)
                        .where(
                            ContactRow.id == ticket.contact_id,
                            ContactRow.state == ContactState.PENDING,
                        )
                        .values(state=ContactState.EXPIRED)
                    )
                elif not final:
                    continue  # being dialled right now: the call may still succeed
                ticket.status = "unreachable"
                ticket.closed_at = now
                await session.execute(
                    dialect_insert(session)(SmsOutboxRow)
                    .values(
                        ticket_id=ticket.ticket_id,
                        number=ticket.number,
                        text=text_of(ticket)[:500],
                        status="pending",
                        attempts=0,
                        next_at=now,
                        last_error="",
                        created_at=now,
                        gateway_ref="",
                    )
                    .on_conflict_do_nothing(index_elements=["ticket_id"])
                )
                closed.append(ticket.ticket_id)
            return closed

    async def pull_in(self, now: datetime, margin: timedelta) -> int:
        """Reschedules that would fall after their ticket's deadline come before it."""
        row = ApologyTicketRow
        async with self._session("apology pull_in") as session:
            candidates = (
                await session.execute(
                    select(ContactRow.id, ContactRow.next_at, row.deadline)
                    .join(row, row.contact_id == ContactRow.id)
                    .where(
                        row.status == OPEN,
                        ContactRow.state == ContactState.PENDING,
                        row.deadline > now + margin,
                    )
                )
            ).all()
            # (date arithmetic between columns differs per database: compared here)
            late = [(c, d) for c, at, d in candidates if at > d - margin]
            for contact_id, deadline in late:
                await session.execute(
                    update(ContactRow)
                    .where(ContactRow.id == contact_id)
                    .values(next_at=deadline - margin)
                )
            return len(late)

    # reading

    async def tickets(self, campaign_id: int) -> list[dict[str, Any]]:
        row = ApologyTicketRow
        async with self._session("apology tickets") as session:
            found = (
                await session.scalars(
                    select(row).where(row.campaign_id == campaign_id).order_by(row.verified_at)
                )
            ).all()
            return [_ticket_json(t) for t in found]

    async def report(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Per responsible agent: tickets verified in ``[since, until)`` and how they ended."""
        row = ApologyTicketRow

        def count(condition: Any) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        query = (
            select(
                row.agent,
                func.count(),
                count(row.status == "apologised"),
                count((row.status == "apologised") & (row.closed_at <= row.deadline)),
                count(row.status == "refused"),
                count(row.status == "unreachable"),
                count(row.status == OPEN),
                count(SmsOutboxRow.status == "sent"),
            )
            .outerjoin(SmsOutboxRow, SmsOutboxRow.ticket_id == row.ticket_id)
            .where(row.verified_at >= since, row.verified_at < until)
            .group_by(row.agent)
            .order_by(row.agent)
        )
        async with self._session("apology report") as session:
            rows = (await session.execute(query)).all()
        names = (
            "agent",
            "tickets",
            "apologised",
            "apologised_in_time",
            "refused",
            "unreachable",
            "open",
            "sms_sent",
        )
        return [dict(zip(names, (r[0], *map(int, r[1:])), strict=True)) for r in rows]


def _ticket_json(t: ApologyTicketRow) -> dict[str, Any]:
    return {
        "ticket_id": t.ticket_id,
        "acceptance_no": t.acceptance_no,
        "number": t.number,
        "contact_date": t.contact_date.isoformat(),
        "topic": t.topic,
        "kind": t.kind,
        "agent": t.agent,
        "verified_at": t.verified_at.isoformat(),
        "deadline": t.deadline.isoformat(),
        "status": t.status,
        "last_outcome": t.last_outcome,
        "reschedules": t.reschedules,
        "closed_at": None if t.closed_at is None else t.closed_at.isoformat(),
    }
