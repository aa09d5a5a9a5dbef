"""HTTP API of promised callbacks (bearer token; errors as ``{"error", "field"}``).

* ``POST /api/v1/callbacks``: an agent promises a callback. Body: ``number``, ``due_by``
  (ISO 8601 with offset: called by then), optional ``not_before``, ``queue`` (one of the
  configured queues; else the fallback queue), ``category``, ``promised_by``, ``note``,
  ``agent`` (a configured agent: their phone rings first, then the customer is dialled).
  A number with an open request is merged into it (the earliest due time wins). 201.
* ``GET /api/v1/callbacks/overdue``: the overdue alerts raised since the service started.
  (``GET /api/v1/callbacks?status=…`` lists the requests themselves, see ``ivr.routes``.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from dialer.api import guarded, json_body
from dialer.numbers import NumberGuard, normalize
from dialer.operations import OperationError
from dialer.promised.dispatcher import CallbackDispatcher
from hotline.web.app import CALLER
from hotline.web.roles import Role
from ivr.callbacks import CallbackRepository, NewCallback
from ivr.routes import callback_json

__all__ = ["PromiseApi", "install_routes", "parse_promise"]

_TOKEN = re.compile(r"[\w.-]{1,64}")  # (fullmatch: no trailing newline slips through)
_FIELDS = frozenset(
    {"number", "due_by", "not_before", "queue", "category", "promised_by", "note", "agent"}
)


@dataclass(frozen=True)
class PromiseApi:
    callbacks: CallbackRepository
    dispatcher: CallbackDispatcher
    guard: NumberGuard
    queues: Collection[str]
    clock: Callable[[], datetime]
    agents: Collection[str] = ()


PROMISES = web.AppKey("promise_api", PromiseApi)


def _time(body: dict[str, Any], name: str) -> datetime | None:
    raw = body.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None or value.utcoffset() is None:
        raise OperationError(400, name, f"{name}: an ISO 8601 time with offset")
    return value


def _text(body: dict[str, Any], name: str, limit: int, pattern: re.Pattern[str] | None) -> str:
    raw = body.get(name, "")
    unfit = bool(raw) and pattern is not None and pattern.fullmatch(str(raw)) is None
    if not isinstance(raw, str) or len(raw) > limit or unfit:
        rule = "letters, digits, '.', '-' or '_'" if pattern else "text"
        raise OperationError(400, name, f"{name}: {rule}, at most {limit} characters")
    return raw.strip()


def parse_promise(body: Any, api: PromiseApi) -> NewCallback:
    """A promise from a request body; ``OperationError`` names the first bad field."""
    if not isinstance(body, dict):
        raise OperationError(400, "(body)", "a JSON object with number and due_by")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise OperationError(400, unknown[0], f"{unknown[0]}: unknown field")
    raw = body.get("number")
    try:
        number = normalize(raw) if isinstance(raw, str) else ""
    except ValueError as exc:
        raise OperationError(400, "number", f"number: {exc}") from None
    if not number:
        raise OperationError(400, "number", "number: a phone number is required")
    if not api.guard.allowed(number):
        raise OperationError(400, "number", f"number {number}: not an allowed destination")
    due_by = _time(body, "due_by")
    if due_by is None:
        raise OperationError(400, "due_by", "due_by: required (when the customer must be called)")
    now = api.clock()
    if due_by <= now:
        raise OperationError(400, "due_by", "due_by: must be in the future")
    not_before = _time(body, "not_before")
    if not_before is not None and not_before >= due_by:
        raise OperationError(400, "not_before", "not_before: must be before due_by")
    queue = _text(body, "queue", 32, _TOKEN)
    if queue and queue not in api.queues:
        raise OperationError(400, "queue", f"queue: one of {', '.join(sorted(api.queues))}")
    agent = _text(body, "agent", 8, _TOKEN)
    if agent and agent not in api.agents:
        raise OperationError(400, "agent", f"agent: {agent} is not a configured agent")
    return NewCallback(
        number=number,
        agent=agent,
        linkedid="",
        queue=queue,
        category=_text(body, "category", 32, _TOKEN),
        requested_at=now,
        due_at=not_before,
        source="api",
        promised_by=_text(body, "promised_by", 64, _TOKEN),
        note=_text(body, "note", 255, None),
        due_by=due_by,
    )


async def _promise(request: web.Request) -> web.Response:
    api = request.app[PROMISES]
    new = parse_promise(await json_body(request), api)
    caller = request.get(CALLER)
    if caller is not None and caller.role is Role.AGENT and new.agent not in ("", caller.agent):
        raise OperationError(
            403, "agent", f"agent: an agent token of {caller.agent} promises its own callbacks"
        )
    stored = await api.callbacks.request(new)
    return web.json_response(callback_json(stored), status=201)


async def _overdue(request: web.Request) -> web.Response:
    return web.json_response({"alerts": list(request.app[PROMISES].dispatcher.alerts)})


def install_routes(app: web.Application, api: PromiseApi) -> None:
    app[PROMISES] = api
    app.router.add_post("/api/v1/callbacks", guarded(_promise))
    app.router.add_get("/api/v1/callbacks/overdue", guarded(_overdue))
