"""Recordings as a service feature: the after-call look, the retention cleanup, playback.

The folder is the one the service reads (``recording.read_folder``, else
``recording.folder``, else the sandbox Asterisk's); Asterisk writes into it under the name
the dialplan gives (``hotline.render``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from hotline.config import Settings
from hotline.errors import SandboxError
from hotline.feature import FeatureContext
from hotline.periodic import Periodic
from hotline.recordings.api import install_routes
from hotline.recordings.store import RecordingStore
from hotline.recordings.sweeper import RecordingSweeper
from hotline.render import RECORDINGS_SUBFOLDER
from hotline.sandbox import Sandbox
from ivr.agi import Flow

__all__ = ["RecordingsFeature", "service_folder"]

log = logging.getLogger(__name__)


def service_folder(settings: Settings) -> Path | None:
    """Where the service finds the recordings; None without a setting or a sandbox."""
    recording = settings.recording
    if recording.read_folder is not None:
        return recording.read_folder
    if recording.folder is not None:
        return recording.folder
    try:
        return Sandbox(settings).hotline.base / RECORDINGS_SUBFOLDER
    except SandboxError as exc:
        log.warning("recordings: no sandbox Asterisk (%s); set recording.folder", exc)
        return None


class RecordingsFeature:
    name = "recordings"

    def __init__(self, context: FeatureContext) -> None:
        self._context = context
        self.store = RecordingStore(context.sessions)
        folder = service_folder(context.settings)
        self.sweeper = (
            None
            if folder is None
            else RecordingSweeper(context.settings.recording, folder, self.store)
        )
        self._passes: list[Periodic] = []
        if self.sweeper is not None:
            settings = context.settings.recording
            self._passes = [
                Periodic("recordings-check", settings.check_every_seconds, self._check, log),
                Periodic("recordings-cleanup", settings.cleanup_every_seconds, self._cleanup, log),
            ]

    async def _check(self) -> None:
        assert self.sweeper is not None
        await self.sweeper.check()

    async def _cleanup(self) -> None:
        assert self.sweeper is not None
        await self.sweeper.cleanup()

    def agi_routes(self) -> dict[str, Flow]:
        return {}

    def add_routes(self, app: web.Application) -> None:
        if self.sweeper is not None:
            install_routes(app, self.store, self.sweeper.folder)

    async def start(self) -> None:
        for job in self._passes:
            await job.start()

    async def stop(self) -> None:
        for job in reversed(self._passes):
            await job.stop()

    def health(self) -> dict[str, Any]:
        if self.sweeper is None:
            return {"folder": None}
        return self.sweeper.health()
