"""Call records in and out of the database, as plain ``CallRecord`` data.

The repository owns its sessions: each method opens one, commits or rolls back in
``_session`` and converts every lower-layer error to ``DatabaseError`` there. Writes are
idempotent (upsert by linkedid, timeline rows keyed on ``(linkedid, seq)``), so the record
writer can simply retry a failed ``save`` with the same arguments.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import TextualSelect

from hotline.call_search import CallFilter
from hotline.callrecord import CallRecord, TimelineEntry
from hotline.db.engine import DATABASE_ERRORS, database_failure
from hotline.db.models import CallEventRow, CallRecordRow
from hotline.db.models_hold import HoldSegmentRow
from hotline.db.models_recordings import CallRecordingRow
from hotline.db.precompiled import upsert_text
from hotline.errors import DatabaseError
from hotline.recordings.files import RecordingStatus

__all__ = ["CallRecordRepository"]

logger = logging.getLogger(__name__)

_RECORD_FIELDS = tuple(f.name for f in fields(CallRecord))
_ENTRY_FIELDS = tuple(f.name for f in fields(TimelineEntry))
# Written by agents through ``set_notes`` only: the record builder's snapshots never carry
# them, so a save during or after the call must not overwrite what an agent wrote.
_NOTE_FIELDS = frozenset({"reason", "description"})
_PENDING_FIELDS = ("linkedid", "file", "recorded_at", "status")


def _record_values(record: CallRecord) -> dict[str, Any]:
    """The upsert's parameters; the notes are empty for a new row and kept for an old one."""
    values = {name: getattr(record, name) for name in _RECORD_FIELDS if name not in _NOTE_FIELDS}
    return values | dict.fromkeys(_NOTE_FIELDS, "")


def _ended_recorded(record: CallRecord) -> bool:
    return bool(record.recording_file) and record.ended_at is not None


def _pending_recording(record: CallRecord) -> dict[str, Any]:
    """The ``call_recordings`` row an ended recorded call gets: pending the sweeper's look."""
    return {
        "linkedid": record.linkedid,
        "file": record.recording_file,
        "recorded_at": record.started_at,
        "status": RecordingStatus.PENDING,
    }


def _to_record(row: CallRecordRow) -> CallRecord:
    return CallRecord(**{name: getattr(row, name) for name in _RECORD_FIELDS})


def _to_entry(row: CallEventRow) -> TimelineEntry:
    return TimelineEntry(**{name: getattr(row, name) for name in _ENTRY_FIELDS})


def _check(record: CallRecord, entries: Sequence[TimelineEntry]) -> None:
    times = [record.started_at, record.answered_at, record.ended_at]
    times += [entry.at for entry in entries]
    for value in times:
        if value is not None and value.utcoffset() is None:
            raise ValueError(f"linkedid={record.linkedid}: naive datetime {value!r}")
    for entry in entries:
        if entry.linkedid != record.linkedid:
            raise ValueError(
                f"timeline entry {entry.seq} belongs to {entry.linkedid}, not {record.linkedid}"
            )


_Statement = TextClause | TextualSelect
_Prepared = tuple[_Statement, _Statement, _Statement, _Statement]
_SEGMENT_FIELDS = (
    "number",
    "started_at",
    "ended_at",
    "seconds",
    "agent",
    "started_by",
    "trigger",
    "outcome",
)


def _segment_rows(entries: Sequence[TimelineEntry]) -> list[dict[str, Any]]:
    """``hold_segments`` rows from the ``hold_segment`` timeline entries
    (``hotline.record_hold``), which carry every column."""
    rows = []
    for entry in entries:
        if entry.kind != "hold_segment":
            continue
        detail = entry.detail
        row = {name: detail.get(name) for name in _SEGMENT_FIELDS}
        row["started_at"] = datetime.fromisoformat(str(row["started_at"]))
        row["ended_at"] = datetime.fromisoformat(str(row["ended_at"]))
        rows.append({"linkedid": entry.linkedid, **row})
    return rows


