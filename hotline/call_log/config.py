"""The ``call_log`` section: where Asterisk's call log is and how the service follows it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CallLogSettings"]


class CallLogSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    #: The file cel_custom writes (asterisk-conf/cel_custom.conf). Empty: the sandbox's.
    #: On an Asterisk of your own: /var/log/asterisk/cel-custom/hotline-cel.jsonl
    path: Path | None = None
    #: How often the log is read while the service runs (it is also read at start).
    poll_seconds: float = Field(2.0, gt=0, le=300)
    #: After a call's last event in the log, how long the live writer gets to finish it
    #: before the log's view is compared with the database.
    settle_seconds: float = Field(3.0, ge=0, le=300)
    #: A call with no LINKEDID_END (Asterisk stopped mid-call) that is not live and quiet
    #: this long is settled with the end it has.
    idle_seconds: float = Field(120.0, ge=5, le=86400)
    #: Where the first start (no stored position) begins: the log's beginning, rebuilding
    #: what Asterisk logged before (no older than ``backfill_hours``), or its end, for a new
    #: database beside an Asterisk with a history of its own.
    first_start: Literal["beginning", "end"] = "beginning"
    #: Calls older than this are never rebuilt from the log.
    backfill_hours: float = Field(168.0, ge=0, le=24 * 366)
    #: The service renames the log away at this size once everything in it is accounted
    #: for (0: never; rotate it with logrotate, without copytruncate), and keeps this many
    #: rotated files.
    rotate_bytes: int = Field(64 * 1024 * 1024, ge=0)
    keep_files: int = Field(14, ge=1, le=1000)
