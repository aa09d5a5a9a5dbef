"""Settings of promised callbacks (首问负责制, the ``callbacks`` section).

Callback requests (from the inbound queue and after-hours flows, and promises agents make
through the API) are dialled by the dialer in one system campaign, ``campaign``, created
on first use; an admin may pause it like any other. A request without its own due time
must be called within ``answer_within_minutes`` of when it may first be called; past its
due time it is overdue: logged, listed by the API and counted in the report.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hotline.config_dialer import WEEKDAYS, check_windows

__all__ = ["CallbackSettings"]

_DAY = [("08:00", "21:00")]


class CallbackSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True  # dial callback requests (the dialer must be enabled too)
    # the customer-first campaign; "<campaign>-agent" rings a named agent first
    campaign: str = Field("promised-callbacks", pattern=r"^[\w.-]{1,58}$")
    agi_route: str = Field("callback", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    answer_within_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    queue_priority: int = Field(100, ge=0, le=1000)  # in the queue: ahead of new callers
    campaign_priority: int = Field(50, ge=0, le=100)  # among campaigns: served first
    windows: dict[str, list[tuple[str, str]]] = Field(
        default_factory=lambda: {day: list(_DAY) for day in WEEKDAYS}
    )
    max_attempts: int = Field(3, ge=1, le=20)
    retry_seconds: dict[str, int] = Field(
        default_factory=lambda: {
            "busy": 300,
            "no_answer": 600,
            "congestion": 120,
            "failed": 120,
            "unknown": 600,
            "answered_machine": 900,
        }
    )
    dispatch_seconds: float = Field(2.0, gt=0, le=60)

    _windows = field_validator("windows")(check_windows)
