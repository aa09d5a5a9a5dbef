"""Business hours: settings validation, holidays and adjusted working days, next opening."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hotline.config import load_settings
from hotline.config_inbound import HoursSettings, IvrSettings, parse_range
from hotline.errors import ConfigError
from hotline.prompts import load_prompt_texts
from hotline.render import PROJECT_ROOT
from ivr.flows.speech import Number, Play, hours_speech
from ivr.hours import BusinessHours

SHANGHAI = timezone(timedelta(hours=8))


def at(day: str, clock: str) -> datetime:
    """A Shanghai wall-clock time as an aware datetime."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SHANGHAI)


def hours(**settings: Any) -> BusinessHours:
    return BusinessHours(HoursSettings(**settings))


# --- settings -------------------------------------------------------------------------


def test_defaults_are_documented_values() -> None:
    settings = IvrSettings()
    assert settings.hours.week() == (("08:00-20:00",),) * 7
    assert settings.hours.holiday == ("09:00-17:00",)
    assert (settings.hours.timezone, settings.hours.force) == ("Asia/Shanghai", "auto")
    assert (settings.no_input_retries, settings.invalid_retries) == (2, 2)
    assert settings.menu_file == Path("prompts/menu.yaml")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8-20", "HH:MM-HH:MM"),
        ("20:00-08:00", "end must be after the start"),
        ("08:00-24:30", "00:00 to 24:00"),
        ("24:00-24:00", "00:00 to 24:00"),
    ],
)
def test_bad_ranges_are_explained(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_range(value)


def test_parse_range_allows_midnight_as_the_end() -> None:
    assert parse_range("00:00-24:00") == (0, 1440)
    assert parse_range(" 08:30-12:00 ") == (510, 720)


def write(tmp_path: Path, ivr: dict[str, Any]) -> Path:
    path = tmp_path / "hotline.yaml"
    path.write_text(yaml.safe_dump({"ivr": ivr}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("ivr", "problem"),
    [
        ({"hours": {"mon": ["08:00-12:00", "11:00-18:00"]}}, "ivr.hours.mon: Value error, opening"),
        ({"hours": {"sat": ["x"]}}, "ivr.hours.sat: Value error, 'x': write opening hours"),
        ({"hours": {"timezone": "Mars/Olympus"}}, "ivr.hours.timezone: Value error, unknown"),
        ({"hours": {"force": "maybe"}}, "ivr.hours.force: Input should be 'auto', 'open'"),
        (
            {"hours": {"overrides": [{"date": "2026-01-01"}, {"date": "2026-01-01"}]}},
            "ivr.hours.overrides: Value error, one override per date; repeated: ['2026-01-01']",
        ),
        ({"blocklist": ["12"]}, "ivr.blocklist.0: String should match pattern"),
        ({"blocklist": ["+8613800138000x"]}, "ivr.blocklist.0: String should match"),
        ({"no_input_retries": 9}, "ivr.no_input_retries: Input should be less than or equal"),
        ({"emergency_queue": "Emergency!"}, "ivr.emergency_queue: String should match"),
        ({"menu": "x"}, "ivr.menu: Extra inputs are not permitted"),
    ],
)
def test_config_errors_name_their_key_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ivr: dict[str, Any], problem: str
) -> None:
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, ivr), tmp_path / "no-secrets.yaml")
    assert any(line.startswith(problem) for line in caught.value.problems), caught.value.problems


def test_valid_ivr_settings_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "hours": {
                "sun": [],
                "overrides": [{"date": "2026-12-24", "hours": ["10:00-14:00"], "note": "eve"}],
            },
            "blocklist": ["+8613900139000", "95007"],
        },
    )
    settings = load_settings(path, tmp_path / "no-secrets.yaml")
    assert settings.ivr.hours.sun == ()
    assert settings.ivr.hours.overrides[0].date == date(2026, 12, 24)
    assert settings.ivr.blocklist == ("+8613900139000", "95007")


def test_settings_are_frozen() -> None:
    with pytest.raises(ValidationError):
        HoursSettings().force = "open"  # type: ignore[misc]


# --- open or closed -------------------------------------------------------------------


def test_regular_hours_start_inclusive_end_exclusive() -> None:
    week = hours()
    assert not week.is_open(at("2026-11-23", "07:59:59"))
    assert week.is_open(at("2026-11-23", "08:00"))
    assert week.is_open(at("2026-11-23", "19:59:59"))
    assert not week.is_open(at("2026-11-23", "20:00"))


