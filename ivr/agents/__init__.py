"""Agents: queue membership over AMI, state from AMI events, the agents' HTTP API.

``tracker`` (pure state from events), ``control`` (QueueAdd/QueueRemove/QueuePause),
``api`` (routes), ``feature`` (wiring into the service).
"""

from __future__ import annotations

from ivr.agents.control import AgentControl, AgentError, NotLoggedIn, UnknownAgent, UnknownQueue
from ivr.agents.feature import AgentsFeature
from ivr.agents.tracker import AgentCall, AgentState, AgentStatus, AgentTracker, Membership

__all__ = [
    "AgentCall",
    "AgentControl",
    "AgentError",
    "AgentState",
    "AgentStatus",
    "AgentTracker",
    "AgentsFeature",
    "Membership",
    "NotLoggedIn",
    "UnknownAgent",
    "UnknownQueue",
]
