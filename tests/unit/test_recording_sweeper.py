"""After a recorded call (SQLite and PostgreSQL): the record's save leaves a pending row,
the sweeper puts the file's size and length on it (or why it failed), a later save of the
record keeps that, and the retention cleanup deletes old files and says so."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.callrecord import CallRecord, Direction, Disposition
from hotline.db import CallRecordRepository, session_factory
from hotline.recordings.config import RecordingSettings
from hotline.recordings.store import Playback, RecordingStore
from hotline.recordings.sweeper import RecordingSweeper
from tests.unit.clocks import SetClock
from tests.unit.test_recording_files import write_wav

T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


def recorded_call(linkedid: str, talk: float, *, ended: bool = True) -> CallRecord:
    return CallRecord(
        linkedid=linkedid,
        direction=Direction.INBOUND,
        started_at=T0,
        answered_at=T0 + timedelta(seconds=5),
        ended_at=T0 + timedelta(seconds=60) if ended else None,
        disposition=Disposition.ANSWERED if ended else Disposition.IN_PROGRESS,
        agent="1001",
        talk_seconds=talk,
        recording_file=f"2026/12/04/{linkedid}.wav",
    )


async def test_recordings_are_looked_at_once_their_calls_have_ended(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    sessions = session_factory(engine)
    records, store = CallRecordRepository(sessions), RecordingStore(sessions)
    clock = SetClock(T0 + timedelta(seconds=61))
    sweeper = RecordingSweeper(RecordingSettings(), tmp_path, store, clock)
    write_wav(tmp_path / "2026/12/04/whole.wav", 20.0)
    live = recorded_call("live", 20.0, ended=False)
    await records.save_many([(recorded_call("whole", 20.3), []), (recorded_call("lost", 9.0), [])])
    await records.save(live)
    assert await sweeper.check() == 0  # ended 1 s ago: Asterisk may still be closing them
    clock.now = T0 + timedelta(seconds=70)
    assert await sweeper.check() == 2
    found = await store.of_calls(["whole", "lost", "live"])
    assert set(found) == {"whole", "lost"}  # the live call's recording is not due yet
    assert (found["whole"]["status"], found["whole"]["seconds"]) == ("ok", 20.0)
    assert found["whole"]["bytes"] == (tmp_path / "2026/12/04/whole.wav").stat().st_size
    assert (found["lost"]["status"], found["lost"]["error"]) == (
        "failed",
        "Asterisk wrote no file (see its log)",
    )
    assert sweeper.failures == {"missing": 1} and sweeper.statuses == {"ok": 1, "failed": 1}
    # a later save of the record (the call log completing it) keeps what was found
    await records.save(replace(recorded_call("whole", 20.3), score=9))
    assert (await store.of_calls(["whole"]))["whole"]["status"] == "ok"
    assert await sweeper.check() == 0
    # the live call ends: its recording is looked at in turn
    await records.save(recorded_call("live", 20.0))
    assert await sweeper.check() == 1


async def test_the_cleanup_deletes_what_is_past_the_retention(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    sessions = session_factory(engine)
    records, store = CallRecordRepository(sessions), RecordingStore(sessions)
    clock = SetClock(T0 + timedelta(minutes=5))
    sweeper = RecordingSweeper(RecordingSettings(retention_days=30), tmp_path, store, clock)
    old = write_wav(tmp_path / "2026/12/04/old.wav", 2.0)
    orphan = write_wav(tmp_path / "2026/10/01/orphan.wav", 1.0)  # no row names it
    await records.save(recorded_call("old", 2.0))
    await sweeper.check()
    assert await sweeper.cleanup() == 0  # 5 minutes old: kept
    assert old.exists() and not orphan.exists()  # a day folder past the retention goes
    clock.now = T0 + timedelta(days=31)
    assert await sweeper.cleanup() == 1
    assert not old.exists()
    found = (await store.of_calls(["old"]))["old"]
    assert found["status"] == "deleted" and found["deleted_at"] is not None
    assert await sweeper.cleanup() == 0 and sweeper.deleted == 1


async def test_a_playback_is_audited(engine: AsyncEngine) -> None:
    store = RecordingStore(session_factory(engine))
    await store.audit(Playback("call-1", "sup-wang", "supervisor", "bytes=0-", "127.0.0.1"))
    await store.audit(Playback("call-2", "admin", "admin"))
    rows = await store.playbacks("call-1")
    assert [(r["who"], r["role"], r["range"]) for r in rows] == [
        ("sup-wang", "supervisor", "bytes=0-")
    ]
    assert len(await store.playbacks()) == 2
