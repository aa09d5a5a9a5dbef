"""The hold segments table: one row per hold of a call (issue 4, migration 0005).

Rows come from the record pipeline's ``hold_segment`` timeline entries
(``hotline.record_hold``), written in the same transaction as the timeline, and are keyed
on ``(linkedid, number)`` so a retried save adds nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models import Base

__all__ = ["HoldSegmentRow"]


class HoldSegmentRow(Base):
    __tablename__ = "hold_segments"
    __table_args__ = (UniqueConstraint("linkedid", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("call_records.id", ondelete="CASCADE"), index=True
    )
    linkedid: Mapped[str] = mapped_column(String(150))
    number: Mapped[int] = mapped_column(Integer)  # 1 for the call's first hold
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime]
    seconds: Mapped[float] = mapped_column(Float)
    agent: Mapped[str] = mapped_column(String(64), default="", index=True)
    started_by: Mapped[str] = mapped_column(String(64), default="")
    trigger: Mapped[str] = mapped_column(String(16))  # feature_code | api | phone
    # resumed | auto_resumed | requeued | caller_hung_up
    outcome: Mapped[str] = mapped_column(String(16))
