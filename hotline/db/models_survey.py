"""Tables of the callback survey (issue 6, migration 0006).

* ``survey_orders``: completed work orders as imported (one row per order id);
* ``survey_samples`` and ``survey_picks``: each sample drawn, with its seed and rules, and
  every order it picked with the pick's score and reason, so an audit can re-run it;
* ``survey_responses``: one row per answered survey call (keyed on the attempt code, the
  call record's linkedid) with its outcome and the comment recording;
* ``survey_scores``: one row per item scored, with the order, technician and category
  copied in so reports need no joins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models import Base, JsonDict

__all__ = [
    "SurveyOrderRow",
    "SurveyPickRow",
    "SurveyResponseRow",
    "SurveySampleRow",
    "SurveyScoreRow",
]


class SurveyOrderRow(Base):
    __tablename__ = "survey_orders"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[str] = mapped_column(String(32), index=True)
    category: Mapped[str] = mapped_column(String(32))
    technician: Mapped[str] = mapped_column(String(64), index=True)
    completed_at: Mapped[datetime]
    imported_at: Mapped[datetime] = mapped_column(server_default=func.now())


class SurveySampleRow(Base):
    __tablename__ = "survey_samples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("dialer_campaigns.id", ondelete="CASCADE"), index=True
    )
    seed: Mapped[str] = mapped_column(String(64))
    rules: Mapped[dict[str, Any]] = mapped_column(JsonDict)
    orders: Mapped[int] = mapped_column(Integer)  # orders the sample was drawn from
    picked: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class SurveyPickRow(Base):
    __tablename__ = "survey_picks"
    __table_args__ = (UniqueConstraint("sample_id", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_id: Mapped[int] = mapped_column(
        ForeignKey("survey_samples.id", ondelete="CASCADE"), index=True
    )
    order_id: Mapped[str] = mapped_column(ForeignKey("survey_orders.order_id"))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(16))  # rate | minimum
    # the campaign contact it became; None when the number was in the campaign already
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("dialer_contacts.id", ondelete="SET NULL")
    )


class SurveyResponseRow(Base):
    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_code: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[int] = mapped_column(Integer, index=True)
    contact_id: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    number: Mapped[str] = mapped_column(String(32))
    technician: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    # in_progress | completed | wrong_party | refused | opted_out | no_input | hung_up
    outcome: Mapped[str] = mapped_column(String(16))
    comment_file: Mapped[str] = mapped_column(String(255), default="")
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]


class SurveyScoreRow(Base):
    __tablename__ = "survey_scores"
    __table_args__ = (UniqueConstraint("attempt_code", "item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_code: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(32))
    score: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    technician: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(32))
    scored_at: Mapped[datetime] = mapped_column(index=True)
