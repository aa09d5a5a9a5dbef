"""Pacing: token buckets for calls per second (per trunk and per campaign).

A bucket fills at ``rate`` tokens a second up to a small burst and each origination takes
one. The burst is kept short (a fifth of a second of calls by default, at least one call)
so the carrier sees an even stream, not a second's worth of INVITEs at once. The capacity
is one call more than the burst: a bucket that is full exactly when a tick comes would
otherwise spill what accrues until the next tick, and the achieved rate would fall short
(at 5 cps with 50 ms ticks, by a fifth). The burst must also cover one engine tick.
Time is passed in (seconds, any monotonic origin), so tests drive it with a fake clock.
"""

from __future__ import annotations

__all__ = ["TokenBucket"]


class TokenBucket:
    """``rate`` tokens per second, at most ``capacity`` saved up."""

    def __init__(self, rate: float, now: float, burst_seconds: float = 0.2) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = 1.0 + rate * burst_seconds
        self._tokens = 1.0  # start with one call, not a burst
        self._at = now

    def _refill(self, now: float) -> None:
        if now > self._at:
            self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
            self._at = now

    def available(self, now: float) -> int:
        """Whole calls that may start now."""
        self._refill(now)
        return int(self._tokens + 1e-9)

    def take(self, now: float, count: int = 1) -> None:
        self._refill(now)
        if count > self._tokens + 1e-9:
            raise ValueError(f"taking {count} of {self._tokens:.2f} tokens")
        self._tokens -= count

    def refund(self, count: int) -> None:
        """Give back tokens a claim did not use (fewer contacts were due than granted)."""
        self._tokens = min(self.capacity, self._tokens + count)

    def set_rate(self, rate: float, burst_seconds: float = 0.2) -> None:
        """An operator changed the campaign's CPS: keep the saved tokens, new limits."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = 1.0 + rate * burst_seconds
        self._tokens = min(self._tokens, self.capacity)
