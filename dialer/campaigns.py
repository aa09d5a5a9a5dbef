"""Campaign definitions: what an operator may set, validated once, with the site's defaults.

``CampaignSpec`` is the input (CLI options, API JSON, a YAML file); every field an operator
leaves out takes its value from the ``dialer`` settings, so the defaults live in one place.
``Campaign`` is a stored campaign as the engine and the scheduler read it (plain data).
Validation errors name the field (``retry.busy``, ``windows.mon``) because the API returns
them as 400s and the CLI prints them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dialer.states import CampaignStatus, CampaignType, Disposition
from hotline.config_dialer import DialerSettings, check_timezone, check_windows

__all__ = ["TYPE_DEFAULTS", "Campaign", "CampaignSpec", "SpecError", "build_spec", "end_of_day"]

_TOKEN = r"^[A-Za-z0-9_-]{1,64}$"
Windows = dict[str, list[tuple[str, str]]]


class SpecError(ValueError):
    """A campaign definition was refused; ``field`` is the dotted path of the culprit."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class CampaignSpec(BaseModel):
    """A campaign as an operator defines it (every field validated)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[\w.-]{1,64}$")
    type: CampaignType = CampaignType.IVR
    priority: int = Field(5, ge=0, le=100)
    trunk: str = Field(pattern=_TOKEN)
    caller_id: str = Field("", pattern=r"^[0-9]{0,20}$")
    max_concurrent: int = Field(10, ge=1, le=10000)
    cps: float = Field(1.0, gt=0, le=500)
    timezone: str
    windows: Windows
    skip_holidays: bool = True
    holiday_country: str = Field(pattern=r"^[A-Z]{2}$")
    deadline: datetime | None = None
    retry: dict[Disposition, int]
    max_attempts: int = Field(ge=1, le=20)
    amd: bool = False
    # AMD's MACHINE for initial silence (a person waiting for us to speak) is a person:
    # 喂,您好 and the flow goes on (default for survey, apology and promised callbacks)
    amd_silence_is_human: bool = False
    # ring the responsible agent first (whisper), then dial the customer into their call
    agent_first: bool = False
    # record the answered calls (MixMonitor), when the site records (recording.enabled)
    record: bool = True
    agi_route: str = Field("", pattern=r"^[A-Za-z0-9_-]{0,64}$")
    context: str = Field(pattern=_TOKEN)
    ring_timeout: float = Field(ge=5, le=300)

    _check_timezone = field_validator("timezone")(check_timezone)
    _check_windows = field_validator("windows")(check_windows)

    @field_validator("name")
    @classmethod
    def _name_is_not_an_id_or_a_path_step(cls, value: str) -> str:
        # API paths take a campaign's id or its name: "42" would be read as an id, and
        # "." or ".." are resolved by browsers and proxies as steps of the path
        if value.isdigit():
            raise ValueError("a name, not only digits (those are campaign ids)")
        if set(value) == {"."}:
            raise ValueError("a name, not only dots")
        return value

    @field_validator("deadline")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("must carry a time zone (e.g. 2026-11-23T20:30:00+08:00)")
        return None if value is None else value.astimezone(UTC)

    @field_validator("retry")
    @classmethod
    def _retry(cls, value: dict[Disposition, int]) -> dict[Disposition, int]:
        for key, seconds in value.items():
            if seconds < 0:
                raise ValueError(f"{key.value}: seconds must not be negative")
        return value


def end_of_day(zone: str, now: datetime) -> datetime:
    """The last moment of ``now``'s day in ``zone`` (the apology campaigns' deadline)."""
    local = now.astimezone(ZoneInfo(zone))
    midnight = datetime.combine(local.date() + timedelta(days=1), time(), ZoneInfo(zone))
    return (midnight - timedelta(seconds=1)).astimezone(UTC)


#: What a campaign type changes in the defaults: the campaign flows hang up on answering
#: machines and call them again later, as they do a customer the flow could not finish.
TYPE_DEFAULTS: dict[CampaignType, dict[str, Any]] = {
    CampaignType.CALLBACK_SURVEY: {
        "amd": True,
        "amd_silence_is_human": True,
        "retry": {"answered_machine": 3600, "later": 3600},
    },
    # an apology is due the same day: machines and "later" come back within the hour
    CampaignType.APOLOGY: {
        "amd": True,
        "amd_silence_is_human": True,
        "retry": {"answered_machine": 1800, "later": 1800},
    },
    CampaignType.PROMISED_CALLBACK: {"amd_silence_is_human": True},
}


def build_spec(
    data: dict[str, Any],
    settings: DialerSettings,
    now: datetime | None = None,
    routes: Mapping[CampaignType, str] | None = None,
) -> CampaignSpec:
    """Validate ``data`` with the site's defaults filled in; ``deadline: today`` is allowed.

    A campaign of a type with a flow (``routes``: type → FastAGI route) goes to that flow
    unless it names a route or context itself. Raises ``SpecError`` naming the first field
    at fault.
    """
    if not isinstance(data, dict):
        raise SpecError("(body)", "a campaign is a JSON object of fields")
    values: dict[str, Any] = {
        "trunk": next(iter(settings.trunks)),
        "timezone": settings.timezone,
        "windows": settings.windows,
        "holiday_country": settings.holiday_country,
        "retry": settings.retry_seconds,
        "max_attempts": settings.max_attempts,
        "context": settings.default_context,
        "ring_timeout": settings.ring_timeout_seconds,
    }
    kind = data.get("type")
    if isinstance(kind, str) and kind in CampaignType.__members__.values():
        extra = TYPE_DEFAULTS.get(CampaignType(kind), {})
        values["amd"] = extra.get("amd", False)
        values["amd_silence_is_human"] = extra.get("amd_silence_is_human", False)
        values["retry"] = dict(settings.retry_seconds) | extra.get("retry", {})
        route = (routes or {}).get(CampaignType(kind))
        if route and "context" not in data:
            values["agi_route"] = route
    values.update({k: v for k, v in data.items() if v is not None})
    if values.get("deadline") == "today":
        zone = str(values["timezone"])
        try:
            check_timezone(zone)
        except ValueError as exc:
            raise SpecError("timezone", str(exc)) from exc
        values["deadline"] = end_of_day(zone, now or datetime.now(UTC))
    try:
        spec = CampaignSpec.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"] if p != "[key]") or "(body)"
        raise SpecError(where, str(error["msg"])) from exc
    if spec.agent_first and not spec.agi_route:
        raise SpecError("agent_first", "needs agi_route: its -whisper and -confirm flows")
    if spec.trunk not in settings.trunks:
        raise SpecError(
            "trunk", f"unknown trunk {spec.trunk!r}; configured: {sorted(settings.trunks)}"
        )
    if spec.cps > settings.trunks[spec.trunk].cps:
        raise SpecError(
            "cps", f"{spec.cps:g} exceeds trunk {spec.trunk}'s {settings.trunks[spec.trunk].cps:g}"
        )
    return spec


@dataclass(frozen=True)
class Campaign:
    """A stored campaign, as the engine reads it."""

    id: int
    name: str
    type: CampaignType
    status: CampaignStatus
    priority: int
    trunk: str
    caller_id: str
    max_concurrent: int
    cps: float
    timezone: str
    windows: Windows
    skip_holidays: bool
    holiday_country: str
    deadline: datetime | None
    retry: dict[str, int]
    max_attempts: int
    amd: bool
    agi_route: str
    context: str
    ring_timeout: float
    timezones: tuple[str, ...] = field(default=())
    agent_first: bool = False
    amd_silence_is_human: bool = False
    record: bool = True

    def retry_after(self, disposition: Disposition) -> int | None:
        """Seconds until the next attempt after ``disposition``; None when it is final."""
        seconds = self.retry.get(disposition.value)
        return None if seconds is None else int(seconds)

    def callee_zones(self) -> tuple[str, ...]:
        return self.timezones or (self.timezone,)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type.value,
            "status": self.status.value,
            "priority": self.priority,
            "trunk": self.trunk,
            "caller_id": self.caller_id,
            "max_concurrent": self.max_concurrent,
            "cps": self.cps,
            "timezone": self.timezone,
            "windows": {day: [list(span) for span in spans] for day, spans in self.windows.items()},
            "skip_holidays": self.skip_holidays,
            "holiday_country": self.holiday_country,
            "deadline": None if self.deadline is None else self.deadline.isoformat(),
            "retry": dict(self.retry),
            "max_attempts": self.max_attempts,
            "amd": self.amd,
            "amd_silence_is_human": self.amd_silence_is_human,
            "agent_first": self.agent_first,
            "record": self.record,
            "agi_route": self.agi_route,
            "context": self.context,
            "ring_timeout": self.ring_timeout,
        }


def parse_hhmm(value: str) -> time:
    """``HH:MM`` (``24:00`` = end of day) as a time; the windows were validated before."""
    if value == "24:00":
        return time.max
    match = re.fullmatch(r"([0-9]{2}):([0-9]{2})", value)
    if match is None:
        raise ValueError(f"{value!r} is not HH:MM")
    return time(int(match.group(1)), int(match.group(2)))
