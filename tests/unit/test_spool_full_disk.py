"""The spool on a full disk: what does not fit is held in memory, in order, and written when
the database is back; nothing that fits in memory is lost.

The disk is a real 16 KiB tmpfs (mounted by the test, as root), so the spool's appends hit
ENOSPC the way they would on a full /var. It was: 107 of 120 updates logged and dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline import recorder as recorder_module
from hotline.recorder import CallRecorder
from hotline.records import CallRecordBuilder
from hotline.spool import RecordSpool
from tests.support import small_disk
from tests.unit.test_spool_recorder import FakeStore, call_end, call_start, clock, expected, feed


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "tiny"
    folder.mkdir()
    with small_disk(folder, "16k"):
        yield folder


def events(calls: int) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for n in range(1, calls + 1):
        linkedid = f"1700000000.{n}"
        found += [*call_start(linkedid, n * 10), *call_end(linkedid, n * 10 + 8)]
    return found


async def test_a_full_disk_loses_nothing_that_fits_in_memory(tiny_disk: Path) -> None:
    store = FakeStore()
    spool = RecordSpool(tiny_disk / "spool")
    recorder = CallRecorder(CallRecordBuilder(clock), store, spool, retry_seconds=3600)
    await recorder.start()
    try:
        store.down = True
        during = events(40)  # 120 updates: the disk takes a few of them
        feed(recorder, during)
        await recorder.flush()
        assert recorder.spooled > 0 and recorder.held > 0 and recorder.lost == 0
        assert recorder.spooled + recorder.held == 120 == recorder.backlog
        assert spool.path.read_bytes().endswith(b"\n")  # no half line left by ENOSPC
        assert len(spool.pending()) == recorder.spooled
        store.down = False
        after = [*call_start("1700000000.99", 900)]
        feed(recorder, after)
        await recorder.flush()
    finally:
        await recorder.stop()
    builder = CallRecordBuilder(clock)
    assert store.saved == expected(during, builder) + expected(after, builder)  # all, in order
    assert recorder.held == 0 and recorder.backlog == 0 and not spool.path.exists()


async def test_beyond_the_memory_budget_an_update_is_lost_loudly(
    tiny_disk: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(recorder_module, "MAX_HELD", 5)
    store = FakeStore()
    store.down = True
    spool = RecordSpool(tiny_disk / "spool")
    recorder = CallRecorder(CallRecordBuilder(clock), store, spool, retry_seconds=3600)
    await recorder.start()
    try:
        feed(recorder, events(40))
        await recorder.flush()
    finally:
        store.down = False
        await recorder.stop()
    assert recorder.held == 0 and recorder.lost == 120 - recorder.spooled - 5
    assert "record update LOST" in caplog.text
