"""Call recordings and who played them (migration 0014).

``call_recordings``: one row per recorded call, added ``pending`` by the record's own
save once the call has ended (``CallRecordRepository``, so a call rebuilt from the call
log gets one too), then filled in when the file was looked at: its size and length, or
why there is no whole recording (``hotline.recordings.sweeper``).

``recording_playbacks``: the audit of every playback (who, which call, when, what part).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models import Base, StrEnumType, _Timestamps
from hotline.recordings.files import RecordingStatus

__all__ = ["CallRecordingRow", "RecordingPlaybackRow"]


class CallRecordingRow(_Timestamps, Base):
    __tablename__ = "call_recordings"
    __table_args__ = (Index("ix_call_recordings_status_recorded", "status", "recorded_at"),)

    linkedid: Mapped[str] = mapped_column(String(150), primary_key=True)
    file: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]  # the call's start: what retention counts from
    status: Mapped[RecordingStatus] = mapped_column(StrEnumType(RecordingStatus, 16))
    # server defaults: the pending row is inserted by a precompiled text statement
    bytes: Mapped[int] = mapped_column(BigInteger, server_default="0")
    seconds: Mapped[float] = mapped_column(Float, server_default="0")
    reason: Mapped[str] = mapped_column(String(16), server_default="")
    error: Mapped[str] = mapped_column(String(255), server_default="")
    deleted_at: Mapped[datetime | None]


class RecordingPlaybackRow(Base):
    __tablename__ = "recording_playbacks"
    __table_args__ = (Index("ix_recording_playbacks_linkedid_at", "linkedid", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(150))
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    who: Mapped[str] = mapped_column(String(128))  # the token's name
    role: Mapped[str] = mapped_column(String(16))
    byte_range: Mapped[str] = mapped_column(String(64), default="")  # the Range header
    address: Mapped[str] = mapped_column(String(64), default="")
