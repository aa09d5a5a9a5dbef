"""The outbound dialer as a service feature: campaigns, pacing, origination.

The service builds this once with the shared parts (settings, AMI client, database
sessions); the engine runs only when ``dialer.enabled`` is true, the API always. The
campaign flows (the callback survey) answer on FastAGI whenever the service runs.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dialer.amd_report import AmdReport
from dialer.api import install_routes
from dialer.apology.wiring import Apology
from dialer.engine import DialerEngine
from dialer.operations import Operations, flow_routes
from dialer.promised.wiring import Promised
from dialer.repository import DialerRepository
from dialer.survey.api import install_routes as install_survey_routes
from dialer.survey.wiring import Survey
from hotline.feature import FeatureContext
from hotline.record_fields import utc_now
from hotline.web.report_api import add_report
from ivr.agi import Flow

__all__ = ["DialerFeature"]


class DialerFeature:
    name = "dialer"

    def __init__(self, context: FeatureContext) -> None:
        self._context = context
        settings = context.settings.dialer
        self.repo = DialerRepository(context.sessions)
        self.ops = Operations(settings, self.repo, flow_routes(context.settings))
        self.engine = DialerEngine(settings, context.ami, self.repo, live=context.live)
        self.survey = Survey(context.settings, self.ops, context.sessions, utc_now)
        self.promised = Promised(context.settings, self.ops, context.sessions, context.ami)
        self.apology = Apology(context.settings, self.ops, context.sessions)

    @property
    def _dials_callbacks(self) -> bool:
        settings = self._context.settings
        return settings.dialer.enabled and settings.callbacks.enabled

    def agi_routes(self) -> dict[str, Flow]:
        return self.survey.agi_routes() | self.promised.agi_routes() | self.apology.agi_routes()

    def add_routes(self, app: web.Application) -> None:
        install_routes(app, self.ops)
        install_survey_routes(app, self.survey.ops)
        self.promised.add_routes(app)
        self.apology.add_routes(app)
        add_report(app, "survey", self.survey.store.score_report)
        add_report(app, "apologies", self.apology.store.report)
        add_report(app, "callbacks", self.promised.store.report)
        add_report(app, "amd", AmdReport(self._context.sessions).rows)

    async def start(self) -> None:
        if self._context.settings.dialer.enabled:
            await self.engine.start()
            await self.apology.worker.start()
        if self._dials_callbacks:
            await self.promised.dispatcher.start()

    async def stop(self) -> None:
        if self._dials_callbacks:
            await self.promised.dispatcher.stop()
        if self._context.settings.dialer.enabled:
            await self.apology.worker.stop()
            await self.engine.stop()

    def health(self) -> dict[str, Any]:
        if not self._context.settings.dialer.enabled:
            return {"enabled": False}
        callbacks = {
            "callbacks_dispatched": self.promised.dispatcher.dispatched,
            "apology_sms_sent": self.apology.worker.sent,
        }
        return {"enabled": True, **self.engine.health(), **callbacks}
