"""After a recorded call: its file's size and length onto the record, or why it failed;
and the retention cleanup.

Both run as background passes over the database (``call_recordings``), so a service that
was down looks at the recordings of the calls it missed when it comes back, and a file is
judged only once Asterisk has had time to close it (``check_after_seconds``).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from hotline.callrecord import Direction
from hotline.record_fields import Clock, utc_now
from hotline.recordings.config import RecordingSettings
from hotline.recordings.files import (
    Outcome,
    RecordingStatus,
    expired_days,
    judge,
    probe_folder,
    recording_path,
)
from hotline.recordings.store import Due, RecordingStore

__all__ = ["RecordingSweeper"]

log = logging.getLogger(__name__)

_ORPHAN_MARGIN = timedelta(days=2)  # day folders are named in Asterisk's local time


class RecordingSweeper:
    def __init__(
        self,
        settings: RecordingSettings,
        folder: Path,
        store: RecordingStore,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.folder = folder
        self._store = store
        self._clock = clock
        self.statuses: Counter[str] = Counter()  # looked-at recordings by status
        self.failures: Counter[str] = Counter()  # failed or partial ones by reason
        self.deleted = 0
        self.folder_problem = ""  # why recordings cannot be written now, '' when they can

    async def check_folder(self) -> str:
        """Whether recordings can be written; an error line when they cannot."""
        problem = await asyncio.to_thread(probe_folder, self.folder)
        if problem and problem != self.folder_problem:
            log.error("recordings: %s; calls go on unrecorded", problem)
        elif not problem and self.folder_problem:
            log.info("recordings: %s is writable again", self.folder)
        self.folder_problem = problem
        return problem

    async def check(self) -> int:
        """One pass: look at the recordings of calls that ended; returns how many."""
        ended_before = self._clock() - timedelta(seconds=self.settings.check_after_seconds)
        due = await self._store.due(ended_before)
        if not due:
            return 0
        outcomes = await asyncio.to_thread(self._judge_all, due)
        await self._store.settle(outcomes)
        if any(outcome.status is not RecordingStatus.OK for _, outcome in outcomes):
            await self.check_folder()  # the gauge says so now, not at the next cleanup
        for (linkedid, outcome), item in zip(outcomes, due, strict=True):
            self.statuses[outcome.status.value] += 1
            if outcome.status is RecordingStatus.OK:
                log.info(
                    "call %s: recording %s, %.1f s, %d bytes",
                    linkedid,
                    item.file,
                    outcome.seconds,
                    outcome.bytes,
                )
                continue
            self.failures[outcome.reason] += 1
            log.warning(
                "call %s: recording %s %s: %s", linkedid, item.file, outcome.status, outcome.error
            )
        return len(due)

    def _judge_all(self, due: list[Due]) -> list[tuple[str, Outcome]]:
        return [
            (
                item.linkedid,
                judge(
                    self.folder,
                    item.file,
                    item.talk_seconds if item.direction is Direction.INBOUND else None,
                ),
            )
            for item in due
        ]

    async def cleanup(self) -> int:
        """Delete recordings past the retention; returns how many files went."""
        await self.check_folder()
        if not self.settings.retention_days:
            return 0
        now = self._clock()
        cutoff = now - timedelta(days=self.settings.retention_days)
        removed = 0
        while expired := await self._store.expired(cutoff):
            await asyncio.to_thread(self._remove, [file for _, file in expired])
            await self._store.mark_deleted([linkedid for linkedid, _ in expired], now)
            removed += len(expired)
        # files no row names (the database lost, a call never finished): by their day
        orphans = await asyncio.to_thread(
            expired_days, self.folder, (cutoff - _ORPHAN_MARGIN).date()
        )
        for day in orphans:
            await asyncio.to_thread(shutil.rmtree, day, True)
        if removed or orphans:
            log.info(
                "recordings: %d past %d days deleted, %d old day folders removed",
                removed,
                self.settings.retention_days,
                len(orphans),
            )
        self.deleted += removed
        return removed

    def _remove(self, files: list[str]) -> None:
        for name in files:
            path = recording_path(self.folder, name)
            if path is not None:
                try:
                    path.unlink(missing_ok=True)
                except OSError as exc:
                    log.warning("recordings: %s not deleted: %s", path, exc)

    def health(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "folder_problem": self.folder_problem,
            "statuses": dict(self.statuses),
            "failures": dict(self.failures),
            "deleted": self.deleted,
        }
