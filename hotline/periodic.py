"""A background pass run every few seconds until stopped (the campaign flows' loops).

A pass that fails is logged (a database outage as a warning, anything else with its
traceback) and the next one runs on time: a loop that keeps promises must not die.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from hotline.errors import DatabaseError

__all__ = ["Periodic"]


class Periodic:
    def __init__(
        self,
        name: str,
        seconds: float,
        work: Callable[[], Awaitable[None]],
        log: logging.Logger,
    ) -> None:
        self.name = name
        self.seconds = seconds
        self._work = work
        self._log = log
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self._work()
            except DatabaseError as exc:
                self._log.warning("%s: pass skipped, database: %s", self.name, exc)
            except Exception:
                self._log.exception("%s: pass failed", self.name)
            await asyncio.sleep(self.seconds)
