"""The recordings' rows: those waiting for a look, their outcomes, expiry, the audit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from hotline.callrecord import Direction
from hotline.db.models import CallRecordRow
from hotline.db.models_recordings import CallRecordingRow, RecordingPlaybackRow
from hotline.db.transaction import Sessions, transaction
from hotline.recordings.files import Outcome, RecordingStatus

__all__ = ["Due", "Playback", "RecordingStore"]

_KEPT = (RecordingStatus.OK, RecordingStatus.PARTIAL)


@dataclass(frozen=True)
class Due:
    """A recorded call that has ended: its file is to be looked at."""

    linkedid: str
    file: str
    direction: Direction
    talk_seconds: float | None


@dataclass(frozen=True)
class Playback:
    linkedid: str
    who: str
    role: str
    byte_range: str = ""
    address: str = ""


class RecordingStore:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def due(self, ended_before: datetime, limit: int = 200) -> list[Due]:
        """Pending recordings of calls that ended before ``ended_before``, oldest first."""
        query = (
            select(
                CallRecordingRow.linkedid,
                CallRecordingRow.file,
                CallRecordRow.direction,
                CallRecordRow.talk_seconds,
            )
            .join(CallRecordRow, CallRecordRow.linkedid == CallRecordingRow.linkedid)
            .where(
                CallRecordingRow.status == RecordingStatus.PENDING,
                CallRecordRow.ended_at < ended_before,
            )
            .order_by(CallRecordingRow.recorded_at)
            .limit(limit)
        )
        async with transaction(self._sessions, "recordings due") as session:
            rows = (await session.execute(query)).all()
        return [Due(r.linkedid, r.file, r.direction, r.talk_seconds) for r in rows]

    async def settle(self, outcomes: Sequence[tuple[str, Outcome]]) -> None:
        """What the look found, for each pending recording (one transaction)."""
        if not outcomes:
            return
        async with transaction(self._sessions, "recordings settle") as session:
            for linkedid, outcome in outcomes:
                await session.execute(
                    update(CallRecordingRow)
                    .where(
                        CallRecordingRow.linkedid == linkedid,
                        CallRecordingRow.status == RecordingStatus.PENDING,
                    )
                    .values(
                        status=outcome.status,
                        bytes=outcome.bytes,
                        seconds=outcome.seconds,
                        reason=outcome.reason,
                        error=outcome.error[:255],
                        updated_at=func.now(),
                    )
                )

    async def expired(self, recorded_before: datetime, limit: int = 500) -> list[tuple[str, str]]:
        """(linkedid, file) of kept recordings older than the retention."""
        query = (
            select(CallRecordingRow.linkedid, CallRecordingRow.file)
            .where(
                CallRecordingRow.status.in_(_KEPT),
                CallRecordingRow.recorded_at < recorded_before,
            )
            .order_by(CallRecordingRow.recorded_at)
            .limit(limit)
        )
        async with transaction(self._sessions, "recordings expired") as session:
            return [(r.linkedid, r.file) for r in (await session.execute(query)).all()]

    async def mark_deleted(self, linkedids: Sequence[str], at: datetime) -> None:
        if not linkedids:
            return
        async with transaction(self._sessions, "recordings deleted") as session:
            await session.execute(
                update(CallRecordingRow)
                .where(CallRecordingRow.linkedid.in_(list(linkedids)))
                .values(status=RecordingStatus.DELETED, deleted_at=at, updated_at=func.now())
            )

    async def of_calls(self, linkedids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Each call's recording as the API shows it (calls without one are absent)."""
        if not linkedids:
            return {}
        query = select(CallRecordingRow).where(CallRecordingRow.linkedid.in_(list(linkedids)))
        async with transaction(self._sessions, "recordings of calls") as session:
            rows = (await session.scalars(query)).all()
        return {row.linkedid: recording_json(row) for row in rows}

    async def audit(self, playback: Playback) -> None:
        async with transaction(self._sessions, "recording playback audit") as session:
            session.add(
                RecordingPlaybackRow(
                    linkedid=playback.linkedid,
                    who=playback.who[:128],
                    role=playback.role[:16],
                    byte_range=playback.byte_range[:64],
                    address=playback.address[:64],
                )
            )

    async def playbacks(
        self, linkedid: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """The audit, newest first: who played which call's recording, and when."""
        query = select(RecordingPlaybackRow).order_by(
            RecordingPlaybackRow.at.desc(), RecordingPlaybackRow.id.desc()
        )
        if linkedid is not None:
            query = query.where(RecordingPlaybackRow.linkedid == linkedid)
        async with transaction(self._sessions, "recording playbacks") as session:
            rows = (await session.scalars(query.limit(limit))).all()
        return [
            {
                "linkedid": row.linkedid,
                "at": row.at.isoformat(),
                "who": row.who,
                "role": row.role,
                "range": row.byte_range,
                "address": row.address,
            }
            for row in rows
        ]


def recording_json(row: CallRecordingRow) -> dict[str, Any]:
    return {
        "file": row.file,
        "status": row.status.value,
        "bytes": row.bytes,
        "seconds": row.seconds,
        "error": row.error,
        "deleted_at": None if row.deleted_at is None else row.deleted_at.isoformat(),
    }
