"""CallRecordRepository on SQLite and PostgreSQL (each test runs on both)."""

from __future__ import annotations

import time
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.engine.interfaces import CacheStats
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.callrecord import CallRecord, Direction, Disposition, TimelineEntry
from hotline.db import CallRecordRepository, create_engine, session_factory
from hotline.db.models import CallEventRow, CallRecordRow
from hotline.errors import DatabaseError

T0 = datetime(2024, 11, 23, 8, 30, 0, 123456, tzinfo=UTC)


@pytest.fixture
def repo(engine: AsyncEngine) -> CallRecordRepository:
    return CallRecordRepository(session_factory(engine))


def make_record(linkedid: str = "1732350600.1", **changes: Any) -> CallRecord:
    record = CallRecord(linkedid=linkedid, direction=Direction.INBOUND, started_at=T0)
    return replace(record, **changes)


def make_entries(linkedid: str, count: int) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            linkedid=linkedid,
            seq=seq,
            at=T0 + timedelta(seconds=seq),
            kind="newchannel" if seq == 0 else "var",
            channel="PJSIP/carrier-00000001",
            detail={"n": seq, "text": "您好", "nested": {"ok": True}},
        )
        for seq in range(count)
    ]


async def count_rows(engine: AsyncEngine, model: type[CallRecordRow | CallEventRow]) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


def test_model_has_a_column_for_every_record_field() -> None:
    columns = set(CallRecordRow.__table__.columns.keys())
    assert {f.name for f in fields(CallRecord)} <= columns
    assert {f.name for f in fields(TimelineEntry)} <= set(CallEventRow.__table__.columns.keys())


async def test_round_trip_with_all_fields(repo: CallRecordRepository) -> None:
    beijing = timezone(timedelta(hours=8))
    record = CallRecord(
        linkedid="1732350600.7",
        direction=Direction.OUTBOUND,
        started_at=T0.astimezone(beijing),
        caller="+8613800138000",
        caller_name="张三",
        called="95007",
        did="95007",
        channel="PJSIP/carrier-00000007",
        answered_at=T0 + timedelta(seconds=6),
        ended_at=T0 + timedelta(seconds=96, microseconds=5),
        disposition=Disposition.NO_INPUT,
        hangup_cause=16,
        hangup_cause_text="Normal Clearing",
        sip_call_id="a84b4c76e66710@pc33.example.com",
        flow="hotline",
        end_estimated=True,
    )
    await repo.save(record)

    stored = await repo.get(record.linkedid)
    assert stored == record
    assert stored is not None
    for value in (stored.started_at, stored.answered_at, stored.ended_at):
        assert value is not None and value.utcoffset() == timedelta(0)
    assert stored.started_at == T0
    assert isinstance(stored.direction, Direction)
    assert isinstance(stored.disposition, Disposition)
    assert await repo.get("no-such-call") is None


async def test_save_twice_is_idempotent(repo: CallRecordRepository, engine: AsyncEngine) -> None:
    record = make_record()
    entries = make_entries(record.linkedid, 3)
    await repo.save(record, entries)
    await repo.save(record, entries)

    assert await count_rows(engine, CallRecordRow) == 1
    assert await count_rows(engine, CallEventRow) == 3
    assert await repo.timeline(record.linkedid) == entries


async def test_resave_updates_and_adds_only_new_entries(
    repo: CallRecordRepository, engine: AsyncEngine
) -> None:
    record = make_record()
    entries = make_entries(record.linkedid, 2)
    await repo.save(record, entries)

    finished = replace(
        record,
        answered_at=T0 + timedelta(seconds=5),
        ended_at=T0 + timedelta(seconds=60),
        disposition=Disposition.ANSWERED,
        hangup_cause=16,
    )
    more = make_entries(record.linkedid, 4)
    more[0] = replace(more[0], kind="changed")  # an existing seq is kept, not overwritten
    await repo.save(finished, more)

    assert await repo.get(record.linkedid) == finished
    timeline = await repo.timeline(record.linkedid)
    assert [e.seq for e in timeline] == [0, 1, 2, 3]
    assert timeline[0].kind == "newchannel"
    assert await count_rows(engine, CallRecordRow) == 1


async def test_a_batch_is_one_transaction_with_each_call_once(
    repo: CallRecordRepository, engine: AsyncEngine
) -> None:
    """Updates of two calls, interleaved as the AMI events come: each call ends as its last
    snapshot with every entry; the record is written once per call, in one commit."""
    a, b = "1732350600.1", "1732350600.2"
    entries_a, entries_b = make_entries(a, 4), make_entries(b, 2)
    updates = [
        (make_record(a), entries_a[:2]),
        (make_record(b), entries_b[:1]),
        (make_record(a, caller="13800001111"), entries_a[2:]),
        (make_record(b, ended_at=T0 + timedelta(seconds=9)), entries_b[1:]),
    ]
    commits: list[int] = []
    statements: list[tuple[str, int]] = []  # (table, rows) per statement sent
    event.listen(engine.sync_engine, "commit", lambda conn: commits.append(1))

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        words = statement.split()
        if words[:2] == ["INSERT", "INTO"]:
            many = isinstance(parameters, list) and not isinstance(parameters[0], str | int)
            statements.append((words[2], len(parameters) if many else 1))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    await repo.save_many(updates)
    assert len(commits) == 1
    # one statement per table, whatever the number of calls: each call's record once
    assert statements == [("call_records", 2), ("call_events", 6)]
    stored_a, stored_b = await repo.get(a), await repo.get(b)
    assert stored_a is not None and stored_a.caller == "13800001111"
    assert stored_b is not None and stored_b.ended_at == T0 + timedelta(seconds=9)
    assert [e.seq for e in await repo.timeline(a)] == [0, 1, 2, 3]
    assert [e.seq for e in await repo.timeline(b)] == [0, 1]
    await repo.save_many(updates)  # repeated (a replay from the spool): nothing twice
    assert await count_rows(engine, CallEventRow) == 6


