"""Quality reviews (质检) of agents' calls (migration 0015).

One row per reviewed or to-be-reviewed call: why it was picked, and once a supervisor
scored it, the scores per item, the call's total, the reviewer and the form as it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models import Base, JsonDict, _Timestamps

__all__ = ["QaReviewRow"]


class QaReviewRow(_Timestamps, Base):
    __tablename__ = "qa_reviews"
    __table_args__ = (
        Index("ix_qa_reviews_agent_day", "agent", "day"),
        Index("ix_qa_reviews_status_day", "status", "day"),
    )

    linkedid: Mapped[str] = mapped_column(String(150), primary_key=True)
    agent: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD in quality.timezone
    call_started_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(16))  # complaint, low_score, random, chosen
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, reviewed
    scores: Mapped[dict[str, Any]] = mapped_column(JsonDict, default=dict)
    form: Mapped[dict[str, Any]] = mapped_column(JsonDict, default=dict)  # {"items": [...]}
    total: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(String(128), default="")
    reviewed_at: Mapped[datetime | None]
