"""Customers of the campaign flows, driven by the test: they press keys when questions start.

The service runs in-process with its flows spied (``PromptSpy``); a customer is a carrier-
simulator number (``1390005xxxx``: answers, says hello, stays ``stay`` seconds). When the
question the script names starts on that customer's call, the simulator sends the key on
its side of the call (AMI PlayDTMF → RFC 4733 to the hotline).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from dialer.feature import DialerFeature
from hotline.ami import AmiClient
from hotline.config import Settings
from hotline.sandbox import Sandbox
from hotline.service import HotlineService
from hotline.testcall import carrier_client
from tests.integration.conftest import wait_until
from tests.integration.dialer_support import ALL_DAY
from tests.integration.inbound_support import EventLog, PromptSpy, ServiceFactory, api

__all__ = ["Customers", "Script", "customers_of"]

Script = Sequence[tuple[str, str]]  # (question that started, key the customer presses)


@dataclass
class Customers:
    service: HotlineService
    spy: PromptSpy
    carrier: AmiClient
    channels: EventLog  # the simulator's Newchannel events: one per call that reached it
    sandbox: Sandbox

    @property
    def dialer(self) -> DialerFeature:
        return next(f for f in self.service.features if isinstance(f, DialerFeature))

    async def create(self, name: str, kind: str, **fields: Any) -> int:
        """A campaign open all day, every day."""
        body = {
            "name": name,
            "type": kind,
            "windows": ALL_DAY,
            "skip_holidays": False,
            "ring_timeout": 10,
            "cps": 5,
        } | fields
        status, made = await api(self.service, "POST", "/api/v1/campaigns", body)
        assert status == 201, made
        return int(made["id"])

    async def start(self, name: str) -> None:
        status, body = await api(self.service, "POST", f"/api/v1/campaigns/{name}/start")
        assert status == 200, body

    async def stay(self, number: str, seconds: int = 120) -> None:
        await self.carrier.action(
            "DBPut", Family="customer", Key=f"{number}/stay", Val=str(seconds)
        )

    async def code_of(self, campaign_id: int, number: str, seq: int = 1) -> str:
        """The attempt code of the ``seq``-th call to ``number`` once it is made."""
        repo = self.dialer.repo
        found: list[str] = []

        async def made() -> bool:
            attempts = await repo.attempts_of(campaign_id)
            found[:] = [a["code"] for a in attempts if a["number"] == number and a["seq"] == seq]
            return bool(found)

        deadline = asyncio.get_running_loop().time() + 60
        while not await made():
            assert asyncio.get_running_loop().time() < deadline, f"{number} never dialled"
            await asyncio.sleep(0.2)
        return found[0]

    async def answer(self, campaign_id: int, number: str, script: Script, seq: int = 1) -> str:
        """Press each key when its question starts on this customer's ``seq``-th call."""
        code = await self.code_of(campaign_id, number, seq)

        def reached() -> bool:
            return len(self.channels.named("Newchannel", Exten=number)) >= seq

        await wait_until(reached, 30, f"{number} call {seq} not at the carrier")
        channel = self.channels.named("Newchannel", Exten=number)[seq - 1]["Channel"]
        asked: Counter[str] = Counter()
        for question, key in script:
            asked[question] += 1
            await self.spy.wait_for(question, asked[question], 60, linkedid=code)
            # into the question (the prompt stops at the key); Record: after its beep
            await asyncio.sleep(2.0 if question.startswith("exec:") else 0.8)
            await self.carrier.action("PlayDTMF", Channel=channel, Digit=key, Duration="200")
        return code


async def customers_of(
    make_service: ServiceFactory, settings: Settings, sandbox: Sandbox
) -> AsyncIterator[Customers]:
    """The service with ``settings`` and a carrier client watching customers' calls."""
    service, spy, _ = await make_service(base=settings)
    carrier = carrier_client(settings)
    channels = EventLog()
    carrier.subscribe(
        lambda e: channels(e) if e.get("Context") == "customers" else None, ["Newchannel"]
    )
    await carrier.connect()
    try:
        yield Customers(service, spy, carrier, channels, sandbox)
    finally:
        sandbox.carrier.cli("database deltree customer")
        await carrier.close()
