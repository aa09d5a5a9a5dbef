"""Tables of apology calls and the SMS outbox (issue 6, migration 0008).

* ``apology_tickets``: verified complaint tickets, one row per ticket, with the dialer
  contact that calls the customer, the deadline (end of the verification day) and the
  outcome (``open`` until apologised, refused or unreachable);
* ``sms_outbox``: one row per SMS to send. ``ticket_id`` is unique, so a ticket can never
  queue two apology SMS, whatever retries or restarts happen; the sender retries a row
  until the gateway accepts it (sending the row id as the idempotency key).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models import Base

__all__ = ["ApologyTicketRow", "SmsOutboxRow"]


class ApologyTicketRow(Base):
    __tablename__ = "apology_tickets"

    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    acceptance_no: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(32), index=True)
    contact_date: Mapped[date]  # the customer's original contact (said in the apology)
    topic: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # service_error | attitude
    agent: Mapped[str] = mapped_column(String(64), index=True)  # the responsible agent
    verified_at: Mapped[datetime] = mapped_column(index=True)
    deadline: Mapped[datetime]
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("dialer_campaigns.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(Integer)
    # open | apologised | refused | unreachable
    status: Mapped[str] = mapped_column(String(16), index=True)
    last_outcome: Mapped[str] = mapped_column(String(16), default="")  # e.g. rescheduled
    reschedules: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None]
    imported_at: Mapped[datetime] = mapped_column(server_default=func.now())


class SmsOutboxRow(Base):
    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(64), unique=True)
    number: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(index=True)
    last_error: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    gateway_ref: Mapped[str] = mapped_column(String(128), default="")
