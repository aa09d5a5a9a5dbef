"""Settings of the inbound IVR (the ``ivr`` section): business hours, menu, input, blocklist.

Business hours default to 08:00-20:00 every day (residential gas customers call at weekends
too), 09:00-17:00 on mainland-China public holidays (the ``holidays`` package, country CN,
including the substituted days off), and weekday hours on the weekend days that are official
working days (调休). Site overrides win over all of that, and ``force`` wins over everything
(tests, incidents). Emergencies are served at any hour: the hours only decide whether the
caller hears the menu or the after-hours message.
"""

from __future__ import annotations

import datetime as dt
import re
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "NUMBER_PATTERN",
    "EmergencyOverflow",
    "GreetingStyle",
    "HoursOverride",
    "HoursSettings",
    "IvrSettings",
    "parse_range",
]

NUMBER_PATTERN = r"^(\+[0-9]{2,19}|[0-9]{3,20})$"  # digits, optional leading +, 3-20 chars
_RANGE = re.compile(r"^([0-2][0-9]):([0-5][0-9])-([0-2][0-9]):([0-5][0-9])$")
_QUEUE = r"^[a-z][a-z0-9-]{0,31}$"


def parse_range(text: str) -> tuple[int, int]:
    """``"08:00-20:00"`` → minutes after midnight ``(480, 1200)``; the end may be 24:00."""
    match = _RANGE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r}: write opening hours as HH:MM-HH:MM, e.g. 08:00-20:00")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or end > 24 * 60:
        raise ValueError(f"{text!r}: hours run from 00:00 to 24:00")
    if end <= start:
        raise ValueError(f"{text!r}: the end must be after the start (split overnight hours)")
    return start, end


def _check_ranges(values: tuple[str, ...]) -> tuple[str, ...]:
    spans = sorted(parse_range(value) for value in values)
    for (_, end), (start, _) in pairwise(spans):
        if start < end:
            raise ValueError(f"opening hours overlap: {list(values)}")
    return values


GreetingStyle = Literal["time_of_day", "plain"]  # 早上好/下午好/晚上好, or 您好 at any hour
DayHours = Annotated[tuple[str, ...], AfterValidator(_check_ranges)]
_DAY = ("08:00-20:00",)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HoursOverride(_Section):
    """One date with its own hours; ``hours: []`` closes the whole day."""

    date: dt.date
    hours: DayHours = ()
    note: str = ""


class HoursSettings(_Section):
    """``ivr.hours``: when agents answer; outside these the caller hears the hours."""

    timezone: str = "Asia/Shanghai"
    force: Literal["auto", "open", "closed"] = "auto"
    mon: DayHours = _DAY
    tue: DayHours = _DAY
    wed: DayHours = _DAY
    thu: DayHours = _DAY
    fri: DayHours = _DAY
    sat: DayHours = _DAY
    sun: DayHours = _DAY
    public_holidays: bool = True  # follow mainland-China holidays and adjusted working days
    holiday: DayHours = ("09:00-17:00",)  # on public holidays; [] closes them
    adjusted_workday: DayHours = _DAY  # a weekend day that is an official working day
    overrides: tuple[HoursOverride, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value

    @field_validator("overrides")
    @classmethod
    def _one_per_date(cls, value: tuple[HoursOverride, ...]) -> tuple[HoursOverride, ...]:
        days = [item.date for item in value]
        twice = sorted({day.isoformat() for day in days if days.count(day) > 1})
        if twice:
            raise ValueError(f"one override per date; repeated: {twice}")
        return value

    def week(self) -> tuple[tuple[str, ...], ...]:
        """The regular hours Monday (0) to Sunday (6)."""
        return (self.mon, self.tue, self.wed, self.thu, self.fri, self.sat, self.sun)


class EmergencyOverflow(_Section):
    """``ivr.emergency_overflow``: a gas-leak caller no agent took in ``after_seconds``.

    The on-call list is rung in turn, ``ring_seconds`` each, through ``trunk``; the first
    to answer talks to the caller. Nobody answers: the caller goes back to the front of
    the emergency queue, and after another ``after_seconds`` the list is rung again, so
    the caller is never dropped. Each number must pass ``dialer.allowed_patterns``.
    """

    after_seconds: int = Field(0, ge=0, le=3600)  # 0: off
    numbers: tuple[Annotated[str, Field(pattern=NUMBER_PATTERN)], ...] = ()
    ring_seconds: int = Field(20, ge=5, le=60)
    trunk: str = "carrier"

    @field_validator("after_seconds")
    @classmethod
    def _off_or_ten(cls, value: int) -> int:
        if 0 < value < 10:
            raise ValueError("0 (off) or at least 10 seconds")
        return value

    @field_validator("numbers")
    @classmethod
    def _each_once(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        twice = sorted({number for number in value if value.count(number) > 1})
        if twice:
            raise ValueError(f"each on-call number once; repeated: {twice}")
        return value


class IvrSettings(_Section):
    """The ``ivr`` section."""

    hours: HoursSettings = HoursSettings()
    greeting: GreetingStyle = "time_of_day"
    menu_file: Path = Path("prompts/menu.yaml")  # relative paths start at the project root
    emergency_queue: str = Field("emergency", pattern=_QUEUE)
    digit_timeout_seconds: float = Field(5.0, gt=0, le=30)
    account_timeout_seconds: float = Field(15.0, gt=0, le=60)
    no_input_retries: int = Field(2, ge=0, le=5)  # re-prompts before the no-input goodbye
    invalid_retries: int = Field(2, ge=0, le=9)  # re-prompts after a wrong key, then an agent
    lookup_timeout_seconds: float = Field(2.0, gt=0, le=10)  # blocklist/customer look-ups
    blocklist: tuple[Annotated[str, Field(pattern=NUMBER_PATTERN)], ...] = ()
    emergency_overflow: EmergencyOverflow = EmergencyOverflow()
