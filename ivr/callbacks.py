"""Callback requests: a caller asks to be called back instead of waiting or calling again.

One open request per number: a repeat while one is pending or dialling is folded into it
(``merge_count`` + 1) and keeps the caller's best claim: the earliest ``requested_at``, the
best (lowest) queue ``position``, the earliest ``queued_at`` (their place in the line), the
highest ``priority`` and the earliest ``due_at`` (None, "as soon as possible", beats any
time). The fold is one ``INSERT … ON CONFLICT``
against a partial unique index, so two requests at the same instant still make one row.
The dialer (next issue) takes open requests in ``list_open`` order and ``mark``s them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, null, or_, select, update

from hotline.db.models_inbound import (
    OPEN_CALLBACK_STATUSES,
    CallbackRequestRow,
    CallbackStatus,
)
from hotline.db.transaction import Sessions, dialect_insert, transaction

__all__ = ["CallbackRepository", "CallbackRequest", "CallbackStatus", "NewCallback"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewCallback:
    """What a flow knows when the caller asks for a callback."""

    number: str
    linkedid: str
    queue: str = ""
    category: str = ""
    priority: int = 0
    position: int | None = None
    due_at: datetime | None = None
    requested_at: datetime | None = None  # now, if not given
    source: str = "ivr"  # ivr (a caller asked) | api (an agent promised)
    promised_by: str = ""
    note: str = ""
    due_by: datetime | None = None  # called by then, or it is overdue
    agent: str = ""  # ring this agent first, then the customer (agent-first)
    queued_at: datetime | None = None  # when the caller first joined the queue (their place)


@dataclass(frozen=True)
class CallbackRequest:
    id: int
    number: str
    linkedid: str
    queue: str
    category: str
    requested_at: datetime
    status: CallbackStatus
    priority: int
    position: int | None
    merge_count: int
    due_at: datetime | None
    source: str = "ivr"
    promised_by: str = ""
    note: str = ""
    due_by: datetime | None = None
    agent: str = ""
    contact_id: int | None = None
    outcome: str = ""
    closed_at: datetime | None = None
    alerted_at: datetime | None = None
    queued_at: datetime | None = None


_FIELDS = tuple(f.name for f in fields(CallbackRequest))


def _request(row: CallbackRequestRow) -> CallbackRequest:
    return CallbackRequest(**{name: getattr(row, name) for name in _FIELDS})


def _earlier(old: Any, new: Any) -> ColumnElement[Any]:
    return case((new < old, new), else_=old)


def _merged(excluded: Any) -> dict[str, Any]:
    """The SET clause that folds a repeat request into the open one."""
    row = CallbackRequestRow
    return {
        "merge_count": row.merge_count + 1,
        "requested_at": _earlier(row.requested_at, excluded.requested_at),
        "priority": case((excluded.priority > row.priority, excluded.priority), else_=row.priority),
        "position": case(
            (row.position.is_(None), excluded.position),
            (
                and_(excluded.position.is_not(None), excluded.position < row.position),
                excluded.position,
            ),
            else_=row.position,
        ),
        "queued_at": case(
            (row.queued_at.is_(None), excluded.queued_at),
            (excluded.queued_at.is_(None), row.queued_at),
            else_=_earlier(row.queued_at, excluded.queued_at),
        ),
        "due_at": case(
            (or_(row.due_at.is_(None), excluded.due_at.is_(None)), null()),
            else_=_earlier(row.due_at, excluded.due_at),
        ),
        "queue": case((row.queue == "", excluded.queue), else_=row.queue),
        "category": case((row.category == "", excluded.category), else_=row.category),
        "due_by": case(
            (row.due_by.is_(None), excluded.due_by),
            (excluded.due_by.is_(None), row.due_by),
            else_=_earlier(row.due_by, excluded.due_by),
        ),
        "promised_by": case((row.promised_by == "", excluded.promised_by), else_=row.promised_by),
        "note": case((row.note == "", excluded.note), else_=row.note),
        "agent": case((row.agent == "", excluded.agent), else_=row.agent),
    }


class CallbackRepository:
    """Stores callback requests; every method raises DatabaseError on failure."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def request(self, new: NewCallback) -> CallbackRequest:
        """Create the number's open request or fold this one into it; the stored row."""
        requested_at = new.requested_at or datetime.now(UTC)
        values = {
            "number": new.number,
            "linkedid": new.linkedid,
            "queue": new.queue,
            "category": new.category,
            "requested_at": requested_at,
            "status": CallbackStatus.PENDING,
            "priority": new.priority,
            "position": new.position,
            "queued_at": new.queued_at,
            "merge_count": 0,
            "due_at": new.due_at,
            "source": new.source,
            "promised_by": new.promised_by,
            "note": new.note,
            "due_by": new.due_by,
            "agent": new.agent,
        }
        async with transaction(self._sessions, "callback request") as session:
            insert = dialect_insert(session)(CallbackRequestRow).values(values)
            upsert = insert.on_conflict_do_update(
                index_elements=["number"],
                index_where=CallbackRequestRow.status.in_(OPEN_CALLBACK_STATUSES),
                set_=_merged(insert.excluded),
            ).returning(CallbackRequestRow.id)
            row_id = (await session.execute(upsert)).scalar_one()
            row = await session.get(CallbackRequestRow, row_id, populate_existing=True)
            assert row is not None  # just written in this transaction
            stored = _request(row)
        logger.info(
            "[%s] callback request %s for %s (merged %s)",
            new.linkedid,
            stored.id,
            stored.number,
            stored.merge_count,
        )
        return stored

    async def list_open(self, limit: int = 500) -> list[CallbackRequest]:
        """Pending and dialling requests in dialling order: priority, position, age."""
        return await self.by_status(OPEN_CALLBACK_STATUSES, limit)

    async def by_status(
        self, statuses: Iterable[CallbackStatus], limit: int = 500
    ) -> list[CallbackRequest]:
        """Requests in these statuses, in dialling order."""
        row = CallbackRequestRow
        query = (
            select(row)
            .where(row.status.in_(list(statuses)))
            .order_by(
                row.priority.desc(),
                row.position.asc().nulls_last(),
                row.requested_at,
                row.id,
            )
            .limit(limit)
        )
        async with transaction(self._sessions, "callback list") as session:
            return [_request(r) for r in (await session.scalars(query)).all()]

    async def get(self, request_id: int) -> CallbackRequest | None:
        async with transaction(self._sessions, "callback get") as session:
            row = await session.get(CallbackRequestRow, request_id)
            return None if row is None else _request(row)

    async def mark(
        self,
        request_id: int,
        status: CallbackStatus,
        *,
        expect: Iterable[CallbackStatus] | None = None,
    ) -> bool:
        """Set the status; with ``expect``, only from one of those (a compare-and-set).

        False when no such request exists or its status was not an expected one.
        """
        query = update(CallbackRequestRow).where(CallbackRequestRow.id == request_id)
        if expect is not None:
            query = query.where(CallbackRequestRow.status.in_(list(expect)))
        async with transaction(self._sessions, "callback mark") as session:
            result = await session.execute(query.values(status=status))
            changed = bool(getattr(result, "rowcount", 0))
        logger.debug("callback request %s -> %s: %s", request_id, status, changed)
        return changed
