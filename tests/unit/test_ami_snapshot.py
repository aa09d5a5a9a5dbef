"""The live channels after a login: one Status read, rows shaped as CoreShowChannel rows
with the record's variables (the real reply is exercised by the crash and AMI-gap
integration tests)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from hotline.ami_actions import AmiEvent
from hotline.ami_snapshot import live_channels, read_live
from hotline.errors import AmiError, AmiNotConnected
from hotline.record_fields import channel_variables, parse_duration


@dataclass(frozen=True)
class Listing:
    events: tuple[AmiEvent, ...]


def status(uid: str, seconds: str, *variables: str) -> AmiEvent:
    lines = ["Event: Status", f"Channel: PJSIP/x-{uid}", f"Uniqueid: {uid}", f"Seconds: {seconds}"]
    lines += [f"Variable: {v}" for v in variables]
    return AmiEvent.from_block("\r\n".join(lines))


class FakeAsterisk:
    def __init__(self, events: list[AmiEvent]) -> None:
        self.events = events
        self.asked: list[tuple[str, dict[str, str]]] = []

    async def request(self, name: str, headers: Mapping[str, str]) -> Listing:
        self.asked.append((name, dict(headers)))
        return Listing(tuple(self.events))


async def test_one_status_read_gives_each_channel_its_variables_unset_ones_empty() -> None:
    asterisk = FakeAsterisk(
        [
            status("1.1", "3725", "HOTLINE_QUEUE=(null)", "HOTLINE_DISPOSITION=fallback"),
            status("1.2", "12", "HOTLINE_QUEUE=repair", "HOTLINE_DISPOSITION=(null)"),
            AmiEvent.from_block("Event: StatusComplete\r\nItems: 2"),
        ]
    )
    rows = await live_channels(asterisk.request, {"HOTLINE_QUEUE", "HOTLINE_DISPOSITION"})
    assert asterisk.asked == [("Status", {"Variables": "HOTLINE_DISPOSITION,HOTLINE_QUEUE"})]
    assert [channel_variables(r) for r in rows] == [
        {"HOTLINE_QUEUE": "", "HOTLINE_DISPOSITION": "fallback"},
        {"HOTLINE_QUEUE": "repair", "HOTLINE_DISPOSITION": ""},
    ]
    assert [r["Channel"] for r in rows] == ["PJSIP/x-1.1", "PJSIP/x-1.2"]
    assert [r["Duration"] for r in rows] == ["01:02:05", "00:00:12"]  # as CoreShowChannel
    assert parse_duration(rows[0]["Duration"]).total_seconds() == 3725
    assert all(r.getall("Variable") == () for r in rows)


async def test_without_variables_the_rows_have_none() -> None:
    asterisk = FakeAsterisk([status("1.1", "", "HOTLINE_QUEUE=x")])
    [row] = await live_channels(asterisk.request, ())
    assert asterisk.asked == [("Status", {})]
    assert channel_variables(row) == {"HOTLINE_QUEUE": "x"} and "Duration" not in row


async def test_a_failed_read_fails_the_whole_snapshot() -> None:
    """Rows without the variables would lose what was set meanwhile; the next login retries."""

    async def request(name: str, headers: Mapping[str, str]) -> Listing:
        raise AmiError("Status: no response within 10s")

    with pytest.raises(AmiError, match="Status"):
        await live_channels(request, {"HOTLINE_QUEUE"})


async def test_a_failed_read_is_tried_again_twice_then_given_up() -> None:
    failures = [AmiError("Status: no response within 10s")] * 2
    slept: list[float] = []

    async def request(name: str, headers: Mapping[str, str]) -> Listing:
        if failures:
            raise failures.pop()
        return Listing((status("1.1", "5"),))

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    rows = await read_live(request, {"HOTLINE_QUEUE"}, "test", sleep)
    assert rows is not None and [r["Uniqueid"] for r in rows] == ["1.1"] and slept == [1, 2]
    failures[:] = [AmiError("down")] * 3
    slept.clear()
    assert await read_live(request, {"HOTLINE_QUEUE"}, "test", sleep) is None
    assert slept == [1, 2]  # three reads in all


async def test_a_lost_connection_is_not_read_again() -> None:
    async def request(name: str, headers: Mapping[str, str]) -> Listing:
        raise AmiNotConnected("AMI at test is not connected; Status was not sent")

    async def sleep(seconds: float) -> None:
        raise AssertionError("no wait: the next login reconciles")

    assert await read_live(request, (), "test", sleep) is None
