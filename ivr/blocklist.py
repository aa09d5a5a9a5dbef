"""The blocklist: nuisance or abusive callers hear a warning line and the call ends.

Numbers come from two places: ``ivr.blocklist`` in the settings (synced into the table as
``source=config`` at start, and checked from memory too, so they block even while the
database is down) and the table itself, filled over the API and the CLI. Every number is
stored in its canonical form (``ivr.numbers``), so ``13800138000`` and ``+8613800138000``
are one entry. Entries from the settings can only be removed in the settings.

The service answers ``is_blocked`` from memory: the table's numbers are read again when the
copy is older than ``refresh_seconds``, in the background (the stale copy answers
meanwhile), and this process's own edits (the API) apply to the copy at once. So a number
blocked over the CLI takes effect a refresh period later, no caller waits on a query (the
very first read aside), and while the database is down or hung the numbers last read keep
blocking.
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
READ_TIMEOUT_SECONDS = 5.0  # a refresh slower than this keeps the copy


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
        read_timeout: float = READ_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._config = frozenset(canonical_number(number) for number in config_numbers)
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._known: set[str] | None = None  # the table's numbers as last read
        self._read_at = -math.inf
        self._reading: asyncio.Lock | None = None
        self._edited: dict[str, bool] | None = None  # edits during a read: number → blocked
        self._refreshing: asyncio.Task[None] | None = None
        self._read_timeout = read_timeout

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
        """The copy; a stale one is answered at once and read again in the background, so
        a slow or hung database never holds a caller up (only the very first read does)."""
        if self._known is None:
            await self.refresh()
            if self._known is None:
                raise DatabaseError("blocklist: the table could not be read")
        elif self._clock() - self._read_at >= self._refresh_seconds and (
            self._refreshing is None or self._refreshing.done()
        ):
            self._refreshing = asyncio.create_task(self._refresh_in_background())
        return self._known

    async def refresh(self) -> None:
        """Read the table again (one read at a time; callers arriving meanwhile share it).

        DatabaseError when there is no copy yet; with one, a failure or a read slower than
        ``read_timeout`` keeps it (logged) and the next try is a refresh period later."""
        if self._reading is None:
            self._reading = asyncio.Lock()
        async with self._reading:
            if self._known is not None and self._clock() - self._read_at < self._refresh_seconds:
                return  # read by the caller before us
            started, self._edited = self._clock(), {}
            try:
                async with asyncio.timeout(self._read_timeout):
                    async with transaction(self._sessions, "blocklist read") as session:
                        rows = await session.scalars(select(BlocklistRow.number))
                        numbers = set(rows.all())
            except (DatabaseError, TimeoutError) as exc:
                self._read_at = self._clock()
                reason = exc or f"no answer within {self._read_timeout} s"
                if self._known is None:
                    raise DatabaseError(f"blocklist read: {reason}") from exc
                logger.warning("blocklist: kept the numbers last read, database: %s", reason)
                return
            finally:
                edited, self._edited = self._edited, None
            for number, blocked in edited.items():  # this process's edits during the read
                (numbers.add if blocked else numbers.discard)(number)
            self._known, self._read_at = numbers, started

    async def _refresh_in_background(self) -> None:
        try:
            await self.refresh()
        except Exception:  # a stale copy is better than none: keep it, say why
            logger.exception("blocklist: refresh failed")

    async def settle(self) -> None:
        """Wait for a background refresh in progress (tests)."""
        if self._refreshing is not None:
            await asyncio.gather(self._refreshing, return_exceptions=True)

    async def close(self) -> None:
        """Stop a background refresh in progress (service shutdown)."""
        if self._refreshing is not None and not self._refreshing.done():
            self._refreshing.cancel()
            await asyncio.gather(self._refreshing, return_exceptions=True)

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
        self._edit(canonical, blocked=True)
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
        self._edit(canonical, blocked=False)
        logger.info("blocklist: %s removed", canonical)
        return True

    def _edit(self, number: str, *, blocked: bool) -> None:
        """This process's own edit: in the copy at once, and in a read now under way."""
        if self._edited is not None:
            self._edited[number] = blocked
        if self._known is not None:
            (self._known.add if blocked else self._known.discard)(number)

    async def entries(self) -> list[BlockEntry]:
        """Every blocked number, newest first."""
        query = select(BlocklistRow).order_by(BlocklistRow.added_at.desc(), BlocklistRow.number)
        async with transaction(self._sessions, "blocklist list") as session:
            return [_entry(row) for row in (await session.scalars(query)).all()]
