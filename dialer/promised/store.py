"""The promised callbacks' storage: requests become dialer contacts, contacts close requests.

* ``dispatch`` takes requests that may be called now (``due_at`` reached) and makes each the
  contact of the callback campaign (a number called back before is made pending again);
  the request becomes ``dialling`` and gets its ``due_by`` if it had none. Rows are taken
  ``FOR UPDATE SKIP LOCKED``, so two nodes never move the same request.
* ``settle`` closes a dialling request once its contact is final: ``reached`` when the
  customer answered, else ``unreachable`` (or ``dnc``/``expired``).
* ``newly_overdue`` marks and returns open requests past ``due_by`` (alerted once each).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.campaigns import Campaign
from dialer.promised.gate import QueueView, may_dial, place_of
from dialer.states import FINAL_CONTACT, ContactState, Disposition
from dialer.store import Store, open_contact
from hotline.db.models_dialer import AttemptRow, ContactRow
from hotline.db.models_inbound import (
    OPEN_CALLBACK_STATUSES,
    CallbackRequestRow,
    CallbackStatus,
)

__all__ = ["CallbackFacts", "Lines", "PromisedStore"]


@dataclass(frozen=True)
class CallbackFacts:
    """What the callback flow needs about an answered attempt."""

    callback_id: int
    queue: str
    category: str
    number: str = ""


def _outcome(state: ContactState, last: Disposition | None) -> str:
    if state is ContactState.DNC:
        return "dnc"
    if state is ContactState.BLOCKED:
        return "blocked"
    if state is ContactState.EXPIRED:
        return "expired"
    return "reached" if last is Disposition.ANSWERED_HUMAN else "unreachable"


@dataclass(frozen=True)
class Lines:
    """The queues' lines now (``None``: unknown, wait) and where requests without a queue go."""

    views: Mapping[str, QueueView | None]
    fallback_queue: str

    def queue_of(self, request: CallbackRequestRow) -> str:
        return request.queue or self.fallback_queue


def _place(request: CallbackRequestRow) -> datetime:
    return place_of(request.queued_at, request.due_at, request.requested_at)


class _Turns:
    """Whose turn it is, request by request, within one dispatch."""

    def __init__(self, lines: Lines, open_places: dict[str, list[datetime]]) -> None:
        self._lines = lines
        self._open = open_places  # queue → places of open (dialling or just admitted) callbacks

    @classmethod
    async def of(
        cls, session: AsyncSession, lines: Lines, due: Sequence[CallbackRequestRow]
    ) -> _Turns:
        row = CallbackRequestRow
        dialling = await session.scalars(
            select(row).where(row.status == CallbackStatus.DIALLING, row.agent == "")
        )
        places: dict[str, list[datetime]] = {}
        for request in dialling:
            places.setdefault(lines.queue_of(request), []).append(_place(request))
        return cls(lines, places)

    def admit(self, request: CallbackRequestRow) -> bool:
        if request.agent:  # a named agent's promise: rung agent-first, no line to keep
            return True
        queue = self._lines.queue_of(request)
        view = self._lines.views.get(queue)
        if view is None:
            return False
        place = _place(request)
        earlier = sum(1 for other in self._open.get(queue, []) if other < place)
        if not may_dial(place, view, earlier):
            return False
        self._open.setdefault(queue, []).append(place)
        return True


