"""The calls list's filters and cursor: ``GET /api/v1/calls?since=&until=&direction=&…``.

Filters: ``since``/``until`` (ISO 8601, on the start time), ``direction``, ``queue``,
``agent``, ``disposition``, ``number`` (the caller or the called number), ``limit``
(1-500, default 50). Pages go newest first; ``next_cursor`` in an answer, passed back as
``cursor``, continues after its last call (keyset on start time and row id, so a page
costs the same at any depth and calls arriving meanwhile do not shift it).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from hotline.callrecord import Direction, Disposition

__all__ = ["CallFilter", "decode_cursor", "encode_cursor", "parse_call_query"]

_TOKEN = re.compile(r"^[\w.@+-]{1,64}$")
_NUMBER = re.compile(r"^\+?[0-9]{3,20}$")


@dataclass(frozen=True)
class CallFilter:
    since: datetime | None = None
    until: datetime | None = None
    direction: Direction | None = None
    queue: str = ""
    agent: str = ""
    disposition: Disposition | None = None
    number: str = ""


def encode_cursor(started_at: datetime, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{started_at.isoformat()}|{row_id}".encode()).decode()


def decode_cursor(text: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(text.encode()).decode()
        started, _, row_id = raw.partition("|")
        value = datetime.fromisoformat(started), int(row_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("cursor: not a cursor from this API") from None
    if value[0].utcoffset() is None:
        raise ValueError("cursor: not a cursor from this API")
    return value


def _time(query: Mapping[str, str], name: str) -> datetime | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{name}: an ISO 8601 time, e.g. 2026-11-30T08:00:00+08:00") from None
    return value if value.utcoffset() is not None else value.astimezone()


def parse_call_query(
    query: Mapping[str, str],
) -> tuple[CallFilter, int, tuple[datetime, int] | None]:
    """The filter, page size and cursor of a query; ``ValueError`` names the bad field."""
    raw = query.get("limit", "50")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= 500:
        raise ValueError("limit: a whole number from 1 to 500")
    direction = query.get("direction")
    if direction is not None and direction not in {d.value for d in Direction}:
        raise ValueError(f"direction: one of {', '.join(d.value for d in Direction)}")
    disposition = query.get("disposition")
    if disposition is not None and disposition not in {d.value for d in Disposition}:
        raise ValueError("disposition: not a known disposition")
    for name in ("queue", "agent"):
        value = query.get(name)
        if value is not None and not _TOKEN.fullmatch(value):
            raise ValueError(f"{name}: 1-64 letters, digits, '.', '-' or '_'")
    number = query.get("number", "")
    if number and not _NUMBER.fullmatch(number):
        raise ValueError("number: digits with an optional leading +, 3 to 20 characters")
    since, until = _time(query, "since"), _time(query, "until")
    if since is not None and until is not None and until <= since:
        raise ValueError("until: must be after since")
    cursor = query.get("cursor")
    return (
        CallFilter(
            since=since,
            until=until,
            direction=None if direction is None else Direction(direction),
            queue=query.get("queue", ""),
            agent=query.get("agent", ""),
            disposition=None if disposition is None else Disposition(disposition),
            number=number,
        ),
        int(raw),
        None if cursor is None else decode_cursor(cursor),
    )
