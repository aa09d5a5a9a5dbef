"""Recording files judged after the call: whole, cut short, empty, missing, or a name of
another shape; their length read from the WAV header (or the file, when the header lies)."""

from __future__ import annotations

import struct
import wave
from datetime import date
from pathlib import Path

import pytest

from hotline.recordings.files import (
    RecordingStatus,
    expired_days,
    judge,
    recording_path,
    safe_recording_name,
    wav_length,
)

NAME = "2026/12/04/hotline-1796409535.0.wav"


def write_wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(b"\0\1" * int(seconds * rate))
    return path


@pytest.mark.parametrize(
    "name",
    [
        NAME,
        "2026/01/31/dl-9-2-0badc0de.wav",
    ],
)
def test_the_dialplans_names_are_recording_names(name: str) -> None:
    assert safe_recording_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "../../etc/passwd",
        "2026/12/04/../../../etc/shadow.wav",
        "/2026/12/04/x.wav",
        "2026/12/04/x.mp3",
        "2026/13/04/x.wav",  # no 13th month
        "2026/02/30/x.wav",
        "2026/12/04/.hidden.wav",
        "2026/12/04/a b.wav",
        "2026/12/04/x.wav\n",
    ],
)
def test_any_other_name_is_refused_before_a_path_is_built(name: str, tmp_path: Path) -> None:
    assert safe_recording_name(name) == ""
    assert recording_path(tmp_path, name) is None
    assert judge(tmp_path, name, None).status is RecordingStatus.FAILED


def test_the_length_comes_from_the_header(tmp_path: Path) -> None:
    path = write_wav(tmp_path / NAME, 2.5)
    size, seconds = wav_length(path)
    assert size == path.stat().st_size and seconds == pytest.approx(2.5)


def test_a_header_left_at_zero_is_read_from_the_files_size(tmp_path: Path) -> None:
    path = write_wav(tmp_path / NAME, 3.0)
    raw = bytearray(path.read_bytes())
    data = raw.index(b"data")
    raw[data + 4 : data + 8] = struct.pack("<I", 0)  # the writer died before closing
    path.write_bytes(bytes(raw))
    assert wav_length(path)[1] == pytest.approx(3.0)


def test_a_whole_recording_is_ok(tmp_path: Path) -> None:
    write_wav(tmp_path / NAME, 10.0)
    outcome = judge(tmp_path, NAME, 10.4)
    assert (outcome.status, outcome.seconds, outcome.error) == (RecordingStatus.OK, 10.0, "")


def test_one_much_shorter_than_the_talk_is_partial(tmp_path: Path) -> None:
    write_wav(tmp_path / NAME, 4.0)
    outcome = judge(tmp_path, NAME, 30.0)
    assert (outcome.status, outcome.reason) == (RecordingStatus.PARTIAL, "short")
    assert "4.0 s of 30.0 s" in outcome.error


def test_an_empty_one_failed(tmp_path: Path) -> None:
    write_wav(tmp_path / NAME, 0.0)
    outcome = judge(tmp_path, NAME, 5.0)
    assert (outcome.status, outcome.reason) == (RecordingStatus.FAILED, "empty")
    assert judge(tmp_path, NAME, None).status is RecordingStatus.FAILED  # length unknown


def test_an_empty_one_of_a_call_hung_up_at_the_answer_is_no_failure(tmp_path: Path) -> None:
    write_wav(tmp_path / NAME, 0.0)
    outcome = judge(tmp_path, NAME, 0.4)  # the caller hung up as the agent answered
    assert (outcome.status, outcome.seconds, outcome.error) == (RecordingStatus.OK, 0.0, "")


def test_a_missing_one_failed_and_says_why(tmp_path: Path) -> None:
    outcome = judge(tmp_path, NAME, 5.0)
    assert (outcome.status, outcome.reason) == (RecordingStatus.FAILED, "missing")
    assert outcome.error == "Asterisk wrote no file (see its log)"  # the folder is fine
    (tmp_path / "2026").write_text("a file where the year's folder goes")
    assert judge(tmp_path, NAME, 5.0).error == f"{tmp_path / '2026'} is not a folder"
    (tmp_path / "2026").unlink()
    assert judge(tmp_path / "gone", NAME, 5.0).error == (
        f"the recording folder {tmp_path / 'gone'} does not exist"
    )


def test_a_folder_that_is_a_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    folder.write_text("")
    outcome = judge(folder, NAME, 5.0)
    assert outcome.error == f"{folder} is not a folder"


def test_expired_days_are_the_day_folders_before_the_date(tmp_path: Path) -> None:
    for day in ("2026/11/30", "2026/12/01", "2026/12/02", "2025/12/31"):
        (tmp_path / day).mkdir(parents=True)
    (tmp_path / "2026" / "notes").mkdir()  # not a month: left alone
    (tmp_path / "2026" / "12" / "99").mkdir()  # not a day
    found = expired_days(tmp_path, date(2026, 12, 2))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "2025/12/31",
        "2026/11/30",
        "2026/12/01",
    ]


def test_the_tone_check_finds_each_tone_in_its_share(tmp_path: Path) -> None:
    """The audio check the recording and supervision tests rely on (tests/integration)."""
    import math

    from tests.integration.audio import tone_shares

    path = tmp_path / "tones.wav"
    rate = 8000
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        frames = [
            int(6000 * math.sin(2 * math.pi * 440 * n / rate))
            + int(2000 * math.sin(2 * math.pi * 1400 * n / rate))
            for n in range(rate * 2)
        ]
        audio.writeframes(struct.pack(f"<{len(frames)}h", *frames))
    shares = tone_shares(path, [440, 1400, 2600])
    assert shares[440] == pytest.approx(0.9, abs=0.02)  # 6000² : 2000² = 9 : 1
    assert shares[1400] == pytest.approx(0.1, abs=0.02)
    assert shares[2600] < 0.001
