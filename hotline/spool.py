"""A durable, ordered spool of record updates for when the database is down.

Updates are appended as JSON lines and fsynced before the writer moves on, so a database
outage followed by a service crash still loses nothing: the next start replays the file.
Saves are idempotent (upsert by linkedid, timeline by (linkedid, seq)), so replaying an
update that did reach the database before a crash is harmless.

The file is only ever appended to. Draining reads it in batches from a stored offset
(``records.pos``, replaced atomically after each batch) and removes both files once
everything is written, so a drain needs no free space and an outage of any length costs
one append per update, not a rewrite of the whole spool. An append that does not fit (a
full disk) is cut back to the last whole line and reported to the caller, which keeps the
update in memory instead (``hotline.recorder``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterator
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
        self._offset_path = directory / "records.pos"
        self._count: int | None = None  # lines not drained yet; counted once, then kept

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in self._pending_lines())
        return self._count

    def _offset(self) -> int:
        try:
            return int(self._offset_path.read_text(encoding="ascii").strip() or 0)
        except (OSError, ValueError):
            return 0

    def _pending_lines(self) -> Iterator[tuple[int, str]]:
        """(offset after the line, line) from the stored offset on; a last line without
        its newline (cut short by a crash mid-append) is not one."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        with handle:
            handle.seek(self._offset())
            for raw in handle:
                if not raw.endswith(b"\n"):
                    return
                yield handle.tell(), raw.decode("utf-8", "replace").strip()

    def pending(self) -> list[RecordUpdate]:
        """The updates still to be written, in order (readable lines only)."""
        found = []
        for _, line in self._pending_lines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                found.append(decode_update(line))
        return found

    def append(self, update: RecordUpdate) -> bool:
        """Write and fsync one update; False when it did not fit (disk full, folder not
        writable): then the file is as it was and nothing was written."""
        data = (encode_update(update) + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            log.error("spool %s cannot be opened: %s", self.path, exc)
            return False
        try:
            size = _whole_lines(fd)
            try:
                written = os.write(fd, data)
                if written != len(data):
                    raise OSError(errno.ENOSPC, "short write")
                os.fsync(fd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)  # no half line left behind
                log.error("spool %s: update not written (%s)", self.path, exc)
                return False
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)  # the new file's name is on disk too
        if self._count is not None:
            self._count += 1
        return True

    async def drain(self, save: Callable[[RecordUpdate], Awaitable[None]], batch: int = 200) -> int:
        """Save spooled updates in order; stop at the first failure and keep the rest.

        Returns how many were saved. Unreadable lines are moved to ``records.bad``.
        Progress is stored after every ``batch`` lines, so a crash mid-drain replays at
        most one batch (saves are idempotent).
        """
        saved = 0
        done_to: int | None = None
        since_store = 0
        for end, line in self._pending_lines():
            if line:
                try:
                    update = decode_update(line)
                except (ValueError, KeyError, TypeError) as exc:
                    log.error("spool line unreadable (%s); moved to records.bad", exc)
                    with self.path.with_name("records.bad").open("a", encoding="utf-8") as bad:
                        bad.write(line + "\n")
                else:
                    try:
                        await save(update)
                    except DatabaseError:
                        self._store_offset(done_to)
                        return saved
                    saved += 1
            done_to, since_store = end, since_store + 1
            if self._count is not None:
                self._count = max(0, self._count - 1)
            if since_store >= batch:
                self._store_offset(done_to)
                since_store = 0
        self._clear()
        return saved

    def _store_offset(self, offset: int | None) -> None:
        if offset is None:
            return
        tmp = self._offset_path.with_suffix(".tmp")
        with tmp.open("w", encoding="ascii") as handle:
            handle.write(str(offset))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self._offset_path)

    def _clear(self) -> None:
        """Everything is written: the spool is gone (offset last, so a crash in between
        replays from the old offset, which is harmless)."""
        self.path.unlink(missing_ok=True)
        self._offset_path.unlink(missing_ok=True)
        self._count = 0


def _whole_lines(fd: int) -> int:
    """The file's size up to its last newline; a half line (a crash mid-append) is cut off
    so the next update does not run into it."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    start = max(0, size - (1 << 16))
    tail = os.pread(fd, size - start, start)
    whole = start + tail.rfind(b"\n") + 1 if b"\n" in tail else 0
    os.ftruncate(fd, whole)
    log.warning("spool: a half-written line (%d bytes) was cut off", size - whole)
    return whole


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
