"""The record spool and the recorder: nothing lost, nothing reordered, across database outages.

The recorder runs a real ``CallRecordBuilder`` on AMI event dicts shaped like Asterisk 22's;
the store is a fake that fails with ``DatabaseError`` while ``down``, except in the last
test, which goes from events to a row through the real repository on both databases.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from hotline.callrecord import CallRecord, Direction, Disposition, TimelineEntry
from hotline.db import CallRecordRepository, create_engine, session_factory, upgrade
from hotline.errors import DatabaseError
from hotline.metrics import Metrics
from hotline.recorder import CallRecorder
from hotline.records import CallRecordBuilder, RecordUpdate
from hotline.repository_protocol import CallRecordStore
from hotline.spool import RecordSpool, decode_update, encode_update

EPOCH = 1_700_000_000.0
T0 = datetime.fromtimestamp(EPOCH, UTC)
NOW = T0 + timedelta(hours=1)
Event = dict[str, str]
Saved = tuple[CallRecord, tuple[TimelineEntry, ...]]


def clock() -> datetime:
    return NOW


def event(name: str, linkedid: str, seconds: float, **headers: str) -> Event:
    """One AMI event of the call's first channel (uniqueid = linkedid), with its snapshot."""
    number = linkedid.rsplit(".", 1)[-1]
    return {
        "Event": name,
        "Privilege": "call,all",
        "Timestamp": f"{EPOCH + seconds:.6f}",
        "Channel": f"PJSIP/carrier-{int(number):08x}",
        "ChannelState": "4",
        "ChannelStateDesc": "Ring",
        "CallerIDNum": "+8613800138000",
        "CallerIDName": "张三",
        "Exten": "95007",
        "Context": "from-carrier",
        "Uniqueid": linkedid,
        "Linkedid": linkedid,
        **headers,
    }


def call_start(linkedid: str, t: float) -> list[Event]:
    """Newchannel, then answered: two updates (first seen, answered)."""
    return [
        event("Newchannel", linkedid, t),
        event("VarSet", linkedid, t + 0.1, Variable="HOTLINE_FLOW", Value="hotline"),
        event("Newstate", linkedid, t + 5, ChannelState="6", ChannelStateDesc="Up"),
    ]


def call_end(linkedid: str, t: float) -> list[Event]:
    """The caller hangs up: the final update."""
    up = {"ChannelState": "6", "ChannelStateDesc": "Up"}
    return [event("Hangup", linkedid, t, Cause="16", **{"Cause-txt": "Normal Clearing"}, **up)]


def expected(events: Iterable[Event], builder: CallRecordBuilder | None = None) -> list[Saved]:
    """What an identical builder emits for the same events: the saves to expect, in order."""
    builder = builder or CallRecordBuilder(clock)
    return [(u.record, u.entries) for e in events for u in builder.feed(e)]


class FakeStore:
    """A ``CallRecordStore`` that keeps every save in order and upserts rows by linkedid."""

    def __init__(self, unfinished: Sequence[CallRecord] = ()) -> None:
        self.down = False
        self.saves_before_failing: int | None = None  # fail after this many more saves
        self.saved: list[Saved] = []
        self.rows: dict[str, CallRecord] = {r.linkedid: r for r in unfinished}
        self.failed = 0
        self.batches: list[int] = []  # the size of each save_many

    async def save(self, record: CallRecord, entries: Sequence[TimelineEntry] = ()) -> None:
        if self.saves_before_failing is not None:
            if self.saves_before_failing == 0:
                self.down = True
            self.saves_before_failing -= 1
        if self.down:
            self.failed += 1
            raise DatabaseError("database save failed: connection refused")
        self.saved.append((replace(record), tuple(entries)))
        self.rows[record.linkedid] = replace(record)

    async def save_many(
        self, updates: Sequence[tuple[CallRecord, Sequence[TimelineEntry]]]
    ) -> None:
        """All or nothing, like the repository's one transaction."""
        self.batches.append(len(updates))
        saved, rows = list(self.saved), dict(self.rows)
        try:
            for record, entries in updates:
                await self.save(record, entries)
        except DatabaseError:
            self.saved, self.rows = saved, rows
            raise

    async def in_progress(self) -> list[CallRecord]:
        if self.down:
            raise DatabaseError("database in_progress failed: connection refused")
        return [r for r in self.rows.values() if r.ended_at is None]

    async def timeline(self, linkedid: str) -> list[TimelineEntry]:
        if self.down:
            raise DatabaseError("database timeline failed: connection refused")
        return [e for _, entries in self.saved for e in entries if e.linkedid == linkedid]


