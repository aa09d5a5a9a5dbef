"""Following Asterisk's call-log file: complete lines from a stored position, across
rotations.

Asterisk (cel_custom) opens the file, appends one line and closes it again for every
event, so a file renamed away (by ``rotate`` here, or by logrotate without
``copytruncate``) is simply recreated by the next event. A file is known by its identity
(device and inode), not its name: a stored position still finds its file after it was
renamed to ``<name>.<stamp>``, and the files rotated after it are read next, oldest first.
A line is taken only once its newline is written; a half-written one waits.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from hotline.call_log.cel import CelError, CelRow, parse_line

__all__ = ["LogTail", "Position"]

log = logging.getLogger(__name__)

_COMPRESSED = (".gz", ".xz", ".bz2", ".zst")
_CHUNK = 1 << 20
ROTATED_GRACE = 1.0  # seconds for a write that opened the file before its rename


@dataclass(frozen=True, slots=True)
class Position:
    """Where reading (re)starts: a file by identity, and a byte offset in it."""

    file_id: str
    offset: int


def file_id(path: Path) -> str | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return f"{stat.st_dev}:{stat.st_ino}"


class LogTail:
    """Complete, parsed lines of one log and its rotated predecessors, in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: BinaryIO | None = None
        self._id = ""
        self._offset = 0  # of the first byte not consumed (start of a partial line)
        self._partial = b""
        self._next: list[Path] = []  # rotated files still to read after this one
        self._rotated_seen: float | None = None
        self.bad_lines = 0

    @property
    def position(self) -> Position:
        return Position(self._id, self._offset)

    def rotated_files(self) -> list[Path]:
        """``<name>.*`` and ``<name>-*`` beside the log, oldest first (uncompressed only)."""
        folder, name = self.path.parent, self.path.name
        found = [*folder.glob(f"{name}.*"), *folder.glob(f"{name}-*")]
        files = [p for p in found if p.is_file() and not p.name.endswith(_COMPRESSED)]
        return sorted(files, key=lambda p: p.stat().st_mtime)

    def seek(self, position: Position | None) -> None:
        """Start at ``position`` (its file found by identity), else at the current file's
        start. Files rotated after it are read before the current one."""
        self.close()
        chain = [*self.rotated_files(), self.path]
        ids = [file_id(p) for p in chain]
        start = 0
        if position is not None and position.file_id in ids:
            start = ids.index(position.file_id)
        elif position is not None and not position.file_id:
            start = len(chain) - 1  # stored before Asterisk made the file: all of it is new
        elif position is not None:
            log.warning(
                "call log: the file of the stored position (%s) is gone; reading %s from its start",
                position.file_id,
                self.path,
            )
            start = len(chain) - 1  # rotated files older than a lost position were read
        offset = position.offset if position is not None and ids[start] == position.file_id else 0
        self._next = chain[start + 1 :]
        self._open(chain[start], offset)

    def seek_end(self) -> None:
        """Start after the last whole line of the current file: what is logged from now on."""
        self.close()
        self._next = []
        try:
            with self.path.open("rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, size - _CHUNK))
                tail = handle.read()
        except FileNotFoundError:
            self._open(self.path, 0)
            return
        self._open(self.path, size - (len(tail) - tail.rfind(b"\n") - 1))

    def _open(self, path: Path, offset: int) -> None:
        self.close()
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            self._id, self._offset = file_id(self.path) or "", 0
            return  # no event logged yet: Asterisk creates it with the first
        stat = os.fstat(handle.fileno())
        if stat.st_size < offset:
            log.warning("call log %s is shorter than the position %d: read again", path, offset)
            offset = 0
        handle.seek(offset)
        self._handle, self._offset = handle, offset
        self._id = f"{stat.st_dev}:{stat.st_ino}"
        self._rotated_seen = None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self._handle, self._partial = None, b""

    def read(self, max_bytes: int = 8 * _CHUNK) -> list[tuple[Position, CelRow]]:
        """The complete lines written since the last read (up to about ``max_bytes``)."""
        rows: list[tuple[Position, CelRow]] = []
        budget = max_bytes
        while budget > 0:
            if self._handle is None:
                self._open(self.path, 0)
                if self._handle is None:
                    return rows
            chunk = self._handle.read(min(_CHUNK, budget))
            if chunk:
                budget -= len(chunk)
                rows += self._lines(chunk)
                continue
            if not self._switch():
                return rows
        return rows

    def _lines(self, chunk: bytes) -> list[tuple[Position, CelRow]]:
        data = self._partial + chunk
        rows = []
        start = 0
        while True:
            newline = data.find(b"\n", start)
            if newline < 0:
                break
            line = data[start:newline].strip()
            begin = self._offset
            self._offset += newline + 1 - start
            start = newline + 1
            if not line:
                continue
            try:
                rows.append((Position(self._id, begin), parse_line(line, self._offset)))
            except CelError as exc:
                self.bad_lines += 1
                log.error("call log %s, byte %d: skipped (%s)", self.path, begin, exc)
        self._partial = data[start:]
        return rows

    def _switch(self) -> bool:
        """At the end of a file: go on to the next one if this one is finished."""
        if self._next:
            following = self._next.pop(0)
            self._open(following, 0)
            return True
        current = file_id(self.path)
        if current == self._id or current is None:
            return False  # still the live file (or nothing new yet)
        now = time.monotonic()
        if self._rotated_seen is None:  # renamed away: one more look after the grace
            self._rotated_seen = now
            return False
        if now - self._rotated_seen < ROTATED_GRACE:
            return False
        if self._partial:
            log.error("call log: rotated file ends in a half line (%d bytes)", len(self._partial))
        self._open(self.path, 0)
        return True

    def rotate(self, max_bytes: int, keep: int) -> bool:
        """Rename a large live file away (only when everything in it is accounted for, the
        caller's rule), and delete rotated files beyond ``keep``. True when renamed."""
        if self._handle is None or self._next or self._partial:
            return False
        if file_id(self.path) != self._id or self._offset < max_bytes:
            return False
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.name}.{stamp}")
        try:
            self.path.rename(target)
        except OSError as exc:
            log.warning("call log: cannot rotate %s (%s); rotate it with logrotate", self.path, exc)
            return False
        log.info("call log rotated to %s (%d bytes)", target, self._offset)
        for old in self.rotated_files()[:-keep] if keep > 0 else self.rotated_files():
            if file_id(old) != self._id:
                old.unlink(missing_ok=True)
        return True
