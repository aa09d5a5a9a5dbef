"""The hold machine's effects as AMI actions on a caller's and an agent's channels.

Only moves are made here; what the caller hears and every way back to a human is in
``dialplans/dialplan-hold.conf``. Channel names come from Asterisk's own events, never
from a caller, and are checked against the shape Asterisk gives them before use.
None of these actions is retried after an AMI drop (``hotline.ami_actions``): a lost
Redirect leaves the caller where they were, which is always a place with a way out.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Protocol

from hotline.ami import AmiResponse

__all__ = ["HoldMoves", "HoldParties", "valid_channel"]

log = logging.getLogger(__name__)

_CHANNEL = re.compile(r"^[A-Za-z]+/[A-Za-z0-9._@:-]{1,120}$")

CALLER_HOLD = "hotline-hold"
CALLER_ASK = "hotline-hold-ask"
CALLER_RESUME = "hotline-hold-resume"
CALLER_REQUEUE = "hotline-hold-requeue"
AGENT_WAIT = "hotline-hold-agent"


def valid_channel(name: str) -> bool:
    """A channel name as Asterisk makes them (``PJSIP/agent-1001-00000001``)."""
    return bool(_CHANNEL.fullmatch(name))


class AmiActions(Protocol):
    async def action(self, name: str, /, **headers: str) -> AmiResponse: ...


@dataclass(frozen=True, slots=True)
class HoldParties:
    """The two channels of a call between a caller and an agent."""

    linkedid: str
    caller: str
    agent_channel: str
    agent: str  # the agent's id

    def __post_init__(self) -> None:
        for name in (self.caller, self.agent_channel):
            if not valid_channel(name):
                raise ValueError(f"not a channel name: {name!r}")


class HoldMoves:
    """Moves the parties of a call in and out of the hold contexts."""

    def __init__(self, ami: AmiActions) -> None:
        self._ami = ami

    async def hold(self, parties: HoldParties, by: str, trigger: str, *, ask: bool) -> None:
        """Caller to the request (and hold, or the consent question), agent to waiting."""
        await self._setvar(parties.caller, "HOLD_AGENT_CHANNEL", parties.agent_channel)
        await self._setvar(parties.caller, "HOTLINE_HOLD_BY", by)
        await self._setvar(parties.caller, "HOTLINE_HOLD_TRIGGER", trigger)
        await self._setvar(parties.agent_channel, "HOLD_CALLER_CHANNEL", parties.caller)
        context, exten = (CALLER_ASK, "s") if ask else (CALLER_HOLD, "announce")
        await self._ami.action(
            "Redirect",
            Channel=parties.caller,
            Context=context,
            Exten=exten,
            Priority="1",
            ExtraChannel=parties.agent_channel,
            ExtraContext=AGENT_WAIT,
            ExtraExten="s",
            ExtraPriority="1",
        )
        log.info("[%s] held by %s (%s)", parties.linkedid, by, trigger)

    async def rejoin(self, parties: HoldParties, *, automatic: bool) -> None:
        """对不起,让您久等了, then the caller bridges back to the waiting agent."""
        exten = "auto_resumed" if automatic else "resumed"
        await self._redirect(parties.caller, CALLER_RESUME, exten)
        log.info("[%s] %s", parties.linkedid, exten)

    async def requeue(self, parties: HoldParties) -> None:
        await self._redirect(parties.caller, CALLER_REQUEUE, "s")
        log.info("[%s] held caller back to the queue (agent gone)", parties.linkedid)

    async def alert_agent(self, parties: HoldParties) -> None:
        """A tone to the waiting agent (the soft limit)."""
        await self._redirect(parties.agent_channel, AGENT_WAIT, "alert")

    async def free_agent(self, parties: HoldParties) -> None:
        await self._ami.action("Hangup", Channel=parties.agent_channel, Cause="16")

    async def mark_phone_hold(self, parties: HoldParties, held: bool) -> None:
        """The agent's phone holds the caller: if the agent then hangs up, the dialplan
        sends the caller back to the queue instead of to the score."""
        await self._setvar(parties.caller, "HOLD_PHONE", "1" if held else "")

    async def _setvar(self, channel: str, name: str, value: str) -> None:
        await self._ami.action("Setvar", Channel=channel, Variable=name, Value=value)

    async def _redirect(self, channel: str, context: str, exten: str) -> None:
        await self._ami.action(
            "Redirect", Channel=channel, Context=context, Exten=exten, Priority="1"
        )
