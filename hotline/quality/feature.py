"""Quality review as a service feature: its API and console pages (no background work)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hotline.feature import FeatureContext
from hotline.quality.api import install_routes
from hotline.quality.pages import QualityPages
from hotline.quality.store import QaStore
from hotline.recordings.store import RecordingStore
from ivr.agi import Flow

__all__ = ["QualityFeature"]


class QualityFeature:
    name = "quality"

    def __init__(self, context: FeatureContext) -> None:
        self._settings = context.settings.quality
        self.store = QaStore(context.sessions, self._settings.timezone)
        self.pages = QualityPages(
            self._settings,
            self.store,
            context.records,
            RecordingStore(context.sessions),
            context.settings.supervision.supervisors,
        )

    def agi_routes(self) -> dict[str, Flow]:
        return {}

    def add_routes(self, app: web.Application) -> None:
        install_routes(app, self.store, self._settings)
        self.pages.install(app)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {"form_items": len(self._settings.form)}
