"""A durable, ordered spool of record updates for when the database is down.

Updates are appended as JSON lines and fsynced before the writer moves on, so a database
outage followed by a service crash still loses nothing: the next start replays the file.
Saves are idempotent (upsert by linkedid, timeline by (linkedid, seq)), so replaying an
update that did reach the database before a crash is harmless.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from hotline.callrecord import CallRecord, Direction, Disposition, TimelineEntry
from hotline.errors import DatabaseError
from hotline.records import RecordUpdate

__all__ = ["RecordSpool", "decode_update", "encode_update"]

log = logging.getLogger(__name__)

_RECORD_TIMES = ("started_at", "answered_at", "ended_at")


def encode_update(update: RecordUpdate) -> str:
    """One JSON line for an update (times as ISO 8601 with offset)."""

    def default(value: object) -> str:
        if isinstance(value, datetime):
            return value.isoformat()
        raise TypeError(f"cannot spool {type(value).__name__}")

    payload = {
        "record": asdict(update.record),
        "entries": [asdict(entry) for entry in update.entries],
        "final": update.final,
    }
    return json.dumps(payload, default=default, ensure_ascii=False)


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def decode_update(line: str) -> RecordUpdate:
    payload = json.loads(line)
    fields = dict(payload["record"])
    for name in _RECORD_TIMES:
        fields[name] = _time(fields[name])
    fields["direction"] = Direction(fields["direction"])
    fields["disposition"] = Disposition(fields["disposition"])
    entries = []
    for raw in payload["entries"]:
        entry = dict(raw)
        entry["at"] = _time(entry["at"])
        entries.append(TimelineEntry(**entry))
    return RecordUpdate(CallRecord(**fields), tuple(entries), bool(payload["final"]))


class RecordSpool:
    """Append-only file of updates not yet in the database, drained in order."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "records.jsonl"

    def __len__(self) -> int:
        try:
            with self.path.open(encoding="utf-8") as handle:
                return sum(1 for line in handle if line.strip())
        except FileNotFoundError:
            return 0

    def append(self, update: RecordUpdate) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(encode_update(update) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    async def drain(self, save: Callable[[RecordUpdate], Awaitable[None]]) -> int:
        """Save spooled updates in order; stop at the first failure and keep the rest.

        Returns how many were saved. Unreadable lines are moved to ``records.bad``.
        """
        try:
            lines = [line for line in self.path.read_text(encoding="utf-8").splitlines() if line]
        except FileNotFoundError:
            return 0
        saved = 0
        for index, line in enumerate(lines):
            try:
                update = decode_update(line)
            except (ValueError, KeyError, TypeError) as exc:
                log.error("spool line unreadable (%s); moved to records.bad", exc)
                with self.path.with_suffix(".bad").open("a", encoding="utf-8") as bad:
                    bad.write(line + "\n")
                continue
            try:
                await save(update)
            except DatabaseError:
                self._keep(lines[index:])
                return saved
            saved += 1
        self._keep([])
        return saved

    def _keep(self, lines: list[str]) -> None:
        if not lines:
            self.path.unlink(missing_ok=True)
            return
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines))
            handle.flush()
            os.fsync(handle.fileno())  # on disk before it replaces the old spool
        os.replace(tmp, self.path)
