"""Complaint-ticket files (CSV, JSON) in, validated ``Ticket``s out: pure parsing.

Columns (English or Chinese headers): ``ticket_id``/``工单号``, ``acceptance_no``/``受理号``,
``number``/``电话``, ``contact_date``/``来电日期`` (YYYY-MM-DD), ``topic``/``问题``,
``kind``/``类型`` (``service_error``/``服务差错`` or ``attitude``/``服务态度``),
``agent``/``责任坐席`` and optionally ``verified_at``/``核实时间`` (ISO 8601; default: the
import time). A bad row is rejected with its line and field; the others go on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dialer.contacts import Format, Rejected
from dialer.numbers import NumberGuard, normalize
from dialer.tabular import column_keys, read_rows

__all__ = ["KINDS", "Ticket", "TicketsParsed", "parse_tickets"]

KINDS = {"service_error": "service_error", "服务差错": "service_error", "attitude": "attitude"}
KINDS["服务态度"] = "attitude"
_REQUIRED: dict[str, tuple[str, ...]] = {
    "ticket_id": ("ticket_id", "ticket", "工单号", "投诉单号"),
    "acceptance_no": ("acceptance_no", "acceptance", "受理号", "受理编号"),
    "number": ("number", "phone", "mobile", "电话", "号码", "手机"),
    "contact_date": ("contact_date", "date", "来电日期", "反映日期"),
    "topic": ("topic", "问题", "主题", "投诉内容"),
    "kind": ("kind", "类型", "投诉类型"),
    "agent": ("agent", "责任坐席", "坐席", "责任人"),
}
_OPTIONAL = {"verified_at": ("verified_at", "verified", "核实时间")}
_TOKEN = re.compile(r"^[\w.-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Ticket:
    ticket_id: str
    acceptance_no: str
    number: str
    contact_date: date
    topic: str
    kind: str
    agent: str
    verified_at: datetime
    line: int = 0  # in the file


@dataclass
class TicketsParsed:
    tickets: list[Ticket] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    rows: int = 0


class _Collector:
    def __init__(self, guard: NumberGuard, zone: str, now: datetime) -> None:
        self.guard, self.zone, self.now = guard, ZoneInfo(zone), now
        self.result = TicketsParsed()
        self._seen: set[str] = set()

    def reject(self, line: int, reason: str) -> None:
        self.result.rows += 1
        self.result.rejected.append(Rejected(line, reason))

    def add(self, line: int, row: Mapping[str, Any], keys: Mapping[str, str]) -> None:
        self.result.rows += 1
        try:
            ticket = self._ticket({k: str(row.get(v) or "").strip() for k, v in keys.items()})
            ticket = replace(ticket, line=line)
        except ValueError as exc:
            self.result.rejected.append(Rejected(line, str(exc)))
            return
        if ticket.ticket_id in self._seen:
            self.result.rejected.append(Rejected(line, f"ticket_id {ticket.ticket_id}: repeated"))
            return
        self._seen.add(ticket.ticket_id)
        self.result.tickets.append(ticket)

    def _ticket(self, text: dict[str, str]) -> Ticket:
        for name in ("ticket_id", "acceptance_no", "agent"):
            if not _TOKEN.fullmatch(text[name]):
                raise ValueError(f"{name}: 1-64 letters, digits, '.', '-' or '_'")
        try:
            number = normalize(text["number"])
        except ValueError as exc:
            raise ValueError(f"number {text['number']:.32}: {exc}") from None
        if not self.guard.allowed(number):
            raise ValueError(f"number {number}: not an allowed destination (toll-fraud guard)")
        try:
            contact_date = date.fromisoformat(text["contact_date"])
        except ValueError:
            raise ValueError(f"contact_date {text['contact_date']:.32}: not YYYY-MM-DD") from None
        kind = KINDS.get(text["kind"])
        if kind is None:
            allowed = "service_error (服务差错) or attitude (服务态度)"
            raise ValueError(f"kind {text['kind']:.32}: {allowed}")
        if not text["topic"] or len(text["topic"]) > 255:
            raise ValueError("topic: 1-255 characters")
        verified = self.now
        if text.get("verified_at"):
            try:
                verified = datetime.fromisoformat(text["verified_at"])
            except ValueError:
                raise ValueError(f"verified_at {text['verified_at']:.32}: not a time") from None
            if verified.utcoffset() is None:
                verified = verified.replace(tzinfo=self.zone)
        if contact_date > verified.astimezone(self.zone).date():
            raise ValueError("contact_date: after the ticket was verified")
        return Ticket(
            text["ticket_id"],
            text["acceptance_no"],
            number,
            contact_date,
            text["topic"],
            kind,
            text["agent"],
            verified,
        )


def parse_tickets(
    data: bytes, fmt: Format, guard: NumberGuard, zone: str, now: datetime
) -> TicketsParsed:
    """Parse a whole ticket file; ``ImportRefused`` if the file itself is unusable."""
    collector = _Collector(guard, zone, now)
    read_rows(data, fmt, lambda found: column_keys(found, _REQUIRED, _OPTIONAL), collector)
    return collector.result
