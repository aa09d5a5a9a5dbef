"""HTTP API of the inbound side: the blocklist and the callback requests.

``GET /api/v1/blocklist``, ``POST /api/v1/blocklist`` (``{"number", "reason"}``; 201 when
new, 200 when already blocked), ``DELETE /api/v1/blocklist/{number}`` (204; 404 unknown;
409 for numbers from ``ivr.blocklist``, which only the settings change), and
``GET /api/v1/callbacks?status=open|pending|dialling|done|cancelled``. Errors are JSON
``{"error": "<field>: <what is wrong>"}``, like the core API; the bearer token applies.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from hotline.errors import DatabaseError
from ivr.blocklist import BlockEntry, Blocklist, BlockSource, ConfigEntryError
from ivr.callbacks import CallbackRepository, CallbackRequest, CallbackStatus
from ivr.numbers import valid_number

__all__ = ["InboundApi", "callback_json", "install_routes"]

log = logging.getLogger(__name__)

MAX_REASON_CHARS = 255
NUMBER_RULE = "number: digits with an optional leading +, 3 to 20 characters"
_OPEN = (CallbackStatus.PENDING, CallbackStatus.DIALLING)
_STATUSES: dict[str, tuple[CallbackStatus, ...]] = {"open": _OPEN} | {
    status.value: (status,) for status in CallbackStatus
}


@dataclass(frozen=True)
class InboundApi:
    blocklist: Blocklist
    callbacks: CallbackRepository


API = web.AppKey("inbound_api", InboundApi)
Handler = Callable[[web.Request], Awaitable[web.Response]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def entry_json(entry: BlockEntry) -> dict[str, Any]:
    return {
        "number": entry.number,
        "reason": entry.reason,
        "source": entry.source.value,
        "added_at": _iso(entry.added_at),
    }


def callback_json(request: CallbackRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "number": request.number,
        "linkedid": request.linkedid,
        "queue": request.queue,
        "category": request.category,
        "requested_at": _iso(request.requested_at),
        "status": request.status.value,
        "priority": request.priority,
        "position": request.position,
        "merge_count": request.merge_count,
        "due_at": _iso(request.due_at),
        "source": request.source,
        "promised_by": request.promised_by,
        "agent": request.agent,
        "note": request.note,
        "due_by": _iso(request.due_by),
        "outcome": request.outcome,
        "closed_at": _iso(request.closed_at),
        "overdue_alerted_at": _iso(request.alerted_at),
    }


def _database(handler: Handler) -> Handler:
    """A database failure is a 503 with the reason, never a bare 500."""

    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except DatabaseError as exc:
            return _error(503, f"database unavailable: {exc}")

    return wrapped


@_database
async def _list_blocklist(request: web.Request) -> web.Response:
    entries = await request.app[API].blocklist.entries()
    return web.json_response({"blocklist": [entry_json(e) for e in entries]})


@_database
async def _add_blocklist(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "body: not valid JSON")
    if not isinstance(body, dict):
        return _error(400, "body: a JSON object with number and reason")
    unknown = sorted(set(body) - {"number", "reason"})
    if unknown:
        return _error(400, f"{unknown[0]}: unknown field (number, reason)")
    number, reason = body.get("number"), body.get("reason", "")
    if not isinstance(number, str) or not valid_number(number):
        return _error(400, NUMBER_RULE)
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        return _error(400, f"reason: text of at most {MAX_REASON_CHARS} characters")
    entry, created = await request.app[API].blocklist.add(number, reason.strip(), BlockSource.API)
    return web.json_response(entry_json(entry), status=201 if created else 200)


@_database
async def _remove_blocklist(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    if not valid_number(number):
        return _error(400, NUMBER_RULE)
    try:
        removed = await request.app[API].blocklist.remove(number)
    except ConfigEntryError as exc:
        return _error(409, f"number: {exc}")
    if not removed:
        return _error(404, f"number: {number} is not on the blocklist")
    return web.Response(status=204)


@_database
async def _list_callbacks(request: web.Request) -> web.Response:
    status = request.query.get("status", "open")
    if status not in _STATUSES:
        return _error(400, f"status: one of {', '.join(_STATUSES)}")
    requests = await request.app[API].callbacks.by_status(_STATUSES[status])
    return web.json_response({"callbacks": [callback_json(r) for r in requests]})


def install_routes(app: web.Application, api: InboundApi) -> None:
    app[API] = api
    app.router.add_get("/api/v1/blocklist", _list_blocklist)
    app.router.add_post("/api/v1/blocklist", _add_blocklist)
    app.router.add_delete("/api/v1/blocklist/{number}", _remove_blocklist)
    app.router.add_get("/api/v1/callbacks", _list_callbacks)