async def test_a_batch_with_a_bad_update_writes_nothing(
    repo: CallRecordRepository, engine: AsyncEngine
) -> None:
    good = (make_record("1732350600.1"), make_entries("1732350600.1", 1))
    bad = (make_record("1732350600.2"), make_entries("1732350600.9", 1))
    with pytest.raises(ValueError, match="belongs to"):
        await repo.save_many([good, bad])
    assert await count_rows(engine, CallRecordRow) == 0


async def test_timeline_is_ordered_by_seq(repo: CallRecordRepository) -> None:
    record = make_record()
    entries = make_entries(record.linkedid, 5)
    await repo.save(record, [entries[3], entries[0], entries[4]])
    await repo.save(record, [entries[2], entries[1]])
    await repo.save(make_record("other"), make_entries("other", 2))

    assert await repo.timeline(record.linkedid) == entries
    assert await repo.timeline("no-such-call") == []


async def test_save_refuses_entries_of_another_call(repo: CallRecordRepository) -> None:
    with pytest.raises(ValueError, match="belongs to"):
        await repo.save(make_record("a"), make_entries("b", 1))
    assert await repo.get("a") is None


async def test_in_progress(repo: CallRecordRepository) -> None:
    running = make_record("1", started_at=T0 + timedelta(seconds=1))
    older = make_record("0", started_at=T0)
    ended = make_record("2", ended_at=T0 + timedelta(minutes=1))
    for record in (running, ended, older):
        await repo.save(record)

    assert await repo.in_progress() == [older, running]


async def test_find_by_sip_call_id_returns_newest(repo: CallRecordRepository) -> None:
    first = make_record("1", sip_call_id="abc@host", started_at=T0)
    second = make_record("2", sip_call_id="abc@host", started_at=T0 + timedelta(hours=1))
    await repo.save(second)
    await repo.save(first)
    await repo.save(make_record("3", sip_call_id="other@host"))

    assert await repo.find_by_sip_call_id("abc@host") == second
    assert await repo.find_by_sip_call_id("missing@host") is None
    assert await repo.find_by_sip_call_id("") is None


async def test_recent_newest_first_with_limit(repo: CallRecordRepository) -> None:
    records = [make_record(str(i), started_at=T0 + timedelta(minutes=i)) for i in range(5)]
    for record in (records[2], records[0], records[4], records[1], records[3]):
        await repo.save(record)

    assert await repo.recent() == records[::-1]
    assert await repo.recent(limit=2) == [records[4], records[3]]


async def test_deleting_a_record_deletes_its_timeline(
    repo: CallRecordRepository, engine: AsyncEngine
) -> None:
    """ON DELETE CASCADE holds on SQLite too (foreign keys are switched on per connection)."""
    record = make_record()
    await repo.save(record, make_entries(record.linkedid, 3))
    async with engine.begin() as conn:
        await conn.execute(delete(CallRecordRow))
    assert await count_rows(engine, CallEventRow) == 0


async def test_naive_datetime_is_refused(repo: CallRecordRepository) -> None:
    """A programming error, not a database failure: a writer must not retry it."""
    naive = datetime(2024, 1, 1)
    with pytest.raises(ValueError, match="naive"):
        await repo.save(make_record(started_at=naive))
    entry = replace(make_entries("1732350600.1", 1)[0], at=naive)
    with pytest.raises(ValueError, match="naive"):
        await repo.save(make_record(), [entry])
    assert await repo.get("1732350600.1") is None


async def test_unreachable_database_raises_database_error(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if database_url.startswith("sqlite"):
        # a folder where the database file should be: SQLite cannot open it
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('not-a-file')}"
    else:
        url = "postgresql+asyncpg://postgres@127.0.0.1:1/x"
    engine = create_engine(url, connect_timeout=2)
    repo = CallRecordRepository(session_factory(engine))
    started = time.monotonic()
    try:
        with pytest.raises(DatabaseError) as caught:
            await repo.get("x")
        with pytest.raises(DatabaseError):
            await repo.save(make_record())
    finally:
        await engine.dispose()
    assert caught.value.__cause__ is not None
    assert time.monotonic() - started < 5


async def test_the_save_statements_are_compiled_once(
    engine: AsyncEngine, repo: CallRecordRepository
) -> None:
    """SQLAlchemy caches them (a dialect ON CONFLICT construct, it would compile every save)."""
    inserts: list[Any] = []

    def seen(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith("INSERT"):
            inserts.append(context)

    event.listen(engine.sync_engine, "after_cursor_execute", seen)
    entry = TimelineEntry("9.1", 1, T0, "var", "PJSIP/x", {"name": "HOTLINE_FLOW", "value": "h"})
    for seq in range(1, 4):
        await repo.save(make_record("9.1", last_seq=seq), [replace(entry, seq=seq)])
    hits = [context.cache_hit is CacheStats.CACHE_HIT for context in inserts]
    assert hits == [False, False, True, True, True, True]  # upsert, events; then the cache
    timeline = await repo.timeline("9.1")
    assert [(e.seq, e.detail) for e in timeline] == [(s, entry.detail) for s in (1, 2, 3)]
