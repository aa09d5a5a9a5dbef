"""Live supervision sessions (migration 0016): who listened to, whispered to or barged
into which call, when, through which agent channel, and whether Asterisk took it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models import Base

__all__ = ["SupervisionRow"]


class SupervisionRow(Base):
    __tablename__ = "supervision_sessions"
    __table_args__ = (Index("ix_supervision_sessions_linkedid_at", "linkedid", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(150))
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    mode: Mapped[str] = mapped_column(String(16))
    supervisor: Mapped[str] = mapped_column(String(16))  # the phone rung
    who: Mapped[str] = mapped_column(String(128))  # the token's name
    role: Mapped[str] = mapped_column(String(16))
    agent_channel: Mapped[str] = mapped_column(String(96))
    outcome: Mapped[str] = mapped_column(String(64))  # sent, refused: <why>
