"""Which completed work orders get a callback survey: a reproducible, auditable sample.

Per category a rule gives the share of orders to call (``rate``) and a minimum per
technician, so every technician's work is checked even in a small category. The choice
is a pure function of the orders, the rules and a seed:

* every order gets a score, ``sha256(seed, order id)`` read as a number in [0, 1); an
  order is in the sample when its score is below the category's rate. The same seed and
  orders give the same sample in any input order (an audit re-runs it), and orders of
  other customers added later never take a rate pick out;
* a technician with fewer picks than the minimum gets their lowest-scored other orders;
* a customer is called once per sample: of their orders, the lowest-scored one is kept.

Each pick says why it was taken (``rate`` or ``minimum``) and its score, for the audit
row that stores the sample.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = ["Pick", "SamplingRule", "WorkOrder", "order_score", "sample"]

_SCALE = float(2**64)


@dataclass(frozen=True, slots=True)
class WorkOrder:
    order_id: str
    customer: str  # the dial form of the customer's number
    category: str
    technician: str  # or the agent who handled it
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class SamplingRule:
    rate: float  # share of the category's orders, 0-1
    min_per_technician: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate: between 0 and 1, got {self.rate}")
        if self.min_per_technician < 0:
            raise ValueError("min_per_technician: 0 or more")


@dataclass(frozen=True, slots=True)
class Pick:
    order: WorkOrder
    score: float
    reason: Literal["rate", "minimum"]


def order_score(seed: str, order_id: str) -> float:
    """The order's place in [0, 1) for this seed; the same inputs, the same number."""
    digest = hashlib.sha256(f"{seed}\x00{order_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def sample(
    orders: Iterable[WorkOrder],
    rules: Mapping[str, SamplingRule],
    seed: str,
    default: SamplingRule | None = None,
) -> list[Pick]:
    """The orders to call, lowest score first. Categories without a rule use ``default``;
    with no default they are not sampled. An order id given twice counts once; given twice
    with different data it is a ``ValueError`` naming the order."""
    best: dict[str, tuple[float, WorkOrder]] = {}  # customer → their lowest-scored order
    seen: dict[str, WorkOrder] = {}
    for order in orders:
        earlier = seen.setdefault(order.order_id, order)
        if earlier != order:
            raise ValueError(f"order {order.order_id!r}: given twice with different data")
        if earlier is not order or (order.category not in rules and default is None):
            continue
        scored = (order_score(seed, order.order_id), order)
        kept = best.get(order.customer)
        if kept is None or (scored[0], order.order_id) < (kept[0], kept[1].order_id):
            best[order.customer] = scored
    categories: dict[str, dict[str, list[tuple[float, WorkOrder]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for score, order in best.values():
        categories[order.category][order.technician].append((score, order))
    picks: list[Pick] = []
    for category in sorted(categories):
        rule = rules.get(category, default)
        assert rule is not None
        picks += _pick(categories[category], rule)
    return picks


def _pick(
    by_technician: Mapping[str, list[tuple[float, WorkOrder]]], rule: SamplingRule
) -> list[Pick]:
    """Rate picks, then each technician's lowest-scored others up to the minimum."""
    picks: list[Pick] = []
    for technician in sorted(by_technician):
        ranked = sorted(by_technician[technician], key=lambda s: (s[0], s[1].order_id))
        chosen = [Pick(order, score, "rate") for score, order in ranked if score < rule.rate]
        rest = [Pick(order, score, "minimum") for score, order in ranked if score >= rule.rate]
        missing = max(rule.min_per_technician - len(chosen), 0)
        picks += chosen + rest[:missing]
    return sorted(picks, key=lambda p: (p.score, p.order.order_id))
