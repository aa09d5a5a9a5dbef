"""The HTTP side: ``/health`` for probes, ``/api/v1`` behind a bearer token with a role.

Only ``/health`` is open, and it says no more than whether the parts are up. Every other
route needs ``Authorization: Bearer <token>``: the settings' ``web.token`` (an admin
token, compared in constant time) or one made with ``hotline token create --role …``
(checked by its hash). The role decides what the token may do (``hotline.web.roles``):
an unknown token is a 401, a request its role does not allow a 403. The console's pages
(``/ui``, ``hotline.web.dashboard``) send a session id as the ``hotline_session`` cookie
instead (``hotline.web.sessions``: made at login, revoked at logout, standing for the
token); a page without one is redirected to the login, and a write authenticated by the
cookie must come from our own origin. Unknown tokens are logged with the client's address;
failed console logins are limited per address too (``hotline.web.sessions``; not the API:
a script with a wrong token must not lock the CLI out). Behind a reverse proxy listed in
``web.trusted_proxies`` the client's scheme and address are the proxy's headers'.
The one write on call records is ``PATCH /api/v1/calls/{linkedid}``: the agent's reason
and description; everything else on a record comes from Asterisk's events.
"""

from __future__ import annotations

import hmac
import json
import logging
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from hotline.call_search import encode_cursor, parse_call_query
from hotline.callrecord import CallRecord, TimelineEntry
from hotline.db.repository import CallRecordRepository
from hotline.errors import DatabaseError
from hotline.live import Subscription
from hotline.metrics import Metrics
from hotline.web import openapi
from hotline.web.roles import Role, allowed
from hotline.web.sessions import LoginLimiter, Sessions
from hotline.web.tokens import Caller, TokenStore

__all__ = [
    "CALLER",
    "MAX_BODY",
    "NOTE_LIMITS",
    "SESSION_COOKIE",
    "HealthSource",
    "WebDeps",
    "client_address",
    "create_app",
    "not_their_call",
    "record_json",
]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OPEN_PATHS = frozenset({"/health", "/ui/login"})
OPEN_PREFIXES = ("/ui/static/",)  # the console's script: code, no data
SESSION_COOKIE = "hotline_session"  # the console's login (HttpOnly, SameSite=Strict)
#: The largest request body: an upload of contacts, work orders or tickets (a CSV of about
#: a million rows); larger ones get a JSON 413 before any of it is read.
MAX_BODY = 64 * 1024 * 1024
# The fields an agent may set on a call record, and their longest length in characters.
NOTE_LIMITS = {"reason": 64, "description": 2000}
_LINKEDID = r"{linkedid:[A-Za-z0-9._-]{1,64}}"


class HealthSource(Protocol):
    def health(self) -> dict[str, Any]: ...


