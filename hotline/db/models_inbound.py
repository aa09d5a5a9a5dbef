"""Tables of the inbound hotline: customers and bills, callback requests, the blocklist.

Callback requests are merged per number while open: a partial unique index on ``number``
where the status is pending or dialling lets one ``INSERT … ON CONFLICT`` either create the
request or fold a repeat into it, atomically on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models import Base, StrEnumType

__all__ = [
    "OPEN_CALLBACK_STATUSES",
    "BillRow",
    "BlockSource",
    "BlocklistRow",
    "CallbackRequestRow",
    "CallbackStatus",
    "CustomerRow",
]


class CallbackStatus(StrEnum):
    PENDING = "pending"  # waiting for the dialer
    DIALLING = "dialling"  # the dialer is calling the customer
    DONE = "done"
    CANCELLED = "cancelled"


OPEN_CALLBACK_STATUSES = (CallbackStatus.PENDING, CallbackStatus.DIALLING)
_OPEN_WHERE = text("status IN ('pending', 'dialling')")


class BlockSource(StrEnum):
    CONFIG = "config"  # ivr.blocklist in the settings; changed only there
    API = "api"
    CLI = "cli"


class CustomerRow(Base):
    __tablename__ = "customers"

    account: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    address: Mapped[str] = mapped_column(String(255), default="")


class BillRow(Base):
    __tablename__ = "bills"
    __table_args__ = (UniqueConstraint("account", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(
        ForeignKey("customers.account", ondelete="CASCADE"), index=True
    )
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    amount_due: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    due_date: Mapped[date | None] = mapped_column(Date)


class CallbackRequestRow(Base):
    __tablename__ = "callback_requests"
    __table_args__ = (
        Index(
            "uq_callback_requests_open_number",
            "number",
            unique=True,
            sqlite_where=_OPEN_WHERE,
            postgresql_where=_OPEN_WHERE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    linkedid: Mapped[str] = mapped_column(String(150), default="")
    queue: Mapped[str] = mapped_column(String(32), default="")
    category: Mapped[str] = mapped_column(String(32), default="")
    requested_at: Mapped[datetime]
    status: Mapped[CallbackStatus] = mapped_column(
        StrEnumType(CallbackStatus, 16), default=CallbackStatus.PENDING, index=True
    )
    priority: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int | None] = mapped_column(Integer)  # place in the queue when asked
    queued_at: Mapped[datetime | None]  # when the caller first joined the queue: their place
    merge_count: Mapped[int] = mapped_column(Integer, default=0)  # repeats folded in
    due_at: Mapped[datetime | None]  # not before this time; None: as soon as possible
    # promised callbacks (migration 0007): who promised it, by when, and how it ended
    source: Mapped[str] = mapped_column(String(16), default="ivr")  # ivr | api
    promised_by: Mapped[str] = mapped_column(String(64), default="")
    agent: Mapped[str] = mapped_column(String(64), default="")  # ring this agent first
    note: Mapped[str] = mapped_column(String(255), default="")
    due_by: Mapped[datetime | None] = mapped_column(index=True)  # overdue after this
    contact_id: Mapped[int | None] = mapped_column(Integer)  # its dialer contact
    outcome: Mapped[str] = mapped_column(String(16), default="")  # reached | unreachable | …
    closed_at: Mapped[datetime | None]
    alerted_at: Mapped[datetime | None]  # when it was reported overdue


class BlocklistRow(Base):
    __tablename__ = "blocklist"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(String(255), default="")
    source: Mapped[BlockSource] = mapped_column(StrEnumType(BlockSource, 16))
    added_at: Mapped[datetime]
