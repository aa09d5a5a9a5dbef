"""Settings of hold and resume (the ``hold`` section): consent, the agent's key, the limits.

Defaults follow the service standard: ask before the caller waits (``announce``: the caller
hears the request, then holds; ``ask``: the caller presses 1 to accept), a reassurance every
30 s, the agent alerted at 60 s and the caller taken back without them at 180 s. The
dialplan keeps its own deadline, ``hard_seconds + fallback_grace_seconds``: past it a held
caller goes back to the queue even when the service is gone.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["HoldSettings"]


class HoldSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: ``ask``: the caller is asked and held only after pressing 1 (the standard: mute only
    #: after the customer agrees); ``announce``: told, then held.
    consent: Literal["announce", "ask"] = "ask"
    # the agent's keypad code during a call (features.conf applicationmap); again to resume
    feature_code: str = Field("*1", pattern=r"^[0-9*#]{1,4}$")
    reassure_seconds: int = Field(30, ge=5, le=600)
    soft_seconds: int = Field(60, ge=1, le=3600)
    hard_seconds: int = Field(180, ge=1, le=3600)
    fallback_grace_seconds: int = Field(15, ge=5, le=600)
    ask_timeout_seconds: int = Field(5, ge=1, le=30)  # consent ``ask``: wait for the 1
    # the priority of a caller put back in the queue (app_queue QUEUE_PRIO; highest first)
    requeue_priority: int = Field(100, ge=0, le=1000)

    @model_validator(mode="after")
    def _limits(self) -> HoldSettings:
        if self.soft_seconds > self.hard_seconds:
            raise ValueError("soft_seconds must not be greater than hard_seconds")
        if self.feature_code.isdigit():
            raise ValueError(
                "feature_code must contain * or # (plain digits are the caller's menu keys)"
            )
        return self

    @property
    def dialplan_deadline_seconds(self) -> int:
        """How long the dialplan keeps a caller held before it requeues them by itself."""
        return self.hard_seconds + self.fallback_grace_seconds
