"""Which greeting and which goodbye fit the caller's moment (早上好 …, 祝您周末愉快 …).

The standards ask for a greeting by the time of day and, near a weekend or a holiday, a
goodbye that wishes the caller a good one. Both come from the site's clock and calendar:
the hours' time zone, and the same mainland-China holidays and adjusted working days (调休)
that decide the opening hours. A day is *off* when it is a public holiday or a weekend day
that is not an adjusted working day; a run of off days that holds a public holiday is a
holiday break (Golden Week's Sunday is part of National Day's). Today, or tomorrow, in a
holiday break: 祝您节日快乐; else today or tomorrow off: 祝您周末愉快; else the plain goodbye.
Pure code: the flows pass the clock in.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hotline.config_inbound import GreetingStyle
from ivr.hours import BusinessHours

__all__ = ["ENDINGS", "GREETINGS", "WISHES", "goodbye_prompt", "welcome_prompt"]

MORNING_FROM = 5  # local hour: 05:00-11:59 早上好, 12:00-17:59 下午好, 18:00-04:59 晚上好
AFTERNOON_FROM = 12
EVENING_FROM = 18
GREETINGS = ("welcome", "welcome-morning", "welcome-afternoon", "welcome-evening")
WISHES = ("", "-weekend", "-holiday")  # suffixes of the prompts that end a call
ENDINGS = ("goodbye", "score-thanks")  # those prompts: each has its -weekend and -holiday
_MAX_BREAK_DAYS = 16  # the longest run of days off looked at (Spring Festival is 8-9)


def welcome_prompt(hours: BusinessHours, now: datetime, style: GreetingStyle) -> str:
    """``welcome-morning``/``-afternoon``/``-evening`` by the local hour, or ``welcome``."""
    if style == "plain":
        return "welcome"
    hour = hours.local(now).hour
    if MORNING_FROM <= hour < AFTERNOON_FROM:
        return "welcome-morning"
    if AFTERNOON_FROM <= hour < EVENING_FROM:
        return "welcome-afternoon"
    return "welcome-evening"


def goodbye_prompt(hours: BusinessHours, now: datetime, base: str = "goodbye") -> str:
    """``<base>-holiday``, ``<base>-weekend`` or ``<base>`` for the local date."""
    today = hours.local(now).date()
    tomorrow = today + timedelta(days=1)
    if _in_holiday_break(hours, today) or _in_holiday_break(hours, tomorrow):
        return f"{base}-holiday"
    if hours.is_day_off(today) or hours.is_day_off(tomorrow):
        return f"{base}-weekend"
    return base


def _in_holiday_break(hours: BusinessHours, day: date) -> bool:
    """``day`` is off and its run of days off holds a public holiday."""
    if not hours.is_day_off(day):
        return False
    for step in (-1, 1):
        current = day
        for _ in range(_MAX_BREAK_DAYS):
            if hours.holiday_name(current):
                return True
            current += timedelta(days=step)
            if not hours.is_day_off(current):
                break
    return False
