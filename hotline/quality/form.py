"""A review against the form: each item scored 0-10, the call's total out of 100.

The total weighs each item by its ``weight``; the form as it was is kept with the review,
so changing the form later does not change old totals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hotline.quality.config import ReviewItem

__all__ = ["MAX_ITEM_SCORE", "ReviewError", "check_scores", "form_json", "total"]

MAX_ITEM_SCORE = 10
MAX_COMMENT = 2000


class ReviewError(ValueError):
    """A review that does not fit the form; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def check_scores(form: Sequence[ReviewItem], body: Any) -> tuple[dict[str, int], str]:
    """The scores and comment of a review body ``{"scores": {key: 0-10}, "comment"}``."""
    if not isinstance(body, Mapping):
        raise ReviewError("(body)", "a JSON object with scores and an optional comment")
    unknown = sorted(set(body) - {"scores", "comment"})
    if unknown:
        raise ReviewError(unknown[0], "not a field of a review (scores, comment)")
    scores = body.get("scores")
    if not isinstance(scores, Mapping):
        raise ReviewError("scores", "an object: each item of the form → 0-10")
    keys = [item.key for item in form]
    for key in scores:
        if key not in keys:
            raise ReviewError(f"scores.{key}", f"not an item of the form ({', '.join(keys)})")
    checked: dict[str, int] = {}
    for key in keys:
        value = scores.get(key)
        if value is None:
            raise ReviewError(f"scores.{key}", "missing: every item is scored")
        if isinstance(value, bool) or not isinstance(value, int):
            raise ReviewError(f"scores.{key}", f"a whole number 0-{MAX_ITEM_SCORE}")
        if not 0 <= value <= MAX_ITEM_SCORE:
            raise ReviewError(f"scores.{key}", f"0-{MAX_ITEM_SCORE}, not {value}")
        checked[key] = value
    comment = body.get("comment", "")
    if not isinstance(comment, str):
        raise ReviewError("comment", "text")
    if len(comment) > MAX_COMMENT:
        raise ReviewError("comment", f"at most {MAX_COMMENT} characters")
    return checked, comment


def total(form: Sequence[ReviewItem], scores: Mapping[str, int]) -> float:
    """The call's total out of 100: the items' scores weighed by their weights."""
    weights = sum(item.weight for item in form)
    points = sum(item.weight * scores[item.key] / MAX_ITEM_SCORE for item in form)
    return round(points / weights * 100, 1)


def form_json(form: Sequence[ReviewItem]) -> list[dict[str, Any]]:
    return [item.model_dump() for item in form]
