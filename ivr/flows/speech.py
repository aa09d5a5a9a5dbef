"""Things the IVR says out of parts: opening hours, money, dates.

A speech is a list of parts, each a prompt to play or a number to say, so the wording is
plain data that tests compare, and one loop speaks it with barge-in. Numbers are said
with SAY NUMBER, which on a ``zh`` channel follows Mandarin rules (十二, 一百零五) given
Asterisk's ``digits/*`` sounds in that language; money is said as 元 and 分 ("128 元 50 分")
the way a Mandarin speaker reads a bill, rather than as a decimal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ivr.agi import AgiChannel
from ivr.flows.common import sound
from ivr.hours import BusinessHours, Span

__all__ = ["Number", "Part", "Play", "amount_speech", "date_speech", "hours_speech", "speak"]


@dataclass(frozen=True)
class Play:
    prompt: str  # a prompt name in prompts.yaml


@dataclass(frozen=True)
class Number:
    value: int


Part = Play | Number


async def speak(call: AgiChannel, parts: Sequence[Part], escape_digits: str = "") -> str:
    """Say the parts in order; stop at the first key pressed (one of ``escape_digits``)."""
    for part in parts:
        if isinstance(part, Play):
            key = await call.play(sound(part.prompt), escape_digits)
        else:
            key = await call.say_number(part.value, escape_digits)
        if key:
            return key
    return ""


def _clock(minutes: int) -> list[Part]:
    hour, minute = divmod(minutes, 60)
    parts: list[Part] = [Number(hour), Play("hours-oclock")]
    if minute:
        parts += [Number(minute), Play("hours-minutes")]
    return parts


def _spans(spans: tuple[Span, ...]) -> list[Part]:
    if not spans:
        return [Play("hours-closed")]
    parts: list[Part] = []
    for start, end in spans:
        parts += [*_clock(start), Play("hours-to"), *_clock(end)]
    return parts


def hours_speech(hours: BusinessHours) -> list[Part]:
    """ "我们的人工服务时间是 周一至周五 8点至20点 周六至周日 … 法定节假日 9点至17点".

    Days with the same hours are grouped; a week of equal days is said as 每天 (every day).
    """
    week = hours.week
    parts: list[Part] = [Play("hours-intro")]
    if len(set(week)) == 1:
        parts += [Play("hours-every-day"), *_spans(week[0])]
    else:
        first = 0
        for day in range(1, 8):
            if day < 7 and week[day] == week[first]:
                continue
            parts.append(Play(f"weekday-{first + 1}"))  # 周一…周日 (day-N is a date's 一日…)
            if day - 1 > first:
                parts += [Play("hours-to"), Play(f"weekday-{day}")]
            parts += _spans(week[first])
            first = day
    if hours.settings.public_holidays and hours.settings.force == "auto":
        parts += [Play("hours-holiday"), *_spans(hours.holiday_spans)]
    return parts


def amount_speech(amount: Decimal) -> list[Part]:
    """ "128 元 50 分"; whole yuan drop the 分, amounts under one yuan keep "0 元"."""
    fen_total = int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    yuan, fen = divmod(fen_total, 100)
    parts: list[Part] = [Number(yuan), Play("yuan")]
    if fen:
        parts += [Number(fen), Play("fen")]
    return parts


def date_speech(day: date) -> list[Part]:
    """ "11 月 25 日" (month and day; the year is the caller's own)."""
    return [Number(day.month), Play("month"), Number(day.day), Play("day-of-month")]
