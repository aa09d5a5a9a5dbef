"""The live channels after a login, each row carrying the call record's variables.

CoreShowChannels lists the channels; one ``Status`` action then asks for the variables the
record needs and nothing else (its ``Variables`` header). Before, manager.conf
``channelvars`` put those variables on every event of every channel, a score of headers
that made up half of what the service parsed under load, only for this one read after a
gap. The ``Variable: NAME=value`` headers of each Status row join the CoreShowChannel row
of the same Uniqueid as ``ChanVariable`` headers, the shape the record builder reads
(``hotline.record_fields.channel_variables``), an unset one (Status says ``(null)``)
with an empty value, as channelvars gave it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Protocol

from hotline.ami_actions import AmiEvent

__all__ = ["Request", "live_channels"]


class _Listing(Protocol):
    @property
    def events(self) -> tuple[AmiEvent, ...]: ...


_UNSET = "(null)"
Request = Callable[[str, Mapping[str, str]], Awaitable[_Listing]]


async def live_channels(request: Request, variables: Collection[str]) -> list[AmiEvent]:
    """CoreShowChannel rows with ``variables`` on them; raises what ``request`` raises."""
    listed = await request("CoreShowChannels", {})
    rows = [event for event in listed.events if event.name == "CoreShowChannel"]
    if not rows or not variables:
        return rows
    status = await request("Status", {"Variables": ",".join(sorted(variables))})
    found = {
        event.get("Uniqueid", ""): tuple(map(_unset_empty, event.getall("Variable")))
        for event in status.events
        if event.name == "Status"
    }
    # a channel gone between the two reads has no Status row: its row goes without them
    return [row.with_values("ChanVariable", found.get(row.get("Uniqueid", ""), ())) for row in rows]


def _unset_empty(item: str) -> str:
    """Status says ``NAME=(null)`` for a variable that is not set; the rows say ``NAME=``."""
    name, _, value = item.partition("=")
    return f"{name}=" if value == _UNSET else item
