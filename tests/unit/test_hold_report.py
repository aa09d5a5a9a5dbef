"""Hold segments stored from timeline entries, and the hold report, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.callrecord import CallRecord, Direction, TimelineEntry
from hotline.cli import main
from hotline.config_hold import HoldSettings
from hotline.db import CallRecordRepository, session_factory
from ivr.hold.report import AgentHolds, hold_report

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def segment(linkedid: str, number: int, agent: str, seconds: float, outcome: str) -> TimelineEntry:
    start = T0 + timedelta(minutes=number)
    return TimelineEntry(
        linkedid,
        100 + number,
        start + timedelta(seconds=seconds),
        "hold_segment",
        "PJSIP/carrier-00000001",
        {
            "number": number,
            "started_at": start.isoformat(),
            "ended_at": (start + timedelta(seconds=seconds)).isoformat(),
            "seconds": seconds,
            "agent": agent,
            "started_by": agent,
            "trigger": "feature_code",
            "outcome": outcome,
        },
    )


async def test_segments_are_stored_once_and_reported_per_agent(engine: AsyncEngine) -> None:
    repo = CallRecordRepository(session_factory(engine))
    first = CallRecord("call-1", Direction.INBOUND, T0, agent="1001", hold_count=2)
    one = [
        segment("call-1", 1, "1001", 20.0, "resumed"),
        segment("call-1", 2, "1001", 70, "requeued"),
    ]
    await repo.save(first, one)
    await repo.save(first, one)  # a retried save adds nothing
    second = CallRecord("call-2", Direction.INBOUND, T0, agent="1002", hold_count=1)
    await repo.save(second, [segment("call-2", 1, "1002", 180.0, "auto_resumed")])
    stored = await repo.hold_segments("call-1")
    assert [(s["number"], s["seconds"], s["outcome"]) for s in stored] == [
        (1, 20.0, "resumed"),
        (2, 70.0, "requeued"),
    ]
    assert stored[0]["started_at"] == (T0 + timedelta(minutes=1)).isoformat()
    report = await hold_report(session_factory(engine), T0, T0 + timedelta(hours=1), 60.0)
    assert report == [
        AgentHolds("1001", 2, 45.0, 70.0, over_limit=1, auto_resumed=0, requeued=1),
        AgentHolds("1002", 1, 180.0, 180.0, over_limit=1, auto_resumed=1, requeued=0),
    ]
    assert (
        await hold_report(
            session_factory(engine), T0 + timedelta(hours=1), T0 + timedelta(hours=2), 60.0
        )
        == []
    )


def test_hold_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="soft_seconds"):
        HoldSettings(soft_seconds=200, hard_seconds=180)
    with pytest.raises(ValueError, match="feature_code"):
        HoldSettings(feature_code="11")
    with pytest.raises(ValueError, match="feature_code"):
        HoldSettings(feature_code="*1;Hangup")
    assert HoldSettings().dialplan_deadline_seconds == 195


def test_the_report_command_prints_a_table(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "hotline.yaml").write_text(
        f"database: {{url: 'sqlite+aiosqlite:///{folder / 'h.db'}'}}\n", encoding="utf-8"
    )
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(main, ["--config", str(folder / "hotline.yaml"), "report", "holds"])
    assert result.exit_code == 0, result.output
    assert "limit 60 s" in result.output and "(no holds)" in result.output
    bad = CliRunner().invoke(
        main,
        [
            "--config",
            str(folder / "hotline.yaml"),
            "report",
            "holds",
            "--since",
            "2026-11-30",
            "--until",
            "2026-11-29",
        ],
    )
    assert bad.exit_code == 2 and "--until" in bad.output
