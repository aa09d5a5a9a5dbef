"""Agent state from AMI events: logged in where, paused, ringing, on a call, wrapping up.

Pure code (no I/O, no asyncio), so every rule is tested from event tables. Asterisk's
queue events are the truth: ``QueueMember*`` say where an agent is a member and whether
paused, ``Agent*`` follow the calls, and the dialplan's ``HotlineAgentConnect`` user event
(run on the agent's channel when connected) carries the caller's customer account. A
``QueueStatus`` snapshot after every AMI login replaces the membership picture, so a gap
in the events never leaves a stale login behind.

Odd input (unknown interfaces, events for agents not configured, out-of-order events) is
absorbed: this code runs on the AMI reader, which must not stop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from hotline.record_fields import (
    Clock,
    agent_id,
    event_time,
    parse_int,
    safe_number,
    safe_text,
    safe_token,
    utc_now,
)

__all__ = ["AgentCall", "AgentState", "AgentStatus", "AgentTracker", "Membership"]

logger = logging.getLogger(__name__)

# Asterisk device states (QueueMember* ``Status``)
_DEVICE_IN_USE = frozenset({2, 3, 7, 8})  # in use, busy, ringing while in use, on hold
_DEVICE_GONE = frozenset({4, 5})  # invalid, unavailable
_MEMBER_EVENTS = frozenset({"QueueMemberAdded", "QueueMemberStatus", "QueueMember"})
CONNECT_EVENT = "HotlineAgentConnect"


class AgentStatus(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAPUP = "wrapup"  # after a queue call, for the queue's wrapuptime
    PAUSED = "paused"  # paused in every queue it is a member of
    BUSY = "busy"  # the phone is in use, not on a queue call
    UNAVAILABLE = "unavailable"  # the phone cannot be reached


@dataclass(slots=True)
class Membership:
    """The agent in one queue, as app_queue reports it."""

    queue: str
    paused: bool = False
    reason: str = ""
    device: int = 0


@dataclass(slots=True)
class AgentCall:
    """The queue call an agent is connected to."""

    linkedid: str
    queue: str
    caller: str
    caller_channel: str
    agent_channel: str
    connected_at: datetime
    account: str = ""  # the caller's customer account, when the IVR identified them


@dataclass(slots=True)
class AgentState:
    id: str
    name: str = ""
    memberships: dict[str, Membership] = field(default_factory=dict)
    ringing: str = ""  # linkedid of the call ringing the agent
    call: AgentCall | None = None
    wrapup_until: datetime | None = None
    calls_taken: int = 0  # queue calls completed since the service started
    last_call_end: datetime | None = None

    def status(self, now: datetime) -> AgentStatus:
        """One word for a wallboard: the most telling fact wins."""
        if self.call is not None:
            return AgentStatus.ON_CALL
        if not self.memberships:
            return AgentStatus.LOGGED_OUT
        if self.ringing:
            return AgentStatus.RINGING
        members = self.memberships.values()
        if all(member.paused for member in members):
            return AgentStatus.PAUSED
        if any(member.device in _DEVICE_GONE for member in members):
            return AgentStatus.UNAVAILABLE
        if self.wrapup_until is not None and now < self.wrapup_until:
            return AgentStatus.WRAPUP
        if any(member.device in _DEVICE_IN_USE for member in members):
            return AgentStatus.BUSY
        return AgentStatus.AVAILABLE


class AgentTracker:
    """Keeps one ``AgentState`` per configured agent up to date from AMI events."""

    def __init__(
        self,
        agents: Mapping[str, str],
        wrapup_seconds: Callable[[str], int],
        clock: Clock = utc_now,
    ) -> None:
        """``agents``: id → display name; ``wrapup_seconds``: a queue's wrap-up time."""
        self._agents = {agent: AgentState(agent, name) for agent, name in agents.items()}
        self._wrapup = wrapup_seconds
        self._clock = clock
        self._accounts: dict[tuple[str, str], str] = {}  # (agent, linkedid) → account

    def get(self, agent: str) -> AgentState | None:
        return self._agents.get(agent)

    def agents(self) -> list[AgentState]:
        return [self._agents[agent] for agent in sorted(self._agents)]

    def now(self) -> datetime:
        return self._clock()

    def feed(self, event: Mapping[str, str]) -> None:
        """Apply one AMI event (any other event is ignored)."""
        name = event.get("Event", "")
        if name == "UserEvent":
            self._user_event(event)
            return
        interface = event.get("Interface") or event.get("Location")
        agent = self._agents.get(agent_id(interface))
        if agent is None:
            return
        at = event_time(event, self._clock)
        queue = safe_token(event.get("Queue"), 32)
        if name in _MEMBER_EVENTS:
            self._member(agent, queue, event)
        elif name == "QueueMemberRemoved":
            agent.memberships.pop(queue, None)
            logger.info("agent %s left queue %s", agent.id, queue)
        elif name == "QueueMemberPause":
            member = agent.memberships.setdefault(queue, Membership(queue))
            member.paused = event.get("Paused") == "1"
            member.reason = safe_text(event.get("PausedReason")) if member.paused else ""
        else:
            self._call_event(agent, name, queue, event, at)

    def snapshot(self, rows: Iterable[Mapping[str, str]]) -> None:
        """Replace every membership with a ``QueueStatus`` answer's ``QueueMember`` rows."""
        for agent in self._agents.values():
            agent.memberships.clear()
        for row in rows:
            if row.get("Event") == "QueueMember":
                self.feed(row)
        for agent in self._agents.values():
            if agent.call is not None and not agent.memberships:
                logger.info("agent %s: no longer a member; call %s dropped", agent.id, agent.call)
                agent.call = None
        logger.info("agent snapshot: %d logged in", sum(bool(a.memberships) for a in self.agents()))

    def _member(self, agent: AgentState, queue: str, event: Mapping[str, str]) -> None:
        member = agent.memberships.get(queue)
        if member is None:
            member = agent.memberships[queue] = Membership(queue)
            logger.info("agent %s is a member of queue %s", agent.id, queue)
        member.paused = event.get("Paused") == "1"
        member.reason = safe_text(event.get("PausedReason")) if member.paused else ""
        member.device = parse_int(event.get("Status")) or 0
        if event.get("InCall") == "0" and agent.call is not None and agent.call.queue == queue:
            # the call ended while we were not looking (e.g. an AMI gap)
            logger.info("agent %s: call %s ended unseen", agent.id, agent.call.linkedid)
            agent.call = None

    def _call_event(
        self, agent: AgentState, name: str, queue: str, event: Mapping[str, str], at: datetime
    ) -> None:
        linkedid = safe_token(event.get("Linkedid"))
        if name == "AgentCalled":
            agent.ringing = linkedid
        elif name == "AgentRingNoAnswer":
            if agent.ringing == linkedid:
                agent.ringing = ""
        elif name == "AgentConnect":
            agent.ringing = ""
            agent.call = AgentCall(
                linkedid=linkedid,
                queue=queue,
                caller=safe_number(event.get("CallerIDNum")),
                caller_channel=safe_token(event.get("Channel")),
                agent_channel=safe_token(event.get("DestChannel")),
                connected_at=at,
                account=self._accounts.pop((agent.id, linkedid), ""),
            )
            logger.info("[%s] agent %s connected (queue %s)", linkedid, agent.id, queue)
        elif name in ("AgentComplete", "AgentDump"):
            if agent.call is not None and agent.call.linkedid == linkedid:
                agent.call = None
            if name == "AgentComplete":
                agent.calls_taken += 1
            agent.last_call_end = at
            agent.wrapup_until = at + timedelta(seconds=self._wrapup(queue))
            logger.info("[%s] agent %s done (%s)", linkedid, agent.id, name)

    def _user_event(self, event: Mapping[str, str]) -> None:
        """The dialplan's screen-pop event, sent before AgentConnect on the agent's channel."""
        if event.get("UserEvent") != CONNECT_EVENT:
            return
        endpoint = safe_token(event.get("Endpoint"), 32)
        agent = self._agents.get(agent_id(f"PJSIP/{endpoint}"))
        linkedid = safe_token(event.get("Linkedid"))
        account = "".join(ch for ch in event.get("Account", "") if ch.isascii() and ch.isdigit())
        if agent is None or not linkedid:
            return
        if agent.call is not None and agent.call.linkedid == linkedid:
            agent.call.account = account[:32]
        else:
            self._accounts[(agent.id, linkedid)] = account[:32]
            while len(self._accounts) > 1024:  # an event whose AgentConnect never came
                self._accounts.pop(next(iter(self._accounts)))
