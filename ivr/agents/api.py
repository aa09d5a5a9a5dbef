"""HTTP routes of the agents: state, the caller on an agent's line, login/logout/pause.

Under ``/api/v1`` (the core app's bearer-token middleware applies):

* ``GET  /api/v1/agents``                  every configured agent's state
* ``GET  /api/v1/agents/{id}``             one agent
* ``GET  /api/v1/agents/{id}/call``        the call the agent is on, with the caller's
                                           customer data (404 when not on a call)
* ``POST /api/v1/agents/{id}/login``       body ``{"queues": [...]}`` (optional)
* ``POST /api/v1/agents/{id}/logout``      body ``{"queues": [...]}`` (optional)
* ``POST /api/v1/agents/{id}/pause``       body ``{"queues": [...], "reason": "..."}``
* ``POST /api/v1/agents/{id}/unpause``     body ``{"queues": [...]}``

Errors: 400 naming the field, 404 unknown agent, 409 pause/unpause of an agent not
logged in, 503 AMI down; a refusal by Asterisk is 502 with its message.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from hotline.ami_headers import unsafe_char
from hotline.errors import AmiError, AmiNotConnected, DatabaseError
from ivr.agents.control import AgentControl, AgentError, NotLoggedIn, UnknownAgent
from ivr.agents.tracker import AgentCall, AgentState, AgentTracker
from ivr.lookup import Customer, CustomerDirectory

__all__ = ["AgentsApi", "agent_json", "check_body", "install_routes"]

log = logging.getLogger(__name__)

_ID = "{agent:[0-9]{3,8}}"
_MAX_BODY_QUEUES = 32
LOOKUP_SECONDS = 2.0


class AgentsApi(Protocol):
    """What the routes need: the feature provides it."""

    tracker: AgentTracker
    control: AgentControl

    def directory(self) -> CustomerDirectory | None: ...


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _call_json(call: AgentCall) -> dict[str, Any]:
    return {
        "linkedid": call.linkedid,
        "queue": call.queue,
        "caller": call.caller,
        "account": call.account,
        "connected_at": _iso(call.connected_at),
    }


def agent_json(state: AgentState, now: datetime) -> dict[str, Any]:
    """An agent's state as the API shows it."""
    return {
        "id": state.id,
        "name": state.name,
        "status": state.status(now).value,
        "queues": [
            {"queue": m.queue, "paused": m.paused, "reason": m.reason}
            for m in sorted(state.memberships.values(), key=lambda m: m.queue)
        ],
        "ringing": state.ringing or None,
        "call": None if state.call is None else _call_json(state.call),
        "calls_taken": state.calls_taken,
        "last_call_end": _iso(state.last_call_end),
        "wrapup_until": _iso(state.wrapup_until),
    }


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    """The optional JSON body; ValueError naming the field when it is malformed."""
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("body: not valid JSON") from None
    return check_body(body)


def check_body(body: Any) -> dict[str, Any]:
    """A login/logout/pause body as parsed JSON; ValueError naming the bad field."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValueError("body: a JSON object")
    unknown = sorted(set(body) - {"queues", "reason"})
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown field (queues, reason)")
    queues = body.get("queues", [])
    if not isinstance(queues, list) or not all(isinstance(q, str) for q in queues):
        raise ValueError("queues: a list of queue names")
    if len(queues) > _MAX_BODY_QUEUES:
        raise ValueError(f"queues: at most {_MAX_BODY_QUEUES}")
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 64:
        raise ValueError("reason: a string of at most 64 characters")
    unsafe = unsafe_char(reason)
    if unsafe:  # a CR/LF would end the AMI header and start an action of the caller's
        raise ValueError(f"reason: control characters are not allowed ({unsafe})")
    return body


def install_routes(app: web.Application, api: AgentsApi) -> None:
    """Register the agents' routes on the core app."""

    def state(agent: str) -> AgentState:
        found = api.tracker.get(agent)
        if found is None:
            raise UnknownAgent(f"agent {agent}: not configured (queues.agents)")
        return found

    async def list_agents(request: web.Request) -> web.Response:
        now = api.tracker.now()
        return web.json_response({"agents": [agent_json(a, now) for a in api.tracker.agents()]})

    async def get_agent(request: web.Request) -> web.Response:
        try:
            found = state(request.match_info["agent"])
        except UnknownAgent as exc:
            return _error(404, str(exc))
        return web.json_response(agent_json(found, api.tracker.now()))

    async def get_call(request: web.Request) -> web.Response:
        try:
            found = state(request.match_info["agent"])
        except UnknownAgent as exc:
            return _error(404, str(exc))
        call = found.call
        if call is None:
            return _error(404, f"agent {found.id}: not on a call")
        customer = await _customer(api.directory(), call)
        body = _call_json(call) | {"agent": found.id, "customer": customer}
        return web.json_response(body)

    def command(
        run: Callable[[str, dict[str, Any]], Awaitable[dict[str, str]]],
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            agent = request.match_info["agent"]
            try:
                outcome = await run(agent, await _body(request))
            except ValueError as exc:
                return _error(400, str(exc))
            except UnknownAgent as exc:
                return _error(404, str(exc))
            except NotLoggedIn as exc:
                return _error(409, str(exc))
            except AgentError as exc:
                return _error(400, str(exc))
            except AmiNotConnected as exc:
                return _error(503, f"AMI not connected: {exc}")
            except AmiError as exc:
                return _error(502, str(exc))
            return web.json_response(
                {"agent": agent_json(state(agent), api.tracker.now()), "queues": outcome}
            )

        return handler

    control = api.control
    actions = {
        "login": lambda agent, body: control.login(agent, body.get("queues", [])),
        "logout": lambda agent, body: control.logout(agent, body.get("queues", [])),
        "pause": lambda agent, body: control.pause(
            agent, body.get("queues", []), body.get("reason", "")
        ),
        "unpause": lambda agent, body: control.unpause(agent, body.get("queues", [])),
    }
    app.router.add_get("/api/v1/agents", list_agents)
    app.router.add_get(f"/api/v1/agents/{_ID}", get_agent)
    app.router.add_get(f"/api/v1/agents/{_ID}/call", get_call)
    for verb, run in actions.items():
        app.router.add_post(f"/api/v1/agents/{_ID}/{verb}", command(run))


async def _customer(directory: CustomerDirectory | None, call: AgentCall) -> dict[str, Any] | None:
    """The caller's customer record: by the account the IVR identified, else by number."""
    if directory is None:
        return None
    found: Customer | None
    try:
        async with asyncio.timeout(LOOKUP_SECONDS):
            found = await directory.by_account(call.account) if call.account else None
            if found is None:
                found = await directory.by_phone(call.caller)
    except (DatabaseError, TimeoutError) as exc:
        log.warning("[%s] customer lookup failed: %s", call.linkedid, exc)
        return None
    return None if found is None else asdict(found)
