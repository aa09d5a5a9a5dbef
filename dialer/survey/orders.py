"""Completed work-order files (CSV, JSON) in, validated ``WorkOrder``s out: pure parsing.

Columns (English or Chinese headers): ``order_id``/``工单号``, ``number``/``电话``,
``category``/``类别``, ``technician``/``agent``/``师傅``, ``completed_at``/``完成时间``
(ISO 8601; without an offset it is read in the site's time zone). A file that is not
UTF-8 or lacks a column is refused whole (``ImportRefused``); within it each bad row is
rejected with its line and the field at fault, and the others go on. An order id given
twice with the same data counts once; with different data the later row is rejected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dialer.contacts import Format, Rejected
from dialer.numbers import NumberGuard, normalize
from dialer.survey.sampling import WorkOrder
from dialer.tabular import column_keys, read_rows

__all__ = ["OrdersParsed", "parse_orders"]

_COLUMNS: dict[str, tuple[str, ...]] = {
    "order_id": ("order_id", "order", "id", "工单号", "工单编号"),
    "number": ("number", "phone", "mobile", "电话", "号码", "手机", "电话号码"),
    "category": ("category", "类别", "业务类别", "工单类别"),
    "technician": ("technician", "agent", "师傅", "技术员", "维修人员", "坐席"),
    "completed_at": ("completed_at", "completed", "完成时间"),
}
_TOKEN = re.compile(r"^[\w.-]{1,64}$")
_CATEGORY = re.compile(r"^[\w-]{1,32}$")


@dataclass
class OrdersParsed:
    orders: list[WorkOrder] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    repeated: int = 0  # rows that repeated an order exactly
    rows: int = 0


class _Collector:
    def __init__(self, guard: NumberGuard, zone: str) -> None:
        self.guard = guard
        self.zone = ZoneInfo(zone)
        self.result = OrdersParsed()
        self._seen: dict[str, WorkOrder] = {}

    def reject(self, line: int, reason: str) -> None:
        self.result.rows += 1
        self.result.rejected.append(Rejected(line, reason))

    def add(self, line: int, row: Mapping[str, Any], keys: Mapping[str, str]) -> None:
        self.result.rows += 1
        try:
            order = self._order(row, keys)
        except ValueError as exc:
            self.result.rejected.append(Rejected(line, str(exc)))
            return
        earlier = self._seen.setdefault(order.order_id, order)
        if earlier is order:
            self.result.orders.append(order)
        elif earlier == order:
            self.result.repeated += 1
        else:
            self.result.rejected.append(
                Rejected(line, f"order_id {order.order_id}: given earlier with other data")
            )

    def _order(self, row: Mapping[str, Any], keys: Mapping[str, str]) -> WorkOrder:
        text = {name: str(row.get(key) or "").strip() for name, key in keys.items()}
        if not _TOKEN.fullmatch(text["order_id"]):
            raise ValueError("order_id: 1-64 letters, digits, '.', '-' or '_'")
        try:
            number = normalize(text["number"])
        except ValueError as exc:
            raise ValueError(f"number {text['number']:.32}: {exc}") from None
        if not self.guard.allowed(number):
            raise ValueError(f"number {number}: not an allowed destination (toll-fraud guard)")
        if not _CATEGORY.fullmatch(text["category"]):
            raise ValueError("category: 1-32 letters, digits, '-' or '_'")
        if not _TOKEN.fullmatch(text["technician"]):
            raise ValueError("technician: 1-64 letters, digits, '.', '-' or '_'")
        try:
            done = datetime.fromisoformat(text["completed_at"])
        except ValueError:
            raise ValueError(
                f"completed_at {text['completed_at']:.32}: not a time like 2026-11-30T10:15"
            ) from None
        if done.utcoffset() is None:
            done = done.replace(tzinfo=self.zone)
        return WorkOrder(text["order_id"], number, text["category"], text["technician"], done)


def parse_orders(data: bytes, fmt: Format, guard: NumberGuard, zone: str) -> OrdersParsed:
    """Parse a whole work-order file; ``ImportRefused`` if the file itself is unusable."""
    collector = _Collector(guard, zone)
    read_rows(data, fmt, lambda found: column_keys(found, _COLUMNS), collector)
    return collector.result
