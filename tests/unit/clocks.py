"""A clock a test sets by hand (``clock.now = …``), for code that takes ``clock`` as a
callable returning an aware datetime."""

from __future__ import annotations

from datetime import datetime

__all__ = ["SetClock"]


class SetClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
