"""HTTP API of apology calls (bearer token; errors as ``{"error", "field"}``).

* ``POST /api/v1/campaigns/{ref}/tickets``: verified complaint tickets (``text/csv`` or
  JSON) into an apology campaign; the report names every rejected line.
* ``GET /api/v1/campaigns/{ref}/tickets``: its tickets with status and outcome.
* ``GET /api/v1/sms``: the SMS outbox (pending, sent, failed), oldest first.
"""

from __future__ import annotations

from aiohttp import web

from dialer.api import guarded
from dialer.apology.operations import ApologyOps
from dialer.contacts import Format

__all__ = ["install_routes"]

APOLOGY = web.AppKey("apology_ops", ApologyOps)


async def _import(request: web.Request) -> web.Response:
    fmt: Format = "csv" if request.content_type in ("text/csv", "text/plain") else "json"
    report = await request.app[APOLOGY].import_tickets(
        request.match_info["ref"], await request.read(), fmt
    )
    return web.json_response(report)


async def _tickets(request: web.Request) -> web.Response:
    found = await request.app[APOLOGY].tickets(request.match_info["ref"])
    return web.json_response({"tickets": found})


async def _outbox(request: web.Request) -> web.Response:
    return web.json_response({"sms": await request.app[APOLOGY].outbox.outbox()})


def install_routes(app: web.Application, ops: ApologyOps) -> None:
    app[APOLOGY] = ops
    ref = r"{ref:[\w.-]{1,64}}"
    app.router.add_post(f"/api/v1/campaigns/{ref}/tickets", guarded(_import))
    app.router.add_get(f"/api/v1/campaigns/{ref}/tickets", guarded(_tickets))
    app.router.add_get("/api/v1/sms", guarded(_outbox))
