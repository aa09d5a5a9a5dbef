"""The supervisors' console: server-rendered pages (Jinja2 via aiohttp-jinja2) under ``/ui``.

* ``/ui/login``: a token (supervisor or admin) opens a session: an HttpOnly,
  SameSite=Strict cookie holding a session id (``Secure`` over HTTPS), revoked at logout;
  nothing else under ``/ui`` is shown without one (redirect to login). Failed logins are
  logged and limited per address (``hotline.web.sessions``).
* ``/ui/live``: calls in progress, queues, agents and campaigns, kept current by a small
  script on the live feed (``/api/v1/live``, authenticated by the cookie).
* ``/ui/reports``: the service level per queue, answer speed and score distribution as
  server-drawn SVG charts, with CSV links.
* ``/ui/campaigns``: campaigns with their progress, and pause/resume buttons.
* ``/ui/quality`` and ``/ui/calls/{id}`` (``hotline.quality.pages``): the quality review.

Chinese by default; ``?lang=en`` switches to English (remembered in a cookie).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from hotline.call_reports import CallReports
from hotline.errors import DatabaseError
from hotline.web.app import CALLER, DEPS, SESSION_COOKIE, client_address
from hotline.web.charts import bars
from hotline.web.i18n import LANGUAGES, texts
from hotline.web.report_api import Report, report_span
from hotline.web.roles import Role
from hotline.web.sessions import SESSION_TTL
from hotline.web.tokens import Caller

__all__ = ["LANG_COOKIE", "Console", "install_routes", "page"]

LANG_COOKIE = "hotline_lang"
log = logging.getLogger(__name__)
_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Console:
    """What the pages need, passed in by the service."""

    check: Callable[[str], Awaitable[Caller | None]]  # a token → who, or None
    reports: CallReports
    campaigns: Callable[[], Awaitable[list[dict[str, Any]]]]
    act: Callable[[str, str], Awaitable[str]]  # (campaign, pause|resume) → why not, or ""
    # the quality review per agent and day (hotline.quality), for the reports page's chart
    quality: Report | None = None


CONSOLE = web.AppKey("console", Console)
REPORT_NAMES = (
    "service-level",
    "abandonment",
    "scores",
    "scores-by-category",
    "holds",
    "survey",
    "apologies",
    "callbacks",
    "qa-agents",
    "qa-items",
)


def _language(request: web.Request) -> str:
    asked = request.query.get("lang") or request.cookies.get(LANG_COOKIE, "zh")
    return asked if asked in LANGUAGES else "zh"


def page(request: web.Request, template: str, **values: Any) -> web.Response:
    lang = _language(request)
    caller = request.get(CALLER)
    context = {"lang": lang, "t": texts(lang), "caller": caller, **values}
    response = aiohttp_jinja2.render_template(template, request, context)
    if "lang" in request.query and lang == request.query["lang"]:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="Strict")
    return response


async def _login_form(request: web.Request) -> web.Response:
    return page(request, "login.html", error=False, wait=0)


async def _login(request: web.Request) -> web.Response:
    deps, address = request.app[DEPS], client_address(request)
    wait = deps.limiter.blocked_for(address)
    if wait:
        response = page(request, "login.html", error=False, wait=round(wait / 60) or 1)
        response.set_status(429)
        return response
    form = await request.post()
    token = str(form.get("token", "")).strip()
    caller = await request.app[CONSOLE].check(token) if 0 < len(token) <= 128 else None
    if caller is None or caller.role is Role.AGENT:
        deps.limiter.failed(address, "a console login")
        return page(request, "login.html", error=True, wait=0)
    log.info("console login of %s (%s) from %s", caller.name, caller.role.value, address)
    response = web.HTTPSeeOther("/ui/live")
    response.set_cookie(
        SESSION_COOKIE,
        deps.sessions.create(token),  # a session id; the token stays on the server
        httponly=True,
        samesite="Strict",
        path="/",
        max_age=int(SESSION_TTL),
        secure=request.scheme == "https",
    )
    raise response


async def _logout(request: web.Request) -> web.Response:
    request.app[DEPS].sessions.revoke(request.cookies.get(SESSION_COOKIE, ""))
    response = web.HTTPSeeOther("/ui/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def _home(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/ui/live")


def _score_counts(scores: list[dict[str, Any]]) -> dict[str, int]:
    """How many of each score 1-10 the rows of a scores report hold together."""
    counts = {str(n): 0 for n in range(1, 11)}
    for row in scores:
        for score, count in row["distribution"].items():
            counts[score] += count
    return counts


async def _today(reports: CallReports) -> dict[str, Any]:
    """The day's inbound calls so far (local midnight to now): all of them, answered by an
    agent, abandoned (before the answer, in the IVR or in a queue), the service level of
    the queued ones and the average post-call score."""
    now = datetime.now().astimezone()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    levels = await reports.service_level(midnight, now)
    ended = (await reports.abandonment(midnight, now))[0]
    scores = await reports.scores(midnight, now)
    everything = next((r for r in levels if r["queue"] == "(all)"), None)
    counts = _score_counts(scores)
    scored = sum(counts.values())
    total = sum(int(score) * n for score, n in counts.items())
    return {
        "calls": ended["calls"],
        "answered": everything["answered"] if everything else 0,
        "level": f"{everything['service_level']:.0%}" if everything else "—",
        "abandoned": sum(ended[k] for k in ("abandoned", "abandoned_ivr", "abandoned_queue")),
        "score": f"{total / scored:.1f}" if scored else "—",
    }


async def _figures(console: Console) -> dict[str, Any]:
    """What the live page shows from the database: the day so far and campaign progress;
    both None while the database is down (the first failure skips the rest)."""
    try:
        found = await console.campaigns()
        today = await _today(console.reports)
    except DatabaseError:
        return {"today": None, "progress": None}
    progress = {c["name"]: {"done": c["done"], "total": c["total"]} for c in found}
    return {"today": today, "progress": progress}


async def _live(request: web.Request) -> web.Response:
    figures = await _figures(request.app[CONSOLE])
    return page(request, "live.html", words=texts(_language(request)), figures=figures)


async def _live_figures(request: web.Request) -> web.Response:
    """The same figures for the page's script, which asks again every 30 s."""
    return web.json_response(await _figures(request.app[CONSOLE]))


