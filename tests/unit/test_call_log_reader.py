"""Following the call-log file: whole lines only, positions that survive restarts and
find their file after a rotation, rotation by the service."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hotline.call_log import reader
from hotline.call_log.cel import CelRow
from hotline.call_log.reader import LogTail, Position, file_id


def event(n: int, linkedid: str = "h-1.0") -> bytes:
    return json.dumps(
        {
            "eventtype": "ANSWER",
            "eventenum": "ANSWER",
            "eventtime": 1796228674.0 + n,
            "uniqueid": linkedid,
            "linkedid": linkedid,
            "appdata": f"row {n}",
        }
    ).encode()


def append(path: Path, *lines: bytes) -> None:
    with path.open("ab") as handle:  # as cel_custom does: open, append, close
        for line in lines:
            handle.write(line + b"\n")


def numbers(rows: list[tuple[Position, CelRow]]) -> list[int]:
    return [int(row.appdata.split()[1]) for _, row in rows]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "cel-custom" / "hotline-cel.jsonl"


def test_lines_are_read_once_and_a_half_line_waits(log: Path) -> None:
    log.parent.mkdir()
    tail = LogTail(log)
    tail.seek(None)
    assert tail.read() == []  # no file yet: Asterisk makes it with the first event
    append(log, event(1), event(2))
    with log.open("ab") as handle:
        handle.write(event(3)[:20])  # Asterisk is mid-write
    assert numbers(tail.read()) == [1, 2]
    assert tail.read() == []
    with log.open("ab") as handle:
        handle.write(event(3)[20:] + b"\n")
    assert numbers(tail.read()) == [3]
    assert tail.position == Position(file_id(log) or "", log.stat().st_size)


def test_each_row_knows_where_its_line_starts(log: Path) -> None:
    log.parent.mkdir()
    append(log, event(1), event(2))
    tail = LogTail(log)
    tail.seek(None)
    (first, _), (second, row) = tail.read()
    assert first.offset == 0 and second.offset == len(event(1)) + 1
    assert row.end == log.stat().st_size
    again = LogTail(log)
    again.seek(second)  # a restart from the stored position
    assert numbers(again.read()) == [2]


def test_a_bad_line_is_skipped_and_counted(log: Path) -> None:
    log.parent.mkdir()
    append(log, event(1), b"{broken", b"", event(2))
    tail = LogTail(log)
    tail.seek(None)
    assert numbers(tail.read()) == [1, 2] and tail.bad_lines == 1


def test_a_rotated_file_is_finished_before_its_successor(
    log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "ROTATED_GRACE", 0.0)
    log.parent.mkdir()
    append(log, event(1))
    tail = LogTail(log)
    tail.seek(None)
    assert numbers(tail.read()) == [1]
    append(log, event(2))
    log.rename(log.with_name(log.name + ".1"))  # logrotate, no copytruncate
    append(log, event(3))  # the next event recreates the file
    assert numbers(tail.read()) == [2]  # the rest of the old one, then a grace
    assert numbers(tail.read()) == [3]


def test_a_position_in_a_rotated_file_is_found_after_a_restart(log: Path) -> None:
    log.parent.mkdir()
    append(log, event(1), event(2))
    tail = LogTail(log)
    tail.seek(None)
    stored = tail.read()[1][0]  # the oldest call still open starts at row 2
    tail.close()
    rotated = log.with_name(log.name + ".20261202T101500")
    log.rename(rotated)
    append(log, event(3))
    os.utime(rotated, (1, 1))  # older than the live file
    restarted = LogTail(log)
    restarted.seek(stored)
    assert numbers(restarted.read()) == [2, 3]


def test_a_lost_position_reads_the_live_file_from_its_start(log: Path) -> None:
    log.parent.mkdir()
    append(log, event(1))
    tail = LogTail(log)
    tail.seek(Position("0:0", 12345))
    assert numbers(tail.read()) == [1]


def test_a_file_shorter_than_the_position_is_read_again(log: Path) -> None:
    log.parent.mkdir()
    append(log, event(1))
    tail = LogTail(log)
    tail.seek(Position(file_id(log) or "", 10**6))
    assert numbers(tail.read()) == [1]


def test_the_service_rotates_a_large_file_and_keeps_a_few(
    log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "ROTATED_GRACE", 0.0)
    log.parent.mkdir()
    for old in range(3):
        stale = log.with_name(f"{log.name}.2026010{old}T000000")
        stale.write_bytes(b"")
        os.utime(stale, (old + 1, old + 1))
    append(log, event(1), event(2))
    tail = LogTail(log)
    tail.seek(None)
    tail.read()
    assert not tail.rotate(max_bytes=10**6, keep=2)  # not large yet
    assert tail.rotate(max_bytes=10, keep=2)
    assert not log.exists()
    kept = sorted(p.name for p in log.parent.iterdir())
    assert len(kept) == 2 and f"{log.name}.20260100T000000" not in kept
    append(log, event(3))
    assert tail.read() == []  # the rotated file's last look
    assert numbers(tail.read()) == [3]


def test_the_end_is_after_the_last_whole_line(log: Path) -> None:
    log.parent.mkdir()
    append(log, event(1), event(2))
    with log.open("ab") as handle:
        handle.write(event(3)[:10])  # being written
    tail = LogTail(log)
    tail.seek_end()
    assert tail.position.offset == 2 * (len(event(1)) + 1)
    with log.open("ab") as handle:
        handle.write(event(3)[10:] + b"\n")
    assert numbers(tail.read()) == [3]