def _store_conforms(store: FakeStore) -> CallRecordStore:
    return store  # mypy checks that the fake has the repository's shape


def spooled(spool: RecordSpool) -> list[Saved]:
    return [(u.record, u.entries) for u in spool.pending()]


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"still false after {seconds} s")


@pytest.fixture
def spool(tmp_path: Path) -> RecordSpool:
    return RecordSpool(tmp_path / "spool")


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
async def recorder(store: FakeStore, spool: RecordSpool) -> AsyncIterator[CallRecorder]:
    """A started recorder whose writer only drains the spool when an update arrives."""
    recorder = CallRecorder(CallRecordBuilder(clock), store, spool, retry_seconds=3600)
    await recorder.start()
    yield recorder
    await recorder.stop()


def feed(recorder: CallRecorder, events: Iterable[Event]) -> None:
    for e in events:
        recorder.on_event(e)


# encode / decode


def full_update() -> RecordUpdate:
    cst = timezone(timedelta(hours=8))
    record = CallRecord(
        linkedid="1700000000.42",
        direction=Direction.OUTBOUND,
        started_at=datetime(2024, 11, 23, 8, 30, 0, 123456, tzinfo=UTC),
        caller="+8613800138000",
        caller_name="张三 (home)",
        called="13900139000",
        did="95007",
        channel="PJSIP/carrier-0000002a",
        answered_at=datetime(2024, 11, 23, 16, 30, 6, tzinfo=cst),
        ended_at=datetime(2024, 11, 23, 8, 31, 0, 1, tzinfo=UTC),
        disposition=Disposition.NO_INPUT,
        hangup_cause=16,
        hangup_cause_text="Normal Clearing",
        sip_call_id="abc-123@carrier",
        flow="survey",
        end_estimated=True,
        last_seq=7,
    )
    entries = (
        TimelineEntry(
            "1700000000.42",
            6,
            datetime(2024, 11, 23, 16, 30, 5, 999999, tzinfo=cst),
            "var",
            "PJSIP/carrier-0000002a",
            {"name": "HOTLINE_INPUT", "value": "您好", "n": 3, "ok": True, "none": None},
        ),
        TimelineEntry(
            "1700000000.42",
            7,
            datetime(2024, 11, 23, 8, 31, 0, 1, tzinfo=UTC),
            "reconciled",
            detail={"nested": {"list": [1, "two", 3.5]}, "reason": "gone"},
        ),
    )
    return RecordUpdate(record, entries, final=True)


def test_encode_decode_round_trip_keeps_every_field() -> None:
    update = full_update()
    line = encode_update(update)
    assert "\n" not in line
    back = decode_update(line)
    assert back == update
    assert back.record.direction is Direction.OUTBOUND
    assert back.record.disposition is Disposition.NO_INPUT
    assert back.record.answered_at is not None and update.record.answered_at is not None
    assert back.record.answered_at.utcoffset() == timedelta(hours=8)  # offset kept, not just UTC
    assert back.entries[0].at.utcoffset() == timedelta(hours=8)
    assert back.entries[1].detail == {"nested": {"list": [1, "two", 3.5]}, "reason": "gone"}


def test_round_trip_of_an_unfinished_update_keeps_none_times() -> None:
    record = CallRecord("1700000000.1", Direction.INBOUND, T0)
    update = RecordUpdate(record, (), final=False)
    back = decode_update(encode_update(update))
    assert back == update
    assert back.record.answered_at is None and back.record.ended_at is None
    assert back.final is False


def test_round_trip_of_builder_output() -> None:
    builder = CallRecordBuilder(clock)
    events = [*call_start("1700000000.7", 0), *call_end("1700000000.7", 40)]
    updates = [u for e in events for u in builder.feed(e)]
    assert [decode_update(encode_update(u)) for u in updates] == updates