def test_times_are_read_in_the_sites_time_zone() -> None:
    week = hours()
    assert week.is_open(datetime(2026, 11, 23, 0, 30, tzinfo=UTC))  # 08:30 in Shanghai
    assert not week.is_open(datetime(2026, 11, 23, 12, 30, tzinfo=UTC))  # 20:30
    with pytest.raises(ValueError, match="timezone-aware"):
        week.is_open(datetime(2026, 11, 23, 10, 0))


def test_public_holidays_use_holiday_hours() -> None:
    week = hours()
    plan = week.plan(date(2026, 10, 1))
    assert (plan.kind, plan.spans, plan.name) == ("holiday", ((540, 1020),), "National Day")
    assert not week.is_open(at("2026-10-01", "08:30"))
    assert week.is_open(at("2026-10-01", "09:00"))
    assert not hours(holiday=[]).is_open(at("2026-10-01", "12:00"))


def test_adjusted_working_days_use_workday_hours() -> None:
    week = hours(sun=[], adjusted_workday=["08:30-17:30"])
    assert week.plan(date(2026, 1, 4)).kind == "adjusted_workday"  # a Sunday worked in 2026
    assert week.is_open(at("2026-01-04", "09:00"))
    assert week.plan(date(2026, 1, 11)).spans == ()  # an ordinary Sunday: closed


def test_holidays_can_be_ignored() -> None:
    week = hours(public_holidays=False)
    assert week.plan(date(2026, 10, 1)).kind == "regular"
    assert week.is_open(at("2026-10-01", "08:30"))


def test_overrides_win_over_holidays_and_force_wins_over_everything() -> None:
    closed = {"date": "2026-10-01", "hours": [], "note": "office move"}
    week = hours(overrides=[closed])
    assert week.plan(date(2026, 10, 1)).kind == "override"
    assert not week.is_open(at("2026-10-01", "12:00"))
    assert hours(overrides=[closed], force="open").is_open(at("2026-10-01", "03:00"))
    assert not hours(force="closed").is_open(at("2026-11-23", "12:00"))


def test_next_opening() -> None:
    week = hours()
    now = at("2026-11-23", "10:00")
    assert week.next_opening(now) == now
    assert week.next_opening(at("2026-11-23", "06:15")) == at("2026-11-23", "08:00")
    assert week.next_opening(at("2026-11-23", "21:00")) == at("2026-11-24", "08:00")
    # the night before National Day: the holiday opens at 09:00
    assert week.next_opening(at("2026-09-30", "22:00")) == at("2026-10-01", "09:00")
    split = hours(mon=["08:00-12:00", "13:00-17:00"])
    assert split.next_opening(at("2026-11-23", "12:30")) == at("2026-11-23", "13:00")
    assert hours(force="closed").next_opening(now) is None


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)))
def test_next_opening_is_open_and_never_in_the_past(naive: datetime) -> None:
    week = BusinessHours(HoursSettings(sat=[], sun=["10:00-11:00"]))
    now = naive.replace(tzinfo=UTC)
    opening = week.next_opening(now)
    assert opening is not None and opening >= now
    assert week.is_open(opening)


# --- what the caller hears ------------------------------------------------------------


def test_hours_speech_groups_equal_days_and_says_the_holiday_hours() -> None:
    week = hours(sat=["09:00-17:30"], sun=[], holiday=[])
    oclock, to = Play("hours-oclock"), Play("hours-to")
    assert hours_speech(week) == [
        Play("hours-intro"),
        Play("weekday-1"),
        to,
        Play("weekday-5"),
        Number(8),
        oclock,
        to,
        Number(20),
        oclock,
        Play("weekday-6"),
        Number(9),
        oclock,
        to,
        Number(17),
        oclock,
        Number(30),
        Play("hours-minutes"),
        Play("weekday-7"),
        Play("hours-closed"),
        Play("hours-holiday"),
        Play("hours-closed"),
    ]


def test_the_hours_message_says_the_weekdays_not_dates() -> None:
    """The words the caller hears, from the prompt texts: 周一至周五, not 一日至五日."""
    texts = {
        p.name: p.texts["zh"] for p in load_prompt_texts(PROJECT_ROOT / "prompts/prompts.yaml")
    }
    week = hours(sat=["09:00-17:30"], sun=[], holiday=[])
    spoken = [texts[part.prompt] for part in hours_speech(week) if isinstance(part, Play)]
    assert spoken[1:4] == ["周一", "至", "周五"]
    assert "周六" in spoken and "周日" in spoken and "一日" not in spoken


def test_hours_speech_every_day_and_without_holidays() -> None:
    speech = hours_speech(hours(public_holidays=False))
    assert speech[:3] == [Play("hours-intro"), Play("hours-every-day"), Number(8)]
    assert Play("hours-holiday") not in speech
