"""Builds every part once, with its dependencies passed in, and runs them on one loop.

Start order: database schema → record writer → AMI (events to the recorder, reconciliation
after every login) → FastAGI → web. Stop runs it backwards, and the recorder writes (or
spools) everything it holds before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from dialer.feature import DialerFeature
from dialer.operations import OperationError
from hotline.ami import AmiClient, AmiEvent
from hotline.call_log.follower import CallLogFollower
from hotline.call_log.store import PositionStore
from hotline.call_reports import CallReports
from hotline.config import Settings
from hotline.db import CallRecordRepository, create_engine, session_factory, upgrade
from hotline.errors import AmiError, ConfigError, SandboxError
from hotline.feature import Feature, FeatureContext
from hotline.live import LiveHub, Subscription
from hotline.metrics import Metrics, QueueWaits
from hotline.quality.feature import QualityFeature
from hotline.record_call import RECORD_VARS
from hotline.recorder import CallRecorder
from hotline.recordings.feature import RecordingsFeature
from hotline.records import CallRecordBuilder
from hotline.render import AMI_EVENTS
from hotline.sandbox import Sandbox
from hotline.spool import RecordSpool
from hotline.supervision.feature import SupervisionFeature
from hotline.web.admin_pages import AdminPages
from hotline.web.admin_pages import install_routes as install_admin_pages
from hotline.web.app import WebDeps, create_app
from hotline.web.dashboard import Console, page
from hotline.web.dashboard import install_routes as install_console
from hotline.web.report_api import add_report
from hotline.web.roles import Role
from hotline.web.tokens import Caller, TokenStore
from ivr.agents import AgentsFeature
from ivr.agi import AgiChannel, FastAgiServer, Flow
from ivr.feature import InboundFeature
from ivr.hold.feature import HoldFeature

__all__ = ["HotlineService", "run_service"]


_F = TypeVar("_F")

log = logging.getLogger(__name__)

RECORD_EVENTS = (*(name for name in AMI_EVENTS if name != "FullyBooted"), "VarSet")


class HotlineService:
    """The running hotline: one AMI connection, one FastAGI server, one web app."""

    def __init__(self, settings: Settings, routes: Mapping[str, Flow] | None = None) -> None:
        missing = settings.missing_secrets()
        if missing:
            raise ConfigError([f"{path}: secret not set" for path in missing])
        self.settings = settings
        self.engine = create_engine(settings.database.url, settings.database.echo)
        self.sessions = session_factory(self.engine)
        self.records = CallRecordRepository(self.sessions)
        self.reports = CallReports(self.sessions, settings.inbound.service_level_seconds)
        self.metrics = Metrics()
        self.live = LiveHub()
        self.metrics.queues.changed = self._queue_changed
        self.recorder = CallRecorder(
            CallRecordBuilder(await_restore=True),
            self.records,
            RecordSpool(settings.database.spool_dir),
            metrics=self.metrics,
            live=self.live,
        )
        self.ami = AmiClient.from_settings(settings.asterisk, reconcile_variables=RECORD_VARS)
        self.ami.subscribe(self.metrics.queues.on_event, QueueWaits.EVENTS)
        self.ami.on_connected(self._metrics_reset)
        self.ami.subscribe(self.recorder.on_event, RECORD_EVENTS)
        self.ami.on_connected(self.recorder.on_connected)
        context = FeatureContext(settings, self.ami, self.sessions, self.records, self.live)
        self.features: list[Feature] = [
            InboundFeature(context),
            AgentsFeature(context),
            HoldFeature(context),
            DialerFeature(context),
            RecordingsFeature(context),
            QualityFeature(context),
            SupervisionFeature(context),
        ]
        agi_routes: dict[str, Flow] = {}
        for feature in self.features:
            agi_routes.update(feature.agi_routes())
        self.agi = FastAgiServer.from_settings(
            routes if routes is not None else agi_routes, settings.agi, self._session_ended
        )
        self.web_app = create_app(
            WebDeps(
                settings.web.token.get_secret_value(),
                self.records,
                self,
                TokenStore(self.sessions),
                self.metrics,
                self,
                trusted_proxies=frozenset(settings.web.trusted_proxies),
            ),
            [
                self._add_reports,
                self._add_console,
                *(feature.add_routes for feature in self.features),
            ],
        )
        self.call_log: CallLogFollower | None = None
        self._web_runner: web.AppRunner | None = None
        self._ami_task: asyncio.Task[None] | None = None
        self._started_at = time.monotonic()

    # the live feed (dashboards)

    def stream(self) -> Subscription:
        return self.live.stream()

    def snapshot(self) -> dict[str, Any]:
        queues = self.metrics.queues.snapshot()
        return {
            "calls": self.recorder.live_calls(),
            "queues": [
                {"queue": q, "waiting": n, "longest_wait": round(w, 1)}
                for q, (n, w) in sorted(queues.items())
            ],
            "agents": self._feature(AgentsFeature).live_agents(),
            "campaigns": self._feature(DialerFeature).engine.live_campaigns(),
        }

    def _feature(self, kind: type[_F]) -> _F:
        return next(f for f in self.features if isinstance(f, kind))

    def _queue_changed(self, queue: str, waiting: int, longest: float) -> None:
        self.live.publish("queue", {"queue": queue, "waiting": waiting, "longest_wait": longest})

    def _add_console(self, app: web.Application) -> None:
        dialer = self._feature(DialerFeature)
        tokens = TokenStore(self.sessions)
        admin = self.settings.web.token.get_secret_value()

        async def check(token: str) -> Caller | None:
            if admin and hmac.compare_digest(token.encode(), admin.encode()):
                return Caller("web.token", Role.ADMIN)
            return await tokens.check(token)

        async def campaigns() -> list[dict[str, Any]]:
            rows = []
            for info in await dialer.ops.list():
                progress = info["progress"]
                total = progress["contacts"]["total"]
                done = total - progress["pending"] - progress["dialing"]
                rows.append(
                    {"id": info["id"], "name": info["name"], "type": info["type"]}
                    | {"status": info["status"]}
                    | {"done": done, "total": total}
                )
            return rows

        async def act(name: str, action: str) -> str:
            try:
                await dialer.ops.transition(name, action)
            except OperationError as exc:
                return str(exc)
            return ""

        quality = self._feature(QualityFeature).store.agent_report
        install_console(app, Console(check, self.reports, campaigns, act, quality))
        install_admin_pages(app, AdminPages(self.settings, campaigns, page))

    def _add_reports(self, app: web.Application) -> None:
        add_report(app, "service-level", self.reports.service_level)
        add_report(app, "abandonment", self.reports.abandonment)
        add_report(app, "scores", self.reports.scores)
        add_report(app, "scores-by-category", self.reports.scores_by_category)

    async def _metrics_reset(self, _rows: Sequence[AmiEvent]) -> None:
        self.metrics.queues.forget()  # waits seen before an AMI gap are unknown now

    async def _session_ended(self, call: AgiChannel, outcome: str) -> None:
        log.info("[%s] flow %s ended: %s", call.linkedid, call.script, outcome)

    def health(self) -> dict[str, Any]:
        return {
            "ok": self.ami.connected,
            "ami_connected": self.ami.connected,
            "ami_reconnects": self.ami.reconnects,
            "agi_sessions": self.agi.sessions_open,
            "calls_in_progress": self.recorder.calls_in_progress,
            "records_written": self.recorder.written,
            "records_spooled": self.recorder.spooled,
            "records_held": self.recorder.held,
            "records_lost": self.recorder.lost,
            "uptime_seconds": round(time.monotonic() - self._started_at, 1),
            "call_log": None if self.call_log is None else self.call_log.health(),
        } | {feature.name: feature.health() for feature in self.features}

    async def _connect_ami(self) -> None:
        """Keep trying until the first login works; the client reconnects by itself after."""
        delay = 0.5
        while True:
            try:
                await self.ami.connect()
                log.info(
                    "AMI connected to %s:%s",
                    self.settings.asterisk.ami_host,
                    self.settings.asterisk.ami_port,
                )
                return
            except AmiError as exc:
                log.warning("AMI not reachable yet (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.asterisk.ami_reconnect_max_seconds)

    def _call_log_path(self) -> Path | None:
        """The CEL file to follow: the setting, else the sandbox Asterisk's."""
        if self.settings.call_log.path is not None:
            return self.settings.call_log.path
        try:
            return Sandbox(self.settings).hotline.call_log
        except SandboxError as exc:
            log.warning("call log: no sandbox Asterisk (%s); set call_log.path", exc)
            return None

    async def _start_call_log(self) -> None:
        """Follow Asterisk's call log: records of calls the service did not see."""
        path = self._call_log_path() if self.settings.call_log.enabled else None
        if path is None:
            log.warning("call log not followed: calls while the service is down get no record")
            return
        self.call_log = CallLogFollower(
            self.settings.call_log,
            path,
            PositionStore(self.sessions),
            self.records,
            self.recorder,
            lambda: self.ami.connected and self.recorder.reconciled,
        )
        await self.call_log.start()

    async def start(self) -> None:
        await upgrade(self.settings.database.url)
        await self.recorder.start()
        await self._start_call_log()
        self._ami_task = asyncio.create_task(self._connect_ami(), name="ami-first-connect")
        for feature in self.features:
            await feature.start()
        await self.agi.start()
        self._web_runner = web.AppRunner(self.web_app, access_log=None)
        await self._web_runner.setup()
        site = web.TCPSite(self._web_runner, self.settings.web.host, self.settings.web.port)
        await site.start()
        log.info(
            "hotline service up: FastAGI %s:%s, web http://%s:%s",
            self.settings.agi.host,
            self.agi.port,
            self.settings.web.host,
            self.settings.web.port,
        )

    async def stop(self) -> None:
        if self._web_runner is not None:
            await self._web_runner.cleanup()
        await self.agi.stop()
        for feature in reversed(self.features):
            await feature.stop()
        if self._ami_task is not None:
            self._ami_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ami_task
        await self.ami.close()
        if self.call_log is not None:
            await self.call_log.stop()
        await self.recorder.stop()
        await self.engine.dispose()
        log.info("hotline service stopped")


async def run_service(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set), then shut down gracefully."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    service = HotlineService(settings)
    try:
        await service.start()
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await service.stop()
