"""Settings of the outbound dialer: trunk, pacing, windows, retries, allow-list, DNC.

Campaigns carry their own windows, retry rules and pacing; the values here are the
defaults a new campaign gets, plus what only the site decides: which trunks exist and how
fast each may be driven, which destinations may ever be dialled (the toll-fraud guard) and
the numbers nobody may call (the configured part of the DNC list).
"""

from __future__ import annotations

import itertools
import re
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hotline.digit_patterns import digit_pattern_problem
from hotline.phone import dnc_number

__all__ = [
    "DEFAULT_RETRY",
    "DEFAULT_WINDOWS",
    "WEEKDAYS",
    "DialerSettings",
    "TrunkSettings",
    "check_timezone",
    "check_windows",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Meal and rest times are avoided (service standard): mornings, afternoons, early evening.
DEFAULT_DAY = (("09:00", "11:30"), ("14:00", "17:30"), ("19:00", "20:30"))
DEFAULT_WINDOWS: dict[str, list[tuple[str, str]]] = {day: list(DEFAULT_DAY) for day in WEEKDAYS}
#: Seconds until the next attempt, per disposition; a disposition not listed is final.
DEFAULT_RETRY: dict[str, int] = {
    "busy": 600,
    "no_answer": 1800,
    "congestion": 300,
    "unknown": 1800,
    "failed": 300,
    "later": 1800,
}
_TOKEN = r"^[A-Za-z0-9_-]{1,64}$"
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])|24:00")


def _parse_hhmm(value: str) -> time:
    if not _HHMM.fullmatch(value):
        raise ValueError(f"{value!r} is not a time of day HH:MM")
    if value == "24:00":
        return time.max
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def check_windows(
    windows: dict[str, list[tuple[str, str]]],
) -> dict[str, list[tuple[str, str]]]:
    """Weekday → [(start, end)]: known days, HH:MM times, each window non-empty, no overlap."""
    unknown = set(windows) - set(WEEKDAYS)
    if unknown:
        raise ValueError(f"unknown weekday(s) {sorted(unknown)}; use {', '.join(WEEKDAYS)}")
    for day, spans in windows.items():
        parsed = sorted((_parse_hhmm(start), _parse_hhmm(end)) for start, end in spans)
        for start, end in parsed:
            if end <= start:
                raise ValueError(f"{day}: window {start:%H:%M}-{end:%H:%M} ends before it starts")
        for (_, end), (start, _) in itertools.pairwise(parsed):
            if start < end:
                raise ValueError(f"{day}: windows overlap at {start:%H:%M}")
    return windows


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class TrunkSettings(BaseModel):
    """One trunk: the carrier's limits, enforced per service node."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cps: float = Field(10.0, gt=0, le=500)
    max_concurrent: int = Field(300, ge=1, le=10000)
    dial_string: str = Field("PJSIP/{number}@{trunk}", pattern=r"\{number\}")


class DialerSettings(BaseModel):
    """The ``dialer`` section."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    #: This service instance's name: its attempts carry it, and after a restart it
    #: reconciles only its own (it owns its Asterisk's AMI). Unique per node.
    node: str = Field("node1", pattern=_TOKEN)
    max_concurrent: int = Field(300, ge=1, le=10000)
    trunks: dict[str, TrunkSettings] = Field(default_factory=lambda: {"carrier": TrunkSettings()})
    #: Toll-fraud guard: a number is dialled only if it fully matches one of these. The
    #: defaults are mainland mobiles (1[3-9] + 9 digits) and landlines with area code.
    allowed_patterns: list[str] = Field(
        default_factory=lambda: [r"1[3-9][0-9]{9}", r"0[1-9][0-9]{8,10}"], min_length=1
    )
    #: Numbers no campaign dials (merged into the DNC table at start, source "config").
    dnc: list[str] = Field(default_factory=list)
    #: Defaults for new campaigns.
    timezone: str = "Asia/Shanghai"
    holiday_country: str = Field("CN", pattern=r"^[A-Z]{2}$")
    windows: dict[str, list[tuple[str, str]]] = Field(
        default_factory=lambda: {d: list(s) for d, s in DEFAULT_WINDOWS.items()}
    )
    retry_seconds: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_RETRY))
    max_attempts: int = Field(3, ge=1, le=20)
    ring_timeout_seconds: float = Field(30.0, ge=5, le=300)
    outbound_context: str = Field("dialer-outbound", pattern=_TOKEN)
    default_context: str = Field("dialer-default", pattern=_TOKEN)
    #: Engine timing.
    tick_seconds: float = Field(0.05, gt=0, le=5)
    #: Seconds of calls a CPS bucket may save up: a database stall shorter than this
    #: (a slow commit) costs no calls, at the price of a burst of that size after it.
    burst_seconds: float = Field(0.5, gt=0, le=5)
    #: Most contacts one claim transaction takes; the rest of a grant waits for the next tick.
    claim_batch: int = Field(50, ge=1, le=1000)
    #: After a Hangup, how long to wait for the OriginateResponse before deciding.
    settle_seconds: float = Field(2.0, gt=0, le=60)
    #: After a reconnect or restart, how long an in-flight attempt missing from the live
    #: channels may still show up (its channel created after the snapshot) before `unknown`.
    reconcile_grace_seconds: float = Field(3.0, gt=0, le=60)

    @field_validator("allowed_patterns")
    @classmethod
    def _digit_patterns(cls, value: list[str]) -> list[str]:
        for index, pattern in enumerate(value):
            problem = digit_pattern_problem(pattern)
            if problem:
                raise ValueError(f"[{index}] {pattern!r} {problem}")
        return value

    @field_validator("dnc")
    @classmethod
    def _dnc_numbers(cls, value: list[str]) -> list[str]:
        """Normalised as the API's entries are (``8613900001234`` is ``13900001234``)."""
        numbers = []
        for index, raw in enumerate(value):
            try:
                numbers.append(dnc_number(raw))
            except ValueError as exc:
                raise ValueError(f"[{index}] {exc}") from None
        return list(dict.fromkeys(numbers))

    _check_timezone = field_validator("timezone")(check_timezone)
    _check_windows = field_validator("windows")(check_windows)

    @field_validator("retry_seconds")
    @classmethod
    def _retry_keys(cls, value: dict[str, int]) -> dict[str, int]:
        from dialer.states import Disposition

        known = {d.value for d in Disposition}
        for key, seconds in value.items():
            if key not in known:
                raise ValueError(f"retry_seconds: unknown disposition {key!r}")
            if seconds < 0:
                raise ValueError(f"retry_seconds.{key}: must not be negative")
        return value

    @model_validator(mode="after")
    def _trunks_named(self) -> DialerSettings:
        for name in self.trunks:
            if not re.fullmatch(_TOKEN, name):
                raise ValueError(f"trunks: name {name!r} must be letters, digits, _ or -")
        if not self.trunks:
            raise ValueError("trunks: at least one trunk is needed")
        return self
