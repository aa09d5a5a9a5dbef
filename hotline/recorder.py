"""AMI events in, call records out: the builder at the front, the repository at the back.

The AMI reader must never block, so ``on_event`` only runs the pure builder and queues its
updates; one writer task saves them in order, a tick's worth in one transaction.
When the database fails, updates go to the durable spool (in order, behind anything
already spooled) and are replayed when it is back.
When the spool cannot take one either (a full disk, a folder gone read-only), updates are
held in memory, in order behind the spool, up to ``MAX_HELD``; an error is logged when that
starts and the health and metrics count them. Beyond ``MAX_HELD`` an update is lost: the
one outcome left when the database, the disk and the memory budget are all gone, counted
as ``records_lost`` and logged as an error every time.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence

from hotline.callrecord import CallRecord
from hotline.errors import DatabaseError
from hotline.live import LiveHub, call_payload
from hotline.metrics import Metrics
from hotline.records import CallRecordBuilder, RecordUpdate
from hotline.repository_protocol import CallRecordStore
from hotline.spool import RecordSpool

__all__ = ["MAX_HELD", "CallRecorder"]

log = logging.getLogger(__name__)

MAX_HELD = 50_000  # updates kept in memory while neither the database nor the disk takes them
#: The writer's tick: the updates of ``BATCH_SECONDS`` (at most ``MAX_BATCH``) go in one
#: transaction of three statements, not a transaction per update (the record writes were
#: the largest part of the service's busy samples at 200 calls, py-spy); a record reaches
#: the database at most a tick later than before.
BATCH_SECONDS = 0.05
MAX_BATCH = 500


class CallRecorder:
    """Feeds the builder and writes its updates, never losing one."""

    def __init__(
        self,
        builder: CallRecordBuilder,
        store: CallRecordStore,
        spool: RecordSpool,
        retry_seconds: float = 2.0,
        metrics: Metrics | None = None,
        live: LiveHub | None = None,
        batch_seconds: float = BATCH_SECONDS,
    ) -> None:
        self._batch_seconds = batch_seconds
        self._builder = builder
        self._metrics = metrics
        self._live = live
        self._store = store
        self._spool = spool
        self._retry_seconds = retry_seconds
        self._queue: asyncio.Queue[RecordUpdate] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._adopted = False
        self._writing = False  # an update taken from the queue is being written
        self._adopting = asyncio.Lock()
        self.written = 0
        self.spooled = 0
        self.lost = 0
        self._held: collections.deque[RecordUpdate] = collections.deque()
        self.reconciled = False  # the live calls were squared with Asterisk's at least once

    async def start(self) -> None:
        """Pick up calls left unfinished by a previous run, then start writing."""
        await self._drain_spool()
        await self._adopt_unfinished()
        self._task = asyncio.create_task(self._write_loop(), name="call-recorder")

    async def _adopt_unfinished(self) -> None:
        """Hand rows still ``in_progress`` (and their variables) to the builder.

        Retried at each AMI login and by the writer until the database answers and the
        spool is written, so such rows are always finished or continued, never shadowed
        by a fresh record of the same call."""
        async with self._adopting:
            await self._adopt_once()

    async def _adopt_once(self) -> None:
        if self._adopted:
            return
        if self._spool.path.exists() or self._held:
            log.info("unfinished calls are loaded once the spool is written")
            return  # the rows are not complete yet; the writer retries after draining
        try:
            unfinished: Sequence[CallRecord] = await self._store.in_progress()
            timelines = {r.linkedid: await self._store.timeline(r.linkedid) for r in unfinished}
        except DatabaseError as exc:
            log.error("cannot load unfinished calls yet (%s); retried until it answers", exc)
            return
        for update in self._builder.adopt_unfinished(unfinished, timelines):
            self._queue.put_nowait(update)
        self._adopted = True
        if unfinished:
            log.info("resuming %d unfinished call records", len(unfinished))

    async def stop(self) -> None:
        """Write everything queued (to the database or the spool), then stop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._held:  # a last chance for what no disk took
            try:
                await self._drain_spool()
            except Exception:
                log.exception("record writer: the last drain failed")
        if self._held:
            log.error(
                "%d record updates held in memory are lost with this stop (database down, "
                "spool full)",
                len(self._held),
            )

    def on_event(self, event: Mapping[str, str]) -> None:
        """AMI subscriber: pure work only, so the reader is never held up."""
        try:
            updates = self._builder.feed(event)
        except Exception:  # a builder bug must not take the AMI reader down
            log.exception("record builder failed on %s", event.get("Event"))
            return
        for update in updates:
            self._queue.put_nowait(update)
            if self._live is not None and self._live.clients:
                self._live.publish(
                    "call", call_payload(update.record, update.final, update.held_since)
                )

    def live_calls(self) -> list[dict[str, object]]:
        """The calls in progress, as the live feed describes them (its first snapshot)."""
        return [call_payload(record, False, held) for record, held in self._builder.live_records()]

    async def on_connected(self, live_channels: Sequence[Mapping[str, str]]) -> None:
        """After every AMI (re)login: finish calls that ended unseen, adopt unknown ones."""
        await self._adopt_unfinished()
        for update in self._builder.reconcile(live_channels):
            self._queue.put_nowait(update)
        self.reconciled = True

    @property
    def calls_in_progress(self) -> int:
        return len(self._builder.in_flight())

    @property
    def caught_up(self) -> bool:
        """Stored calls restored and every update written: the database holds all that was
        seen live (the call log compares itself with it only then)."""
        return self._adopted and not self._writing and self.backlog == 0

    def tracking(self) -> set[str]:
        """Linkedids of the calls the builder follows now."""
        return self._builder.in_flight()

    @property
    def backlog(self) -> int:
        """Updates not yet written anywhere plus those waiting in the spool or in memory."""
        return self._queue.qsize() + len(self._spool) + len(self._held)

    @property
    def held(self) -> int:
        """Updates kept in memory because the spool could not take them."""
        return len(self._held)

    async def flush(self) -> None:
        """Wait until every queued update has been written or spooled."""
        await self._queue.join()

    async def _save(self, update: RecordUpdate) -> None:
        started = time.perf_counter()
        await self._store.save(update.record, update.entries)
        self._count([update], started)
        log.debug("[%s] record saved (final=%s)", update.record.linkedid, update.final)

    def _count(self, updates: Sequence[RecordUpdate], started: float) -> None:
        """One write of these updates done: the counters and the metrics."""
        self.written += len(updates)
        if self._metrics is None:
            return
        self._metrics.record_written(time.perf_counter() - started)
        for update in updates:
            if update.final:
                record = update.record
                self._metrics.call_finished(record.direction.value, str(record.disposition))

    async def _drain_spool(self) -> bool:
        """True when the spool and the updates held in memory are all written."""
        if self._spool.path.exists():
            saved = await self._spool.drain(self._save)
            if saved:
                log.info("replayed %d spooled record updates", saved)
            if self._spool.path.exists():
                return False
        while self._held:
            try:
                await self._save(self._held[0])
            except DatabaseError:
                return False
            self._held.popleft()
            if not self._held:
                log.info("the record updates held in memory are all written")
        return True

    async def _save_batch(self, updates: Sequence[RecordUpdate]) -> None:
        """What the queue held, in one transaction; an update the repository refuses as
        invalid (a builder bug) is dropped alone, the others saved one by one."""
        started = time.perf_counter()
        try:
            await self._store.save_many([(u.record, u.entries) for u in updates])
        except ValueError:
            log.exception(
                "a batch of %d record updates was refused; saving one by one", len(updates)
            )
            for update in updates:
                try:
                    await self._save(update)
                except ValueError:
                    log.exception("[%s] record update refused", update.record.linkedid)
            return
        self._count(updates, started)

    async def _write_batch(self, updates: Sequence[RecordUpdate]) -> None:
        if await self._drain_spool():
            try:
                await self._save_batch(updates)
            except DatabaseError as exc:
                log.warning("database unavailable (%s); spooling %d updates", exc, len(updates))
            else:
                await self._restore_if_due()
                return
        for update in updates:  # in order, behind the spool and what is held already
            if not self._held and self._spool.append(update):
                self.spooled += 1
            else:
                self._hold(update)

    def _hold(self, update: RecordUpdate) -> None:
        if len(self._held) >= MAX_HELD:
            self.lost += 1
            log.error(
                "[%s] record update LOST: the database is down, the spool is full and %d "
                "updates are held in memory already (%d lost so far)",
                update.record.linkedid,
                MAX_HELD,
                self.lost,
            )
            return
        if not self._held:
            log.error(
                "the spool %s takes no more updates (disk full or not writable); holding "
                "them in memory until the database is back (at most %d)",
                self._spool.path,
                MAX_HELD,
            )
        self._held.append(update)

    async def _restore_if_due(self) -> None:
        """Load the stored calls once the database answers; a bug here never stops writing."""
        if self._adopted:
            return
        try:
            await self._adopt_unfinished()
        except Exception:
            log.exception("restoring unfinished calls failed; retried later")

    async def _gather(self, first: RecordUpdate) -> list[RecordUpdate]:
        """``first`` and what arrives within ``batch_seconds`` of it (at most ``MAX_BATCH``):
        one transaction for the tick, not one per AMI event. One sleep for the batch: a
        ``wait_for`` per update cost a task and a timer each, under load."""
        if self._queue.qsize() < MAX_BATCH - 1:  # a backlog is written at once
            await asyncio.sleep(self._batch_seconds)
        batch = [first]
        while len(batch) < MAX_BATCH and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _write_loop(self) -> None:
        while True:
            try:
                update = await asyncio.wait_for(self._queue.get(), self._retry_seconds)
            except TimeoutError:
                try:
                    if await self._drain_spool():
                        await self._restore_if_due()
                except Exception:  # the writer must outlive any bug here
                    log.exception("record writer: spool drain failed")
                continue
            self._writing = True
            batch = await self._gather(update)
            try:
                await self._write_batch(batch)
            except Exception:  # spool disk failure: log loudly, keep serving
                log.exception("%d record updates could not be stored", len(batch))
            finally:
                self._writing = False
                for _ in batch:
                    self._queue.task_done()
