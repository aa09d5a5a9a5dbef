"""Settings of the outbound dialer: trunk, pacing, windows, retries, allow-list, DNC."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["DialerSettings"]


class DialerSettings(BaseModel):
    """The ``dialer`` section."""

    model_config = ConfigDict(frozen=True, extra="forbid")
