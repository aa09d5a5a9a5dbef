"""Starting a supervision session: the agent's channel of a live call, an Originate to
the supervisor's phone that runs ChanSpy on it once answered, and the log line and row.

The Originate is sent once (``AmiClient`` never re-sends a write): a supervisor whose
phone did not ring asks again. Only a channel of the call whose name is an agent phone's
(``PJSIP/agent-…``) and that is up is ever spied on.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from hotline.ami import AmiClient
from hotline.errors import AmiError, AmiNotConnected, DatabaseError
from hotline.supervision.config import SupervisionSettings
from hotline.supervision.modes import Mode, spy_options
from hotline.supervision.store import Session, SupervisionStore

__all__ = ["CONTEXT", "Outcome", "Supervision"]

log = logging.getLogger(__name__)

CONTEXT = "hotline-supervise"
_AGENT_CHANNEL = re.compile(r"PJSIP/agent-[0-9]{3,8}-[0-9a-f]{8}")
_UP = "6"


@dataclass(frozen=True)
class Outcome:
    status: int  # the HTTP status it is answered with
    message: str
    agent_channel: str = ""


class Supervision:
    def __init__(self, settings: SupervisionSettings, ami: AmiClient, store: SupervisionStore):
        self.settings = settings
        self._ami = ami
        self.store = store

    async def agent_channel(self, linkedid: str) -> str:
        """The up agent channel of the call, '' when it has none (not live, no agent yet)."""
        status = await self._ami.action("Status")
        for row in status.events:
            channel = row.get("Channel", "")
            if (
                row.name == "Status"
                and row.get("Linkedid") == linkedid
                and _AGENT_CHANNEL.fullmatch(channel)
                and row.get("ChannelState") == _UP
            ):
                return channel
        return ""

    async def start(
        self, linkedid: str, mode: Mode, supervisor: str, who: str, role: str
    ) -> Outcome:
        phone = self.settings.phone(supervisor)
        if phone is None:
            known = ", ".join(p.id for p in self.settings.supervisors) or "none configured"
            return Outcome(
                400, f"supervisor: no phone {supervisor!r} (supervision.supervisors: {known})"
            )
        try:
            channel = await self.agent_channel(linkedid)
        except AmiNotConnected as exc:
            return Outcome(503, f"Asterisk not connected: {exc}")
        except AmiError as exc:
            return Outcome(502, f"Asterisk did not list the channels: {exc}")
        if not channel:
            return Outcome(409, f"call {linkedid} has no agent on the line now")
        # logged first (a database error refuses the session): no listening without a record
        session = await self.store.log(
            Session(linkedid, mode.value, supervisor, who, role, channel, "requested")
        )
        outcome = await self._originate(linkedid, mode, phone.endpoint, channel)
        try:
            await self.store.outcome(session, outcome.message)
        except DatabaseError as exc:  # the phone rings; its row says "requested"
            log.warning("call %s: supervision outcome not stored: %s", linkedid, exc)
        log.info(
            "call %s: %s by %s on phone %s (%s): %s",
            linkedid,
            mode.value,
            who,
            supervisor,
            channel,
            outcome.message,
        )
        return outcome

    async def _originate(self, linkedid: str, mode: Mode, endpoint: str, channel: str) -> Outcome:
        agent = channel.removeprefix("PJSIP/agent-").rsplit("-", 1)[0]
        try:
            await self._ami.action(
                "Originate",
                Channel=f"PJSIP/{endpoint}",
                Context=CONTEXT,
                Exten="s",
                Priority="1",
                Timeout=str(self.settings.ring_seconds * 1000),
                Async="true",
                CallerID=f'"{mode.value} {agent}" <{agent}>',
                Variable=[f"SPY_CHANNEL={channel}", f"SPY_OPTIONS={spy_options(mode)}"],
            )
        except AmiNotConnected as exc:
            return Outcome(503, f"refused: Asterisk not connected ({exc})"[:64], channel)
        except AmiError as exc:
            return Outcome(502, f"refused: {exc}"[:64], channel)
        return Outcome(202, "sent", channel)
