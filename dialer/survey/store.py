"""The survey's storage: work orders and samples in, responses and item scores out.

``add_sample`` writes, in one transaction, the orders, the sample with its seed and rules,
a campaign contact for each pick (carrying the order in its data, for the flow) and the
pick rows; a failed import leaves nothing behind. The flow's side (``begin``, ``score``,
``finish``) is keyed on the attempt code, so a repeated write changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from dialer.states import ContactState
from dialer.store import Store, dialect_insert, refresh_zones
from dialer.survey.sampling import Pick, WorkOrder
from hotline.db.models_dialer import AttemptRow, CampaignRow, ContactRow
from hotline.db.models_survey import (
    SurveyOrderRow,
    SurveyPickRow,
    SurveyResponseRow,
    SurveySampleRow,
    SurveyScoreRow,
)
from ivr.flows.survey import SurveyFacts

__all__ = ["SampleStored", "SurveyContext", "SurveyStore"]


@dataclass(frozen=True)
class SampleStored:
    sample_id: int
    orders_new: int  # orders not imported before
    contacts_added: int
    already_in_campaign: int  # picks whose number the campaign had already


@dataclass(frozen=True)
class SurveyContext:
    """Who an answered survey call is about (from its attempt and contact)."""

    code: str
    campaign_id: int
    contact_id: int
    number: str
    order_id: str
    technician: str
    category: str


class SurveyStore(Store):
    async def add_sample(
        self,
        campaign_id: int,
        orders: Sequence[WorkOrder],
        picks: Sequence[Pick],
        seed: str,
        rules: dict[str, Any],
        now: datetime,
    ) -> SampleStored:
        async with self._session("add_sample") as session:
            insert = dialect_insert(session)
            orders_new = 0
            for start in range(0, len(orders), 500):
                chunk = orders[start : start + 500]
                statement = (
                    insert(SurveyOrderRow)
                    .values(
                        [
                            {
                                "order_id": o.order_id,
                                "number": o.customer,
                                "category": o.category,
                                "technician": o.technician,
                                "completed_at": o.completed_at,
                            }
                            for o in chunk
                        ]
                    )
                    .on_conflict_do_nothing(index_elements=["order_id"])
                    .returning(SurveyOrderRow.order_id)
                )
                orders_new += len((await session.execute(statement)).all())
            sample = SurveySampleRow(
                campaign_id=campaign_id,
                seed=seed,
                rules=rules,
                orders=len(orders),
                picked=len(picks),
            )
            session.add(sample)
            await session.flush()
            zone = await session.scalar(
                select(CampaignRow.timezone).where(CampaignRow.id == campaign_id)
            )
            added = 0
            for pick in picks:
                order = pick.order
                contact_id = await session.scalar(
                    insert(ContactRow)
                    .values(
                        campaign_id=campaign_id,
                        number=order.customer,
                        name="",
                        timezone=zone,
                        data={
                            "order_id": order.order_id,
                            "category": order.category,
                            "technician": order.technician,
                            "sample": str(sample.id),
                        },
                        state=ContactState.PENDING,
                        attempts=0,
                        next_at=now,
                        source_line=None,
                    )
                    .on_conflict_do_nothing(index_elements=["campaign_id", "number"])
                    .returning(ContactRow.id)
                )
                added += contact_id is not None
                session.add(
                    SurveyPickRow(
                        sample_id=sample.id,
                        order_id=order.order_id,
                        score=pick.score,
                        reason=pick.reason,
                        contact_id=contact_id,
                    )
                )
            if added:  # the scheduler opens the campaign in its contacts' zones
                await refresh_zones(session, campaign_id)
            return SampleStored(sample.id, orders_new, added, len(picks) - added)

    async def sample(self, sample_id: int) -> dict[str, Any] | None:
        """A stored sample with every pick, for the audit."""
        async with self._session("sample") as session:
            row = await session.get(SurveySampleRow, sample_id)
            if row is None:
                return None
            picks = (
                await session.execute(
                    select(SurveyPickRow, SurveyOrderRow)
                    .join(SurveyOrderRow, SurveyOrderRow.order_id == SurveyPickRow.order_id)
                    .where(SurveyPickRow.sample_id == sample_id)
                    .order_by(SurveyPickRow.score, SurveyPickRow.order_id)
                )
            ).all()
            return {
                "id": row.id,
                "campaign_id": row.campaign_id,
                "seed": row.seed,
                "rules": row.rules,
                "orders": row.orders,
                "picked": row.picked,
                "created_at": row.created_at.isoformat(),
                "picks": [
                    {
                        "order_id": pick.order_id,
                        "number": order.number,
                        "category": order.category,
                        "technician": order.technician,
                        "score": pick.score,
                        "reason": pick.reason,
                        "contact_id": pick.contact_id,
                    }
                    for pick, order in picks
                ],
            }

    # the flow's side

    async def begin(self, code: str, now: datetime) -> SurveyContext | None:
        """The call's order and technician; opens its response row (``in_progress``)."""
        async with self._session("survey begin") as session:
            found = (
                await session.execute(
                    select(
                        AttemptRow.campaign_id, ContactRow.id, ContactRow.number, ContactRow.data
                    )
                    .join(ContactRow, ContactRow.id == AttemptRow.contact_id)
                    .where(AttemptRow.code == code)
                )
            ).first()
            if found is None:
                return None
            data = found.data or {}
            context = SurveyContext(
                code,
                found.campaign_id,
                found.id,
                found.number,
                str(data.get("order_id", "")),
                str(data.get("technician", "")),
                str(data.get("category", "")),
            )
            await session.execute(
                dialect_insert(session)(SurveyResponseRow)
                .values(
                    attempt_code=code,
                    campaign_id=context.campaign_id,
                    contact_id=context.contact_id,
                    order_id=context.order_id,
                    number=context.number,
                    technician=context.technician,
                    category=context.category,
                    outcome="in_progress",
                    comment_file="",
                    started_at=now,
                )
                .on_conflict_do_nothing(index_elements=["attempt_code"])
            )
            return context

    async def score(self, context: SurveyFacts, item: str, score: int, now: datetime) -> None:
        async with self._session("survey score") as session:
            await session.execute(
                dialect_insert(session)(SurveyScoreRow)
                .values(
                    attempt_code=context.code,
                    item=item,
                    score=score,
                    order_id=context.order_id,
                    technician=context.technician,
                    category=context.category,
                    scored_at=now,
                )
                .on_conflict_do_nothing(index_elements=["attempt_code", "item"])
            )

    async def finish(self, code: str, outcome: str, comment_file: str, now: datetime) -> None:
        async with self._session("survey finish") as session:
            await session.execute(
                update(SurveyResponseRow)
                .where(SurveyResponseRow.attempt_code == code)
                .values(outcome=outcome, comment_file=comment_file[:255], ended_at=now)
            )

    async def responses(self, campaign_id: int) -> list[dict[str, Any]]:
        """Every response of a campaign with its item scores, oldest first."""
        async with self._session("survey responses") as session:
            rows = (
                await session.scalars(
                    select(SurveyResponseRow)
                    .where(SurveyResponseRow.campaign_id == campaign_id)
                    .order_by(SurveyResponseRow.id)
                )
            ).all()
            codes = [r.attempt_code for r in rows]
            scores = (
                await session.scalars(
                    select(SurveyScoreRow).where(SurveyScoreRow.attempt_code.in_(codes))
                )
            ).all()
            by_code: dict[str, dict[str, int]] = {}
            for s in scores:
                by_code.setdefault(s.attempt_code, {})[s.item] = s.score
            return [
                {
                    "attempt_code": r.attempt_code,
                    "order_id": r.order_id,
                    "number": r.number,
                    "technician": r.technician,
                    "category": r.category,
                    "outcome": r.outcome,
                    "comment_file": r.comment_file,
                    "started_at": r.started_at.isoformat(),
                    "ended_at": None if r.ended_at is None else r.ended_at.isoformat(),
                    "scores": by_code.get(r.attempt_code, {}),
                }
                for r in rows
            ]

    async def score_report(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Average score per technician, category and item over ``[since, until)``."""
        row = SurveyScoreRow
        query = (
            select(row.technician, row.category, row.item, func.count(), func.avg(row.score))
            .where(row.scored_at >= since, row.scored_at < until)
            .group_by(row.technician, row.category, row.item)
        )
        async with self._session("survey report") as session:
            rows = (await session.execute(query)).all()
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for technician, category, item, count, average in rows:
            group = groups.setdefault(
                (technician, category),
                {"technician": technician, "category": category, "answers": 0, "items": {}},
            )
            group["answers"] = max(group["answers"], int(count))
            group["items"][item] = {"answers": int(count), "average": round(float(average), 2)}
        return sorted(groups.values(), key=lambda g: (-g["answers"], g["technician"]))
