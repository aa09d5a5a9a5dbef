"""Reports from the call records: service level, answer speed, abandonment, scores.

* ``service_level``: per queue (and all queues), inbound calls offered to a queue, how
  many an agent answered, how many within ``inbound.service_level_seconds`` of waiting
  (the service level), abandoned in the queue, and the answer-speed distribution (waits
  of answered calls in buckets of seconds).
* ``abandonment``: inbound calls by how they ended: abandoned before the answer, in the
  IVR, in a queue, no input, answered.
* ``scores``: per agent, scored calls, the average and the count of each score 1-10;
  ``scores_by_category`` the same per menu category.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.callrecord import Direction, Disposition
from hotline.db.engine import DATABASE_ERRORS
from hotline.db.models import CallRecordRow
from hotline.errors import DatabaseError

__all__ = ["SPEED_BUCKETS", "CallReports"]

SPEED_BUCKETS = ((0, 10), (10, 20), (20, 30), (30, 60), (60, 120), (120, None))


def _bucket(wait: float) -> str:
    for low, high in SPEED_BUCKETS:
        if high is None or wait < high:
            return f"{low}-{high}s" if high is not None else f"{low}s+"
    raise AssertionError("unreachable")


class CallReports:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], threshold: float) -> None:
        self._sessions = sessions
        self.threshold = threshold

    async def _inbound(self, since: datetime, until: datetime, *columns: Any) -> list[Any]:
        row = CallRecordRow
        query = select(*columns).where(
            row.direction == Direction.INBOUND,
            row.started_at >= since,
            row.started_at < until,
            row.disposition != Disposition.IN_PROGRESS,
        )
        try:
            async with self._sessions() as session:
                return list((await session.execute(query)).all())
        except DATABASE_ERRORS as exc:
            raise DatabaseError(f"database report failed: {exc}") from exc

    async def service_level(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        row = CallRecordRow
        found = await self._inbound(
            since, until, row.queue, row.agent, row.wait_seconds, row.disposition
        )
        groups: dict[str, dict[str, Any]] = {}
        for queue, agent, wait, disposition in found:
            if not queue:
                continue
            for name in (queue, "(all)"):
                group = groups.setdefault(
                    name,
                    {
                        "queue": name,
                        "offered": 0,
                        "answered": 0,
                        "answered_in_time": 0,
                        "abandoned_queue": 0,
                        "callback_requested": 0,
                        "speed": Counter[str](),
                    },
                )
                group["offered"] += 1
                if agent:
                    group["answered"] += 1
                    group["answered_in_time"] += (wait or 0.0) <= self.threshold
                    group["speed"][_bucket(wait or 0.0)] += 1
                group["abandoned_queue"] += disposition is Disposition.ABANDONED_QUEUE
                group["callback_requested"] += disposition is Disposition.CALLBACK_REQUESTED
        rows = []
        for name in sorted(groups, key=lambda n: (n == "(all)", n)):
            group = groups[name]
            speed = group.pop("speed")
            group["service_level"] = round(group["answered_in_time"] / group["offered"], 3)
            group["threshold_seconds"] = self.threshold
            group["answer_speed"] = {
                _bucket(float(low)): speed[_bucket(float(low))] for low, _ in SPEED_BUCKETS
            }
            rows.append(group)
        return rows

    async def abandonment(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        found = await self._inbound(since, until, CallRecordRow.disposition)
        counts = Counter(d.value for (d,) in found)
        total = sum(counts.values())
        kinds = ("answered", "abandoned", "abandoned_ivr", "abandoned_queue", "no_input")
        row: dict[str, Any] = {"calls": total} | {k: counts.get(k, 0) for k in kinds}
        row["other"] = total - sum(row[k] for k in kinds)
        return [row]

    async def scores(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        return await self._scores_by("agent", since, until)

    async def scores_by_category(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """The same per menu category (what the caller called about; "" when none)."""
        return await self._scores_by("category", since, until)

    async def _scores_by(self, key: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
        column = getattr(CallRecordRow, key)
        found = await self._inbound(since, until, column, CallRecordRow.agent, CallRecordRow.score)
        groups: dict[str, list[int]] = {}
        for group, agent, score in found:
            if agent and score is not None:  # a score is of an agent's call
                groups.setdefault(group or "", []).append(int(score))
        return [
            {
                key: group,
                "scored": len(scores),
                "average": round(sum(scores) / len(scores), 2),
                "distribution": {str(n): scores.count(n) for n in range(1, 11)},
            }
            for group, scores in sorted(groups.items())
        ]
