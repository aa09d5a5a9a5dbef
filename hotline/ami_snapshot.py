"""The live channels after a login, each row carrying the call record's variables.

One ``Status`` action lists every channel and, through its ``Variables`` header, just the
variables the record needs. Before, manager.conf ``channelvars`` put those variables on
every event of every channel, a score of headers that made up half of what the service
parsed under load, only for this one read after a gap. One read, not CoreShowChannels and
then Status: a channel that ended between two reads would have lost what was set on it
while no one listened; with one snapshot, whatever happens after it is in the events held
since the login.

Each row is shaped as the CoreShowChannel rows the hooks read: the ``Variable: NAME=value``
headers become ``ChanVariable`` headers (``hotline.record_fields.channel_variables``), an
unset one (Status says ``(null)``) with an empty value, and ``Seconds`` becomes
``Duration`` (``HH:MM:SS``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Protocol

from hotline.ami_actions import AmiEvent
from hotline.errors import AmiError, AmiNotConnected

__all__ = ["SNAPSHOT_TRIES", "Request", "live_channels", "read_live"]

log = logging.getLogger(__name__)

SNAPSHOT_TRIES = 3  # reads of the live channels after a login before reconciling is skipped


class _Listing(Protocol):
    @property
    def events(self) -> tuple[AmiEvent, ...]: ...


_UNSET = "(null)"
Request = Callable[[str, Mapping[str, str]], Awaitable[_Listing]]


async def live_channels(request: Request, variables: Collection[str]) -> list[AmiEvent]:
    """One row per live channel with ``variables`` on it; raises what ``request`` raises."""
    headers = {"Variables": ",".join(sorted(variables))} if variables else {}
    status = await request("Status", headers)
    return [_row(event) for event in status.events if event.name == "Status"]


async def read_live(
    request: Request,
    variables: Collection[str],
    where: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> list[AmiEvent] | None:
    """``live_channels``, read again twice (1 s, then 2 s later) when it fails; None when it
    never succeeds or the connection is gone (the next login reconciles). Skipped, calls
    that ended during a gap would stay in progress until a next login that a healthy
    connection never makes."""
    for attempt in range(1, SNAPSHOT_TRIES + 1):
        try:
            return await live_channels(request, variables)
        except AmiNotConnected:
            return None
        except AmiError as exc:
            again = attempt < SNAPSHOT_TRIES
            outcome = "failed, reading again" if again else "skipped"
            log.warning("AMI reconciliation on %s %s: %s", where, outcome, exc)
            if again:
                await sleep(attempt)
    return None


def _row(event: AmiEvent) -> AmiEvent:
    found = tuple(map(_unset_empty, event.getall("Variable")))
    seconds = event.get("Seconds", "")
    duration = (_clock(int(seconds)),) if seconds.isdigit() else ()
    return event.replaced({"Variable": (), "ChanVariable": found, "Duration": duration})


def _clock(seconds: int) -> str:
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours:02d}:{minute:02d}:{second:02d}"


def _unset_empty(item: str) -> str:
    """Status says ``NAME=(null)`` for a variable that is not set; the rows say ``NAME=``."""
    name, _, value = item.partition("=")
    return f"{name}=" if value == _UNSET else item
