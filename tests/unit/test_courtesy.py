"""Greeting by the time of day, goodbye with the weekend's or holiday's wish: the texts spoken.

Each case asserts the Mandarin text of the prompt the flow picks, read from the committed
``prompts/prompts.yaml``, so a renamed or reworded prompt fails here, not on the phone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.config_inbound import HoursSettings
from hotline.prompts import load_prompt_texts
from hotline.render import PROJECT_ROOT
from ivr.courtesy import ENDINGS, GREETINGS, WISHES, goodbye_prompt, welcome_prompt
from ivr.flows.score import score_flow
from ivr.hours import BusinessHours
from ivr.scripted import ScriptedSession, expect
from tests.unit.inbound_fakes import make_deps

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEXTS = {p.name: p.texts["zh"] for p in load_prompt_texts(PROJECT_ROOT / "prompts/prompts.yaml")}
HOURS = BusinessHours(HoursSettings())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("local", "spoken"),
    [
        ("2026-11-23 05:00", "早上好,很高兴为您服务"),
        ("2026-11-23 11:59", "早上好,很高兴为您服务"),
        ("2026-11-23 12:00", "下午好,很高兴为您服务"),
        ("2026-11-23 17:59", "下午好,很高兴为您服务"),
        ("2026-11-23 18:00", "晚上好,很高兴为您服务"),
        ("2026-11-23 04:59", "晚上好,很高兴为您服务"),
    ],
)
def test_the_greeting_follows_the_local_hour(local: str, spoken: str) -> None:
    assert TEXTS[welcome_prompt(HOURS, at(local), "time_of_day")] == spoken


def test_the_greeting_reads_the_sites_time_zone() -> None:
    utc_morning = datetime.fromisoformat("2026-11-23T02:00:00+00:00")  # 10:00 in Shanghai
    urumqi = BusinessHours(HoursSettings(timezone="Asia/Urumqi"))  # 08:00 there
    london = BusinessHours(HoursSettings(timezone="Europe/London"))  # 02:00 there
    assert TEXTS[welcome_prompt(urumqi, utc_morning, "time_of_day")].startswith("早上好")
    assert TEXTS[welcome_prompt(london, utc_morning, "time_of_day")].startswith("晚上好")


def test_the_plain_greeting_is_the_standards_line_at_any_hour() -> None:
    for local in ("2026-11-23 08:00", "2026-11-23 20:00"):
        assert TEXTS[welcome_prompt(HOURS, at(local), "plain")] == "您好,很高兴为您服务"


@pytest.mark.parametrize(
    ("local", "spoken", "why"),
    [
        ("2026-11-24 10:00", "感谢您的来电,再见", "a Tuesday"),
        ("2026-11-27 10:00", "感谢您的来电,祝您周末愉快,再见", "a Friday before the weekend"),
        ("2026-11-28 10:00", "感谢您的来电,祝您周末愉快,再见", "a Saturday"),
        ("2026-11-29 21:00", "感谢您的来电,祝您周末愉快,再见", "a Sunday evening"),
        ("2026-11-30 10:00", "感谢您的来电,再见", "a Monday"),
        ("2026-09-30 10:00", "感谢您的来电,祝您节日快乐,再见", "the eve of National Day"),
        ("2026-10-01 10:00", "感谢您的来电,祝您节日快乐,再见", "National Day"),
        ("2026-10-04 10:00", "感谢您的来电,祝您节日快乐,再见", "Golden Week's Sunday"),
        ("2026-10-07 10:00", "感谢您的来电,祝您节日快乐,再见", "Golden Week's last day off"),
        ("2026-10-09 10:00", "感谢您的来电,再见", "a Friday before an adjusted workday"),
        ("2026-10-10 10:00", "感谢您的来电,祝您周末愉快,再见", "the adjusted Saturday: Sunday off"),
        ("2026-02-13 10:00", "感谢您的来电,再见", "a Friday before the working Saturday"),
        ("2026-02-15 10:00", "感谢您的来电,祝您节日快乐,再见", "the Sunday before Spring Festival"),
    ],
)
def test_the_goodbye_wishes_a_good_weekend_or_holiday(local: str, spoken: str, why: str) -> None:
    assert TEXTS[goodbye_prompt(HOURS, at(local))] == spoken, why


def test_a_site_without_public_holidays_wishes_only_weekends() -> None:
    hours = BusinessHours(HoursSettings(public_holidays=False))
    assert TEXTS[goodbye_prompt(hours, at("2026-10-01 10:00"))] == "感谢您的来电,再见"  # Thu
    assert "周末愉快" in TEXTS[goodbye_prompt(hours, at("2026-10-02 10:00"))]  # Fri


def test_every_greeting_and_every_wished_ending_has_a_text() -> None:
    names = [
        *GREETINGS,
        *(f"{base}{wish}" for base in ENDINGS for wish in WISHES),
    ]
    assert [name for name in names if name not in TEXTS] == []


async def test_the_score_thanks_carry_the_weekend_wish() -> None:
    deps, _ = make_deps(now=at("2026-11-27 16:00"))
    session = ScriptedSession(
        [
            expect("read_digits", "hotline/score", 5.0, 1, returns="9"),
            expect("set_variables", {"HOTLINE_SCORE": "9", "HOTLINE_FLOW_RESULT": "done"}),
            expect("play", "hotline/score-thanks-weekend"),
        ]
    )
    await score_flow(session, deps)
    session.assert_done()
    assert TEXTS["score-thanks-weekend"] == "感谢您的评价,祝您周末愉快,再见"
