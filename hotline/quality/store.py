"""The reviews in the database: the day's sample, the scores, the reports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hotline.callrecord import Direction
from hotline.db.models import CallRecordRow
from hotline.db.models_quality import QaReviewRow
from hotline.db.transaction import Sessions, dialect_insert, transaction
from hotline.quality.sampling import Candidate, Pick, SampleReason

__all__ = ["QaStore", "Review", "review_json"]

OPEN, REVIEWED = "open", "reviewed"


@dataclass(frozen=True)
class Review:
    linkedid: str
    scores: dict[str, int]
    comment: str
    total: float
    reviewer: str
    form: list[dict[str, Any]]
    at: datetime


def day_span(day: date, zone: str) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), ZoneInfo(zone))
    return start, start + timedelta(days=1)


class QaStore:
    def __init__(self, sessions: Sessions, zone: str) -> None:
        self._sessions = sessions
        self.zone = zone

    async def candidates(self, day: date) -> tuple[list[Candidate], dict[str, int]]:
        """The day's agent calls not sampled yet, and each agent's random picks so far."""
        start, end = day_span(day, self.zone)
        sampled = select(QaReviewRow.linkedid).where(QaReviewRow.linkedid == CallRecordRow.linkedid)
        calls = (
            select(
                CallRecordRow.linkedid,
                CallRecordRow.agent,
                CallRecordRow.score,
                CallRecordRow.category,
            )
            .where(
                CallRecordRow.direction == Direction.INBOUND,
                CallRecordRow.started_at >= start,
                CallRecordRow.started_at < end,
                CallRecordRow.agent != "",
                CallRecordRow.talk_seconds.is_not(None),
                ~sampled.exists(),
            )
            .order_by(CallRecordRow.started_at)
        )
        drawn = (
            select(QaReviewRow.agent, func.count())
            .where(QaReviewRow.day == day.isoformat(), QaReviewRow.reason == SampleReason.RANDOM)
            .group_by(QaReviewRow.agent)
        )
        async with transaction(self._sessions, "qa candidates") as session:
            rows = (await session.execute(calls)).all()
            counts = {agent: int(n) for agent, n in (await session.execute(drawn)).all()}
        found = [Candidate(r.linkedid, r.agent, r.score, r.category) for r in rows]
        return found, counts

    async def add(self, day: date, picks: Sequence[Pick]) -> int:
        """The picks as open reviews (a call already there is left as it is)."""
        if not picks:
            return 0
        ids = [p.linkedid for p in picks]
        async with transaction(self._sessions, "qa sample") as session:
            starts = select(CallRecordRow.linkedid, CallRecordRow.started_at).where(
                CallRecordRow.linkedid.in_(ids)
            )
            started: dict[str, datetime] = {
                linkedid: at for linkedid, at in (await session.execute(starts)).all()
            }
            rows = [
                _open_values(item, day, started[item.linkedid])
                for item in picks
                if item.linkedid in started
            ]
            if not rows:
                return 0
            # a call already in the review (a second supervisor drawing the same day) stays
            insert = dialect_insert(session)(QaReviewRow).on_conflict_do_nothing(
                index_elements=["linkedid"]
            )
            result = await session.execute(insert.returning(QaReviewRow.linkedid), rows)
            return len(result.all())

    async def reviews(
        self, day: date | None = None, agent: str = "", status: str = "", limit: int = 200
    ) -> list[dict[str, Any]]:
        query = select(QaReviewRow).order_by(QaReviewRow.call_started_at.desc()).limit(limit)
        if day is not None:
            query = query.where(QaReviewRow.day == day.isoformat())
        if agent:
            query = query.where(QaReviewRow.agent == agent)
        if status:
            query = query.where(QaReviewRow.status == status)
        async with transaction(self._sessions, "qa reviews") as session:
            return [review_json(row, self.zone) for row in (await session.scalars(query)).all()]

    async def get(self, linkedid: str) -> dict[str, Any] | None:
        async with transaction(self._sessions, "qa review") as session:
            row = await session.get(QaReviewRow, linkedid)
            return None if row is None else review_json(row, self.zone)

    async def save(self, review: Review) -> dict[str, Any] | None:
        """Score a call (sampled or not: a call a supervisor chose is added); None when no
        agent took the call."""
        async with transaction(self._sessions, "qa review save") as session:
            row = await session.get(QaReviewRow, review.linkedid)
            if row is None:
                call = (
                    await session.scalars(
                        select(CallRecordRow).where(CallRecordRow.linkedid == review.linkedid)
                    )
                ).one_or_none()
                if call is None or not call.agent:
                    return None
                local_day = call.started_at.astimezone(ZoneInfo(self.zone)).date()
                pick = Pick(call.linkedid, call.agent, SampleReason.CHOSEN)
                insert = dialect_insert(session)(QaReviewRow).on_conflict_do_nothing(
                    index_elements=["linkedid"]
                )  # a sample drawn meanwhile keeps its reason
                await session.execute(insert, [_open_values(pick, local_day, call.started_at)])
                row = await session.get(QaReviewRow, review.linkedid, populate_existing=True)
                assert row is not None
            row.status = REVIEWED
            row.scores = dict(review.scores)
            row.form = {"items": review.form}
            row.total = review.total
            row.comment = review.comment
            row.reviewer = review.reviewer[:128]
            row.reviewed_at = review.at
            await session.flush()
            return review_json(row, self.zone)

    async def reviewed(self, since: datetime, until: datetime) -> list[QaReviewRow]:
        query = (
            select(QaReviewRow)
            .where(
                QaReviewRow.status == REVIEWED,
                QaReviewRow.call_started_at >= since,
                QaReviewRow.call_started_at < until,
            )
            .order_by(QaReviewRow.day, QaReviewRow.agent)
        )
        async with transaction(self._sessions, "qa report") as session:
            return list((await session.scalars(query)).all())

    async def agent_report(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Per agent and day: calls reviewed, their average, lowest and highest total."""
        groups: dict[tuple[str, str], list[float]] = defaultdict(list)
        for row in await self.reviewed(since, until):
            groups[(row.agent, row.day)].append(row.total or 0.0)
        return [
            {
                "agent": agent,
                "day": day,
                "reviewed": len(totals),
                "average": round(sum(totals) / len(totals), 1),
                "lowest": min(totals),
                "highest": max(totals),
            }
            for (agent, day), totals in sorted(groups.items())
        ]

    async def item_report(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Per form item and day: how many reviews scored it and its average (0-10)."""
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        titles: dict[str, str] = {}
        for row in await self.reviewed(since, until):
            for item in row.form.get("items", []):
                titles.setdefault(str(item.get("key")), str(item.get("title", "")))
            for key, score in row.scores.items():
                groups[(key, row.day)].append(int(score))
        return [
            {
                "item": key,
                "title": titles.get(key, ""),
                "day": day,
                "reviews": len(scores),
                "average": round(sum(scores) / len(scores), 2),
            }
            for (key, day), scores in sorted(groups.items())
        ]


def _open_values(item: Pick, day: date, started_at: datetime) -> dict[str, Any]:
    return {
        "linkedid": item.linkedid,
        "agent": item.agent,
        "day": day.isoformat(),
        "call_started_at": started_at,
        "reason": item.reason.value,
        "status": OPEN,
        "scores": {},
        "form": {},
        "comment": "",
        "reviewer": "",
    }


def review_json(row: QaReviewRow, zone: str) -> dict[str, Any]:
    """A review as the API shows it; ``call_started_local``: the call's start in ``zone``
    (the sample's), what the console lists."""
    return {
        "linkedid": row.linkedid,
        "agent": row.agent,
        "day": row.day,
        "call_started_at": row.call_started_at.isoformat(),
        "call_started_local": row.call_started_at.astimezone(ZoneInfo(zone)).isoformat(),
        "reason": row.reason,
        "status": row.status,
        "scores": row.scores,
        "total": row.total,
        "comment": row.comment,
        "reviewer": row.reviewer,
        "reviewed_at": None if row.reviewed_at is None else row.reviewed_at.isoformat(),
        "form": row.form.get("items", []),
    }
