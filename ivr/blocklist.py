"""The blocklist: nuisance or abusive callers hear a warning line and the call ends.

Numbers come from two places: ``ivr.blocklist`` in the settings (synced into the table as
``source=config`` at start, and checked from memory too, so they block even while the
database is down) and the table itself, filled over the API and the CLI. Every number is
stored in its canonical form (``ivr.numbers``), so ``13800138000`` and ``+8613800138000``
are one entry. Entries from the settings can only be removed in the settings.

The service answers ``is_blocked`` from memory: the table's numbers are read again when the
copy is older than ``refresh_seconds`` (one read shared by the callers asking meanwhile),
and this process's own edits (the API) apply to the copy at once. So a number blocked over
the CLI takes effect within that time, no caller waits on a query of their own, and while
the database is down the numbers last read keep blocking.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select

from hotline.db.models_inbound import BlocklistRow, BlockSource
from hotline.db.transaction import Sessions, dialect_insert, transaction
from hotline.errors import DatabaseError, HotlineError
from ivr.numbers import canonical_number

__all__ = ["BlockEntry", "BlockSource", "Blocklist", "ConfigEntryError"]

logger = logging.getLogger(__name__)

CONFIG_REASON = "ivr.blocklist in the settings"
REFRESH_SECONDS = 2.0  # how stale the in-memory copy of the table may be


class ConfigEntryError(HotlineError):
    """The entry comes from ``ivr.blocklist``; change the settings instead."""


@dataclass(frozen=True)
class BlockEntry:
    number: str
    reason: str
    source: BlockSource
    added_at: datetime


def _entry(row: BlocklistRow) -> BlockEntry:
    return BlockEntry(row.number, row.reason, row.source, row.added_at)


class Blocklist:
    """Checks and edits the blocklist; edits raise DatabaseError on failure."""

    def __init__(
        self,
        sessions: Sessions,
        config_numbers: Iterable[str] = (),
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._config = frozenset(canonical_number(number) for number in config_numbers)
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._known: set[str] | None = None  # the table's numbers as last read
        self._read_at = -math.inf
        self._reading: asyncio.Lock | None = None
        self._edits = 0  # this process's edits: a read begun before one is not fresh

    async def is_blocked(self, number: str) -> bool:
        """Whether calls from this number are refused (an empty number never is).

        DatabaseError only when the table could never be read; afterwards a failed
        refresh keeps the numbers last read (logged)."""
        if not number:
            return False
        canonical = canonical_number(number)
        if canonical in self._config:
            return True
        return canonical in await self._numbers()

    async def _numbers(self) -> set[str]:
        if self._known is not None and self._clock() - self._read_at < self._refresh_seconds:
            return self._known
        if self._reading is None:
            self._reading = asyncio.Lock()
        async with self._reading:  # callers arriving meanwhile share this read
            if self._known is not None and self._clock() - self._read_at < self._refresh_seconds:
                return self._known
            started, edits = self._clock(), self._edits
            try:
                async with transaction(self._sessions, "blocklist read") as session:
                    numbers = set((await session.scalars(select(BlocklistRow.number))).all())
            except DatabaseError as exc:
                if self._known is None:
                    raise
                logger.warning("blocklist: kept the numbers last read, database: %s", exc)
                self._read_at = started  # try again after another refresh period
                return self._known
            self._known = numbers
            self._read_at = started if edits == self._edits else -math.inf  # else: read again
            return numbers

    async def sync_config(self) -> None:
        """Make the table's ``config`` rows exactly the settings' numbers."""
        now = datetime.now(UTC)
        async with transaction(self._sessions, "blocklist sync") as session:
            await session.execute(
                delete(BlocklistRow).where(
                    BlocklistRow.source == BlockSource.CONFIG,
                    BlocklistRow.number.not_in(sorted(self._config)),
                )
            )
            if self._config:
                rows = [
                    {
                        "number": number,
                        "reason": CONFIG_REASON,
                        "source": BlockSource.CONFIG,
                        "added_at": now,
                    }
                    for number in sorted(self._config)
                ]
                insert = dialect_insert(session)(BlocklistRow)
                await session.execute(insert.on_conflict_do_nothing(), rows)
        logger.info("blocklist: %s numbers from the settings", len(self._config))

    async def add(self, number: str, reason: str, source: BlockSource) -> tuple[BlockEntry, bool]:
        """Block a number; the entry and whether it is new (an existing one keeps its data)."""
        canonical = canonical_number(number)
        async with transaction(self._sessions, "blocklist add") as session:
            insert = dialect_insert(session)(BlocklistRow).values(
                number=canonical, reason=reason, source=source, added_at=datetime.now(UTC)
            )
            created = (
                await session.execute(
                    insert.on_conflict_do_nothing().returning(BlocklistRow.number)
                )
            ).scalar_one_or_none() is not None
            row = await session.get(BlocklistRow, canonical, populate_existing=True)
            assert row is not None  # inserted or already there, in this transaction
            entry = _entry(row)
        self._edits += 1
        if self._known is not None:
            self._known.add(canonical)
        logger.info("blocklist: %s %s by %s", canonical, "added" if created else "kept", source)
        return entry, created

    async def remove(self, number: str) -> bool:
        """Unblock a number; False if it was not blocked. ConfigEntryError for settings rows."""
        canonical = canonical_number(number)
        async with transaction(self._sessions, "blocklist remove") as session:
            row = await session.get(BlocklistRow, canonical)
            if row is None:
                return False
            if row.source is BlockSource.CONFIG:
                raise ConfigEntryError(
                    f"{canonical} is blocked by ivr.blocklist in the settings; remove it there"
                )
            await session.delete(row)
        self._edits += 1
        if self._known is not None:
            self._known.discard(canonical)
        logger.info("blocklist: %s removed", canonical)
        return True

    async def entries(self) -> list[BlockEntry]:
        """Every blocked number, newest first."""
        query = select(BlocklistRow).order_by(BlocklistRow.added_at.desc(), BlocklistRow.number)
        async with transaction(self._sessions, "blocklist list") as session:
            return [_entry(row) for row in (await session.scalars(query)).all()]
