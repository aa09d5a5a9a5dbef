"""The ``recording`` section: which calls are recorded, where, for how long."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["RecordingSettings"]

# Written into the dialplan (MONITOR_FILENAME): no space, quote, comma or ${
_SAFE_FOLDER = re.compile(r"/[A-Za-z0-9/._-]{0,200}")


class RecordingSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Record agent calls (both parties, from the agent's answer) and the campaigns'
    #: calls. A queue's ``record`` and a campaign's ``record`` override this.
    enabled: bool = True
    #: Where Asterisk writes the recordings, as Asterisk sees the path. Empty: the sandbox
    #: Asterisk's ``recordings`` folder. On an Asterisk of your own, e.g.
    #: /var/spool/asterisk/hotline-recordings (writable by Asterisk's user).
    folder: Path | None = None
    #: The same folder as the service sees it, when that differs (a chroot, a mount).
    read_folder: Path | None = None
    #: Recordings older than this many days are deleted (0: kept for ever).
    retention_days: int = Field(90, ge=0, le=3660)
    #: How often the retention cleanup runs.
    cleanup_every_seconds: float = Field(3600.0, ge=10, le=86400)
    #: Play 您的通话可能会被录音 before a recorded call reaches an agent (and at the start
    #: of a recorded campaign call).
    announce: bool = False
    #: A finished call's recording is looked at this long after the call's end (Asterisk
    #: closes the file when the channel is gone).
    check_after_seconds: float = Field(3.0, ge=0.5, le=600)
    #: How often finished calls are looked for.
    check_every_seconds: float = Field(5.0, ge=0.5, le=600)

    @field_validator("folder", "read_folder")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_absolute():
            raise ValueError("an absolute path")
        if value is not None and not _SAFE_FOLDER.fullmatch(str(value)):
            raise ValueError("letters, digits and / . _ - only (it is written into the dialplan)")
        return value