class LiveFeed(Protocol):
    """The live hub and the snapshot a new dashboard starts from."""

    def stream(self) -> Subscription: ...
    def snapshot(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class WebDeps:
    token: str  # the settings' web.token: an admin token
    records: CallRecordRepository
    health: HealthSource
    tokens: TokenStore | None = None  # tokens made with `hotline token create`
    metrics: Metrics | None = None
    live: LiveFeed | None = None
    trusted_proxies: frozenset[str] = frozenset()  # web.trusted_proxies
    sessions: Sessions = field(default_factory=Sessions)  # the console's logins
    limiter: LoginLimiter = field(default_factory=LoginLimiter)  # failed logins per address


DEPS = web.AppKey("deps", WebDeps)
DEPS_LIMIT = web.AppKey("max_body", int)
CALLER = web.RequestKey("caller", Caller)  # set by the auth middleware


def record_json(record: CallRecord) -> dict[str, Any]:
    """A call record as the API and ``hotline call --json`` print it."""

    def iso(value: Any) -> str | None:
        return None if value is None else str(value.isoformat())

    return {
        "linkedid": record.linkedid,
        "direction": record.direction.value,
        "caller": record.caller,
        "called": record.called,
        "did": record.did,
        "started_at": iso(record.started_at),
        "answered_at": iso(record.answered_at),
        "ended_at": iso(record.ended_at),
        "disposition": record.disposition.value,
        "duration_seconds": record.duration_seconds,
        "connected_seconds": record.connected_seconds,
        "hangup_cause": record.hangup_cause,
        "hangup_cause_text": record.hangup_cause_text,
        "sip_call_id": record.sip_call_id,
        "flow": record.flow,
        "end_estimated": record.end_estimated,
        "fallback": record.fallback,
        "source": record.source.value,
        "menu_path": record.menu_path,
        "category": record.category,
        "queue": record.queue,
        "wait_seconds": record.wait_seconds,
        "rings_before_answer": record.rings_before_answer,
        "agent": record.agent,
        "talk_seconds": record.talk_seconds,
        "score": record.score,
        "score_status": None if record.score_status is None else str(record.score_status),
        "hold_count": record.hold_count,
        "hold_seconds": record.hold_seconds,
        "recording_file": record.recording_file,  # what became of it: /api/v1/recordings/…
        "reason": record.reason,
        "description": record.description,
    }


def _entry_json(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "kind": entry.kind,
        "channel": entry.channel,
        "detail": entry.detail,
    }


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def _forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Behind a trusted reverse proxy: its client's scheme and address, not the proxy's."""
    proxies = request.app[DEPS].trusted_proxies
    if not proxies or request.remote not in proxies:
        return await handler(request)
    changes: dict[str, Any] = {}
    proto = request.headers.get("X-Forwarded-Proto", "").strip().lower()
    if proto in ("http", "https"):
        changes["scheme"] = proto
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    if hops and hops[-1]:
        changes["remote"] = hops[-1]  # the client as the proxy saw it (the last hop added)
    return await handler(request.clone(**changes) if changes else request)


def client_address(request: web.Request) -> str:
    return request.remote or "unknown"


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own refusals as the API's JSON error body (a body over ``MAX_BODY``)."""
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[DEPS_LIMIT]
        size = f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit // 2**10} KiB"
        return _error(413, f"body: larger than the limit of {size}")


@web.middleware
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in OPEN_PATHS or request.path.startswith(OPEN_PREFIXES):
        return await handler(request)
    deps = request.app[DEPS]
    page = request.path == "/ui" or request.path.startswith("/ui/")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    from_cookie = False
    if scheme.lower() != "bearer" or not given:
        session = request.cookies.get(SESSION_COOKIE, "")
        given, from_cookie = (deps.sessions.token_of(session) or "") if session else "", True
    if not given:
        if page:
            raise web.HTTPSeeOther("/ui/login")
        return _error(401, "missing bearer token")
    if from_cookie and request.method not in ("GET", "HEAD") and not _same_origin(request):
        return _error(403, "cross-site request refused")
    caller: Caller | None = None
    if deps.token and hmac.compare_digest(given.encode(), deps.token.encode()):
        caller = Caller("web.token", Role.ADMIN)
    elif deps.tokens is not None and len(given) <= 128:
        try:
            caller = await deps.tokens.check(given)
        except DatabaseError as exc:
            return _error(503, f"database unavailable, token not checked: {exc}")
    if caller is None:
        log.warning(
            "an unknown token refused from %s for %s", client_address(request), request.path
        )
        if page:
            raise web.HTTPSeeOther("/ui/login")
        return _error(401, "invalid token")
    verdict = allowed(caller.role, request.method, request.path, caller.agent)
    if not verdict.ok:
        return _error(403, verdict.why)
    request[CALLER] = caller
    return await handler(request)


def for_supervisors_only(request: web.Request) -> bool:
    """True when the caller is no supervisor or admin: recordings, reviews and live
    supervision refuse it (the role rules already do; their handlers check again)."""
    caller = request.get(CALLER)
    return caller is None or caller.role is Role.AGENT


def not_their_call(request: web.Request, agent_on_call: str | None) -> str | None:
    """Why the caller may not act on a call the agent ``agent_on_call`` is on (None: it
    may). An agent token acts only on calls its own agent is on; other roles on any."""
    caller = request.get(CALLER)
    if caller is None or caller.role is not Role.AGENT:
        return None
    if agent_on_call and agent_on_call == caller.agent:
        return None
    return f"an agent token of {caller.agent} acts only on calls agent {caller.agent} is on"


def _same_origin(request: web.Request) -> bool:
    """A cookie-authenticated write must come from our own pages (SameSite aside)."""
    origin = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return origin == f"{request.scheme}://{request.host}" or origin.startswith(
        f"{request.scheme}://{request.host}/"
    )


async def _health(request: web.Request) -> web.Response:
    report = request.app[DEPS].health.health()
    status = 200 if report.get("ok") else 503
    return web.json_response(report, status=status)


async def _metrics(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    if deps.metrics is None:
        return _error(404, "metrics are not collected here")
    body = deps.metrics.render(deps.health.health())
    return web.Response(text=body, content_type="text/plain", charset="utf-8")


async def _live(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: a ``snapshot`` first, then ``call``/``queue``/``agent``/
    ``campaign`` changes as they happen, and a comment every 15 s to keep proxies open."""
    feed = request.app[DEPS].live
    if feed is None:
        return _error(404, "no live feed here")
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    events = feed.stream()  # subscribed before the snapshot: no change falls in between
    try:
        snapshot = json.dumps(feed.snapshot(), ensure_ascii=False)
        await response.write(f"event: snapshot\ndata: {snapshot}\n\n".encode())
        async for event in events:
            if event is None:
                await response.write(b": keep-alive\n\n")
                continue
            # a burst goes out in one write: one syscall, not one per event
            await response.write(b"".join(e[3] for e in (event, *events.ready())))
    except ConnectionResetError:  # the dashboard went away (a page change, a closed tab)
        log.debug("live: a dashboard disconnected")
    finally:
        events.close()
    return response


async def _list_calls(request: web.Request) -> web.Response:
    """Filtered, newest first, a page at a time (``hotline.call_search``)."""
    try:
        where, limit, after = parse_call_query(request.query)
    except ValueError as exc:
        return _error(400, str(exc))
    try:
        found = await request.app[DEPS].records.search(where, limit, after)
    except DatabaseError as exc:
        return _error(503, f"database unavailable: {exc}")
    body: dict[str, Any] = {"calls": [record_json(r) for _, r in found], "next_cursor": None}
    if len(found) == limit:
        row_id, last = found[-1]
        body["next_cursor"] = encode_cursor(last.started_at, row_id)
    return web.json_response(body)


async def _get_call(request: web.Request) -> web.Response:
    linkedid = request.match_info["linkedid"]
    deps = request.app[DEPS]
    try:
        record = await deps.records.get(linkedid)
        if record is None:
            return _error(404, f"no call with linkedid {linkedid}")
        timeline = await deps.records.timeline(linkedid)
        holds = await deps.records.hold_segments(linkedid)
    except DatabaseError as exc:
        return _error(503, f"database unavailable: {exc}")
    body = record_json(record) | {
        "holds": holds,
        "timeline": [_entry_json(e) for e in timeline],
    }
    return web.json_response(body)


def _note_error(body: Any) -> str | None:
    """Why a PATCH body is refused, naming the field; None when it is acceptable."""
    if not isinstance(body, dict):
        return "body: a JSON object with reason and/or description"
    unknown = sorted(set(body) - set(NOTE_LIMITS))
    if unknown:
        return f"{unknown[0]}: not a field that can be set (only reason, description)"
    if not body:
        return "body: give reason and/or description"
    for name, value in body.items():
        limit = NOTE_LIMITS[name]
        if not isinstance(value, str):
            return f"{name}: must be a string"
        if len(value) > limit:
            return f"{name}: at most {limit} characters (got {len(value)})"
        allowed = "\n\t" if name == "description" else ""
        if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value):
            return f"{name}: control characters are not allowed"
    return None


async def _patch_call(request: web.Request) -> web.Response:
    linkedid = request.match_info["linkedid"]
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "body: not valid JSON")
    problem = _note_error(body)
    if problem is not None:
        return _error(400, problem)
    records = request.app[DEPS].records
    try:
        if request[CALLER].role is Role.AGENT:
            found = await records.get(linkedid)
            if found is None:
                return _error(404, f"no call with linkedid {linkedid}")
            refused = not_their_call(request, found.agent)
            if refused:
                return _error(403, refused)
        record = await records.set_notes(
            linkedid, reason=body.get("reason"), description=body.get("description")
        )
    except DatabaseError as exc:
        return _error(503, f"database unavailable: {exc}")
    if record is None:
        return _error(404, f"no call with linkedid {linkedid}")
    log.info("[%s] call notes set: %s", linkedid, ", ".join(sorted(body)))
    return web.json_response(record_json(record))


def create_app(
    deps: WebDeps,
    route_installers: Sequence[Callable[[web.Application], None]] = (),
    max_body: int = MAX_BODY,
) -> web.Application:
    """The app with the core routes; each feature's installer adds its own."""
    app = web.Application(middlewares=[_forwarded, _errors, _auth], client_max_size=max_body)
    app[DEPS] = deps
    app[DEPS_LIMIT] = max_body
    app.router.add_get("/health", _health)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/api/v1/live", _live)
    app.router.add_get("/api/v1/calls", _list_calls)
    app.router.add_get(f"/api/v1/calls/{_LINKEDID}", _get_call)
    app.router.add_patch(f"/api/v1/calls/{_LINKEDID}", _patch_call)
    openapi.install_routes(app)
    for install in route_installers:
        install(app)
    return app
