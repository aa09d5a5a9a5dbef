"""Business hours: is the hotline staffed now, and when does it open next?

A day's hours come from, in order of precedence: ``force`` (open/closed around the clock),
a site override for that date, a mainland-China public holiday (``holiday`` hours), a weekend
day that is an official working day (``adjusted_workday`` hours), then the weekday's regular
hours. Holidays come from the ``holidays`` package (country CN), which carries the State
Council's yearly substitution schedule. Times are read in ``hours.timezone``; the clock is
passed in by the caller, so flows and tests decide what "now" is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import holidays

from hotline.config_inbound import HoursSettings, parse_range

__all__ = ["BusinessHours", "DayKind", "DayPlan", "Span"]

Span = tuple[int, int]  # minutes after midnight, [start, end)
DayKind = Literal["regular", "holiday", "adjusted_workday", "override", "forced"]
_LOOKAHEAD_DAYS = 62


@dataclass(frozen=True)
class DayPlan:
    """One date's opening spans and why (``name`` is the holiday's, if any)."""

    day: date
    kind: DayKind
    spans: tuple[Span, ...]
    name: str = ""


def _spans(values: tuple[str, ...]) -> tuple[Span, ...]:
    return tuple(sorted(parse_range(value) for value in values))


class BusinessHours:
    """The opening hours of one site; cheap to query, holiday tables cached per year."""

    def __init__(self, settings: HoursSettings) -> None:
        self.settings = settings
        self.zone = ZoneInfo(settings.timezone)
        self._week = tuple(_spans(day) for day in settings.week())
        self._holiday = _spans(settings.holiday)
        self._workday = _spans(settings.adjusted_workday)
        self._overrides = {item.date: item for item in settings.overrides}
        self._years: dict[int, holidays.HolidayBase] = {}
        if settings.public_holidays:  # loading the first year imports the country's module:
            self._calendar(self.local(datetime.now(UTC)).year)  # at start, not in a call

    @property
    def week(self) -> tuple[tuple[Span, ...], ...]:
        """Regular spans Monday (0) to Sunday (6)."""
        return self._week

    @property
    def holiday_spans(self) -> tuple[Span, ...]:
        return self._holiday

    def _calendar(self, year: int) -> holidays.HolidayBase:
        if year not in self._years:
            self._years[year] = holidays.country_holidays("CN", years=year)
        return self._years[year]

    def plan(self, day: date) -> DayPlan:
        """The spans of one local date."""
        force = self.settings.force
        if force != "auto":
            return DayPlan(day, "forced", ((0, 24 * 60),) if force == "open" else ())
        override = self._overrides.get(day)
        if override is not None:
            return DayPlan(day, "override", _spans(override.hours), override.note)
        if self.settings.public_holidays:
            calendar = self._calendar(day.year)
            name = calendar.get(day)
            if name is not None:
                return DayPlan(day, "holiday", self._holiday, str(name))
            if day in getattr(calendar, "weekend_workdays", ()):
                return DayPlan(day, "adjusted_workday", self._workday)
        return DayPlan(day, "regular", self._week[day.weekday()])

    def holiday_name(self, day: date) -> str:
        """The public holiday on ``day`` ("" if none, or if the site ignores holidays)."""
        if not self.settings.public_holidays:
            return ""
        return str(self._calendar(day.year).get(day) or "")

    def is_day_off(self, day: date) -> bool:
        """A public holiday, or a weekend day that is not an adjusted working day (调休)."""
        if self.holiday_name(day):
            return True
        if day.weekday() < 5:
            return False
        if not self.settings.public_holidays:
            return True
        return day not in getattr(self._calendar(day.year), "weekend_workdays", ())

    def local(self, now: datetime) -> datetime:
        if now.tzinfo is None:
            raise ValueError(f"naive datetime {now!r}: the clock must be timezone-aware")
        return now.astimezone(self.zone)

    def is_open(self, now: datetime) -> bool:
        here = self.local(now)
        minute = here.hour * 60 + here.minute
        return any(start <= minute < end for start, end in self.plan(here.date()).spans)

    def today(self, now: datetime) -> DayPlan:
        return self.plan(self.local(now).date())

    def next_opening(self, now: datetime) -> datetime | None:
        """When agents next answer (``now`` if open); None if closed for two months."""
        if self.is_open(now):
            return now
        here = self.local(now)
        minute = here.hour * 60 + here.minute
        for offset in range(_LOOKAHEAD_DAYS):
            day = here.date() + timedelta(days=offset)
            for start, _ in self.plan(day).spans:
                if offset or start > minute:
                    hour, mins = divmod(start, 60)
                    return datetime.combine(day, time(hour, mins), self.zone)
        return None
