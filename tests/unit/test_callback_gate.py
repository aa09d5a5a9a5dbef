"""A queue callback keeps its caller's place: the gate's rule, Asterisk's rows read into a
view, and the store dispatching by turn (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from dialer.promised.dispatcher import CallbackDispatcher
from dialer.promised.gate import QueueView, may_dial, place_of, view_of
from dialer.promised.store import Lines
from hotline.config_callbacks import CallbackSettings
from ivr.callbacks import CallbackStatus
from tests.unit.test_promised_callbacks import T0, World

S = timedelta(seconds=1)


def view(staffed: int, free: int, *waited: int) -> QueueView:
    """A queue at T0 whose waiting callers joined ``waited`` seconds ago."""
    return QueueView(staffed, free, tuple(sorted(T0 - w * S for w in waited)))


@pytest.mark.parametrize(
    ("place", "queue", "earlier", "dial", "why"),
    [
        (T0 - 60 * S, view(1, 0), 0, True, "nobody waits: the next agent is theirs"),
        (T0 - 60 * S, view(1, 1), 0, True, "an agent is free"),
        (T0 - 60 * S, view(0, 0), 0, False, "nobody logged in (or all paused)"),
        (T0 - 60 * S, view(1, 0, 90), 0, False, "a caller who joined earlier still waits"),
        (T0 - 60 * S, view(1, 0, 30, 20), 0, True, "those waiting came later: they are behind"),
        (T0 - 60 * S, view(2, 2, 90), 0, True, "two free agents for one caller ahead"),
        (T0 - 60 * S, view(2, 1, 90), 0, False, "one free agent: the caller ahead takes it"),
        (T0 - 60 * S, view(1, 0), 1, False, "an earlier callback is open in this queue"),
        (T0 - 60 * S, view(3, 3, 90), 1, True, "free agents for the earlier two and this one"),
    ],
)
def test_the_gate_keeps_the_callers_turn(
    place: datetime, queue: QueueView, earlier: int, dial: bool, why: str
) -> None:
    assert may_dial(place, queue, earlier) is dial, why


def test_the_place_is_the_first_join_else_the_due_time_else_the_request() -> None:
    joined, due, asked = T0 - 90 * S, T0 + 3600 * S, T0
    assert place_of(joined, due, asked) == joined
    assert place_of(None, due, asked) == due
    assert place_of(None, None, asked) == asked


def _member(**fields: str) -> dict[str, str]:
    row = {"Event": "QueueMember", "Queue": "repair", "Status": "1", "Paused": "0"}
    return row | {"InCall": "0", "LastCall": "0"} | fields


def test_a_queue_status_answer_becomes_a_view() -> None:
    ended = str(int(T0.timestamp()) - 5)
    rows: Iterable[dict[str, str]] = [
        {"Event": "QueueParams", "Queue": "repair", "Calls": "2"},
        _member(),  # free
        _member(Status="2", InCall="1"),  # on a call
        _member(Paused="1"),  # paused: not staffed
        _member(Status="5"),  # unavailable: not staffed
        _member(LastCall=ended),  # 5 s after a call, 15 s wrap-up: staffed, not free
        _member(Status="6"),  # ringing: staffed, not free
        _member(Queue="billing"),  # another queue
        {"Event": "QueueEntry", "Queue": "repair", "Position": "1", "Wait": "95"},
        {"Event": "QueueEntry", "Queue": "repair", "Position": "2", "Wait": "12"},
        {"Event": "QueueEntry", "Queue": "billing", "Position": "1", "Wait": "300"},
        {"Event": "QueueEntry", "Queue": "repair", "Wait": "junk\r\n"},  # counted, as now
    ]
    got = view_of(rows, T0, 15, "repair")
    assert (got.staffed, got.free) == (4, 1)
    assert got.joined == (T0 - 95 * S, T0 - 12 * S, T0)


class FixedLines:
    def __init__(self, views: dict[str, QueueView | None]) -> None:
        self.views = views
        self.fallback_queue = "reception"
        self.asked: list[set[str]] = []

    async def read(self, names: Iterable[str]) -> Lines:
        wanted = set(names)
        self.asked.append(wanted)
        return Lines({name: self.views.get(name) for name in wanted}, self.fallback_queue)


async def _status(world: World, request_id: int) -> CallbackStatus:
    found = await world.requests.get(request_id)
    assert found is not None
    return found.status


async def test_callbacks_are_dialled_in_their_turn_not_when_due(engine: AsyncEngine) -> None:
    world = World(engine)
    lines = FixedLines({"repair": view(1, 0, 120)})  # busy agent, a caller waiting 2 min
    world.dispatcher = CallbackDispatcher(
        CallbackSettings(), world.ops, world.store, world.clock, lines=lines
    )
    behind = await world.ask("13900050001", queue="repair", queued_at=T0 - 60 * S)
    ahead = await world.ask("13900050002", queue="repair", queued_at=T0 - 180 * S)
    elsewhere = await world.ask("13900050003", queue="billing", queued_at=T0 - 60 * S)
    named = await world.ask("13900050004", queue="repair", agent="1001")
    nowhere = await world.ask("13900050005")  # no queue: the fallback queue's line
    await world.dispatcher.tick()
    assert lines.asked == [{"repair", "billing", "reception"}]
    assert await _status(world, ahead) is CallbackStatus.DIALLING  # before the waiting caller
    assert await _status(world, behind) is CallbackStatus.PENDING  # after them, and after ahead
    assert await _status(world, elsewhere) is CallbackStatus.PENDING  # billing: not read
    assert await _status(world, nowhere) is CallbackStatus.PENDING
    assert await _status(world, named) is CallbackStatus.DIALLING  # agent-first: no line
    # the waiting caller was served; the earlier callback is still open: behind waits on
    lines.views["repair"] = view(1, 0)
    await world.dispatcher.tick()
    assert await _status(world, behind) is CallbackStatus.PENDING
    # two agents free: enough for the open callback and this one
    lines.views["repair"] = view(2, 2)
    await world.dispatcher.tick()
    assert await _status(world, behind) is CallbackStatus.DIALLING
