"""JSON Schemas of the API's bodies, for the OpenAPI document (``hotline.web.openapi``).

Written next to the validators they describe (the handlers stay the judges: a body this
schema admits can still be refused, e.g. a number outside the allow-list). Campaign specs
come from the pydantic model itself. ``test_openapi`` checks that every schema here belongs
to a documented route and that example bodies built from them are accepted.
"""

from __future__ import annotations

from typing import Any

__all__ = ["REQUESTS", "RESPONSES", "components"]

_TEXT = {"type": "string"}
_NUMBER = {"type": "string", "description": "a phone number (national or +E.164)", "maxLength": 32}
_TIME = {"type": "string", "format": "date-time", "description": "ISO 8601 with an offset"}
_TOKEN = {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"}


def _object(required: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


_AGENT_BODY = _object(
    queues={"type": "array", "items": _TOKEN, "maxItems": 32, "description": "default: all"},
    reason={"type": "string", "maxLength": 64},
)

#: (method, path) → the JSON request body's schema
REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/v1/calls/{linkedid}"): _object(
        reason={"type": "string", "maxLength": 64},
        description={"type": "string", "maxLength": 2000},
    ),
    ("POST", "/api/v1/calls/{linkedid}/hold"): _object(
        by={"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,32}$", "description": "who asks"}
    ),
    ("POST", "/api/v1/blocklist"): _object(
        ("number",), number=_NUMBER, reason={"type": "string", "maxLength": 255}
    ),
    ("POST", "/api/v1/dnc"): _object(
        ("number",), number=_NUMBER, reason={"type": "string", "maxLength": 255}
    ),
    ("POST", "/api/v1/callbacks"): _object(
        ("number", "due_by"),
        number=_NUMBER,
        due_by=_TIME,
        not_before=_TIME,
        queue=_TOKEN | {"maxLength": 32},
        category=_TOKEN | {"maxLength": 32},
        promised_by=_TOKEN | {"maxLength": 64},
        note={"type": "string", "maxLength": 255},
        agent=_TOKEN | {"maxLength": 8},
    ),
    ("POST", "/api/v1/agents/{agent}/login"): _AGENT_BODY,
    ("POST", "/api/v1/agents/{agent}/logout"): _AGENT_BODY,
    ("POST", "/api/v1/agents/{agent}/pause"): _AGENT_BODY,
    ("POST", "/api/v1/agents/{agent}/unpause"): _AGENT_BODY,
    ("POST", "/api/v1/campaigns"): {"$ref": "#/components/schemas/CampaignSpec"},
}

_CALL_FIELDS: dict[str, Any] = {
    "linkedid": _TEXT,
    "direction": {"enum": ["inbound", "outbound"]},
    "caller": _TEXT,
    "called": _TEXT,
    "started_at": _TIME,
    "answered_at": {"type": ["string", "null"], "format": "date-time"},
    "ended_at": {"type": ["string", "null"], "format": "date-time"},
    "disposition": _TEXT,
    "queue": _TEXT,
    "agent": _TEXT,
    "wait_seconds": {"type": ["number", "null"]},
    "talk_seconds": {"type": ["number", "null"]},
    "score": {"type": ["integer", "null"], "minimum": 1, "maximum": 10},
    "hold_count": {"type": "integer"},
    "hold_seconds": {"type": "number"},
    "fallback": {"type": "boolean", "description": "served by the dialplan fallback"},
    "recording_file": {
        "type": "string",
        "description": "the recording's name under recording.folder ('' when none)",
    },
    "source": {
        "enum": ["ami", "ami_gap", "log", "ami+log"],
        "description": "live (AMI), live with a gap, rebuilt from Asterisk's call log, or both",
    },
    "reason": _TEXT,
    "description": _TEXT,
}

#: (method, path) → the 200/201 JSON answer's schema
RESPONSES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/calls"): {
        "type": "object",
        "properties": {
            "calls": {"type": "array", "items": {"$ref": "#/components/schemas/CallRecord"}},
            "next_cursor": {"type": ["string", "null"], "description": "pass as ?cursor="},
        },
    },
    ("GET", "/api/v1/calls/{linkedid}"): {
        "allOf": [
            {"$ref": "#/components/schemas/CallRecord"},
            {
                "type": "object",
                "properties": {
                    "timeline": {"type": "array", "items": {"type": "object"}},
                    "holds": {"type": "array", "items": {"type": "object"}},
                },
            },
        ]
    },
}


def components() -> dict[str, Any]:
    """Shared schemas: the error body, a call record, a campaign spec (from its model)."""
    from dialer.campaigns import CampaignSpec

    spec = CampaignSpec.model_json_schema(ref_template="#/components/schemas/{model}")
    nested: dict[str, Any] = spec.pop("$defs", {})
    spec["required"] = ["name"]  # the rest default from the dialer settings
    spec["description"] = "Fields left out take the dialer settings' defaults."
    return nested | {
        "Error": _object(
            ("error",),
            error={"type": "string", "description": "what is wrong, naming the field"},
            field={"type": "string", "description": "the field, where one is to blame"},
        ),
        "CallRecord": {"type": "object", "properties": _CALL_FIELDS},
        "CampaignSpec": spec,
    }
