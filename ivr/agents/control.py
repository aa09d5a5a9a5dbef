"""Agent login, logout, pause and unpause: queue membership over AMI.

Agents are dynamic queue members (``PJSIP/agent-<id>``), so these map one to one onto
``QueueAdd``, ``QueueRemove`` and ``QueuePause``. All three are idempotent in effect: a
login to a queue the agent is already in, or a logout from one it is not in, is reported
per queue (``already``, ``not_member``) rather than failing the whole request. They are
writes, so the AMI client never re-sends them after a reconnect; a caller who sees
"outcome unknown" simply asks again.

Errors: ``AgentError`` and its subclasses (an unknown agent or queue, a pause for an
agent who is not logged in); ``hotline.errors.AmiError`` passes through (AMI down or the
action refused for another reason).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from hotline.ami import AmiResponse
from hotline.config_queues import AgentSettings, QueuesSettings
from hotline.errors import AmiError, AmiNotConnected, HotlineError

__all__ = [
    "AgentControl",
    "AgentError",
    "AmiActions",
    "NotLoggedIn",
    "UnknownAgent",
    "UnknownQueue",
]

log = logging.getLogger(__name__)

_ALREADY = "Already there"
_NOT_THERE = "Not there"
_NOT_FOUND = "Interface not found"
_MAX_REASON = 64


class AgentError(HotlineError):
    """An agent request that cannot be carried out as asked."""


class UnknownAgent(AgentError):
    """No agent with this id in ``queues.agents``."""


class UnknownQueue(AgentError):
    """A queue name that is not in ``queues.queues``."""


class NotLoggedIn(AgentError):
    """Pause or unpause for an agent who is in none of the queues asked for."""


class AmiActions(Protocol):
    """What the control needs of ``hotline.ami.AmiClient``."""

    async def action(self, name: str, /, **headers: str) -> AmiResponse: ...


class AgentControl:
    """Queue membership of the configured agents."""

    def __init__(self, ami: AmiActions, queues: QueuesSettings) -> None:
        self._ami = ami
        self._queues = queues

    def agent(self, agent_id: str) -> AgentSettings:
        agent = self._queues.agent(agent_id)
        if agent is None:
            raise UnknownAgent(f"agent {agent_id}: not configured (queues.agents)")
        return agent

    def _queue_names(self, agent: AgentSettings, asked: Sequence[str], *, login: bool) -> list[str]:
        unknown = sorted(set(asked) - self._queues.names())
        if unknown:
            raise UnknownQueue(f"queue: unknown {unknown}; known: {sorted(self._queues.names())}")
        if asked:
            return list(dict.fromkeys(asked))
        if login:
            if not agent.queues:
                raise UnknownQueue(f"queue: agent {agent.id} has no default queues; name one")
            return list(agent.queues)
        return [queue.name for queue in self._queues.queues]

    async def login(self, agent_id: str, queues: Sequence[str] = ()) -> dict[str, str]:
        """Join the queues (the agent's configured ones by default): queue → added|already."""
        agent = self.agent(agent_id)
        outcome = {}
        for queue in self._queue_names(agent, queues, login=True):
            outcome[queue] = await self._send(
                "QueueAdd",
                ("added", _ALREADY, "already"),
                {
                    "Queue": queue,
                    "Interface": agent.interface,
                    "MemberName": agent.endpoint,
                    "StateInterface": agent.interface,
                    "Penalty": "0",
                    "Paused": "false",
                },
            )
        log.info("agent %s login: %s", agent.id, outcome)
        return outcome

    async def logout(self, agent_id: str, queues: Sequence[str] = ()) -> dict[str, str]:
        """Leave the queues (all of them by default): queue → removed|not_member."""
        agent = self.agent(agent_id)
        outcome = {}
        for queue in self._queue_names(agent, queues, login=False):
            outcome[queue] = await self._send(
                "QueueRemove",
                ("removed", _NOT_THERE, "not_member"),
                {"Queue": queue, "Interface": agent.interface},
            )
        log.info("agent %s logout: %s", agent.id, outcome)
        return outcome

    async def pause(
        self, agent_id: str, queues: Sequence[str] = (), reason: str = ""
    ) -> dict[str, str]:
        """Stop being rung (in every queue by default); ``reason`` shows in the agent state."""
        return await self._pause(agent_id, queues, True, reason[:_MAX_REASON])

    async def unpause(self, agent_id: str, queues: Sequence[str] = ()) -> dict[str, str]:
        return await self._pause(agent_id, queues, False, "")

    async def _pause(
        self, agent_id: str, queues: Sequence[str], paused: bool, reason: str
    ) -> dict[str, str]:
        agent = self.agent(agent_id)
        word = "paused" if paused else "unpaused"
        headers = {"Interface": agent.interface, "Paused": "true" if paused else "false"}
        if reason:
            headers["Reason"] = reason
        if not queues:  # no Queue header: every queue the agent is in, in one action
            await self._send("QueuePause", (word, "", ""), headers, missing=NotLoggedIn)
            log.info("agent %s %s everywhere", agent.id, word)
            return {"*": word}
        outcome = {}
        for queue in self._queue_names(agent, queues, login=False):
            outcome[queue] = await self._send(
                "QueuePause", (word, _NOT_FOUND, "not_member"), headers | {"Queue": queue}
            )
        if all(result == "not_member" for result in outcome.values()):
            raise NotLoggedIn(f"agent {agent.id}: not logged in to {sorted(outcome)}")
        log.info("agent %s %s: %s", agent.id, word, outcome)
        return outcome

    async def _send(
        self,
        action: str,
        words: tuple[str, str, str],
        headers: dict[str, str],
        *,
        missing: type[AgentError] | None = None,
    ) -> str:
        """Send one action; ``words``: (result on success, refusal text that is benign, its
        result). ``missing``: raise this when Asterisk does not know the interface."""
        done, benign, benign_word = words
        try:
            await self._ami.action(action, **headers)
        except AmiNotConnected:
            raise
        except AmiError as exc:
            text = str(exc)
            if benign and benign in text:
                return benign_word
            if missing is not None and _NOT_FOUND in text:
                raise missing(f"{headers.get('Interface')}: not logged in to any queue") from exc
            raise
        return done
