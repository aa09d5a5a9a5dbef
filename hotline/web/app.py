"""The HTTP side: ``/health`` for probes, ``/api/v1`` behind a bearer token.

Only ``/health`` is open, and it says no more than whether the parts are up. Every other
route needs ``Authorization: Bearer <web.token>``; tokens are compared in constant time.
The one write on call records is ``PATCH /api/v1/calls/{linkedid}``: the agent's reason
and description; everything else on a record comes from Asterisk's events.
"""

from __future__ import annotations

import hmac
import json
import logging
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from hotline.callrecord import CallRecord, TimelineEntry
from hotline.db.repository import CallRecordRepository
from hotline.errors import DatabaseError

__all__ = ["NOTE_LIMITS", "HealthSource", "WebDeps", "create_app", "record_json"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OPEN_PATHS = frozenset({"/health"})
# The fields an agent may set on a call record, and their longest length in characters.
NOTE_LIMITS = {"reason": 64, "description": 2000}
_LINKEDID = r"{linkedid:[A-Za-z0-9._-]{1,64}}"


class HealthSource(Protocol):
    def health(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class WebDeps:
    token: str
    records: CallRecordRepository
    health: HealthSource


DEPS = web.AppKey("deps", WebDeps)


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
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in OPEN_PATHS:
        return await handler(request)
    expected = request.app[DEPS].token
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given or not expected:
        return _error(401, "missing bearer token")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return _error(401, "invalid token")
    return await handler(request)


async def _health(request: web.Request) -> web.Response:
    report = request.app[DEPS].health.health()
    status = 200 if report.get("ok") else 503
    return web.json_response(report, status=status)


async def _list_calls(request: web.Request) -> web.Response:
    raw = request.query.get("limit", "50")
    # isascii: str.isdigit() accepts "²", which int() refuses; the length bounds int() too
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= 500:
        return _error(400, "limit: a whole number from 1 to 500")
    try:
        records = await request.app[DEPS].records.recent(int(raw))
    except DatabaseError as exc:
        return _error(503, f"database unavailable: {exc}")
    return web.json_response({"calls": [record_json(r) for r in records]})


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
    try:
        record = await request.app[DEPS].records.set_notes(
            linkedid, reason=body.get("reason"), description=body.get("description")
        )
    except DatabaseError as exc:
        return _error(503, f"database unavailable: {exc}")
    if record is None:
        return _error(404, f"no call with linkedid {linkedid}")
    log.info("[%s] call notes set: %s", linkedid, ", ".join(sorted(body)))
    return web.json_response(record_json(record))


def create_app(
    deps: WebDeps, route_installers: Sequence[Callable[[web.Application], None]] = ()
) -> web.Application:
    """The app with the core routes; each feature's installer adds its own."""
    app = web.Application(middlewares=[_auth])
    app[DEPS] = deps
    app.router.add_get("/health", _health)
    app.router.add_get("/api/v1/calls", _list_calls)
    app.router.add_get(f"/api/v1/calls/{_LINKEDID}", _get_call)
    app.router.add_patch(f"/api/v1/calls/{_LINKEDID}", _patch_call)
    for install in route_installers:
        install(app)
    return app