# the spool on its own


def plain(count: int) -> list[RecordUpdate]:
    """Minimal updates of calls 1.0, 1.1, ..."""
    return [
        RecordUpdate(CallRecord(f"1.{n}", Direction.INBOUND, T0), (), False) for n in range(count)
    ]


async def test_drain_saves_in_order_and_removes_the_file(spool: RecordSpool) -> None:
    updates = plain(5)
    for update in updates:
        spool.append(update)
    assert len(spool) == 5
    saved: list[RecordUpdate] = []

    async def save(update: RecordUpdate) -> None:
        saved.append(update)

    assert await spool.drain(save) == 5
    assert saved == updates
    assert not spool.path.exists() and len(spool) == 0


async def test_drain_stops_at_the_first_failure_and_keeps_the_rest(spool: RecordSpool) -> None:
    updates = plain(5)
    for update in updates:
        spool.append(update)
    saved: list[RecordUpdate] = []

    async def save(update: RecordUpdate) -> None:
        if len(saved) == 2:
            raise DatabaseError("down")
        saved.append(update)

    assert await spool.drain(save) == 2
    assert saved == updates[:2]
    assert spool.pending() == updates[2:] and len(spool) == 3
    assert await spool.drain(save) == 0  # still down: nothing saved twice, nothing lost
    assert spool.pending() == updates[2:]


async def test_unreadable_line_goes_to_records_bad(spool: RecordSpool) -> None:
    good = plain(2)
    spool.append(good[0])
    garbage = ['{"record": {"linkedid": "x"', '{"no": "record"}', "not json at all"]
    with spool.path.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(garbage) + "\n")
    spool.append(good[1])
    saved: list[RecordUpdate] = []

    async def save(update: RecordUpdate) -> None:
        saved.append(update)

    assert await spool.drain(save) == 2
    assert saved == good
    assert not spool.path.exists()
    bad = spool.path.with_name("records.bad")
    assert bad.read_text(encoding="utf-8").splitlines() == garbage


