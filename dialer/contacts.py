"""Contact files (CSV, JSON) in, validated contacts out: pure parsing, no database.

An import either reads the whole file or nothing: a file that is not UTF-8 or whose
header has no number column raises ``ImportRefused`` saying why, before any row is
taken. Within a readable file every row stands alone: a bad one is reported with its
line number and reason and the others go on. The same number twice is one contact (the
first row wins; later rows only fill fields it left empty).

CSV: a header row; the number column is ``number`` (or ``phone``, ``mobile``, ``电话``,
``号码``, ``手机``), ``name``/``姓名`` and ``timezone`` are optional, other columns are kept
as the contact's data for the campaign flows. JSON: an array of objects with the same
keys (or ``{"contacts": [...]}``); each object's line in the file is reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from dialer.csv_lines import CsvLine, csv_lines
from dialer.numbers import NumberGuard, normalize
from hotline.config_dialer import check_timezone

__all__ = [
    "ContactIn",
    "ImportRefused",
    "ParseResult",
    "Rejected",
    "decode_text",
    "json_items",
    "parse_contacts",
    "pick_key",
]

Progress = Callable[[int, int], None]
Format = Literal["csv", "json"]

_NUMBER_KEYS = ("number", "phone", "mobile", "tel", "电话", "号码", "手机", "电话号码")
_NAME_KEYS = ("name", "姓名", "名字")
_ZONE_KEYS = ("timezone", "tz", "时区")
MAX_FIELD = 256


class ImportRefused(ValueError):
    """The file as a whole cannot be read; nothing was imported."""


@dataclass(frozen=True)
class ContactIn:
    line: int
    number: str
    name: str = ""
    timezone: str = ""
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class ParseResult:
    contacts: list[ContactIn] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    merged: int = 0  # rows that repeated a number seen earlier in the file
    rows: int = 0


def decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = ""
        try:
            data.decode("gb18030")
            hint = " It looks like GBK/GB18030 (e.g. saved by Excel): save it as UTF-8."
        except UnicodeDecodeError:
            pass
        raise ImportRefused(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            f"nothing was imported.{hint}"
        ) from exc


def pick_key(keys: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {key.strip().lower(): key for key in keys}
    return next((lowered[name] for name in names if name in lowered), None)


class _Collector:
    """Validates rows one by one and merges repeated numbers."""

    def __init__(self, guard: NumberGuard, default_zone: str) -> None:
        self.guard = guard
        self.default_zone = default_zone
        self.result = ParseResult()
        self._by_number: dict[str, int] = {}

    def add(self, line: int, row: dict[str, Any], number_key: str | None) -> None:
        self.result.rows += 1
        keys = list(row)
        number_key = number_key or pick_key(keys, _NUMBER_KEYS)
        if number_key is None:
            self.result.rejected.append(Rejected(line, "no number field"))
            return
        raw_number = row.get(number_key)
        if not isinstance(raw_number, str | int) or isinstance(raw_number, bool):
            self.result.rejected.append(Rejected(line, "number: not text"))
            return
        try:
            number = normalize(str(raw_number))
        except ValueError as exc:
            self.result.rejected.append(Rejected(line, f"number {raw_number!s:.32}: {exc}"))
            return
        if not self.guard.allowed(number):
            self.result.rejected.append(
                Rejected(line, f"number {number}: not an allowed destination (toll-fraud guard)")
            )
            return
        name_key, zone_key = pick_key(keys, _NAME_KEYS), pick_key(keys, _ZONE_KEYS)
        zone = str(row.get(zone_key) or "").strip() if zone_key else ""
        if zone:
            try:
                check_timezone(zone)
            except ValueError as exc:
                self.result.rejected.append(Rejected(line, f"timezone: {exc}"))
                return
        data: dict[str, str] = {}
        for key, value in row.items():
            if key in (number_key, name_key, zone_key) or value is None or value == "":
                continue
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            if len(text) > MAX_FIELD:
                self.result.rejected.append(Rejected(line, f"{key}: longer than {MAX_FIELD}"))
                return
            data[str(key).strip()[:64]] = text
        name = str(row.get(name_key) or "").strip()[:128] if name_key else ""
        contact = ContactIn(line, number, name, zone or self.default_zone, data)
        seen = self._by_number.get(number)
        if seen is None:
            self._by_number[number] = len(self.result.contacts)
            self.result.contacts.append(contact)
            return
        self.result.merged += 1
        first = self.result.contacts[seen]
        self.result.contacts[seen] = ContactIn(
            first.line,
            number,
            first.name or contact.name,
            first.timezone,
            contact.data | first.data,
        )


def csv_header(lines: Iterator[CsvLine]) -> list[str]:
    """The first line's column names; ``ImportRefused`` when there is none or it is not CSV."""
    first = next(lines, None)
    if first is None:
        raise ImportRefused("the file is empty; nothing was imported")
    if first.error:
        raise ImportRefused(f"header (line {first.line}): {first.error}; nothing was imported")
    return [name.strip() for name in first.fields]


