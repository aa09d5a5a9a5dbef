"""The SMS outbox: rows queued by ``ApologyStore.settle``, leased and sent by the sender.

A due row is leased (its ``next_at`` moves past the send) before it is posted, so two
nodes or a restart do not post the same row at the same time; the result either marks it
sent, schedules the next try, or gives it up as ``failed`` after the last attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from dialer.store import Store
from hotline.db.models_apology import SmsOutboxRow

__all__ = ["SmsOut", "SmsOutbox"]


@dataclass(frozen=True)
class SmsOut:
    id: int
    ticket_id: str
    number: str
    text: str
    attempts: int


class SmsOutbox(Store):
    async def lease_sms(self, now: datetime, lease: timedelta, limit: int = 20) -> list[SmsOut]:
        row = SmsOutboxRow
        async with self._session("sms lease") as session:
            due = (
                await session.scalars(
                    select(row)
                    .where(row.status == "pending", row.next_at <= now)
                    .order_by(row.next_at, row.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for sms in due:
                sms.next_at = now + lease
            return [SmsOut(s.id, s.ticket_id, s.number, s.text, s.attempts) for s in due]

    async def sms_result(
        self,
        sms_id: int,
        now: datetime,
        *,
        ref: str = "",
        error: str = "",
        retry_at: datetime | None = None,
    ) -> None:
        """Sent (``ref``), or failed with ``error``: again at ``retry_at``, or for good."""
        values: dict[str, Any] = {"attempts": SmsOutboxRow.attempts + 1}
        if not error:
            values |= {"status": "sent", "sent_at": now, "gateway_ref": ref[:128], "last_error": ""}
        elif retry_at is None:
            values |= {"status": "failed", "last_error": error[:255]}
        else:
            values |= {"next_at": retry_at, "last_error": error[:255]}
        async with self._session("sms result") as session:
            await session.execute(
                update(SmsOutboxRow)
                .where(SmsOutboxRow.id == sms_id, SmsOutboxRow.status == "pending")
                .values(**values)
            )

    async def outbox(self) -> list[dict[str, Any]]:
        async with self._session("sms outbox") as session:
            found = (await session.scalars(select(SmsOutboxRow).order_by(SmsOutboxRow.id))).all()
            return [
                {
                    "id": s.id,
                    "ticket_id": s.ticket_id,
                    "number": s.number,
                    "text": s.text,
                    "status": s.status,
                    "attempts": s.attempts,
                    "last_error": s.last_error,
                    "created_at": s.created_at.isoformat(),
                    "sent_at": None if s.sent_at is None else s.sent_at.isoformat(),
                    "gateway_ref": s.gateway_ref,
                }
                for s in found
            ]