def _unavailable(request: web.Request) -> web.Response:
    response = page(request, "unavailable.html")
    response.set_status(503)
    return response


def _local_input(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%dT%H:%M")


async def _reports(request: web.Request) -> web.Response:
    try:
        since, until = report_span(request.query, datetime.now().astimezone())
    except ValueError:
        since, until = report_span({}, datetime.now().astimezone())
    console = request.app[CONSOLE]
    reports = console.reports
    try:
        levels = await reports.service_level(since, until)
        scores = await reports.scores(since, until)
        categories = await reports.scores_by_category(since, until)
        quality = await console.quality(since, until) if console.quality else []
    except DatabaseError:
        return _unavailable(request)
    t = texts(_language(request))
    everything = next((r for r in levels if r["queue"] == "(all)"), None)
    distribution = _score_counts(scores)
    level_chart = bars(
        [(r["queue"], round(r["service_level"] * 100)) for r in levels],
        unit="%",
        title=t["service_level"],
    )
    speed = everything["answer_speed"] if everything else {}
    return page(
        request,
        "reports.html",
        since=_local_input(since),
        until=_local_input(until + timedelta(seconds=59)),
        span_query=urlencode({"since": since.isoformat(), "until": until.isoformat()}),
        service_level=levels,
        level_chart=level_chart,
        speed_chart=bars(list(speed.items()), title=t["answer_speed"]),
        score_chart=bars(list(distribution.items()), title=t["scores"]),
        qa_chart=bars(_qa_averages(quality), title=t["qa_chart"]),
        scores=scores,
        categories=categories,
        report_names=REPORT_NAMES,
    )


def _qa_averages(rows: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """Each agent's average review total over the span, from the per-day rows."""
    sums: dict[str, tuple[float, int]] = {}
    for row in rows:
        total, count = sums.get(row["agent"], (0.0, 0))
        sums[row["agent"]] = (total + row["average"] * row["reviewed"], count + row["reviewed"])
    return [(agent, round(total / count, 1)) for agent, (total, count) in sorted(sums.items())]


async def _campaigns(request: web.Request, error: str = "") -> web.Response:
    try:
        found = await request.app[CONSOLE].campaigns()
    except DatabaseError:
        return _unavailable(request)
    return page(request, "campaigns.html", campaigns=found, error=error)


async def _act(request: web.Request) -> web.Response:
    name, action = request.match_info["name"], request.match_info["action"]
    try:
        refused = await request.app[CONSOLE].act(name, action)
    except DatabaseError:
        return _unavailable(request)
    if refused:
        response = await _campaigns(request, refused)
        response.set_status(409)
        return response
    raise web.HTTPSeeOther("/ui/campaigns")


def install_routes(app: web.Application, console: Console) -> None:
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    app[CONSOLE] = console
    app.router.add_get("/ui", _home)
    app.router.add_get("/ui/login", _login_form)
    app.router.add_post("/ui/login", _login)
    app.router.add_post("/ui/logout", _logout)
    app.router.add_get("/ui/live", _live)
    app.router.add_get("/ui/live/figures", _live_figures)
    app.router.add_get("/ui/reports", _reports)
    app.router.add_get("/ui/campaigns", _campaigns)
    app.router.add_post(r"/ui/campaigns/{name:[\w.-]{1,64}}/{action:pause|resume}", _act)
    app.router.add_static("/ui/static", _HERE / "static", show_index=False)
