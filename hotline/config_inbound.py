"""Settings of the inbound IVR: business hours, menu file, scoring, blocklist, callbacks."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["IvrSettings"]


class IvrSettings(BaseModel):
    """The ``ivr`` section."""

    model_config = ConfigDict(frozen=True, extra="forbid")