class CallRecordRepository:
    """Stores and reads call records and their timelines."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._prepared: _Prepared | None = None

    def _statements(self, session: AsyncSession) -> _Prepared:
        """The record upsert and the timeline and hold-segment inserts, compiled once
        (``precompiled``: a save is on every call's path, and SQLAlchemy would compile
        these every time).

        The upsert's update copies every column from the row offered (``excluded``),
        except the agent's notes, which only a new row takes (empty).
        """
        if self._prepared is None:
            name = session.get_bind().dialect.name
            if name not in ("postgresql", "sqlite"):
                raise DatabaseError(f"unsupported database dialect {name!r}")
            columns = [n for n in _RECORD_FIELDS if n not in _NOTE_FIELDS]
            upsert = upsert_text(
                CallRecordRow.__table__,  # type: ignore[arg-type]
                [*columns, *sorted(_NOTE_FIELDS)],
                ["linkedid"],
                name,
                update=[n for n in columns if n != "linkedid"],
            )
            records = CallRecordRow.__table__
            call_id = {  # the parent row by the entry's own linkedid: one executemany for all
                "call_id": select(records.c.id)
                .where(records.c.linkedid == bindparam("linkedid"))
                .scalar_subquery()
            }
            add_events = upsert_text(
                CallEventRow.__table__,  # type: ignore[arg-type]
                list(_ENTRY_FIELDS),
                ["linkedid", "seq"],
                name,
                computed=call_id,
            )
            add_segments = upsert_text(
                HoldSegmentRow.__table__,  # type: ignore[arg-type]
                ["linkedid", *_SEGMENT_FIELDS],
                ["linkedid", "number"],
                name,
                computed=call_id,
            )
            add_recordings = upsert_text(  # DO NOTHING: the sweeper's result is kept
                CallRecordingRow.__table__,  # type: ignore[arg-type]
                list(_PENDING_FIELDS),
                ["linkedid"],
                name,
            )
            self._prepared = (upsert, add_events, add_segments, add_recordings)
        return self._prepared

    @asynccontextmanager
    async def _session(self, what: str) -> AsyncIterator[AsyncSession]:
        """One session and transaction: commit on success, roll back and convert on error."""
        try:
            async with self._sessions() as session, session.begin():
                yield session
        except DATABASE_ERRORS as exc:
            raise database_failure(what, exc) from exc

    async def save(self, record: CallRecord, entries: Sequence[TimelineEntry] = ()) -> None:
        """Insert or update the record and add timeline entries not stored yet.

        Safe to repeat: the record is upserted by linkedid and an entry whose
        ``(linkedid, seq)`` exists is skipped, so a retry after a failure adds nothing twice.
        Invalid input raises ``ValueError`` before any I/O, so it is never retried as if it
        were a database failure.
        """
        await self.save_many([(record, entries)])
        logger.debug(
            "linkedid=%s saved (%s, %s timeline entries offered)",
            record.linkedid,
            record.disposition,
            len(entries),
        )

    async def save_many(
        self, updates: Sequence[tuple[CallRecord, Sequence[TimelineEntry]]]
    ) -> None:
        """``save`` for a batch of updates in one transaction (one commit, not one per AMI
        event): a call's record is written once, as its last snapshot in the batch, with
        all its entries. All or nothing, and as safe to repeat as ``save``."""
        latest: dict[str, CallRecord] = {}
        entries: dict[str, list[TimelineEntry]] = {}
        for record, added in updates:
            _check(record, added)
            latest[record.linkedid] = record
            entries.setdefault(record.linkedid, []).extend(added)
        if not latest:
            return
        added = [entry for batch in entries.values() for entry in batch]
        async with self._session("save") as session:
            upsert, add_events, add_segments, add_recordings = self._statements(session)
            connection = await session.connection()
            # at most four executemany statements whatever the number of calls in the batch
            await connection.execute(upsert, [_record_values(r) for r in latest.values()])
            if added:
                rows = [{n: getattr(e, n) for n in _ENTRY_FIELDS} for e in added]
                await connection.execute(add_events, rows)
                segments = _segment_rows(added)
                if segments:
                    await connection.execute(add_segments, segments)
            recorded = [_pending_recording(r) for r in latest.values() if _ended_recorded(r)]
            if recorded:  # in the same transaction: an ended recorded call is never missed
                await connection.execute(add_recordings, recorded)
        logger.debug("%d updates of %d calls saved in one transaction", len(updates), len(latest))

    async def set_notes(
        self, linkedid: str, *, reason: str | None = None, description: str | None = None
    ) -> CallRecord | None:
        """Set the agent's reason and/or description; the updated record, None if unknown.

        Only the given fields change; the builder's later saves leave them alone.
        """
        values: dict[str, Any] = {
            name: value
            for name, value in (("reason", reason), ("description", description))
            if value is not None
        }
        query = select(CallRecordRow).where(CallRecordRow.linkedid == linkedid)
        async with self._session("set_notes") as session:
            if values:
                values["updated_at"] = func.now()
                change = update(CallRecordRow).where(CallRecordRow.linkedid == linkedid)
                await session.execute(change.values(values))
            row = (await session.scalars(query)).one_or_none()
            record = None if row is None else _to_record(row)
        logger.info("linkedid=%s notes set: %s", linkedid, sorted(values.keys() - {"updated_at"}))
        return record

    async def get(self, linkedid: str) -> CallRecord | None:
        """The record of one call, or None if it was never saved."""
        query = select(CallRecordRow).where(CallRecordRow.linkedid == linkedid)
        return await self._one_or_none("get", query)

    async def get_many(self, linkedids: Sequence[str]) -> dict[str, CallRecord]:
        """The stored records among these linkedids (a batch of the call log's calls)."""
        if not linkedids:
            return {}
        query = select(CallRecordRow).where(CallRecordRow.linkedid.in_(list(linkedids)))
        return {record.linkedid: record for record in await self._all("get_many", query)}

    async def timeline(self, linkedid: str) -> list[TimelineEntry]:
        """The call's timeline entries in ``seq`` order."""
        query = (
            select(CallEventRow).where(CallEventRow.linkedid == linkedid).order_by(CallEventRow.seq)
        )
        async with self._session("timeline") as session:
            rows = (await session.scalars(query)).all()
            return [_to_entry(row) for row in rows]

    async def hold_segments(self, linkedid: str) -> list[dict[str, Any]]:
        """The call's holds in order, as plain data (times in ISO 8601)."""
        query = (
            select(HoldSegmentRow)
            .where(HoldSegmentRow.linkedid == linkedid)
            .order_by(HoldSegmentRow.number)
        )
        async with self._session("hold_segments") as session:
            rows = (await session.scalars(query)).all()
            return [
                {name: getattr(row, name) for name in _SEGMENT_FIELDS}
                | {"started_at": row.started_at.isoformat(), "ended_at": row.ended_at.isoformat()}
                for row in rows
            ]

    async def find_by_sip_call_id(self, call_id: str) -> CallRecord | None:
        """The newest call carrying this SIP Call-ID (a Call-ID may recur across calls)."""
        if not call_id:
            return None
        query = (
            select(CallRecordRow)
            .where(CallRecordRow.sip_call_id == call_id)
            .order_by(CallRecordRow.started_at.desc(), CallRecordRow.id.desc())
            .limit(1)
        )
        return await self._one_or_none("find_by_sip_call_id", query)

    async def in_progress(self) -> list[CallRecord]:
        """Calls without an end time, oldest first (e.g. to reconcile after an AMI gap)."""
        query = (
            select(CallRecordRow)
            .where(CallRecordRow.ended_at.is_(None))
            .order_by(CallRecordRow.started_at, CallRecordRow.id)
        )
        return await self._all("in_progress", query)

    async def recent(self, limit: int = 50) -> list[CallRecord]:
        """The latest calls by start time, newest first."""
        query = (
            select(CallRecordRow)
            .order_by(CallRecordRow.started_at.desc(), CallRecordRow.id.desc())
            .limit(limit)
        )
        return await self._all("recent", query)

    async def search(
        self, where: CallFilter, limit: int, after: tuple[datetime, int] | None = None
    ) -> list[tuple[int, CallRecord]]:
        """A page of calls matching ``where``, newest first, after the cursor's call."""
        row = CallRecordRow
        query = select(row).order_by(row.started_at.desc(), row.id.desc()).limit(limit)
        if where.since is not None:
            query = query.where(row.started_at >= where.since)
        if where.until is not None:
            query = query.where(row.started_at < where.until)
        if where.direction is not None:
            query = query.where(row.direction == where.direction)
        if where.disposition is not None:
            query = query.where(row.disposition == where.disposition)
        if where.queue:
            query = query.where(row.queue == where.queue)
        if where.agent:
            query = query.where(row.agent == where.agent)
        if where.number:
            query = query.where(or_(row.caller == where.number, row.called == where.number))
        if after is not None:
            started, row_id = after
            query = query.where(
                row.started_at <= started,  # lets the index seek to the cursor: any depth, one cost
                or_(row.started_at < started, and_(row.started_at == started, row.id < row_id)),
            )
        async with self._session("search") as session:
            return [(r.id, _to_record(r)) for r in (await session.scalars(query)).all()]

    async def _one_or_none(
        self, what: str, query: Select[tuple[CallRecordRow]]
    ) -> CallRecord | None:
        async with self._session(what) as session:
            row = (await session.scalars(query)).one_or_none()
            return None if row is None else _to_record(row)

    async def _all(self, what: str, query: Select[tuple[CallRecordRow]]) -> list[CallRecord]:
        async with self._session(what) as session:
            return [_to_record(row) for row in (await session.scalars(query)).all()]
