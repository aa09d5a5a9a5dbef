"""Reading the import files of the campaign flows (work orders, complaint tickets).

One CSV/JSON reader for files whose rows become typed records: a file that is not UTF-8,
not CSV/JSON or lacks a required column is refused whole (``ImportRefused``); within it
each row goes to the sink, which validates it or rejects it with its line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from dialer.contacts import Format, ImportRefused, csv_header, decode_text, json_items, pick_key
from dialer.csv_lines import csv_lines

__all__ = ["RowSink", "column_keys", "read_rows"]

Columns = Mapping[str, tuple[str, ...]]


class RowSink(Protocol):
    def add(self, line: int, row: Mapping[str, Any], keys: Mapping[str, str]) -> None: ...
    def reject(self, line: int, reason: str) -> None: ...


def column_keys(
    found: list[str], required: Columns, optional: Columns | None = None
) -> dict[str, str]:
    """Field name → the file's column for it; ``ImportRefused`` names every missing one."""
    keys: dict[str, str] = {}
    missing = []
    for name, names in required.items():
        key = pick_key(found, names)
        if key is None:
            missing.append(f"{name} (or {', '.join(names[1:])})")
        else:
            keys[name] = key
    if missing:
        raise ImportRefused(f"no column {'; no column '.join(missing)}; nothing was imported")
    for name, names in (optional or {}).items():
        key = pick_key(found, names)
        if key is not None:
            keys[name] = key
    return keys


def read_rows(
    data: bytes, fmt: Format, keys_of: Callable[[list[str]], dict[str, str]], sink: RowSink
) -> None:
    text = decode_text(data)
    if fmt == "csv":
        _csv(text, keys_of, sink)
        return
    for line, item in list(json_items(text)):
        if not isinstance(item, dict):
            sink.reject(line, "not an object")
            continue
        try:
            keys = keys_of(list(item))
        except ImportRefused as exc:
            sink.reject(line, str(exc).removesuffix("; nothing was imported"))
            continue
        sink.add(line, item, keys)


def _csv(text: str, keys_of: Callable[[list[str]], dict[str, str]], sink: RowSink) -> None:
    lines = csv_lines(text)
    header = csv_header(lines)
    keys = keys_of(header)
    for record in lines:
        line, fields = record.line, record.fields
        if record.error:
            sink.reject(line, record.error)
            continue
        if not any(cell.strip() for cell in fields):
            continue
        if len(fields) != len(header):
            sink.reject(line, f"expected {len(header)} fields, found {len(fields)}")
            continue
        sink.add(line, dict(zip(header, fields, strict=True)), keys)
