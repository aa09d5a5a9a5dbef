"""The toll-fraud guard: the last word on what may be dialled.

A number must fully match one of the configured patterns (ASCII digits only: ``\\d`` is
``[0-9]`` here). It runs at import and again right before each Originate, so a row that
reached the table another way (an edited database, a changed allow-list) is still never
dialled. Normalising numbers is ``hotline.phone``'s (``normalize`` is its ``dialable``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hotline.phone import dialable as normalize

__all__ = ["NumberGuard", "normalize"]


class NumberGuard:
    """Only numbers fully matching an allowed pattern are ever dialled."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self._patterns = tuple(re.compile(pattern, re.ASCII) for pattern in patterns)

    def allowed(self, number: str) -> bool:
        return any(pattern.fullmatch(number) for pattern in self._patterns)
