"""HTTP API of the dialer under ``/api/v1`` (the service's bearer-token middleware applies).

Errors are JSON: ``{"error": "...", "field": "..."}`` with 400 for invalid input (the
field named), 404 for an unknown campaign, 409 for a transition the campaign's status
does not allow or a name taken, 503 when the database is down.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from dialer.contacts import Format
from dialer.operations import OperationError, Operations
from dialer.repository import ConfigDncEntry
from hotline.errors import DatabaseError

__all__ = ["guarded", "install_routes", "json_body"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.Response]]
OPS = web.AppKey("dialer_ops", Operations)


def _error(status: int, field: str, message: str) -> web.Response:
    return web.json_response({"error": message, "field": field}, status=status)


def guarded(handler: Handler) -> Handler:
    async def run(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except OperationError as exc:
            return _error(exc.status, exc.field, str(exc))
        except DatabaseError as exc:
            return _error(503, "database", f"database unavailable: {exc}")

    return run


async def json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OperationError(400, "(body)", f"not JSON: {exc}") from exc


async def _list(request: web.Request) -> web.Response:
    return web.json_response({"campaigns": await request.app[OPS].list()})


async def _create(request: web.Request) -> web.Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise OperationError(400, "(body)", "a campaign is a JSON object")
    campaign = await request.app[OPS].create(body)
    return web.json_response(campaign.to_json(), status=201)


async def _show(request: web.Request) -> web.Response:
    return web.json_response(await request.app[OPS].status(request.match_info["ref"]))


async def _action(request: web.Request) -> web.Response:
    ops = request.app[OPS]
    campaign = await ops.transition(request.match_info["ref"], request.match_info["action"])
    return web.json_response(await ops.status(str(campaign.id)))


async def _import(request: web.Request) -> web.Response:
    kind = request.content_type
    fmt: Format = "csv" if kind in ("text/csv", "text/plain") else "json"
    data = await request.read()
    report = await request.app[OPS].import_contacts(request.match_info["ref"], data, fmt)
    return web.json_response(report.to_json())


async def _dnc_list(request: web.Request) -> web.Response:
    return web.json_response({"dnc": await request.app[OPS].repo.dnc()})


async def _dnc_add(request: web.Request) -> web.Response:
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("number"), str):
        raise OperationError(400, "number", "number: a string of digits is required")
    unknown = sorted(set(body) - {"number", "reason"})
    if unknown:
        raise OperationError(400, unknown[0], f"{unknown[0]}: unknown field (number, reason)")
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 255:
        raise OperationError(400, "reason", "reason: text of at most 255 characters")
    number = await request.app[OPS].add_dnc(body["number"], reason)
    return web.json_response({"number": number}, status=201)


async def _dnc_remove(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    try:
        removed = await request.app[OPS].repo.remove_dnc(number)
    except ConfigDncEntry as exc:
        raise OperationError(409, "number", f"number: {exc}") from None
    if not removed:
        raise OperationError(404, "number", f"{number} is not on the DNC list")
    return web.json_response({"removed": number})


def install_routes(app: web.Application, ops: Operations) -> None:
    app[OPS] = ops
    ref = r"{ref:[\w.-]{1,64}}"
    app.router.add_get("/api/v1/campaigns", guarded(_list))
    app.router.add_post("/api/v1/campaigns", guarded(_create))
    app.router.add_get(f"/api/v1/campaigns/{ref}", guarded(_show))
    app.router.add_post(f"/api/v1/campaigns/{ref}/contacts", guarded(_import))
    app.router.add_post(f"/api/v1/campaigns/{ref}/{{action:start|pause|resume}}", guarded(_action))
    app.router.add_get("/api/v1/dnc", guarded(_dnc_list))
    app.router.add_post("/api/v1/dnc", guarded(_dnc_add))
    app.router.add_delete(r"/api/v1/dnc/{number:[0-9]{3,20}}", guarded(_dnc_remove))
