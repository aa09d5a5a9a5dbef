"""Recording files: their names, their length, and whether a finished one is whole.

Pure but for reading the file and its folder, so the rules are tested on plain files.
A recording's name comes back from Asterisk in a channel variable; it is checked against
the one shape the dialplan gives it (``YYYY/MM/DD/<linkedid>.wav``) before any path is
built from it, so no variable can point the service at another file.
"""

from __future__ import annotations

import errno
import os
import re
import struct
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

__all__ = [
    "RECORDING_VAR",
    "Outcome",
    "RecordingStatus",
    "expired_days",
    "judge",
    "probe_folder",
    "recording_path",
    "safe_recording_name",
    "wav_length",
]

#: Set by the dialplan once a recording has started: its name under the recording folder.
RECORDING_VAR = "HOTLINE_RECORDING"

_NAME = re.compile(
    r"(?P<y>[0-9]{4})/(?P<m>[0-9]{2})/(?P<d>[0-9]{2})/[A-Za-z0-9_-][A-Za-z0-9._-]{0,149}\.wav"
)
_HEADER_BYTES = 4096  # fmt and data chunks are at the start of Asterisk's WAVs
_TOO_SHORT = 1.0  # seconds of talk under which an empty recording is no failure


class RecordingStatus(StrEnum):
    PENDING = "pending"  # the call ended; its file not looked at yet
    OK = "ok"
    PARTIAL = "partial"  # shorter than the talk time: the disk filled, the write failed
    FAILED = "failed"  # no file, or no audio in it
    DELETED = "deleted"  # removed by the retention cleanup


@dataclass(frozen=True)
class Outcome:
    status: RecordingStatus
    bytes: int = 0
    seconds: float = 0.0
    reason: str = ""  # a word for the metric: missing, empty, short
    error: str = ""  # what a supervisor reads on the record


def safe_recording_name(raw: str) -> str:
    """``raw`` when it has the dialplan's shape, else ''."""
    match = _NAME.fullmatch(raw)
    if match is None:
        return ""
    try:
        date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return ""
    return raw


def recording_path(folder: Path, name: str) -> Path | None:
    """The file of a recording's name under ``folder``; None for a name of another shape."""
    return folder / name if safe_recording_name(name) else None


def wav_length(path: Path) -> tuple[int, float]:
    """The file's size and the seconds of audio in it.

    The data size is the file's own after the header when the header's is missing or
    larger (a writer that died before closing the file leaves 0 or a stale size).
    """
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(_HEADER_BYTES)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return size, 0.0
    rate = align = 0
    offset = 12
    while offset + 8 <= len(head):
        chunk, length = head[offset : offset + 4], struct.unpack_from("<I", head, offset + 4)[0]
        body = offset + 8
        if chunk == b"fmt " and body + 16 <= len(head):
            rate = struct.unpack_from("<I", head, body + 4)[0]
            align = struct.unpack_from("<H", head, body + 12)[0]
        elif chunk == b"data":
            available = size - body
            data = length if 0 < length <= available else available
            return size, (data / (rate * align)) if rate and align else 0.0
        offset = body + length + (length & 1)
    return size, 0.0


def probe_folder(folder: Path, day_folder: Path | None = None) -> str:
    """'' when a file can be written where recordings go, else why not (for the record).

    The service writes the probe, not Asterisk: a folder that only the service's user may
    not write says so too, which is still worth a supervisor's and an admin's look.
    """
    if not folder.exists():
        return f"the recording folder {folder} does not exist"
    target = day_folder or folder  # Asterisk makes the missing day folders: their parent
    while target != folder and not target.exists() and folder in target.parents:
        target = target.parent
    if not target.is_dir():
        return f"{target} is not a folder"
    probe = target / f".hotline-probe-{os.getpid()}"
    try:
        with probe.open("wb") as handle:
            handle.write(b"\0" * 512)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            return f"the disk of {target} is full"
        return f"{target} is not writable: {exc.strerror}"
    finally:
        probe.unlink(missing_ok=True)
    return ""


def judge(folder: Path, name: str, expected_seconds: float | None) -> Outcome:
    """What became of a finished call's recording ``name`` (its file under ``folder``).

    ``expected_seconds``: the talk time it should cover, when known; a file more than
    2 s (and 10 %) shorter is ``partial``.
    """
    path = recording_path(folder, name)
    if path is None:
        return Outcome(
            RecordingStatus.FAILED, reason="name", error=f"not a recording name: {name!r}"
        )
    if not path.is_file():
        why = probe_folder(folder, path.parent) or "Asterisk wrote no file (see its log)"
        return Outcome(RecordingStatus.FAILED, reason="missing", error=why)
    size, seconds = wav_length(path)
    if seconds <= 0 and expected_seconds is not None and expected_seconds < _TOO_SHORT:
        return Outcome(RecordingStatus.OK, size, 0.0)  # a hang-up at the answer: nothing said
    if seconds <= 0:
        why = probe_folder(folder, path.parent) or "no audio in the file"
        return Outcome(RecordingStatus.FAILED, size, 0.0, "empty", why)
    if expected_seconds is not None and seconds < expected_seconds - max(
        2.0, expected_seconds / 10
    ):
        why = probe_folder(folder, path.parent) or "the write stopped early"
        error = f"{seconds:.1f} s of {expected_seconds:.1f} s recorded: {why}"
        return Outcome(RecordingStatus.PARTIAL, size, round(seconds, 2), "short", error)
    return Outcome(RecordingStatus.OK, size, round(seconds, 2))


def expired_days(folder: Path, before: date) -> list[Path]:
    """The day folders (``YYYY/MM/DD``) under ``folder`` for days before ``before``."""
    days: list[Path] = []
    for year in _numbered(folder, 4):
        for month in _numbered(year, 2):
            for day in _numbered(month, 2):
                try:
                    when = date(int(year.name), int(month.name), int(day.name))
                except ValueError:
                    continue
                if when < before:
                    days.append(day)
    return days


def _numbered(folder: Path, width: int) -> list[Path]:
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    return sorted(e for e in entries if e.is_dir() and len(e.name) == width and e.name.isdigit())