class PromisedStore(Store):
    async def any_open(self) -> bool:
        """Whether any request is pending or being dialled: when none is, a tick has
        nothing to dispatch, settle or flag (one indexed read instead of six)."""
        row = CallbackRequestRow
        async with self._session("callbacks open") as session:
            found = await session.scalar(
                select(row.id).where(row.status.in_(OPEN_CALLBACK_STATUSES)).limit(1)
            )
            return found is not None

    async def waiting_queues(self, now: datetime, fallback_queue: str) -> set[str]:
        """The queues of pending requests that may be called now (for ``dispatch``'s views)."""
        row = CallbackRequestRow
        async with self._session("callbacks queues") as session:
            found = await session.scalars(
                select(row.queue)
                .where(
                    row.status == CallbackStatus.PENDING,
                    row.agent == "",
                    or_(row.due_at.is_(None), row.due_at <= now),
                )
                .distinct()
            )
            return {queue or fallback_queue for queue in found}

    async def dispatch(
        self,
        campaign: Campaign,
        now: datetime,
        within: timedelta,
        limit: int = 100,
        agent_campaign: Campaign | None = None,
        lines: Lines | None = None,
    ) -> list[int]:
        """Requests moved to the dialer now (their ids); those naming an agent go to the
        agent-first ``agent_campaign`` (left waiting while it is not given). With ``lines``,
        a queue request waits for its turn in its queue's line (``dialer.promised.gate``)."""
        row = CallbackRequestRow
        moved: list[int] = []
        async with self._session("callbacks dispatch") as session:
            due = (
                await session.scalars(
                    select(row)
                    .where(
                        row.status == CallbackStatus.PENDING,
                        or_(row.due_at.is_(None), row.due_at <= now),
                    )
                    .order_by(row.priority.desc(), row.requested_at, row.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if lines is not None:  # earliest place first: the one whose turn comes first
                due = sorted(due, key=lambda r: (_place(r), r.id))
            turn = None if lines is None else await _Turns.of(session, lines, due)
            for request in due:
                target = agent_campaign if request.agent else campaign
                if target is None or (turn is not None and not turn.admit(request)):
                    continue
                data = {
                    "callback_id": str(request.id),
                    "queue": request.queue,
                    "category": request.category,
                    "agent": request.agent,
                }
                slot = await open_contact(session, target, request.number, data, now)
                if not slot.fresh:  # on the DNC list, or (briefly) still being dialled
                    if slot.state in (ContactState.DNC, ContactState.BLOCKED):
                        request.status = CallbackStatus.DONE
                        request.outcome = slot.state.value
                        request.closed_at = now
                    continue
                contact_id = slot.id
                start = max(request.requested_at, request.due_at or request.requested_at)
                request.due_by = request.due_by or start + within
                request.status = CallbackStatus.DIALLING
                request.contact_id = contact_id
                moved.append(request.id)
        return moved

    async def settle(self, now: datetime) -> list[tuple[int, str]]:
        """Close dialling requests whose contact is final; (id, outcome) of each."""
        row = CallbackRequestRow
        closed: list[tuple[int, str]] = []
        async with self._session("callbacks settle") as session:
            found = (
                await session.execute(
                    select(row, ContactRow.state, ContactRow.last_disposition)
                    .join(ContactRow, ContactRow.id == row.contact_id)
                    .where(
                        row.status == CallbackStatus.DIALLING,
                        ContactRow.state.in_(list(FINAL_CONTACT)),
                    )
                    .with_for_update(of=row, skip_locked=True)
                )
            ).all()
            for request, state, last in found:
                request.status = CallbackStatus.DONE
                request.outcome = _outcome(state, last)
                request.closed_at = now
                closed.append((request.id, request.outcome))
        return closed

    async def newly_overdue(self, now: datetime) -> list[CallbackRequestRow]:
        """Open requests past their due time not alerted yet; they are marked alerted."""
        row = CallbackRequestRow
        async with self._session("callbacks overdue") as session:
            found = (
                await session.scalars(
                    select(row)
                    .where(
                        row.status.in_(OPEN_CALLBACK_STATUSES),
                        row.due_by.is_not(None),
                        row.due_by < now,
                        row.alerted_at.is_(None),
                    )
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for request in found:
                request.alerted_at = now
            await session.flush()
            session.expunge_all()  # plain rows for the caller, after the session closes
            return list(found)

    async def facts(self, code: str) -> CallbackFacts | None:
        """The request behind an answered attempt (from its contact's data)."""
        async with self._session("callback facts") as session:
            found = (
                await session.execute(
                    select(ContactRow.data, ContactRow.number)
                    .join(AttemptRow, AttemptRow.contact_id == ContactRow.id)
                    .where(AttemptRow.code == code)
                )
            ).first()
        data = {} if found is None else (found.data or {})
        if not str(data.get("callback_id", "")).isdigit():
            return None
        return CallbackFacts(
            int(data["callback_id"]),
            str(data.get("queue", "")),
            str(data.get("category", "")),
            found.number if found is not None else "",
        )

    async def report(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Per source and queue: requested, reached, reached in time, overdue, still open."""
        row = CallbackRequestRow
        in_time = and_(
            row.outcome == "reached",
            or_(row.due_by.is_(None), row.closed_at <= row.due_by),
        )
        async with self._session("callbacks report") as session:
            rows = (
                await session.execute(
                    select(
                        row.source,
                        row.queue,
                        row.status,
                        row.outcome,
                        case((in_time, 1), else_=0).label("in_time"),
                        case((row.alerted_at.is_not(None), 1), else_=0).label("overdue"),
                    ).where(row.requested_at >= since, row.requested_at < until)
                )
            ).all()
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for r in rows:
            group = groups.setdefault(
                (r.source, r.queue),
                {
                    "source": r.source,
                    "queue": r.queue,
                    "requested": 0,
                    "reached": 0,
                    "reached_in_time": 0,
                    "overdue": 0,
                    "open": 0,
                    "unreachable": 0,
                },
            )
            group["requested"] += 1
            group["reached"] += r.outcome == "reached"
            group["reached_in_time"] += r.in_time
            group["overdue"] += r.overdue
            group["open"] += r.status in OPEN_CALLBACK_STATUSES
            group["unreachable"] += r.outcome in ("unreachable", "expired", "dnc", "blocked")
        return [groups[key] for key in sorted(groups)]
