"""Quality review over HTTP (supervisors and admins; agent tokens are refused).

* ``GET /api/v1/qa/form``: the review form (items, titles, weights)
* ``POST /api/v1/qa/samples`` ``{"day": "YYYY-MM-DD"}`` (default today): draw the day's
  sample; repeating it adds only what is new
* ``GET /api/v1/qa/reviews?day=&agent=&status=open|reviewed``, ``GET …/reviews/{linkedid}``
* ``PUT /api/v1/qa/reviews/{linkedid}`` ``{"scores": {item: 0-10}, "comment"}``: score a
  call (one the sample did not pick too), the total out of 100 comes back
* reports ``qa-agents`` and ``qa-items`` (``hotline.web.report_api``: JSON or CSV)
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from hotline.errors import DatabaseError
from hotline.quality.config import QualitySettings
from hotline.quality.form import ReviewError, check_scores, form_json, total
from hotline.quality.sampling import pick
from hotline.quality.store import QaStore, Review
from hotline.record_fields import utc_now
from hotline.web.app import CALLER, for_supervisors_only
from hotline.web.report_api import add_report

__all__ = ["install_routes"]

log = logging.getLogger(__name__)

STORE = web.AppKey("qa_store", QaStore)
SETTINGS = web.AppKey("qa_settings", QualitySettings)
_LINKEDID = r"{linkedid:[\w.-]{1,150}}"
_STATUSES = ("", "open", "reviewed")


def _error(status: int, field: str, message: str) -> web.Response:
    return web.json_response({"error": f"{field}: {message}", "field": field}, status=status)


def _refused(request: web.Request) -> web.Response | None:
    return (
        _error(403, "(role)", "quality review is for supervisors and admins")
        if for_supervisors_only(request)
        else None
    )


def _day(raw: Any, zone: str, field: str = "day") -> date:
    if raw is None or raw == "":
        return datetime.now(ZoneInfo(zone)).date()
    if not isinstance(raw, str):
        raise ReviewError(field, "a date YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ReviewError(field, f"a date YYYY-MM-DD, not {raw[:20]!r}") from None


async def _form(request: web.Request) -> web.Response:
    if (refusal := _refused(request)) is not None:
        return refusal
    return web.json_response({"items": form_json(request.app[SETTINGS].form)})


async def _sample(request: web.Request) -> web.Response:
    if (refusal := _refused(request)) is not None:
        return refusal
    settings, store = request.app[SETTINGS], request.app[STORE]
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        return _error(400, "(body)", "not JSON")
    if not isinstance(body, dict) or set(body) - {"day"}:
        return _error(400, "(body)", 'a JSON object {"day": "YYYY-MM-DD"}')
    try:
        day = _day(body.get("day"), settings.timezone)
        calls, drawn = await store.candidates(day)
        picks = pick(day, calls, settings, drawn)
        added = await store.add(day, picks)
    except ReviewError as exc:
        return _error(400, exc.field, str(exc).split(": ", 1)[1])
    except DatabaseError as exc:
        return _error(503, "database", f"unavailable: {exc}")
    log.info("quality sample of %s by %s: %d calls added", day, request[CALLER].name, added)
    return web.json_response(
        {"day": day.isoformat(), "added": added, "picks": [p.reason.value for p in picks]},
        status=201 if added else 200,
    )


async def _list(request: web.Request) -> web.Response:
    if (refusal := _refused(request)) is not None:
        return refusal
    settings, query = request.app[SETTINGS], request.query
    status = query.get("status", "")
    if status not in _STATUSES:
        return _error(400, "status", "open or reviewed")
    try:
        day = _day(query["day"], settings.timezone) if query.get("day") else None
        rows = await request.app[STORE].reviews(day, query.get("agent", "")[:64], status)
    except ReviewError as exc:
        return _error(400, exc.field, str(exc).split(": ", 1)[1])
    except DatabaseError as exc:
        return _error(503, "database", f"unavailable: {exc}")
    return web.json_response({"reviews": rows})


async def _get(request: web.Request) -> web.Response:
    if (refusal := _refused(request)) is not None:
        return refusal
    linkedid = request.match_info["linkedid"]
    try:
        found = await request.app[STORE].get(linkedid)
    except DatabaseError as exc:
        return _error(503, "database", f"unavailable: {exc}")
    if found is None:
        return _error(404, "linkedid", f"call {linkedid} is not in the review")
    return web.json_response(found)


async def _put(request: web.Request) -> web.Response:
    if (refusal := _refused(request)) is not None:
        return refusal
    settings, linkedid = request.app[SETTINGS], request.match_info["linkedid"]
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "(body)", "not JSON")
    try:
        scores, comment = check_scores(settings.form, body)
    except ReviewError as exc:
        return _error(400, exc.field, str(exc).split(": ", 1)[1])
    review = Review(
        linkedid,
        scores,
        comment,
        total(settings.form, scores),
        request[CALLER].name,
        form_json(settings.form),
        utc_now(),
    )
    try:
        saved = await request.app[STORE].save(review)
    except DatabaseError as exc:
        return _error(503, "database", f"unavailable: {exc}")
    if saved is None:
        return _error(404, "linkedid", f"call {linkedid} is not an agent's call")
    log.info("call %s reviewed by %s: %.1f", linkedid, review.reviewer, review.total)
    return web.json_response(saved)


def install_routes(app: web.Application, store: QaStore, settings: QualitySettings) -> None:
    app[STORE] = store
    app[SETTINGS] = settings
    app.router.add_get("/api/v1/qa/form", _form)
    app.router.add_post("/api/v1/qa/samples", _sample)
    app.router.add_get("/api/v1/qa/reviews", _list)
    app.router.add_get(f"/api/v1/qa/reviews/{_LINKEDID}", _get)
    app.router.add_put(f"/api/v1/qa/reviews/{_LINKEDID}", _put)
    add_report(app, "qa-agents", store.agent_report)
    add_report(app, "qa-items", store.item_report)
