"""The follower on SQLite and PostgreSQL: each call in the log accounted for once, never
against the live writer, from a position that survives restarts."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.call_log.config import CallLogSettings
from hotline.call_log.follower import CallLogFollower
from hotline.call_log.store import PositionStore
from hotline.callrecord import Disposition, RecordSource
from hotline.db import CallRecordRepository, session_factory
from hotline.errors import DatabaseError
from tests.unit.test_call_log import ANSWERED_LOG, log_rows

ANSWERED = ANSWERED_LOG.read_bytes()
LINES = ANSWERED.splitlines(keepends=True)
ROWS = log_rows()
LINKEDID = ROWS[0].linkedid
END = ROWS[-1].time


class Live:
    """The recorder as the follower sees it."""

    def __init__(self) -> None:
        self.caught_up = True
        self.tracked: set[str] = set()

    def tracking(self) -> set[str]:
        return self.tracked


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def write(path: Path, data: bytes) -> None:
    """Append as cel_custom does."""
    with path.open("ab") as handle:
        handle.write(data)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "cel-custom" / "hotline-cel.jsonl"
    path.parent.mkdir()
    return path


def follower(
    engine: AsyncEngine, log: Path, live: Live, clock: Clock, **settings: object
) -> tuple[CallLogFollower, CallRecordRepository]:
    sessions = session_factory(engine)
    records = CallRecordRepository(sessions)
    config = CallLogSettings.model_validate({"settle_seconds": 3, "idle_seconds": 60} | settings)
    made = CallLogFollower(config, log, PositionStore(sessions), records, live, lambda: True, clock)
    return made, records


async def test_a_call_nobody_saw_is_rebuilt_once_after_the_settle(
    engine: AsyncEngine, log: Path
) -> None:
    live, clock = Live(), Clock(END + timedelta(seconds=1))
    made, records = follower(engine, log, live, clock)
    write(log, ANSWERED)
    await made.run_once()
    assert await records.get(LINKEDID) is None  # the live writer gets its settle first
    clock.now = END + timedelta(seconds=3)
    await made.run_once()
    record = await records.get(LINKEDID)
    assert record is not None and record.source is RecordSource.LOG
    assert record.disposition is Disposition.ANSWERED and record.agent == "1001"
    timeline = await records.timeline(LINKEDID)
    assert [e.seq for e in timeline] == list(range(1, record.last_seq + 1))
    # a restart re-reads the log from its stored position: nothing changes, nothing twice
    again, _ = follower(engine, log, live, clock)
    await again.run_once()
    assert await records.get(LINKEDID) == record
    assert len(await records.timeline(LINKEDID)) == len(timeline)
    assert (made.rebuilt, again.rebuilt) == (1, 0)


async def test_nothing_is_settled_while_the_live_side_is_busy(
    engine: AsyncEngine, log: Path
) -> None:
    live, clock = Live(), Clock(END + timedelta(seconds=30))
    made, records = follower(engine, log, live, clock)
    write(log, ANSWERED)
    live.caught_up = False  # updates still to write, or stored calls to restore
    await made.run_once()
    live.caught_up, live.tracked = True, {LINKEDID}  # the builder follows it
    await made.run_once()
    assert await records.get(LINKEDID) is None
    live.tracked = set()
    await made.run_once()
    assert await records.get(LINKEDID) is not None


async def test_the_position_waits_at_the_oldest_open_call(engine: AsyncEngine, log: Path) -> None:
    live, clock = Live(), Clock(END + timedelta(seconds=30))
    made, _ = follower(engine, log, live, clock)
    write(log, b"".join(LINES[:5]))  # a call still up: its rows so far
    await made.run_once()
    positions = PositionStore(session_factory(engine))
    stored = await positions.get(str(log))
    assert stored is not None and stored.offset == 0  # its first line, read again on restart
    write(log, b"".join(LINES[5:]))
    await made.run_once()
    stored = await positions.get(str(log))
    assert stored is not None and stored.offset == len(ANSWERED)
    assert made.health()["pending_calls"] == 0


async def test_a_call_cut_off_by_asterisk_is_settled_once_quiet_and_not_live(
    engine: AsyncEngine, log: Path
) -> None:
    live, clock = Live(), Clock(END)
    made, records = follower(engine, log, live, clock)
    cut = [line for line in LINES if b"HANGUP" not in line and b"LINKEDID_END" not in line]
    write(log, b"".join(cut))
    await made.run_once()
    assert await records.get(LINKEDID) is None
    clock.now = END + timedelta(seconds=61)
    await made.run_once()
    record = await records.get(LINKEDID)
    assert record is not None and record.end_estimated


async def test_calls_older_than_the_backfill_are_not_rebuilt(
    engine: AsyncEngine, log: Path
) -> None:
    live, clock = Live(), Clock(END + timedelta(hours=25))
    made, records = follower(engine, log, live, clock, backfill_hours=24)
    write(log, ANSWERED)
    await made.run_once()
    assert await records.get(LINKEDID) is None and made.health()["pending_calls"] == 0


async def test_a_database_outage_leaves_the_call_for_the_next_pass(
    engine: AsyncEngine, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live, clock = Live(), Clock(END + timedelta(seconds=30))
    made, records = follower(engine, log, live, clock)
    write(log, ANSWERED)
    await made.run_once()  # reads the position, settles the call
    assert await records.get(LINKEDID) is not None

    async def down(*_: object) -> None:
        raise DatabaseError("database get_many failed: connection refused")

    again, again_records = follower(engine, log, live, clock)
    await again.run_once()  # a restart that reads the call again
    monkeypatch.setattr(again_records, "get_many", down)
    write(log, ANSWERED.replace(LINKEDID.encode(), b"h-2.0"))  # a call during the outage
    await again.run_once()
    assert await records.get("h-2.0") is None and again.health()["pending_calls"] == 1
    monkeypatch.undo()
    await again.run_once()
    assert await records.get("h-2.0") is not None


async def test_a_first_start_at_the_end_leaves_the_log_s_history_alone(
    engine: AsyncEngine, log: Path
) -> None:
    live, clock = Live(), Clock(END + timedelta(seconds=30))
    made, records = follower(engine, log, live, clock, first_start="end")
    write(log, ANSWERED)  # a call from before this database existed
    await made.run_once()
    write(log, ANSWERED.replace(LINKEDID.encode(), b"h-2.0"))
    await made.run_once()
    assert await records.get(LINKEDID) is None and await records.get("h-2.0") is not None


async def test_a_position_stored_before_the_file_existed_reads_all_of_it(
    engine: AsyncEngine, log: Path
) -> None:
    live, clock = Live(), Clock(END + timedelta(seconds=30))
    made, records = follower(engine, log, live, clock, first_start="end")
    await made.run_once()  # no call logged yet: Asterisk has not made the file
    stored = await PositionStore(session_factory(engine)).get(str(log))
    assert stored is not None and stored.file_id == ""
    write(log, ANSWERED)  # calls while the service is down
    again, _ = follower(engine, log, live, clock, first_start="end")
    await again.run_once()
    assert await records.get(LINKEDID) is not None
