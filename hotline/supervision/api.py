"""Live supervision over HTTP (supervisors and admins; agent tokens are refused).

* ``POST /api/v1/calls/{linkedid}/supervise`` ``{"mode": "listen|whisper|barge",
  "supervisor": "<phone id>"}``: rings the supervisor's phone, which then hears the call
  (202); 409 when no agent is on the call now
* ``GET /api/v1/supervision?linkedid=``: the log, newest first
* ``POST /ui/calls/{linkedid}/supervise``: the same from the console's call page
"""

from __future__ import annotations

from aiohttp import web

from hotline.errors import DatabaseError
from hotline.supervision.modes import Mode
from hotline.supervision.service import Outcome, Supervision
from hotline.web.app import CALLER, for_supervisors_only

__all__ = ["install_routes"]

SUPERVISION = web.AppKey("supervision", Supervision)
_LINKEDID = r"{linkedid:[\w.-]{1,150}}"
_MODES = ", ".join(m.value for m in Mode)


def _error(status: int, field: str, message: str) -> web.Response:
    return web.json_response({"error": f"{field}: {message}", "field": field}, status=status)


def _refused(request: web.Request) -> web.Response | None:
    return (
        _error(403, "(role)", "live supervision is for supervisors and admins")
        if for_supervisors_only(request)
        else None
    )


def _bad_field(mode: object, supervisor: object) -> tuple[str, str] | None:
    """The field at fault and why, or None: the checks of the API and the console alike."""
    if mode not in tuple(Mode):
        return "mode", f"one of {_MODES}"
    if not isinstance(supervisor, str) or not supervisor.isdigit() or len(supervisor) > 8:
        return "supervisor", "the id of a supervisor's phone (digits)"
    return None


async def _start(request: web.Request, linkedid: str, mode: str, supervisor: str) -> Outcome:
    caller = request[CALLER]
    return await request.app[SUPERVISION].start(
        linkedid, Mode(mode), supervisor, caller.name, caller.role.value
    )


async def _supervise(request: web.Request) -> web.Response:
    if (refusal := _refused(request)) is not None:
        return refusal
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "(body)", "not JSON")
    if not isinstance(body, dict):
        return _error(400, "(body)", 'a JSON object {"mode", "supervisor"}')
    unknown = sorted(set(body) - {"mode", "supervisor"})
    if unknown:
        return _error(400, unknown[0], "not a field (mode, supervisor)")
    mode, supervisor = body.get("mode"), body.get("supervisor")
    if (bad := _bad_field(mode, supervisor)) is not None:
        return _error(400, *bad)
    linkedid = request.match_info["linkedid"]
    try:
        outcome = await _start(request, linkedid, str(mode), str(supervisor))
    except DatabaseError as exc:
        return _error(503, "database", f"unavailable: nothing rung, nothing logged: {exc}")
    if outcome.status != 202:
        field = "supervisor" if outcome.status == 400 else "linkedid"
        return _error(outcome.status, field, outcome.message)
    return web.json_response(
        {
            "linkedid": linkedid,
            "mode": mode,
            "supervisor": supervisor,
            "agent_channel": outcome.agent_channel,
        },
        status=202,
    )


async def _log(request: web.Request) -> web.Response:
    if (refusal := _refused(request)) is not None:
        return refusal
    linkedid = request.query.get("linkedid") or None
    try:
        rows = await request.app[SUPERVISION].store.sessions(linkedid)
    except DatabaseError as exc:
        return _error(503, "database", f"unavailable: {exc}")
    return web.json_response({"sessions": rows})


async def _console(request: web.Request) -> web.Response:
    """The call page's listen/whisper/barge buttons (a form post; back to the page)."""
    if (refusal := _refused(request)) is not None:
        return refusal
    form = await request.post()
    linkedid = request.match_info["linkedid"]
    mode, supervisor = str(form.get("mode", "")), str(form.get("supervisor", ""))
    if _bad_field(mode, supervisor) is not None:
        outcome = "supervise_error=bad+request"
    else:
        try:
            started: Outcome | None = await _start(request, linkedid, mode, supervisor)
        except DatabaseError:
            started = None
        if started is not None and started.status == 202:
            outcome = f"supervised={mode}"
        else:
            outcome = f"supervise_error={started.status if started else 503}"
    raise web.HTTPSeeOther(f"/ui/calls/{linkedid}?{outcome}")


def install_routes(app: web.Application, supervision: Supervision) -> None:
    app[SUPERVISION] = supervision
    app.router.add_post(f"/api/v1/calls/{_LINKEDID}/supervise", _supervise)
    app.router.add_get("/api/v1/supervision", _log)
    app.router.add_post(f"/ui/calls/{_LINKEDID}/supervise", _console)
