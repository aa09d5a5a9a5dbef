"""Queue callbacks keep their turn, on the real sandbox: two callbacks, three waiting callers.

One agent in the repair queue, busy with caller A. B waits; callback X's place is after B;
C and D join after X; callback Y's place is after D. Neither callback is dialled while a
caller who was ahead of it waits; each is dialled once it is at the head of the line, and
then takes the agent before the callers who came after it. The agent is served in the
order of the line: A, B, X, C, D, Y.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import pytest

from hotline.ami import AmiEvent
from hotline.config import Settings
from hotline.service import HotlineService
from hotline.testcall import live_call
from ivr.callbacks import CallbackRepository, CallbackStatus, NewCallback
from tests.integration.inbound_support import EventLog, ServiceFactory, login, set_agent
from tests.integration.test_callback_calls import callback_settings, stay

pytestmark = pytest.mark.asterisk

__all__ = ["callback_settings", "stay"]  # fixtures used here

REPAIR_KEY = "2"
CALLERS = {"A": "13912340031", "B": "13912340032", "C": "13912340033", "D": "13912340034"}
CALLBACKS = {"X": "13900050611", "Y": "13900050612"}
GAP = 2.5  # seconds between places: QueueStatus reports waits in whole seconds


class Line:
    """The test's view of the queue: who the agent took, in order, and the callbacks' state."""

    def __init__(self, service: HotlineService, events: EventLog) -> None:
        self.service, self.events = service, events
        self.requests = CallbackRepository(service.sessions)
        self.ids: dict[str, int] = {}

    def connects(self) -> list[AmiEvent]:
        return self.events.named("AgentConnect", Queue="repair")

    async def taken(self, count: int) -> AmiEvent:
        """The agent's ``count``-th caller (1-based), once connected."""
        deadline = asyncio.get_running_loop().time() + 45
        while len(self.connects()) < count:
            assert asyncio.get_running_loop().time() < deadline, f"no connect #{count}"
            await asyncio.sleep(0.2)
        return self.connects()[count - 1]

    async def release(self, connect: AmiEvent) -> None:
        """The agent hangs up on the caller of ``connect``: free for the next one."""
        await self.service.ami.action("Hangup", Channel=connect["DestChannel"])

    async def callback_join(self) -> AmiEvent:
        """The first caller in the queue who is none of the test's callers: a callback."""
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            joins = self.events.named("QueueCallerJoin", Queue="repair")
            found = [j for j in joins if j.get("CallerIDNum") not in CALLERS.values()]
            if found:
                return found[-1]
            assert asyncio.get_running_loop().time() < deadline, "no callback joined"
            await asyncio.sleep(0.2)

    async def join(self, number: str) -> datetime:
        joined = await self.events.wait("QueueCallerJoin", Queue="repair", CallerIDNum=number)
        return datetime.fromtimestamp(float(joined["Timestamp"]), UTC)

    async def ask(self, name: str, place: datetime) -> None:
        new = NewCallback(
            number=CALLBACKS[name],
            linkedid=f"turns.{name}",
            queue="repair",
            priority=self.service.settings.callbacks.queue_priority,
            queued_at=place,
            requested_at=datetime.now(UTC),
        )
        self.ids[name] = (await self.requests.request(new)).id

    async def status(self, name: str) -> CallbackStatus:
        found = await self.requests.get(self.ids[name])
        assert found is not None
        return found.status

    async def dialled(self, name: str, within: float = 10) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while await self.status(name) is CallbackStatus.PENDING:
            assert asyncio.get_running_loop().time() < deadline, f"callback {name} not dialled"
            await asyncio.sleep(0.2)

    async def stays_pending(self, *names: str, seconds: float = 3.0) -> None:
        """Several dispatch ticks (0.5 s each) pass and none of ``names`` is dialled."""
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            for name in names:
                assert await self.status(name) is CallbackStatus.PENDING, f"{name} dialled"
            await asyncio.sleep(0.25)


async def test_two_callbacks_and_three_waiting_callers_each_keep_their_turn(
    make_service: ServiceFactory, callback_settings: Settings, stay: Callable[[str], None]
) -> None:
    for number in CALLBACKS.values():
        stay(number)
    service, spy, events = await make_service(base=callback_settings)
    await set_agent(callback_settings, "1001", rings=0, talk=300)  # on until released
    await login(service, "1001", "repair")
    line = Line(service, events)
    async with AsyncExitStack() as stack:
        calls = {
            name: await stack.enter_async_context(live_call(callback_settings, number))
            for name, number in CALLERS.items()
        }
        await spy.wait_for("menu-main", count=4)
        await calls["A"].press(REPAIR_KEY)
        first = await line.taken(1)
        await calls["B"].press(REPAIR_KEY)
        b_joined = await line.join(CALLERS["B"])
        await asyncio.sleep(GAP)
        await line.ask("X", datetime.now(UTC))  # after B: B is ahead of it
        await asyncio.sleep(GAP)
        await calls["C"].press(REPAIR_KEY)
        await line.join(CALLERS["C"])
        await calls["D"].press(REPAIR_KEY)
        await line.join(CALLERS["D"])
        await asyncio.sleep(GAP)
        await line.ask("Y", datetime.now(UTC))  # after everyone
        assert b_joined < datetime.now(UTC)
        # the agent is busy and B, ahead of X, waits: neither callback is dialled
        await line.stays_pending("X", "Y")

        await line.release(first)  # the agent takes B, and X is at the head of the line
        assert (await line.taken(2))["CallerIDNum"] == CALLERS["B"]
        await line.dialled("X")
        x_joined = await line.callback_join()
        await line.stays_pending("Y")  # C and D are ahead of Y, and so is X
        await line.release(line.connects()[1])
        x_taken = await line.taken(3)
        assert x_taken["Channel"] == x_joined["Channel"]  # X, before C and D who came later

        await line.release(x_taken)
        assert (await line.taken(4))["CallerIDNum"] == CALLERS["C"]
        await line.stays_pending("Y")  # D still waits, ahead of Y
        await line.release(line.connects()[3])
        assert (await line.taken(5))["CallerIDNum"] == CALLERS["D"]
        await line.dialled("Y", within=30)  # at the head now: dialled while the agent talks to D
        await line.release(line.connects()[4])
        y_taken = await line.taken(6)
        assert y_taken["Channel"] not in {c["Channel"] for c in line.connects()[:5]}
        await line.release(y_taken)
        for call in calls.values():
            await call.hangup()
    taken = [c["CallerIDNum"] for c in line.connects()]
    assert [taken[i] for i in (0, 1, 3, 4)] == [CALLERS[n] for n in "ABCD"]
