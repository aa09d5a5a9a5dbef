"""The HTTP side: ``/health`` for probes, ``/api/v1`` behind a bearer token.

Only ``/health`` is open, and it says no more than whether the parts are up. Every other
route needs ``Authorization: Bearer <web.token>``; tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from hotline.callrecord import CallRecord, TimelineEntry
from hotline.db.repository import CallRecordRepository
from hotline.errors import DatabaseError

__all__ = ["HealthSource", "WebDeps", "create_app", "record_json"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OPEN_PATHS = frozenset({"/health"})


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
        "talk_seconds": record.talk_seconds,
        "hangup_cause": record.hangup_cause,
        "hangup_cause_text": record.hangup_cause_text,
        "sip_call_id": record.sip_call_id,
        "flow": record.flow,
        "end_estimated": record.end_estimated,
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
    except DatabaseError as exc:
        return _error(503, f"database unavailable: {exc}")
    body = record_json(record) | {"timeline": [_entry_json(e) for e in timeline]}
    return web.json_response(body)


def create_app(
    deps: WebDeps, route_installers: Sequence[Callable[[web.Application], None]] = ()
) -> web.Application:
    """The app with the core routes; each feature's installer adds its own."""
    app = web.Application(middlewares=[_auth])
    app[DEPS] = deps
    app.router.add_get("/health", _health)
    app.router.add_get("/api/v1/calls", _list_calls)
    app.router.add_get(r"/api/v1/calls/{linkedid:[A-Za-z0-9._-]{1,64}}", _get_call)
    for install in route_installers:
        install(app)
    return app
