"""Fixtures for inbound calls on the real sandbox: agents, the service, prompt timing.

The inbound tests need agent endpoints in the rendered configuration, so they run their
own sandbox instance (``inbound-<pid>``, own ports and RTP block) beside the foundation
tests' one; its settings add two agents (1001, 1002), no wrap-up time and short waits.

``PromptSpy`` wraps the service's FastAGI flows and records each prompt as it starts, so
a test presses a key when the menu starts rather than after a guessed delay (prompt
lengths depend on the synthesised audio). Keys go out from the simulator's caller
channel as RFC 4733 events (``hotline.testcall.live_call``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hotline.ami import AmiClient, AmiEvent
from hotline.callrecord import CallRecord
from hotline.config import Settings
from hotline.errors import HotlineError
from hotline.sandbox import Sandbox
from hotline.service import HotlineService
from hotline.testcall import carrier_client, wait_for_record
from ivr.agents import AgentsFeature
from ivr.agi import AgiChannel, FastAgiServer, Flow
from ivr.courtesy import ENDINGS, GREETINGS, WISHES
from tests.integration.conftest import (
    active_channels,
    asterisk_state,
    integration_settings,
    keep_logs,
    wait_until,
)
from tests.support import missing

__all__ = [
    "AGENTS",
    "EventLog",
    "PromptSpy",
    "ServiceFactory",
    "agents_feature",
    "api",
    "api_at",
    "carrier_events",
    "inbound_sandbox",
    "inbound_settings",
    "login",
    "make_service",
    "record_of",
    "set_agent",
]

AGENTS = ("1001", "1002")
OVERFLOW_AFTER = 30
ON_CALL = ("13900020001", "13900000001")
PROMPT_WAIT = 30.0


def _settings(var_dir: Path) -> Settings:
    queue = {"wrapup_seconds": 0, "agent_ring_seconds": 10, "retry_seconds": 1}
    return integration_settings(
        var_dir,
        f"sqlite+aiosqlite:///{var_dir / 'hotline.db'}",
        instance="inbound",
        rtp_offset=2000,
        # open unless a test says otherwise: the tests run at any hour
        ivr={
            "digit_timeout_seconds": 3.0,
            "hours": {"force": "open"},
            # past the longest emergency wait of the other tests (18 s); the first number
            # never answers, the second after one ring (carrier-customers.conf)
            "emergency_overflow": {
                "after_seconds": OVERFLOW_AFTER,
                "numbers": list(ON_CALL),
                "ring_seconds": 8,
            },
        },
        # short hold limits (the dialplan's own deadline: 12 + 5 s)
        hold={
            "consent": "announce",  # the tests of ask set it themselves
            "reassure_seconds": 5,
            "soft_seconds": 6,
            "hard_seconds": 12,
            "fallback_grace_seconds": 5,
        },
        # a supervisor's phone for live supervision (the simulator's supervisor-2001)
        supervision={"supervisors": [{"id": "2001", "name": "王班长"}]},
        queues={
            "queues": [
                {"name": "emergency", "priority": 10, **queue, "callback_after_seconds": 0},
                # linear: agents are rung in login order (the pass-over test relies on it)
                {"name": "repair", "priority": 5, "strategy": "linear", **queue},
                {"name": "billing", "priority": 3, **queue},
                {"name": "appointments", "priority": 3, **queue},
                {"name": "complaints", "priority": 3, **queue},
                # the callback offer after the shortest wait allowed, for the timeout test
                {"name": "reception", "priority": 1, **queue, "callback_after_seconds": 10},
            ],
            "agents": [
                {"id": "1001", "name": "张三", "queues": ["repair", "reception"]},
                {"id": "1002", "name": "李四", "queues": ["emergency"]},
            ],
        },
    )


@pytest.fixture(scope="session")
def inbound_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return _settings(tmp_path_factory.mktemp("inbound"))


@pytest.fixture(scope="session")
def inbound_sandbox(inbound_settings: Settings) -> Iterator[Sandbox]:
    """Both Asterisk instances with the agents' endpoints, started once for the session."""
    if os.geteuid() != 0:
        missing("the Asterisk sandbox needs root (chroot)")
    box = Sandbox(inbound_settings)
    try:
        box.install()
        box.build_prompts()
        box.start()
    except HotlineError as exc:
        missing(f"the Asterisk sandbox is not available: {exc}")
    yield box
    box.stop()
    keep_logs(box)
    for instance in box.instances():
        shutil.rmtree(instance.base, ignore_errors=True)
    with contextlib.suppress(OSError):  # the instance folder, now empty
        box.hotline.base.parent.rmdir()