def _csv_rows(text: str, collector: _Collector, progress: Progress | None) -> None:
    total = text.count("\n") + 1
    lines = csv_lines(text)
    header = csv_header(lines)
    number_key = pick_key(header, _NUMBER_KEYS)
    if number_key is None:
        raise ImportRefused(
            f"header: no number column (one of {', '.join(_NUMBER_KEYS)}); found "
            f"{', '.join(repr(h) for h in header) or 'nothing'}; nothing was imported"
        )
    if len(set(header)) != len(header) or "" in header:
        raise ImportRefused("header: empty or repeated column names; nothing was imported")
    for record in lines:
        line, fields = record.line, record.fields
        if record.error:
            collector.result.rows += 1
            collector.result.rejected.append(Rejected(line, record.error))
            continue
        if not any(cell.strip() for cell in fields):
            continue  # blank line
        if len(fields) != len(header):
            collector.result.rows += 1
            collector.result.rejected.append(
                Rejected(line, f"expected {len(header)} fields, found {len(fields)}")
            )
        else:
            collector.add(line, dict(zip(header, fields, strict=True)), number_key)
        if progress is not None and line % 1000 == 0:
            progress(line, total)
    if progress is not None:
        progress(total, total)


def json_items(text: str) -> Iterator[tuple[int, Any]]:
    """Top-level items of a JSON array with the line each starts on."""
    decoder = json.JSONDecoder()
    try:
        start = text.index("[")
    except ValueError:
        raise ImportRefused("JSON: expected an array of contacts; nothing was imported") from None
    prefix = "".join(text[:start].split())
    if prefix not in ("", '{"contacts":'):
        raise ImportRefused("JSON: expected an array of contacts; nothing was imported")
    position = start + 1
    length = len(text)
    line, counted = 1, 0  # lines counted up to ``counted`` (once: not from the start per item)
    while True:
        while position < length and text[position] in " \t\r\n,":
            position += 1
        if position >= length:
            raise ImportRefused("JSON: the array is not closed; nothing was imported")
        if text[position] == "]":
            return
        try:
            item, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise ImportRefused(f"JSON: {exc}; nothing was imported") from exc
        line += text.count("\n", counted, position)
        counted = position
        yield line, item
        position = end


def parse_contacts(
    data: bytes,
    fmt: Format,
    guard: NumberGuard,
    default_zone: str,
    progress: Progress | None = None,
) -> ParseResult:
    """Parse a whole contact file; ``ImportRefused`` if the file itself is unusable."""
    text = decode_text(data)
    collector = _Collector(guard, default_zone)
    if fmt == "csv":
        _csv_rows(text, collector, progress)
        return collector.result
    items = list(json_items(text))  # a malformed file is refused before any row counts
    for index, (line, item) in enumerate(items, 1):
        if isinstance(item, dict):
            collector.add(line, item, None)
        else:
            collector.result.rows += 1
            collector.result.rejected.append(Rejected(line, "not an object"))
        if progress is not None and index % 1000 == 0:
            progress(index, len(items))
    if progress is not None:
        progress(len(items), len(items))
    return collector.result
