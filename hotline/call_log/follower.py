"""The periodic pass over Asterisk's call log: read what was logged since the stored
position, settle the calls the log holds whole, write what they call for, move on.

It never races the live record writer: a pass settles nothing while the recorder still
has updates to write or stored calls to restore, and never a call the builder tracks.
The stored position is the start of the oldest call not yet settled, so a restart reads
that call again from its first line; calls settled after it are read again too, and
change nothing (``engine.resolve`` leaves records the log already accounted for).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from hotline.call_log.cel import CelRow
from hotline.call_log.config import CallLogSettings
from hotline.call_log.engine import Rebuilt, merges, resolve
from hotline.call_log.reader import LogTail, Position
from hotline.call_log.store import PositionStore
from hotline.callrecord import CallRecord, TimelineEntry
from hotline.errors import DatabaseError
from hotline.periodic import Periodic
from hotline.record_fields import Clock, utc_now

__all__ = ["CallLogFollower", "LiveView", "RecordStore"]

log = logging.getLogger(__name__)

BATCH = 200  # calls settled per database round


class LiveView(Protocol):
    """What the follower asks the live side (the call recorder)."""

    @property
    def caught_up(self) -> bool:
        """Stored calls restored and every live update written."""
        ...

    def tracking(self) -> set[str]:
        """Linkedids of the calls the live builder follows now."""
        ...


class RecordStore(Protocol):
    async def get_many(self, linkedids: list[str]) -> dict[str, CallRecord]: ...

    async def timeline(self, linkedid: str) -> list[TimelineEntry]: ...

    async def save(self, record: CallRecord, entries: tuple[TimelineEntry, ...] = ()) -> None: ...


@dataclass
class _Call:
    """A call read from the log and not settled yet."""

    first: Position  # where its first line starts
    rows: list[CelRow] = field(default_factory=list)
    ended: bool = False

    @property
    def last_at(self) -> float:
        return self.rows[-1].at


class CallLogFollower:
    """Reads the log on a timer and accounts for each call in it exactly once."""

    def __init__(
        self,
        settings: CallLogSettings,
        path: Path,
        positions: PositionStore,
        records: RecordStore,
        live: LiveView,
        live_known: Callable[[], bool],
        clock: Clock = utc_now,
    ) -> None:
        """``live_known``: the live builder's set of calls is complete now (AMI logged in
        and reconciled), so a quiet call it does not track is not up."""
        self.settings = settings
        self.path = path
        self._tail = LogTail(path)
        self._positions = positions
        self._records = records
        self._live = live
        self._live_known = live_known
        self._clock = clock
        self._calls: dict[str, _Call] = {}
        self._seeked = False
        self._saved: Position | None = None
        self._loop = Periodic("call-log", settings.poll_seconds, self.run_once, log)
        self.rebuilt = 0
        self.merged = 0
        self.left = 0  # settled with nothing to write
        self.passes = 0

    async def start(self) -> None:
        await self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        self._tail.close()

    def health(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "position": None if self._saved is None else self._saved.offset,
            "pending_calls": len(self._calls),
            "rebuilt": self.rebuilt,
            "merged": self.merged,
            "bad_lines": self._tail.bad_lines,
            "passes": self.passes,
        }

    async def run_once(self) -> None:
        """One pass: read, settle what is due, store the position."""
        if not self._seeked:
            stored = await self._positions.get(str(self.path))
            if stored is None and self.settings.first_start == "end":
                self._tail.seek_end()
            else:
                self._tail.seek(stored)
            self._seeked = True
            log.info("call log %s: following from %s", self.path, self._tail.position)
        for position, row in await asyncio.to_thread(self._tail.read):
            call = self._calls.setdefault(row.linkedid, _Call(position))
            call.rows.append(row)
            call.ended = call.ended or row.ends_call
        await self._settle()
        await self._store_position()
        if not self._calls and self.settings.rotate_bytes:
            self._tail.rotate(self.settings.rotate_bytes, self.settings.keep_files)
        self.passes += 1

    def _due(self) -> list[str]:
        """Calls the log is done with and the live side is not: oldest first."""
        if not self._live.caught_up:
            return []
        now = self._clock().timestamp()
        tracked = self._live.tracking()
        quiet_known = self._live_known()
        due = []
        for linkedid, call in self._calls.items():
            if linkedid in tracked:
                continue
            waited = now - call.last_at
            if call.ended and waited >= self.settings.settle_seconds:
                due.append(linkedid)
            elif not call.ended and quiet_known and waited >= self.settings.idle_seconds:
                due.append(linkedid)  # Asterisk stopped mid-call: this is all there is
        return due

    async def _settle(self) -> None:
        due = self._due()
        for start in range(0, len(due), BATCH):
            batch = due[start : start + BATCH]
            try:
                stored = await self._records.get_many(batch)
                for linkedid in batch:
                    await self._account(linkedid, stored.get(linkedid))
            except DatabaseError as exc:
                log.warning("call log: database unavailable (%s); settled on the next pass", exc)
                return

    async def _account(self, linkedid: str, stored: CallRecord | None) -> None:
        call = self._calls[linkedid]
        if stored is None and self._too_old(call):
            log.info("call %s: older than call_log.backfill_hours, not rebuilt", linkedid)
            del self._calls[linkedid]
            return
        timelines: dict[str, list[TimelineEntry]] = {}
        if merges(stored):  # a call seen whole live needs no second look at its timeline
            timelines[linkedid] = await self._records.timeline(linkedid)
        write = resolve(linkedid, call.rows, stored, timelines)
        if write is not None:
            await self._write(write, merged=stored is not None)
        else:
            self.left += 1
        del self._calls[linkedid]

    def _too_old(self, call: _Call) -> bool:
        cutoff = self._clock() - timedelta(hours=self.settings.backfill_hours)
        return call.rows[0].time < cutoff

    async def _write(self, write: Rebuilt, *, merged: bool) -> None:
        record = write.record
        await self._records.save(record, write.entries)
        if merged:
            self.merged += 1
        else:
            self.rebuilt += 1
        log.info(
            "call %s: %s from the call log (%s, %s)",
            record.linkedid,
            "completed" if merged else "rebuilt",
            record.disposition,
            _span(record.started_at, record.ended_at),
        )

    async def _store_position(self) -> None:
        """The first line of the oldest unsettled call, or the end of what was read."""
        position = next((call.first for call in self._calls.values()), self._tail.position)
        if position == self._saved:
            return  # (an empty file_id: the file Asterisk has yet to create, from its start)
        try:
            await self._positions.put(str(self.path), position)
        except DatabaseError as exc:
            log.warning("call log: position not stored yet (%s)", exc)
            return
        self._saved = position


def _span(start: datetime, end: datetime | None) -> str:
    if end is None:
        return "no end"
    return f"{(end - start).total_seconds():.1f} s"
