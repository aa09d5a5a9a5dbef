"""The live channels after a login: CoreShowChannel rows with the record's variables from
one Status action (the real reply is exercised by the crash and AMI-gap integration tests)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from hotline.ami_actions import AmiEvent
from hotline.ami_snapshot import live_channels
from hotline.errors import AmiError
from hotline.record_fields import channel_variables


@dataclass(frozen=True)
class Listing:
    events: tuple[AmiEvent, ...]


def row(event: str, uid: str, *variables: str) -> AmiEvent:
    lines = [f"Event: {event}", f"Channel: PJSIP/x-{uid}", f"Uniqueid: {uid}"]
    lines += [f"Variable: {v}" for v in variables]
    return AmiEvent.from_block("\r\n".join(lines))


class FakeAsterisk:
    def __init__(self, shown: list[AmiEvent], status: list[AmiEvent]) -> None:
        self.shown, self.status = shown, status
        self.asked: list[tuple[str, dict[str, str]]] = []

    async def request(self, name: str, headers: Mapping[str, str]) -> Listing:
        self.asked.append((name, dict(headers)))
        return Listing(tuple(self.shown if name == "CoreShowChannels" else self.status))


async def test_each_row_gets_the_variables_of_its_channel_unset_ones_empty() -> None:
    shown = [row("CoreShowChannel", "1.1"), row("CoreShowChannel", "1.2")]
    status = [
        row("Status", "1.2", "HOTLINE_QUEUE=repair", "HOTLINE_DISPOSITION=(null)"),
        row("Status", "1.1", "HOTLINE_QUEUE=(null)", "HOTLINE_DISPOSITION=fallback"),
        row("StatusComplete", ""),
    ]
    asterisk = FakeAsterisk(shown, status)
    rows = await live_channels(asterisk.request, {"HOTLINE_QUEUE", "HOTLINE_DISPOSITION"})
    assert asterisk.asked == [
        ("CoreShowChannels", {}),
        ("Status", {"Variables": "HOTLINE_DISPOSITION,HOTLINE_QUEUE"}),
    ]
    assert [channel_variables(r) for r in rows] == [
        {"HOTLINE_QUEUE": "", "HOTLINE_DISPOSITION": "fallback"},
        {"HOTLINE_QUEUE": "repair", "HOTLINE_DISPOSITION": ""},
    ]
    assert [r["Channel"] for r in rows] == ["PJSIP/x-1.1", "PJSIP/x-1.2"]


async def test_a_channel_gone_before_status_keeps_its_row_without_variables() -> None:
    asterisk = FakeAsterisk([row("CoreShowChannel", "1.1")], [row("StatusComplete", "")])
    [only] = await live_channels(asterisk.request, {"HOTLINE_QUEUE"})
    assert channel_variables(only) == {} and only["Uniqueid"] == "1.1"


async def test_no_channels_or_no_variables_asks_nothing_more() -> None:
    empty = FakeAsterisk([], [])
    assert await live_channels(empty.request, {"HOTLINE_QUEUE"}) == []
    plain = FakeAsterisk([row("CoreShowChannel", "1.1")], [])
    assert len(await live_channels(plain.request, ())) == 1
    assert [name for name, _ in empty.asked + plain.asked] == ["CoreShowChannels"] * 2


async def test_a_failed_status_fails_the_whole_read() -> None:
    """Rows without the variables would lose what was set meanwhile; the next login retries."""

    async def request(name: str, headers: Mapping[str, str]) -> Listing:
        if name == "Status":
            raise AmiError("Status: no response within 10s")
        return Listing((row("CoreShowChannel", "1.1"),))

    with pytest.raises(AmiError, match="Status"):
        await live_channels(request, {"HOTLINE_QUEUE"})
