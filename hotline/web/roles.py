"""Who may do what over the API: three roles, and the requests each may make.

* **admin**: everything (campaigns, uploads, DNC and blocklist, tokens' owners).
* **supervisor**: read everything (the console's pages too, recordings included); start,
  pause and resume campaigns; draw the quality sample and score calls; listen in; act for agents
  (login, pause, hold and resume, call notes, promised callbacks).
* **agent**: read calls and holds (never recordings or reviews); their own agent's state
  and login/pause; notes, hold and resume on the calls their agent is on
  (``hotline.web.app.not_their_call``), and promising a callback in their own name. A
  token made for agent 1001 acts only for 1001.

A request no rule allows is refused with 403 naming the role; the settings' ``web.token``
is an admin token (the bootstrap: it makes the others).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Role", "Verdict", "allowed"]


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    why: str = ""


_AGENT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (method, re.compile(pattern))
    for method, pattern in (
        ("GET", r"/api/v1/openapi\.json"),
        ("GET", r"/api/v1/calls(/[^/]+)?"),
        ("PATCH", r"/api/v1/calls/[^/]+"),
        ("POST", r"/api/v1/calls/[^/]+/(hold|resume)"),
        ("GET", r"/api/v1/holds"),
        ("GET", r"/api/v1/agents/(?P<agent>[^/]+)(/call)?"),
        ("POST", r"/api/v1/agents/(?P<agent>[^/]+)/(login|logout|pause|unpause)"),
        ("POST", r"/api/v1/callbacks"),
    )
)
_SUPERVISOR_WRITES = re.compile(
    r"/api/v1/campaigns/[^/]+/(start|pause|resume)|/ui/campaigns/[^/]+/(pause|resume)|/ui/logout"
    r"|/api/v1/qa/samples|/api/v1/qa/reviews/[^/]+|/ui/quality/sample|/ui/calls/[^/]+/review"
    r"|/api/v1/calls/[^/]+/supervise|/ui/calls/[^/]+/supervise"
)


def allowed(role: Role, method: str, path: str, own_agent: str = "") -> Verdict:
    """May ``role`` make this request? ``own_agent``: the agent an agent token is bound to."""
    if role is Role.ADMIN:
        return Verdict(True)
    reads = method in ("GET", "HEAD") or _SUPERVISOR_WRITES.fullmatch(path)
    if role is Role.SUPERVISOR and reads:
        return Verdict(True)
    for rule_method, pattern in _AGENT_RULES:
        match = pattern.fullmatch(path)
        if match is None or rule_method != method:
            continue
        target = match.groupdict().get("agent")
        if role is Role.AGENT and own_agent and target is not None and target != own_agent:
            return Verdict(False, f"an agent token of {own_agent} acts only for agent {own_agent}")
        return Verdict(True)
    return Verdict(False, f"role {role.value} may not {method} {path}")
