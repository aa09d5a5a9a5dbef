"""Tables of the outbound dialer (campaigns, contacts, attempts, DNC).

The tables carry the exactly-once rule: an attempt row (status ``dialing``) is committed
before its Originate is sent, ``(contact_id, seq)`` is unique so two nodes can never both
hold attempt *n* of one contact, and ``code`` (the channel's Uniqueid) maps every AMI event
and every live channel back to its attempt. ``ix_dialer_contacts_due`` serves the claim
query (``… WHERE campaign_id = ? AND state = 'pending' AND next_at <= now ORDER BY next_at,
id … FOR UPDATE SKIP LOCKED``) without a sort over a million rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dialer.states import (
    AttemptStatus,
    CampaignStatus,
    CampaignType,
    ContactState,
    Disposition,
)
from hotline.db.models import Base, JsonDict, StrEnumType

__all__ = ["AttemptRow", "CampaignRow", "ContactRow", "DncRow"]


class CampaignRow(Base):
    __tablename__ = "dialer_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[CampaignType] = mapped_column(StrEnumType(CampaignType))
    status: Mapped[CampaignStatus] = mapped_column(StrEnumType(CampaignStatus), index=True)
    priority: Mapped[int] = mapped_column(Integer)
    trunk: Mapped[str] = mapped_column(String(64))
    caller_id: Mapped[str] = mapped_column(String(32))
    max_concurrent: Mapped[int] = mapped_column(Integer)
    cps: Mapped[float] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64))
    windows: Mapped[dict[str, Any]] = mapped_column(JsonDict)
    skip_holidays: Mapped[bool] = mapped_column(Boolean)
    holiday_country: Mapped[str] = mapped_column(String(8))
    deadline: Mapped[datetime | None]
    retry: Mapped[dict[str, Any]] = mapped_column(JsonDict)
    max_attempts: Mapped[int] = mapped_column(Integer)
    amd: Mapped[bool] = mapped_column(Boolean)
    #: AMD's MACHINE for initial silence is taken for a person who waits for us to speak
    amd_silence_is_human: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # MixMonitor on the answered call when the site records (recording.enabled)
    record: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    agent_first: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    agi_route: Mapped[str] = mapped_column(String(64))
    context: Mapped[str] = mapped_column(String(64))
    ring_timeout: Mapped[float] = mapped_column(Float)
    #: time zones of its contacts (kept by the import), so the scheduler opens each one
    timezones: Mapped[list[str]] = mapped_column(JsonDict)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class ContactRow(Base):
    __tablename__ = "dialer_contacts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "number"),
        Index("ix_dialer_contacts_due", "campaign_id", "state", "next_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("dialer_campaigns.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JsonDict)
    state: Mapped[ContactState] = mapped_column(StrEnumType(ContactState, 16))
    attempts: Mapped[int] = mapped_column(Integer)  # ever made (the next attempt's seq - 1)
    # attempts made before the current round: a contact called again for a new reason (a
    # promised callback asked anew) gets its full retries, and its seq numbers go on
    round_base: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_at: Mapped[datetime]
    last_disposition: Mapped[Disposition | None] = mapped_column(StrEnumType(Disposition))
    source_line: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class AttemptRow(Base):
    __tablename__ = "dialer_attempts"
    __table_args__ = (
        UniqueConstraint("contact_id", "seq"),
        Index("ix_dialer_attempts_active", "status", "node"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("dialer_campaigns.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("dialer_contacts.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    node: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[AttemptStatus] = mapped_column(StrEnumType(AttemptStatus, 16))
    disposition: Mapped[Disposition | None] = mapped_column(StrEnumType(Disposition))
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    dial_status: Mapped[str] = mapped_column(String(32))
    amd_status: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(255))


class DncRow(Base):
    __tablename__ = "dialer_dnc"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
