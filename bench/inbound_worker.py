"""The service process of ``inbound_load.py``: the real hotline service, its keys timed.

Runs ``HotlineService`` (AMI, record writer, FastAGI with the real inbound flows, web API)
with every flow wrapped in ``_Timed``, which tells the driver when a prompt that takes
keys starts (so the bench presses while the menu plays, however loaded Asterisk is) and
measures, per key the caller presses, the
time from the key's arrival in the flow (a GET DATA or STREAM FILE answer carrying it) to
the flow's next prompt command, or to its return to the dialplan (the hand-over to a
queue). AGI commands awaited in between (SET VARIABLE and the like) are Asterisk's time:
they are summed apart, and ``added`` is the rest, the service's own share.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, cast

import aiohttp

from hotline import event_loop
from hotline.config import Settings
from hotline.service import HotlineService
from ivr.agi import AgiChannel, FastAgiServer, Flow

__all__ = ["WorkerReport", "service_worker"]

log = logging.getLogger("bench.inbound_worker")


@dataclass
class WorkerReport:
    gaps: list[float] = field(default_factory=list)  # key → next prompt/hand-over, seconds
    added: list[float] = field(default_factory=list)  # the same minus AGI round trips
    cpu: float = 0.0
    peak: int = 0


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Meter:
    def __init__(self, prompts: Any) -> None:
        self.report = WorkerReport()
        self.cpu0 = _own_cpu()
        self.active = 0
        self.prompts = prompts  # pipe end: "linkedid\tprompt" as each starts

    def finish(self) -> WorkerReport:
        self.report.cpu = _own_cpu() - self.cpu0
        return self.report


class _Timed:
    """An AgiChannel whose keys are timed; everything else is passed through."""

    def __init__(self, inner: AgiChannel, meter: _Meter) -> None:
        self._inner, self._meter = inner, meter
        self._key_at: float | None = None
        self._round_trips = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def close(self) -> None:
        if self._key_at is not None:
            self._record()

    def _record(self) -> None:
        assert self._key_at is not None
        gap = time.perf_counter() - self._key_at
        self._meter.report.gaps.append(gap)
        self._meter.report.added.append(gap - self._round_trips)
        self._key_at = None

    def _pressed(self, key: str) -> None:
        if key:
            self._key_at, self._round_trips = time.perf_counter(), 0.0

    async def play(self, prompt: str, escape_digits: str = "") -> str:
        if self._key_at is not None:
            self._record()
        key = await self._inner.play(prompt, escape_digits)
        self._pressed(key)
        return key

    async def read_digits(self, prompt: str, timeout: float, max_digits: int) -> str:  # noqa: ASYNC109
        if self._key_at is not None:
            self._record()
        cue = f"{self._inner.linkedid}\t{prompt}".encode()
        self._meter.prompts.send_bytes(cue)  # the caller's cue
        key = await self._inner.read_digits(prompt, timeout, max_digits)
        self._pressed(key)
        return key

    async def _timed(self, work: Any) -> Any:
        started = time.perf_counter()
        try:
            return await work
        finally:
            if self._key_at is not None:
                self._round_trips += time.perf_counter() - started

    async def set_variable(self, name: str, value: str) -> None:
        await self._timed(self._inner.set_variable(name, value))

    async def set_variables(self, values: Mapping[str, str]) -> None:
        await self._timed(self._inner.set_variables(values))

    async def get_variable(self, name: str) -> str | None:
        return cast(str | None, await self._timed(self._inner.get_variable(name)))


def _wrap(routes: Mapping[str, Flow], meter: _Meter) -> dict[str, Flow]:
    def timed(flow: Flow) -> Flow:
        async def run(call: AgiChannel) -> None:
            channel = _Timed(call, meter)
            meter.active += 1
            meter.report.peak = max(meter.report.peak, meter.active)
            try:
                await flow(cast(AgiChannel, channel))
            finally:
                meter.active -= 1
                channel.close()

        return run

    return {name: timed(flow) for name, flow in routes.items()}


async def _login_all(settings: Settings) -> None:
    """Every agent logs in to its queues through the service's HTTP API."""
    web = settings.web
    headers = {"Authorization": f"Bearer {web.token.get_secret_value()}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        for agent in settings.queues.agents:
            url = f"http://{web.host}:{web.port}/api/v1/agents/{agent.id}/login"
            async with session.post(url, json={}) as response:
                if response.status != 200:
                    raise RuntimeError(
                        f"login {agent.id}: {response.status} {await response.text()}"
                    )


async def _serve(conn: Connection, settings: Settings, prompts: Any) -> None:
    service = HotlineService(settings)
    meter = _Meter(prompts)
    routes: dict[str, Flow] = {}
    for feature in service.features:
        routes.update(feature.agi_routes())
    service.agi = FastAgiServer.from_settings(_wrap(routes, meter), settings.agi)
    await service.start()
    for _ in range(300):
        if service.ami.connected:
            break
        await asyncio.sleep(0.1)
    await _login_all(settings)
    loop = asyncio.get_running_loop()
    conn.send("ready")
    try:
        while (message := await loop.run_in_executor(None, conn.recv)) != "stop":
            if message == "begin":
                meter.report, meter.cpu0 = WorkerReport(), _own_cpu()
                conn.send("ok")
            elif message == "end":
                conn.send(meter.finish())
    finally:
        await service.stop()


def service_worker(
    conn: Connection, settings: Settings, prompts: Any, log_file: str, profile: str | None = None
) -> None:
    logging.basicConfig(
        filename=log_file, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    if profile is None:
        event_loop.run(_serve(conn, settings, prompts), settings.event_loop)
        return
    import cProfile

    cProfile.runctx(
        "event_loop.run(_serve(conn, settings, prompts), settings.event_loop)",
        globals(),
        locals(),
        profile,
    )
