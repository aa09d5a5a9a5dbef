"""HTTP API of the callback survey under ``/api/v1`` (bearer token, errors as in dialer.api).

* ``POST /api/v1/campaigns/{ref}/orders[?seed=…]``: a work-order file (``text/csv`` or
  JSON); draws and stores the sample; answers the import report with the sample id.
* ``GET /api/v1/survey/samples/{id}``: a stored sample, seed, rules and every pick.
* ``GET /api/v1/campaigns/{ref}/survey-responses``: each answered call with its scores.
"""

from __future__ import annotations

from aiohttp import web

from dialer.api import guarded
from dialer.contacts import Format
from dialer.survey.operations import SurveyOps

__all__ = ["install_routes"]

SURVEY = web.AppKey("survey_ops", SurveyOps)


async def _import(request: web.Request) -> web.Response:
    fmt: Format = "csv" if request.content_type in ("text/csv", "text/plain") else "json"
    report = await request.app[SURVEY].import_orders(
        request.match_info["ref"], await request.read(), fmt, request.query.get("seed")
    )
    return web.json_response(report)


async def _sample(request: web.Request) -> web.Response:
    return web.json_response(await request.app[SURVEY].sample(int(request.match_info["id"])))


async def _responses(request: web.Request) -> web.Response:
    found = await request.app[SURVEY].responses(request.match_info["ref"])
    return web.json_response({"responses": found})


def install_routes(app: web.Application, ops: SurveyOps) -> None:
    app[SURVEY] = ops
    ref = r"{ref:[\w.-]{1,64}}"
    app.router.add_post(f"/api/v1/campaigns/{ref}/orders", guarded(_import))
    app.router.add_get(r"/api/v1/survey/samples/{id:[0-9]{1,9}}", guarded(_sample))
    app.router.add_get(f"/api/v1/campaigns/{ref}/survey-responses", guarded(_responses))
