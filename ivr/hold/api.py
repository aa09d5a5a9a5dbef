"""HTTP routes of hold and resume, under ``/api/v1`` (the bearer-token middleware applies).

* ``POST /api/v1/calls/{linkedid}/hold``    hold an agent call; optional body
                                           ``{"by": "<who asks>"}`` (default ``api``)
* ``POST /api/v1/calls/{linkedid}/resume``  take the caller back to the agent
* ``GET  /api/v1/holds``                    calls with an agent: phase, time held, the
                                           limit alerts (the agent's "API event")

Errors: 400 naming the field, 404 no agent call with that linkedid in progress, 409 not
in a state for the request (already held, not held, held by the agent's phone), 503 AMI
down, 502 Asterisk refused the move (the call stays as it was).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from aiohttp import web

from hotline.errors import AmiError, AmiNotConnected
from hotline.web.app import not_their_call
from ivr.hold.controller import HoldConflict, HoldController, NoSuchCall

__all__ = ["install_routes"]

log = logging.getLogger(__name__)

_LINKEDID = r"{linkedid:[A-Za-z0-9._-]{1,64}}"
_BY = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _who(request: web.Request) -> str:
    """``by`` from the optional body; ValueError naming the field when it is malformed."""
    if not request.can_read_body:
        return "api"
    try:
        body = json.loads(await request.text() or "null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("body: not valid JSON") from None
    if body is None:
        return "api"
    if not isinstance(body, dict):
        raise ValueError("body: a JSON object")
    unknown = sorted(set(body) - {"by"})
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown field (only by)")
    by = body.get("by", "api")
    if not isinstance(by, str) or not _BY.fullmatch(by):
        raise ValueError("by: 1-32 letters, digits, _ or -")
    return by


def install_routes(app: web.Application, holds: HoldController) -> None:
    async def hold(request: web.Request) -> web.Response:
        linkedid = request.match_info["linkedid"]
        refused = _not_theirs(request, linkedid)
        if refused is not None:
            return refused
        try:
            view = await holds.hold(linkedid, await _who(request))
        except ValueError as exc:
            return _error(400, str(exc))
        except (NoSuchCall, HoldConflict, AmiError) as exc:
            return _refused(linkedid, exc)
        return web.json_response(view)

    async def resume(request: web.Request) -> web.Response:
        linkedid = request.match_info["linkedid"]
        refused = _not_theirs(request, linkedid)
        if refused is not None:
            return refused
        if request.can_read_body and (await request.read()).strip() not in (b"", b"{}", b"null"):
            return _error(400, "body: resume takes no fields")
        try:
            view = await holds.resume(linkedid)
        except (NoSuchCall, HoldConflict, AmiError) as exc:
            return _refused(linkedid, exc)
        return web.json_response(view)

    async def list_holds(_request: web.Request) -> web.Response:
        body: dict[str, Any] = {"calls": holds.views(), "alerts": list(holds.alerts)}
        return web.json_response(body)

    def _not_theirs(request: web.Request, linkedid: str) -> web.Response | None:
        agent = holds.agent_of(linkedid)
        if agent is None:
            return None  # no such agent call: the controller answers 404
        why = not_their_call(request, agent)
        return None if why is None else _error(403, why)

    app.router.add_post(f"/api/v1/calls/{_LINKEDID}/hold", hold)
    app.router.add_post(f"/api/v1/calls/{_LINKEDID}/resume", resume)
    app.router.add_get("/api/v1/holds", list_holds)


def _refused(linkedid: str, exc: Exception) -> web.Response:
    if isinstance(exc, NoSuchCall):
        return _error(404, f"no agent call with linkedid {linkedid} in progress")
    if isinstance(exc, HoldConflict):
        return _error(409, str(exc))
    if isinstance(exc, AmiNotConnected):
        return _error(503, f"AMI not connected: {exc}")
    log.warning("[%s] hold request refused by Asterisk: %s", linkedid, exc)
    return _error(502, str(exc))