async def test_a_partial_drain_rewrites_nothing_and_stores_its_offset_safely(
    spool: RecordSpool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spool is only appended to (a drain needs no free space); the offset of what was
    written is fsynced before it replaces the old one."""
    for update in plain(3):
        spool.append(update)
    before = spool.path.read_bytes()
    synced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    def replace_file(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        assert str(src) in synced, f"{src} renamed over {dst} without fsync"
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace_file)

    async def save(update: RecordUpdate) -> None:
        if update.record.linkedid == "1.1":
            raise DatabaseError("down")

    assert await spool.drain(save) == 1
    assert len(spool) == 2 and spool.path.read_bytes() == before
    assert [u.record.linkedid for u in RecordSpool(spool.path.parent).pending()] == ["1.1", "1.2"]


async def test_outage_appends_and_never_rewrites(spool: RecordSpool, tmp_path: Path) -> None:
    """2,000 updates during an outage: each is one append (it was a rewrite each, 9.2 s)."""
    store = FakeStore()
    store.down = True
    recorder = CallRecorder(CallRecordBuilder(clock), store, spool, retry_seconds=3600)
    await recorder.start()
    try:
        started = asyncio.get_running_loop().time()
        for number in range(1000):
            feed(recorder, call_start(f"1700000000.{number + 1}", number))
        await recorder.flush()
        took = asyncio.get_running_loop().time() - started
    finally:
        await recorder.stop()
    assert len(spool) == 2000 and recorder.spooled == 2000
    assert took < 5, took


async def test_a_crash_mid_append_leaves_a_half_line_the_next_append_cuts_off(
    spool: RecordSpool,
) -> None:
    first, second = plain(2)
    spool.append(first)
    with spool.path.open("ab") as handle:
        handle.write(b'{"record": {"linkedid": "half')  # the process died here
    assert RecordSpool(spool.path.parent).pending() == [first]  # not a line yet
    again = RecordSpool(spool.path.parent)
    assert again.append(second)
    assert again.pending() == [first, second]


# the recorder


async def test_outage_spools_in_order_and_recovery_drains_before_newer_updates(
    recorder: CallRecorder, store: FakeStore, spool: RecordSpool
) -> None:
    a, b = "1700000000.1", "1700000000.2"
    during = [*call_start(a, 0), *call_end(a, 30), *call_start(b, 31)]
    after = call_end(b, 60)
    want_during = expected(during, builder := CallRecordBuilder(clock))
    want_after = expected(after, builder)
    assert len(want_during) == 5 and len(want_after) == 1

    store.down = True
    feed(recorder, during)
    await recorder.flush()
    assert store.saved == []
    assert spooled(spool) == want_during
    assert recorder.spooled == 5 and recorder.backlog == 5

    store.down = False
    feed(recorder, after)
    await recorder.flush()
    assert store.saved == want_during + want_after  # the spool first, in order, then the new one
    assert not spool.path.exists()
    assert recorder.written == 6 and recorder.backlog == 0
    assert store.rows[a].disposition is Disposition.ANSWERED
    assert store.rows[b].ended_at == T0 + timedelta(seconds=60)


async def test_interrupted_drain_keeps_order_and_new_updates_queue_behind(
    recorder: CallRecorder, store: FakeStore, spool: RecordSpool
) -> None:
    a, b = "1700000000.1", "1700000000.2"
    builder = CallRecordBuilder(clock)
    first = [*call_start(a, 0), *call_start(b, 1)]
    second = call_end(a, 20)
    third = call_end(b, 30)
    want = expected(first, builder), expected(second, builder), expected(third, builder)

    store.down = True
    feed(recorder, first)
    await recorder.flush()
    assert spooled(spool) == want[0]

    store.down, store.saves_before_failing = False, 2  # back for two saves, then down again
    feed(recorder, second)
    await recorder.flush()
    assert store.saved == want[0][:2]
    assert spooled(spool) == want[0][2:] + want[1]  # the new update waits behind the rest

    store.down, store.saves_before_failing = False, None
    feed(recorder, third)
    await recorder.flush()
    assert store.saved == want[0] + want[1] + want[2]
    assert not spool.path.exists()


async def test_an_older_update_never_overwrites_a_newer_one(
    recorder: CallRecorder, store: FakeStore
) -> None:
    linkedid = "1700000000.3"
    store.down = True
    feed(recorder, call_start(linkedid, 0))  # in progress, spooled
    await recorder.flush()
    store.down = False
    feed(recorder, call_end(linkedid, 40))  # final, must land last
    await recorder.flush()
    row = store.rows[linkedid]
    assert row.disposition is Disposition.ANSWERED
    assert row.ended_at == T0 + timedelta(seconds=40)
    assert [record.ended_at is not None for record, _ in store.saved] == [False, False, True]


async def test_writer_drains_the_spool_by_itself_once_the_database_is_back(
    store: FakeStore, spool: RecordSpool
) -> None:
    recorder = CallRecorder(CallRecordBuilder(clock), store, spool, retry_seconds=0.02)
    await recorder.start()
    try:
        events = [*call_start("1700000000.4", 0), *call_end("1700000000.4", 9)]
        store.down = True
        feed(recorder, events)
        await recorder.flush()
        assert len(spool) == 3
        store.down = False
        await wait_until(lambda: not spool.path.exists())
        assert store.saved == expected(events)
    finally:
        await recorder.stop()


async def test_start_replays_a_spool_left_by_a_previous_run(
    store: FakeStore, spool: RecordSpool
) -> None:
    left = "1700000000.5"
    earlier = [*call_start(left, 0), *call_end(left, 12), *call_start("1700000000.6", 13)]
    previous = CallRecordBuilder(clock)
    for update in (u for e in earlier for u in previous.feed(e)):
        spool.append(update)
    builder = CallRecordBuilder(clock)
    recorder = CallRecorder(builder, store, spool, retry_seconds=3600)
    await recorder.start()
    try:
        assert store.saved == expected(earlier)
        assert not spool.path.exists()
        # the replayed, still unfinished call is adopted: the spool is drained before in_progress()
        assert builder.in_flight() == {"1700000000.6"}
    finally:
        await recorder.stop()


async def test_start_adopts_unfinished_rows_and_reconcile_finishes_them(spool: RecordSpool) -> None:
    unfinished = CallRecord(
        "1699999000.9", Direction.INBOUND, T0, channel="PJSIP/carrier-00000009", last_seq=4
    )
    done = replace(unfinished, linkedid="1699999000.8", ended_at=T0 + timedelta(seconds=5))
    store = FakeStore([unfinished, done])
    builder = CallRecordBuilder(clock)
    recorder = CallRecorder(builder, store, spool, retry_seconds=3600)
    await recorder.start()
    try:
        assert builder.in_flight() == {"1699999000.9"}
        await recorder.on_connected([])  # its channels are gone: Asterisk has nothing live
        await recorder.flush()
        row = store.rows["1699999000.9"]
        assert row.ended_at == NOW and row.end_estimated
        assert row.disposition is Disposition.LOST
        assert [entry.seq for _, entries in store.saved for entry in entries] == [5]
    finally:
        await recorder.stop()


async def test_unfinished_rows_are_adopted_once_the_database_is_back(spool: RecordSpool) -> None:
    unfinished = CallRecord("1699999000.9", Direction.INBOUND, T0, last_seq=4)
    store = FakeStore([unfinished])
    store.down = True
    builder = CallRecordBuilder(clock)
    recorder = CallRecorder(builder, store, spool, retry_seconds=3600)
    await recorder.start()
    try:
        store.down = False
        await recorder.on_connected([])  # adoption is retried at the next AMI login
        await recorder.flush()
        assert store.rows["1699999000.9"].ended_at is not None
    finally:
        await recorder.stop()


async def test_events_of_a_stored_call_wait_until_the_database_gives_its_row(
    spool: RecordSpool,
) -> None:
    """Database down at start: the writer retries the restore; the held event continues the
    stored row (its seqs, its variables) instead of a fresh record overwriting it."""
    linkedid = "1699999000.9"
    stored_var = TimelineEntry(
        linkedid, 4, T0, "var", "PJSIP/x", {"name": "HOTLINE_DISPOSITION", "value": "fallback"}
    )
    unfinished = CallRecord(linkedid, Direction.INBOUND, T0, channel="PJSIP/x", last_seq=4)
    store = FakeStore([unfinished])
    store.saved.append((unfinished, (stored_var,)))
    store.down = True
    builder = CallRecordBuilder(clock, await_restore=True)
    recorder = CallRecorder(builder, store, spool, retry_seconds=0.02)
    await recorder.start()
    try:
        hangup = event("Hangup", linkedid, 90, Cause="16", ChannelState="6")
        feed(recorder, [hangup])  # first seen mid-call: it may be the stored one
        await recorder.on_connected([])  # the login's snapshot: nothing live; held too
        await asyncio.sleep(0.1)
        assert builder.in_flight() == set() and not spool.path.exists()
        store.down = False  # the writer restores the row, then replays what it held
        await wait_until(lambda: store.rows[linkedid].ended_at is not None)
        await recorder.flush()
        row = store.rows[linkedid]
        assert row.ended_at == T0 + timedelta(seconds=90) and row.started_at == T0
        assert row.fallback and row.disposition is Disposition.ANSWERED
        seqs = [e.seq for _, entries in store.saved[1:] for e in entries]
        assert seqs == list(range(5, 5 + len(seqs))) and seqs
    finally:
        await recorder.stop()


async def test_stop_writes_everything_queued(store: FakeStore, spool: RecordSpool) -> None:
    recorder = CallRecorder(CallRecordBuilder(clock), store, spool, retry_seconds=3600)
    await recorder.start()
    events = [*call_start("1700000000.1", 0), *call_end("1700000000.1", 9)]
    feed(recorder, events)
    await recorder.stop()  # no flush() first
    assert store.saved == expected(events)


async def test_a_burst_of_updates_is_written_in_one_batch_in_order(
    store: FakeStore, recorder: CallRecorder
) -> None:
    """What queues up while the writer is busy goes in one transaction (a busy hotline
    commits once per write, not once per AMI event), and nothing waits when it is quiet."""
    events = [*call_start("1700000000.1", 0), *call_start("1700000000.2", 1)]
    feed(recorder, events)  # all queued before the writer runs
    await recorder.flush()
    assert store.batches == [len(expected(events))]
    assert store.saved == expected(events)
    later = call_end("1700000000.1", 9)
    feed(recorder, later[:1])
    await recorder.flush()
    assert store.batches[1:] == [1]


async def test_stop_spools_everything_queued_while_the_database_is_down(
    store: FakeStore, spool: RecordSpool
) -> None:
    recorder = CallRecorder(CallRecordBuilder(clock), store, spool, retry_seconds=3600)
    await recorder.start()
    events = [*call_start("1700000000.1", 0), *call_start("1700000000.2", 1)]
    store.down = True
    feed(recorder, events)
    await recorder.stop()
    assert store.saved == [] and spooled(spool) == expected(events)
    # the next run writes them
    store.down = False
    again = CallRecorder(CallRecordBuilder(clock), store, spool, retry_seconds=3600)
    await again.start()
    await again.stop()
    assert store.saved == expected(events)


async def test_builder_failure_does_not_reach_the_ami_reader(
    recorder: CallRecorder, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(event: object) -> list[RecordUpdate]:
        raise RuntimeError("bug")

    good = call_start("1700000000.1", 0)
    monkeypatch.setattr(recorder._builder, "feed", broken)
    recorder.on_event(good[0])  # must not raise
    monkeypatch.undo()
    feed(recorder, good)
    await recorder.flush()
    assert store.saved == expected(good)


# end to end on the real database


@pytest.fixture
async def repository(database_url: str) -> AsyncIterator[CallRecordRepository]:
    await upgrade(database_url)
    engine = create_engine(database_url)
    yield CallRecordRepository(session_factory(engine))
    await engine.dispose()


async def test_events_in_record_row_out(
    repository: CallRecordRepository, spool: RecordSpool
) -> None:
    linkedid = "1700000000.11"
    recorder = CallRecorder(CallRecordBuilder(clock), repository, spool, retry_seconds=3600)
    await recorder.start()
    try:
        feed(recorder, [*call_start(linkedid, 0), *call_end(linkedid, 40)])
        await recorder.flush()
    finally:
        await recorder.stop()
    assert recorder.written == 3 and recorder.spooled == 0 and not spool.path.exists()
    record = await repository.get(linkedid)
    assert record is not None
    assert record.disposition is Disposition.ANSWERED
    assert (record.started_at, record.answered_at, record.ended_at) == (
        T0,
        T0 + timedelta(seconds=5),
        T0 + timedelta(seconds=40),
    )
    assert (record.caller, record.caller_name, record.did, record.flow) == (
        "+8613800138000",
        "张三",
        "95007",
        "hotline",
    )
    assert (record.hangup_cause, record.hangup_cause_text) == (16, "Normal Clearing")
    assert record.channel == "PJSIP/carrier-0000000b"
    timeline = await repository.timeline(linkedid)
    assert [(e.seq, e.kind) for e in timeline] == [
        (1, "newchannel"),
        (2, "var"),
        (3, "answer"),
        (4, "hangup"),
    ]
    assert timeline[1].detail == {"name": "HOTLINE_FLOW", "value": "hotline"}
    assert await repository.in_progress() == []
    json.dumps([e.detail for e in timeline])  # details stay plain JSON


async def test_metrics_count_writes_and_finished_calls_once_even_through_the_spool(
    store: FakeStore, spool: RecordSpool
) -> None:
    metrics = Metrics()
    recorder = CallRecorder(
        CallRecordBuilder(clock), store, spool, retry_seconds=0.02, metrics=metrics
    )
    await recorder.start()
    try:
        store.down = True  # spooled first, written when the database is back
        feed(recorder, [*call_start("1700000000.7", 0), *call_end("1700000000.7", 9)])
        await recorder.flush()
        store.down = False
        await wait_until(lambda: not spool.path.exists())
    finally:
        await recorder.stop()
    assert sum(metrics.calls.values()) == 1
    text = metrics.render({})
    assert f"hotline_record_write_seconds_count {len(store.saved)}" in text
