"""Recording in the rendered configuration: which queues record, under what name, whether
campaign calls record and whether the notice is played."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hotline.config import Settings
from hotline.config_queues import QueueSettings, QueuesSettings
from hotline.recordings.config import RecordingSettings
from hotline.render import render_instance
from tests.unit.test_render import Conf, dirs, make_settings, priorities


def render(tmp_path: Path, **changes: object) -> Path:
    settings = make_settings().model_copy(update=changes)
    out = tmp_path / "hotline"
    render_instance(settings, "hotline", dirs(tmp_path), out)
    return out


def queues(**records: bool | None) -> QueuesSettings:
    return QueuesSettings(queues=tuple(QueueSettings(name=n, record=r) for n, r in records.items()))


def recorded_queues(out: Path) -> list[str]:
    """The queues whose join starts the call's recording (hotline-queue-limits)."""
    limits = Conf(out / "dialplan-inbound.conf").section("hotline-queue-limits")
    text = (out / "dialplan-inbound.conf").read_text(encoding="utf-8")
    block = text[text.index("[hotline-queue-limits]") : text.index("[hotline-recording]")]
    found, queue = [], ""
    for line in block.splitlines():
        if line.startswith("exten => "):
            queue = line.removeprefix("exten => ").split(",")[0]
        elif "Gosub(hotline-recording,s,1)" in line:
            found.append(queue)
    assert limits  # the section parses
    return found


def test_every_queue_records_by_default_into_the_instances_folder(tmp_path: Path) -> None:
    out = render(tmp_path)
    assert recorded_queues(out) == ["gas-help"]
    steps = priorities(Conf(out / "dialplan-inbound.conf").section("hotline-recording"))
    folder = f"{tmp_path / 'instance'}/recordings"
    # one MixMonitor per call, on the caller, writing while bridged: each agent's part
    assert f"MixMonitor({folder}/${{REC_FILE}},b)" in steps
    assert not any("recording-notice" in step for step in steps)
    assert "monitor-format" not in Conf(out / "queues.conf").section("gas-help")
    outbound = priorities(Conf(out / "dialplan-outbound.conf").section("dialer-recording"))
    assert f"MixMonitor({folder}/${{REC_FILE}})" in outbound


def test_a_queue_may_be_left_unrecorded(tmp_path: Path) -> None:
    settings_queues = queues(**{"gas-help": None, "billing": False})
    out = render(tmp_path, queues=settings_queues)
    assert recorded_queues(out) == ["gas-help"]  # not billing


def test_recording_off_records_nothing_but_the_queues_that_ask(tmp_path: Path) -> None:
    out = render(
        tmp_path,
        recording=RecordingSettings(enabled=False),
        queues=queues(**{"gas-help": None, "complaints": True}),
    )
    assert recorded_queues(out) == ["complaints"]
    outbound = priorities(Conf(out / "dialplan-outbound.conf").section("dialer-recording"))
    assert outbound == ["Return()"]  # campaign calls are not recorded either


def test_the_notice_and_an_own_folder(tmp_path: Path) -> None:
    recording = RecordingSettings(announce=True, folder=Path("/var/spool/asterisk/rec"))
    out = render(tmp_path, recording=recording)
    steps = priorities(Conf(out / "dialplan-inbound.conf").section("hotline-recording"))
    assert "Playback(hotline/recording-notice)" in steps
    assert "MixMonitor(/var/spool/asterisk/rec/${REC_FILE},b)" in steps
    outbound = priorities(Conf(out / "dialplan-outbound.conf").section("dialer-recording"))
    assert "Playback(hotline/recording-notice)" in outbound


@pytest.mark.parametrize(
    "folder", ["relative/rec", "/var/rec dir", "/var/${EVIL}", "/var/rec,x", "/var/rec)"]
)
def test_a_folder_that_could_break_the_dialplan_is_refused(folder: str) -> None:
    with pytest.raises(ValidationError, match="folder"):
        Settings(recording={"folder": folder})
