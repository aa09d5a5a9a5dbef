"""What the recorder needs from a call-record store (the repository, or a fake in tests)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hotline.callrecord import CallRecord, TimelineEntry

__all__ = ["CallRecordStore"]


class CallRecordStore(Protocol):
    async def save(self, record: CallRecord, entries: Sequence[TimelineEntry] = ()) -> None: ...

    async def save_many(
        self, updates: Sequence[tuple[CallRecord, Sequence[TimelineEntry]]]
    ) -> None: ...

    async def in_progress(self) -> list[CallRecord]: ...

    async def timeline(self, linkedid: str) -> list[TimelineEntry]: ...
