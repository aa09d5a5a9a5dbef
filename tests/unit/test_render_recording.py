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


def test_every_queue_records_by_default_into_the_instances_folder(tmp_path: Path) -> None:
    out = render(tmp_path)
    assert Conf(out / "queues.conf").section("gas-help")["monitor-format"] == ["wav"]
    steps = priorities(Conf(out / "dialplan-inbound.conf").section("hotline-recording"))
    folder = f"{tmp_path / 'instance'}/recordings"
    assert f"Set(MONITOR_FILENAME={folder}/${{REC_FILE:0:-4}})" in steps
    assert "Set(MONITOR_OPTIONS=a)" in steps  # a later agent's part is appended
    assert not any("recording-notice" in step for step in steps)
    limits = priorities(Conf(out / "dialplan-inbound.conf").section("hotline-queue-limits"))
    assert "Gosub(hotline-recording,s,1)" in limits
    outbound = priorities(Conf(out / "dialplan-outbound.conf").section("dialer-recording"))
    assert f"MixMonitor({folder}/${{REC_FILE}})" in outbound


def test_a_queue_may_be_left_unrecorded(tmp_path: Path) -> None:
    settings_queues = queues(**{"gas-help": None, "billing": False})
    out = render(tmp_path, queues=settings_queues)
    conf = Conf(out / "queues.conf")
    assert conf.section("gas-help")["monitor-format"] == ["wav"]
    assert "monitor-format" not in conf.section("billing")


def test_recording_off_records_nothing_but_the_queues_that_ask(tmp_path: Path) -> None:
    out = render(
        tmp_path,
        recording=RecordingSettings(enabled=False),
        queues=queues(**{"gas-help": None, "complaints": True}),
    )
    conf = Conf(out / "queues.conf")
    assert "monitor-format" not in conf.section("gas-help")
    assert conf.section("complaints")["monitor-format"] == ["wav"]
    outbound = priorities(Conf(out / "dialplan-outbound.conf").section("dialer-recording"))
    assert outbound == ["Return()"]  # campaign calls are not recorded either


def test_the_notice_and_an_own_folder(tmp_path: Path) -> None:
    recording = RecordingSettings(announce=True, folder=Path("/var/spool/asterisk/rec"))
    out = render(tmp_path, recording=recording)
    steps = priorities(Conf(out / "dialplan-inbound.conf").section("hotline-recording"))
    assert "Playback(hotline/recording-notice)" in steps
    assert "Set(MONITOR_FILENAME=/var/spool/asterisk/rec/${REC_FILE:0:-4})" in steps
    outbound = priorities(Conf(out / "dialplan-outbound.conf").section("dialer-recording"))
    assert "Playback(hotline/recording-notice)" in outbound


@pytest.mark.parametrize(
    "folder", ["relative/rec", "/var/rec dir", "/var/${EVIL}", "/var/rec,x", "/var/rec)"]
)
def test_a_folder_that_could_break_the_dialplan_is_refused(folder: str) -> None:
    with pytest.raises(ValidationError, match="folder"):
        Settings(recording={"folder": folder})
