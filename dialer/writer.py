"""Writes the engine's answers and final dispositions, batched, never dropping one.

AMI callbacks must not block (Asterisk drops a slow reader), so the engine only queues
changes; this task writes everything queued in one transaction and, if the database is
down, keeps the batch and tries again with back-off. ``DialerRepository.apply`` is
idempotent, so a batch that was committed but whose acknowledgement was lost is harmless
to write again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from dialer.repository import Answered, DialerRepository, Finished
from hotline.errors import DatabaseError

__all__ = ["ChangeWriter"]

log = logging.getLogger(__name__)

Change = Answered | Finished


class ChangeWriter:
    def __init__(self, repo: DialerRepository, clock: Callable[[], datetime]) -> None:
        self._repo = repo
        self._clock = clock
        self._queue: list[Change] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.failures = 0

    def put(self, changes: Iterable[Change]) -> None:
        batch = list(changes)
        if batch:
            self._queue.extend(batch)
            self._idle.clear()
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="dialer-writer")

    async def drain(self, within: float = 10.0) -> None:
        """Until everything queued is written (or ``within`` s passed)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), within)

    async def stop(self) -> None:
        await self.drain()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._queue:
            log.warning("dialer: %d change(s) not written at stop", len(self._queue))

    async def _run(self) -> None:
        delay = 0.2
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    await self._repo.apply(batch, self._clock())
                except DatabaseError as exc:
                    self.failures += 1
                    self._queue = batch + self._queue
                    log.warning("dialer: writing %d change(s) failed (%s)", len(batch), exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                except Exception:
                    self._queue = batch + self._queue
                    log.exception("dialer: writing changes failed")
                    await asyncio.sleep(delay)
                    continue
                delay = 0.2
                self.written += len(batch)
            self._idle.set()