@pytest.fixture
def inbound_asterisk(inbound_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox, checked to be idle after the test (no channels left on either side)."""
    yield inbound_sandbox
    deadline = time.monotonic() + 15
    counts = active_channels(inbound_sandbox)
    while any(counts.values()) and time.monotonic() < deadline:
        time.sleep(0.25)
        counts = active_channels(inbound_sandbox)
    for agent in AGENTS:  # persistentmembers: logins would outlive the test
        for queue in inbound_sandbox.settings.queues.names():
            inbound_sandbox.hotline.cli(f"queue remove member PJSIP/agent-{agent} from {queue}")
    if any(counts.values()):
        for instance in inbound_sandbox.instances():
            instance.cli("channel request hangup all")
        pytest.fail(f"channels left after the test: {counts}")


@dataclass
class PromptSpy:
    """Records every prompt a flow starts (``play``/``read_digits``), per call."""

    started: list[tuple[str, str, float]] = field(default_factory=list)  # linkedid, prompt, t
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def wrap(self, routes: Mapping[str, Flow]) -> dict[str, Flow]:
        def spied(flow: Flow) -> Flow:
            async def run(call: AgiChannel) -> None:
                await flow(_SpiedChannel(call, self))

            return run

        return {name: spied(flow) for name, flow in routes.items()}

    def note(self, linkedid: str, prompt: str) -> None:
        self.started.append((linkedid, prompt, time.monotonic()))
        self.changed.set()

    def prompts(self, linkedid: str | None = None) -> list[str]:
        return [
            prompt.removeprefix("hotline/")
            for call, prompt, _ in self.started
            if linkedid is None or call == linkedid
        ]

    def said(self, linkedid: str | None = None) -> list[str]:
        """``prompts`` by what they say: any greeting is ``welcome``, an ending with a
        weekend or holiday wish its plain name (``ivr.courtesy`` picks them by the clock;
        its unit tests check which, here the clock is the real one)."""
        return [said_as(prompt) for prompt in self.prompts(linkedid)]

    async def wait_for(
        self,
        prompt: str,
        count: int = 1,
        within: float = PROMPT_WAIT,
        linkedid: str | None = None,
    ) -> None:
        """Until ``prompt`` (without ``hotline/``, as ``said``) has started ``count`` times."""
        deadline = asyncio.get_running_loop().time() + within
        while self.said(linkedid).count(prompt) < count:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(
                    f"prompt {prompt!r} x{count} not started; got {self.prompts()}"
                )
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                continue


def said_as(prompt: str) -> str:
    """A prompt's plain name: ``welcome-evening`` is ``welcome``, ``goodbye-weekend`` goodbye."""
    if prompt in GREETINGS:
        return "welcome"
    for wish in WISHES[1:]:
        if prompt.endswith(wish) and prompt.removesuffix(wish) in ENDINGS:
            return prompt.removesuffix(wish)
    return prompt


class _SpiedChannel:
    """An AgiChannel that tells the spy when a prompt starts; everything else passes on."""

    def __init__(self, inner: AgiChannel, spy: PromptSpy) -> None:
        self._inner, self._spy = inner, spy

    @property
    def headers(self) -> Mapping[str, str]:
        return self._inner.headers

    @property
    def script(self) -> str:
        return self._inner.script

    @property
    def args(self) -> tuple[str, ...]:
        return self._inner.args

    @property
    def linkedid(self) -> str:
        return self._inner.linkedid

    @property
    def uniqueid(self) -> str:
        return self._inner.uniqueid

    @property
    def caller(self) -> str:
        return self._inner.caller

    async def answer(self) -> None:
        await self._inner.answer()

    async def play(self, prompt: str, escape_digits: str = "") -> str:
        self._spy.note(self.linkedid, prompt)
        return await self._inner.play(prompt, escape_digits)

    async def read_digits(self, prompt: str, timeout: float, max_digits: int) -> str:  # noqa: ASYNC109
        self._spy.note(self.linkedid, prompt)
        return await self._inner.read_digits(prompt, timeout, max_digits)

    async def say_digits(self, digits: str, escape_digits: str = "") -> str:
        return await self._inner.say_digits(digits, escape_digits)

    async def say_number(self, n: int, escape_digits: str = "") -> str:
        return await self._inner.say_number(n, escape_digits)

    async def get_variable(self, name: str) -> str | None:
        return await self._inner.get_variable(name)

    async def set_variable(self, name: str, value: str) -> None:
        await self._inner.set_variable(name, value)

    async def set_variables(self, values: Mapping[str, str]) -> None:
        await self._inner.set_variables(values)

    async def verbose(self, msg: str) -> None:
        await self._inner.verbose(msg)

    async def exec(self, app: str, *args: str, command_timeout: float | None = None) -> int:
        self._spy.note(self.linkedid, f"exec:{app}")
        return await self._inner.exec(app, *args, command_timeout=command_timeout)

    async def hangup(self) -> None:
        await self._inner.hangup()


@dataclass
class EventLog:
    """AMI events of one client, kept for assertions and waited on by name."""

    events: list[AmiEvent] = field(default_factory=list)

    def __call__(self, event: AmiEvent) -> None:
        self.events.append(event)

    def named(self, name: str, **headers: str) -> list[AmiEvent]:
        return [
            e
            for e in self.events
            if e.name == name and all(e.get(k) == v for k, v in headers.items())
        ]

    async def wait(self, name: str, within: float = 30.0, **headers: str) -> AmiEvent:
        await wait_until(lambda: bool(self.named(name, **headers)), within, f"no {name} {headers}")
        return self.named(name, **headers)[0]


ServiceFactory = Callable[..., Awaitable[tuple[HotlineService, PromptSpy, EventLog]]]


@pytest.fixture
async def make_service(
    inbound_asterisk: Sandbox, inbound_settings: Settings
) -> AsyncIterator[ServiceFactory]:
    """Start the service with optional ``ivr`` (and ``hold``) changes; its flows spied, its
    events logged."""
    started: list[HotlineService] = []

    async def start(
        hold: dict[str, Any] | None = None, base: Settings | None = None, **ivr: Any
    ) -> tuple[HotlineService, PromptSpy, EventLog]:
        settings = base or inbound_settings
        if ivr:
            changed = settings.ivr.model_validate(settings.ivr.model_dump() | ivr)
            settings = settings.model_copy(update={"ivr": changed})
        if hold:  # the service's side only: the rendered dialplan keeps the session's
            changed_hold = settings.hold.model_validate(settings.hold.model_dump() | hold)
            settings = settings.model_copy(update={"hold": changed_hold})
        service = HotlineService(settings)
        spy, events = PromptSpy(), EventLog()
        routes: dict[str, Flow] = {}
        for feature in service.features:
            routes.update(feature.agi_routes())
        service.agi = FastAgiServer.from_settings(spy.wrap(routes), settings.agi)
        service.ami.subscribe(events)
        await service.start()
        started.append(service)
        await wait_until(
            lambda: service.ami.connected,
            10,
            lambda: f"AMI did not connect; {asterisk_state(inbound_asterisk)}",
        )
        await wait_until(lambda: agents_feature(service).snapshots > 0, 10, "no agent snapshot")
        return service, spy, events

    yield start
    for service in started:
        await service.stop()


def agents_feature(service: HotlineService) -> AgentsFeature:
    return next(f for f in service.features if isinstance(f, AgentsFeature))


async def set_agent(
    settings: Settings, agent: str, *, rings: int, talk: float, tone: int = 0
) -> None:
    """The simulator's phone of ``agent``: answer after ``rings`` rings (-1: never), talk
    (playing a ``tone`` of that many Hz, 0: silent)."""
    carrier = carrier_client(settings)
    await carrier.connect()
    try:
        await carrier.action("DBPut", Family="agent", Key=f"{agent}/rings", Val=str(rings))
        await carrier.action("DBPut", Family="agent", Key=f"{agent}/talk", Val=f"{talk:g}")
        await carrier.action("DBPut", Family="agent", Key=f"{agent}/tone", Val=str(tone))
    finally:
        await carrier.close()


async def carrier_events(settings: Settings) -> tuple[AmiClient, EventLog]:
    """A connected carrier AMI client logging its user events (the agent phones' reports)."""
    carrier = carrier_client(settings)
    log = EventLog()
    carrier.subscribe(log, ["UserEvent"])
    await carrier.connect()
    return carrier, log


async def record_of(service: HotlineService, sip_call_id: str) -> CallRecord:
    return await wait_for_record(service.records, sip_call_id, within=20)


async def api(service: HotlineService, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request to the running service's HTTP API, with its token."""
    return await api_at(service.settings, method, path, body)


async def api_at(settings: Settings, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request to the HTTP API of a service run with ``settings`` (a process, say)."""
    web = settings.web
    headers = {"Authorization": f"Bearer {web.token.get_secret_value()}"}
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, f"http://{web.host}:{web.port}{path}", json=body, headers=headers
        ) as response,
    ):
        return response.status, await response.json()


async def login(service: HotlineService, agent: str, *queues: str) -> None:
    """Log the agent in through the API and wait until the tracker has seen it."""
    status, body = await api(
        service, "POST", f"/api/v1/agents/{agent}/login", {"queues": list(queues)}
    )
    assert status == 200, body
    tracker = agents_feature(service).tracker

    def joined() -> bool:
        state = tracker.get(agent)
        return state is not None and set(queues) <= set(state.memberships)

    await wait_until(joined, 5, f"agent {agent} not seen in {queues}")
