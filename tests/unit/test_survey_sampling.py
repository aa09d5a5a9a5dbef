"""Survey sampling: reproducible with a seed, order-independent, rate and minimum kept."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.survey.sampling import SamplingRule, WorkOrder, order_score, sample

DONE = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def orders(count: int, technicians: int = 5, category: str = "repair") -> list[WorkOrder]:
    return [
        WorkOrder(f"{category}-{n:05d}", f"139{n:08d}", category, f"T{n % technicians}", DONE)
        for n in range(count)
    ]


def ids(picks: list) -> list[str]:  # type: ignore[type-arg]
    return [p.order.order_id for p in picks]


def test_the_same_seed_gives_the_same_sample_and_another_seed_another() -> None:
    rules = {"repair": SamplingRule(0.2)}
    first = sample(orders(500), rules, "2026-11-30")
    assert ids(first) == ids(sample(orders(500), rules, "2026-11-30"))
    assert ids(first) != ids(sample(orders(500), rules, "2026-12-01"))
    assert all(p.reason == "rate" and p.score < 0.2 for p in first)


def test_the_rate_is_kept_within_chance() -> None:
    picked = sample(orders(10_000), {"repair": SamplingRule(0.1)}, "seed")
    assert 880 <= len(picked) <= 1120  # about 4 standard deviations around 1,000


def test_every_technician_gets_the_minimum() -> None:
    work = [*orders(40, technicians=4), WorkOrder("WO-x", "13800000000", "repair", "T9", DONE)]
    picks = sample(work, {"repair": SamplingRule(0.0, min_per_technician=2)}, "seed")
    per_technician: dict[str, int] = {}
    for pick in picks:
        per_technician[pick.order.technician] = per_technician.get(pick.order.technician, 0) + 1
        assert pick.reason == "minimum"
    assert per_technician == {"T0": 2, "T1": 2, "T2": 2, "T3": 2, "T9": 1}  # T9 has one order


def test_a_customer_is_called_once_and_unknown_categories_are_left_out() -> None:
    same = [WorkOrder(f"WO{n}", "13900000001", "repair", "T1", DONE) for n in range(5)]
    other = WorkOrder("WO-g", "13900000002", "gas-meter", "T2", DONE)
    picks = sample([*same, other], {"repair": SamplingRule(1.0)}, "seed")
    assert len(picks) == 1 and picks[0].order.category == "repair"
    lowest = min(same, key=lambda o: order_score("seed", o.order_id))
    assert picks[0].order == lowest
    with_default = sample([*same, other], {"repair": SamplingRule(1.0)}, "seed", SamplingRule(1.0))
    assert len(with_default) == 2


@pytest.mark.parametrize(("rate", "minimum"), [(-0.1, 0), (1.5, 0), (0.5, -1)])
def test_rules_are_checked(rate: float, minimum: int) -> None:
    with pytest.raises(ValueError, match=r"rate|min_per_technician"):
        SamplingRule(rate, minimum)


def test_an_order_given_twice_counts_once_unless_its_data_differ() -> None:
    order = orders(1)[0]
    assert len(sample([order, order], {"repair": SamplingRule(1.0)}, "s")) == 1
    changed = WorkOrder(order.order_id, order.customer, "repair", "T7", DONE)
    with pytest.raises(ValueError, match="repair-00000"):
        sample([order, changed], {"repair": SamplingRule(1.0)}, "s")


@settings(max_examples=50)
@given(st.integers(min_value=0, max_value=200), st.randoms(use_true_random=False))
def test_input_order_never_changes_the_sample(count: int, shuffler: random.Random) -> None:
    work = orders(count) + orders(count // 3, category="install")
    rules = {"repair": SamplingRule(0.3, 1), "install": SamplingRule(0.5)}
    shuffled = list(work)
    shuffler.shuffle(shuffled)
    assert sample(shuffled, rules, "s") == sample(work, rules, "s")


@settings(max_examples=50)
@given(st.integers(min_value=1, max_value=100), st.integers(min_value=1, max_value=100))
def test_more_customers_never_take_a_rate_pick_out(count: int, more: int) -> None:
    rules = {"repair": SamplingRule(0.25)}
    before = set(ids(sample(orders(count), rules, "s")))
    after = set(ids(sample(orders(count + more), rules, "s")))
    assert before <= after
