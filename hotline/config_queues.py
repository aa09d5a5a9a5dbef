"""Settings of the agent queues and the agents (PJSIP endpoints) that serve them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["QueuesSettings"]


class QueuesSettings(BaseModel):
    """The ``queues`` section."""

    model_config = ConfigDict(frozen=True, extra="forbid")
