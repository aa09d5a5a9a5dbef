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
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.callrecord import Direction, Disposition
from hotline.db.engine import DATABASE_ERRORS, database_failure
from hotline.db.models import CallRecordRow

__all__ = ["SPEED_BUCKETS", "CallReports"]

SPEED_BUCKETS = ((0, 10), (10, 20), (20, 30), (30, 60), (60, 120), (120, None))


def _bucket(wait: float) -> str:
    for low, high in SPEED_BUCKETS:
        if high is None or wait < high:
            return f"{low}-{high}s" if high is not None else f"{low}s+"
    raise AssertionError("unreachable")


class CallReports:
    """The reports, counted by the database (``GROUP BY``): only the counts travel, so a
    month of a busy hotline costs the service a few rows, not one per call."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], threshold: float) -> None:
        self._sessions = sessions
        self.threshold = threshold

    async def _inbound(
        self, since: datetime, until: datetime, columns: Sequence[Any], groups: Sequence[Any]
    ) -> list[Any]:
        row = CallRecordRow
        query = (
            select(*columns)
            .where(
                row.direction == Direction.INBOUND,
                row.started_at >= since,
                row.started_at < until,
                row.disposition != Disposition.IN_PROGRESS,
            )
            .group_by(*groups)
        )
        try:
            async with self._sessions() as session:
                return list((await session.execute(query)).all())
        except DATABASE_ERRORS as exc:
            raise database_failure("report", exc) from exc

    async def service_level(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        row = CallRecordRow
        wait = func.coalesce(row.wait_seconds, 0.0)
        bucket = case(
            *[(wait < high, n) for n, (_, high) in enumerate(SPEED_BUCKETS) if high is not None],
            else_=len(SPEED_BUCKETS) - 1,
        )
        # counted per (queue, disposition, answered, in time, speed bucket): plain counts of
        # a few dozen groups are cheaper for the database than a sum per figure per call
        found = await self._inbound(
            since,
            until,
            [
                row.queue,
                row.disposition,
                row.agent != "",
                wait <= self.threshold,
                bucket,
                func.count(),
            ],
            [literal_column(str(n)) for n in range(1, 6)],  # by position: same on both databases
        )
        keys = ("offered", "answered", "answered_in_time", "abandoned_queue", "callback_requested")
        labels = [_bucket(float(low)) for low, _ in SPEED_BUCKETS]
        groups: dict[str, dict[str, Any]] = {}
        everything: dict[str, Any] = {key: 0 for key in keys} | {"speed": Counter[str]()}
        for queue, disposition, answered, in_time, speed, count in found:
            if not queue:
                continue
            group = groups.setdefault(queue, {key: 0 for key in keys} | {"speed": Counter[str]()})
            group["offered"] += count
            if answered:
                group["answered"] += count
                group["answered_in_time"] += count if in_time else 0
                group["speed"][labels[speed]] += count
            group["abandoned_queue"] += count if disposition == Disposition.ABANDONED_QUEUE else 0
            group["callback_requested"] += (
                count if disposition == Disposition.CALLBACK_REQUESTED else 0
            )
        for group in groups.values():
            for key in keys:
                everything[key] += group[key]
            everything["speed"] += group["speed"]
        if groups:
            groups["(all)"] = everything
        rows = []
        for name in sorted(groups, key=lambda n: (n == "(all)", n)):
            shown: dict[str, Any] = {"queue": name} | groups[name]
            speed = shown.pop("speed")
            shown["service_level"] = round(shown["answered_in_time"] / shown["offered"], 3)
            shown["threshold_seconds"] = self.threshold
            shown["answer_speed"] = {label: speed[label] for label in labels}
            rows.append(shown)
        return rows

    async def abandonment(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        disposition = CallRecordRow.disposition
        found = await self._inbound(since, until, [disposition, func.count()], [disposition])
        counts = {Disposition(d).value: int(n) for d, n in found}
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
        row = CallRecordRow
        column = getattr(row, key)
        scored = and_(row.agent != "", row.score.is_not(None))  # a score is of an agent's call
        found = await self._inbound(
            since,
            until,
            [column, row.score, func.sum(case((scored, 1), else_=0))],
            [column, row.score],
        )
        groups: dict[str, Counter[int]] = {}
        for group, score, count in found:
            if score is not None and count:
                groups.setdefault(group or "", Counter())[int(score)] += int(count)
        rows = []
        for group, counts in sorted(groups.items()):
            total = sum(counts.values())
            rows.append(
                {
                    key: group,
                    "scored": total,
                    "average": round(sum(s * n for s, n in counts.items()) / total, 2),
                    "distribution": {str(n): counts[n] for n in range(1, 11)},
                }
            )
        return rows
