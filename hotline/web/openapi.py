"""The OpenAPI document of ``/api/v1``, served at ``GET /api/v1/openapi.json``.

Written as a table (method, path, who may call it, what it does, what the body is) rather
than generated from the router, so a test can compare the two: a route added without a
line here, or a line left for a route that is gone, fails ``test_openapi``.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from hotline.web.openapi_schemas import REQUESTS, RESPONSES, components

__all__ = ["ROUTES", "document", "install_routes"]

A, S, G = "admin", "admin, supervisor", "admin, supervisor, agent"
JSON, CSV = "application/json", "text/csv"
_REPORT = "Report (?since, ?until ISO 8601; ?format=json|csv): "

#: (method, path, roles, summary, request body types)
ROUTES: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("GET", "/health", "", "Whether the parts are up (no token needed)", ()),
    ("GET", "/api/v1/openapi.json", G, "This document", ()),
    ("GET", "/metrics", S, "Prometheus metrics (text format)", ()),
    ("GET", "/api/v1/live", S, "Server-Sent Events: calls, queues, agents, campaigns", ()),
    (
        "GET",
        "/api/v1/calls",
        G,
        "Call records, newest first; filters since, until, direction, queue, agent, "
        "disposition, number; limit 1..500; cursor (from next_cursor)",
        (),
    ),
    ("GET", "/api/v1/calls/{linkedid}", G, "A call record with its timeline and holds", ()),
    ("PATCH", "/api/v1/calls/{linkedid}", G, "The agent's reason and description", (JSON,)),
    ("POST", "/api/v1/calls/{linkedid}/hold", G, "Hold the caller (agent's call)", (JSON,)),
    ("POST", "/api/v1/calls/{linkedid}/resume", G, "Take the held caller back", ()),
    (
        "GET",
        "/api/v1/calls/{linkedid}/recording",
        S,
        "The call's recording (audio/wav; Range requests); every request audited",
        (),
    ),
    ("GET", "/api/v1/recordings/{linkedid}", S, "What became of a call's recording", ()),
    ("GET", "/api/v1/recordings/playbacks", S, "Playback audit (?linkedid), newest first", ()),
    ("GET", "/api/v1/qa/form", S, "The quality review form: items, titles, weights", ()),
    ("POST", "/api/v1/qa/samples", S, "Draw a day's review sample ({day})", (JSON,)),
    ("GET", "/api/v1/qa/reviews", S, "Calls to review and reviewed (?day, agent, status)", ()),
    ("GET", "/api/v1/qa/reviews/{linkedid}", S, "A call's review", ()),
    (
        "PUT",
        "/api/v1/qa/reviews/{linkedid}",
        S,
        "Score a call against the form ({scores: {item: 0-10}, comment})",
        (JSON,),
    ),
    (
        "POST",
        "/api/v1/calls/{linkedid}/supervise",
        S,
        "Listen to, whisper to or barge into the call ({mode, supervisor}): rings the phone",
        (JSON,),
    ),
    ("GET", "/api/v1/supervision", S, "Live supervision log (?linkedid), newest first", ()),
    ("GET", "/api/v1/holds", G, "Agent calls on hold and the hold-limit alerts", ()),
    ("GET", "/api/v1/blocklist", S, "Blocked callers", ()),
    ("POST", "/api/v1/blocklist", A, "Block a caller ({number, reason})", (JSON,)),
    ("DELETE", "/api/v1/blocklist/{number}", A, "Unblock a caller", ()),
    ("GET", "/api/v1/callbacks", S, "Callback requests (?status=open|pending|…)", ()),
    ("POST", "/api/v1/callbacks", G, "Promise a callback ({number, due_by, …})", (JSON,)),
    ("GET", "/api/v1/callbacks/overdue", S, "Overdue-callback alerts", ()),
    ("GET", "/api/v1/agents", S, "Every agent's state", ()),
    ("GET", "/api/v1/agents/{agent}", G, "An agent's state", ()),
    ("GET", "/api/v1/agents/{agent}/call", G, "The call the agent is on", ()),
    ("POST", "/api/v1/agents/{agent}/login", G, "Log the agent into queues", (JSON,)),
    ("POST", "/api/v1/agents/{agent}/logout", G, "Log the agent out", (JSON,)),
    ("POST", "/api/v1/agents/{agent}/pause", G, "Pause the agent ({reason})", (JSON,)),
    ("POST", "/api/v1/agents/{agent}/unpause", G, "End the agent's pause", (JSON,)),
    ("GET", "/api/v1/campaigns", S, "Campaigns with their progress", ()),
    ("POST", "/api/v1/campaigns", A, "Create a campaign", (JSON,)),
    ("GET", "/api/v1/campaigns/{ref}", S, "A campaign with its progress", ()),
    ("POST", "/api/v1/campaigns/{ref}/{action}", S, "start, pause or resume a campaign", ()),
    ("POST", "/api/v1/campaigns/{ref}/contacts", A, "Import contacts", (CSV, JSON)),
    ("POST", "/api/v1/campaigns/{ref}/orders", A, "Work orders in; the survey sample", (CSV, JSON)),
    ("GET", "/api/v1/campaigns/{ref}/survey-responses", S, "Survey answers and scores", ()),
    ("GET", "/api/v1/survey/samples/{id}", S, "A stored survey sample with its picks", ()),
    ("POST", "/api/v1/campaigns/{ref}/tickets", A, "Complaint tickets in", (CSV, JSON)),
    ("GET", "/api/v1/campaigns/{ref}/tickets", S, "Apology tickets and outcomes", ()),
    ("GET", "/api/v1/sms", S, "The SMS outbox", ()),
    ("GET", "/api/v1/dnc", S, "The do-not-call list", ()),
    ("GET", "/api/v1/reports/service-level", S, _REPORT + "service level per queue", ()),
    ("GET", "/api/v1/reports/abandonment", S, _REPORT + "inbound calls by how they ended", ()),
    ("GET", "/api/v1/reports/scores", S, _REPORT + "post-call scores per agent", ()),
    (
        "GET",
        "/api/v1/reports/scores-by-category",
        S,
        _REPORT + "post-call scores per menu category",
        (),
    ),
    ("GET", "/api/v1/reports/holds", S, _REPORT + "holds per agent", ()),
    ("GET", "/api/v1/reports/survey", S, _REPORT + "survey scores per technician", ()),
    ("GET", "/api/v1/reports/apologies", S, _REPORT + "apology tickets per agent", ()),
    ("GET", "/api/v1/reports/callbacks", S, _REPORT + "promised callbacks", ()),
    ("GET", "/api/v1/reports/amd", S, _REPORT + "AMD verdicts per campaign", ()),
    ("GET", "/api/v1/reports/qa-agents", S, _REPORT + "quality review totals per agent", ()),
    ("GET", "/api/v1/reports/qa-items", S, _REPORT + "quality review scores per item", ()),
    ("POST", "/api/v1/dnc", A, "Add a number to the DNC list", (JSON,)),
    ("DELETE", "/api/v1/dnc/{number}", A, "Take a number off the DNC list", ()),
)

_ERRORS = {
    "400": "Invalid input; `error` names the field",
    "401": "No token, or an unknown one",
    "403": "The token's role may not do this",
    "404": "Unknown id",
    "503": "Database (or AMI) unavailable",
}


def _operation(method: str, path: str, roles: str, summary: str, bodies: tuple[str, ...]) -> Any:
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": f"{method.lower()}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}",
        "responses": {
            "200": {
                "description": "OK",
                "content": {JSON: {"schema": RESPONSES.get((method, path), {})}},
            }
        },
    }
    error = {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}
    if roles:
        operation["description"] = f"Roles: {roles}."
        operation["responses"] |= {
            code: {"description": text, "content": error} for code, text in _ERRORS.items()
        }
    else:
        operation["security"] = []
    names = re.findall(r"{(\w+)}", path)
    if names:
        operation["parameters"] = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names
        ]
    if bodies:
        schemas = {JSON: REQUESTS.get((method, path), {})}
        operation["requestBody"] = {
            "content": {kind: {"schema": schemas.get(kind, {"type": "string"})} for kind in bodies}
        }
    return operation


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, roles, summary, bodies in ROUTES:
        paths.setdefault(path, {})[method.lower()] = _operation(
            method, path, roles, summary, bodies
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": "hotline API", "version": "1"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": components(),
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


async def _serve(request: web.Request) -> web.Response:
    return web.json_response(document())


def install_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/openapi.json", _serve)
