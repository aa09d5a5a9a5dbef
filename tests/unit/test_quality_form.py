"""The review form: a review scores every item 0-10 and nothing else; the call's total
weighs the items; the day's sample takes every complaint and low score and tops each agent
up to the day's number of random picks, the same ones each time."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from hotline.quality.config import DEFAULT_FORM, QualitySettings, ReviewItem
from hotline.quality.form import ReviewError, check_scores, total
from hotline.quality.sampling import Candidate, SampleReason, pick

ALL_TENS = {item.key: 10 for item in DEFAULT_FORM}
DAY = date(2026, 12, 4)


def test_the_default_form_follows_the_standards() -> None:
    keys = [item.key for item in DEFAULT_FORM]
    assert keys == [
        "greeting",
        "hold_etiquette",
        "no_interrupting",
        "confirm_understood",
        "closing",
        "first_question",
    ]
    assert "您好,很高兴为您服务" in DEFAULT_FORM[0].title
    assert "对不起,让您久等了" in DEFAULT_FORM[1].title
    assert sum(item.weight for item in DEFAULT_FORM) == 100


def test_totals_weigh_the_items() -> None:
    assert total(DEFAULT_FORM, ALL_TENS) == 100.0
    assert total(DEFAULT_FORM, dict.fromkeys(ALL_TENS, 0)) == 0.0
    # the first-question item weighs 25 of 100: half of it costs 12.5
    assert total(DEFAULT_FORM, ALL_TENS | {"first_question": 5}) == 87.5
    form = (ReviewItem(key="a", title="A", weight=1), ReviewItem(key="b", title="B", weight=3))
    assert total(form, {"a": 10, "b": 0}) == 25.0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "(body)"),
        ({"scores": ALL_TENS, "extra": 1}, "extra"),
        ({"scores": [10] * 6}, "scores"),
        ({"scores": {k: v for k, v in ALL_TENS.items() if k != "closing"}}, "scores.closing"),
        ({"scores": ALL_TENS | {"smile": 10}}, "scores.smile"),
        ({"scores": ALL_TENS | {"greeting": 11}}, "scores.greeting"),
        ({"scores": ALL_TENS | {"greeting": -1}}, "scores.greeting"),
        ({"scores": ALL_TENS | {"greeting": 7.5}}, "scores.greeting"),
        ({"scores": ALL_TENS | {"greeting": True}}, "scores.greeting"),
        ({"scores": ALL_TENS | {"greeting": "10"}}, "scores.greeting"),
        ({"scores": ALL_TENS, "comment": 5}, "comment"),
        ({"scores": ALL_TENS, "comment": "x" * 2001}, "comment"),
    ],
)
def test_a_review_that_does_not_fit_names_the_field(body: Any, field: str) -> None:
    with pytest.raises(ReviewError) as caught:
        check_scores(DEFAULT_FORM, body)
    assert caught.value.field == field


def test_a_review_that_fits() -> None:
    scores, comment = check_scores(DEFAULT_FORM, {"scores": ALL_TENS, "comment": "好"})
    assert (scores, comment) == (ALL_TENS, "好")


def test_a_form_needs_unique_items() -> None:
    item = {"key": "a", "title": "A", "weight": 1}
    with pytest.raises(ValidationError, match="unique"):
        QualitySettings(form=(item, item))
    with pytest.raises(ValidationError, match="at least one"):
        QualitySettings(form=())


def calls(agent: str, count: int, **special: tuple[int | None, str]) -> list[Candidate]:
    found = []
    for n in range(count):
        linkedid = f"{agent}-{n}"
        score, category = special.get(f"c{n}", (9, "repair"))
        found.append(Candidate(linkedid, agent, score, category))
    return found


def test_the_sample_takes_complaints_low_scores_and_a_few_at_random() -> None:
    settings = QualitySettings(sample_per_agent_per_day=2, low_score_at_most=5)
    day_calls = calls("1001", 10, c0=(9, "complaints"), c1=(5, "repair"), c2=(None, "")) + calls(
        "1002", 1
    )
    picks = pick(DAY, day_calls, settings)
    reasons = [(p.linkedid, p.reason) for p in picks]
    assert reasons[:2] == [("1001-0", SampleReason.COMPLAINT), ("1001-1", SampleReason.LOW_SCORE)]
    random_1001 = [p for p in picks if p.agent == "1001" and p.reason is SampleReason.RANDOM]
    assert len(random_1001) == 2
    assert [p.linkedid for p in picks if p.agent == "1002"] == ["1002-0"]  # all it had
    assert pick(DAY, day_calls, settings) == picks  # the same draw again
    assert pick(date(2026, 12, 5), day_calls, settings) != picks  # another day's draw


def test_sampling_again_tops_up_and_no_more() -> None:
    settings = QualitySettings(sample_per_agent_per_day=2)
    first = pick(DAY, calls("1001", 1), settings)
    assert len(first) == 1
    later = [c for c in calls("1001", 6) if c.linkedid not in {p.linkedid for p in first}]
    second = pick(DAY, later, settings, drawn_before={"1001": 1})
    assert len(second) == 1  # 2 a day: one more
    assert pick(DAY, later, settings, drawn_before={"1001": 2}) == []
