"""``hotline-score`` (after the agent hung up) and ``hotline-queue-timeout``, scripted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.errors import AgiHangup
from ivr.flows.queue_timeout import queue_timeout_flow
from ivr.flows.score import score_flow, score_from_key
from ivr.scripted import ScriptedSession, Step, expect
from tests.unit.inbound_fakes import (
    CALLER,
    OPEN_NOW,
    FakeCallbacks,
    Fakes,
    goodbye,
    make_deps,
    play,
)

LINKEDID = "1700000000.7"


def ask_score(key: str) -> Step:
    return expect("read_digits", "hotline/score", 5.0, 1, returns=key)


async def scored(steps: list[Step]) -> ScriptedSession:
    deps, _ = make_deps()
    session = ScriptedSession(steps, script="hotline-score", args=[LINKEDID])
    await score_flow(session, deps)
    session.assert_done()
    return session


@pytest.mark.parametrize(("key", "score"), [("1", 1), ("5", 5), ("9", 9), ("0", 10)])
async def test_one_key_gives_the_score_and_0_means_10(key: str, score: int) -> None:
    session = await scored(
        [
            ask_score(key),
            expect("set_variables", {"HOTLINE_SCORE": str(score), "HOTLINE_FLOW_RESULT": "done"}),
            play("score-thanks"),
        ]
    )
    assert session.variables == {"HOTLINE_SCORE": str(score), "HOTLINE_FLOW_RESULT": "done"}
    assert session.linkedid == LINKEDID


async def test_an_invalid_key_is_asked_again_once() -> None:
    session = await scored(
        [
            ask_score("*"),
            play("invalid-key"),
            ask_score("8"),
            expect("set_variables", {"HOTLINE_SCORE": "8", "HOTLINE_FLOW_RESULT": "done"}),
            play("score-thanks"),
        ]
    )
    assert session.variables["HOTLINE_SCORE"] == "8"


async def test_silence_is_asked_again_without_an_apology() -> None:
    session = await scored(
        [
            ask_score(""),
            ask_score("7"),
            expect("set_variables", {"HOTLINE_SCORE": "7", "HOTLINE_FLOW_RESULT": "done"}),
            play("score-thanks"),
        ]
    )
    assert session.variables["HOTLINE_SCORE"] == "7"


@pytest.mark.parametrize(("first", "second"), [("*", "*"), ("", ""), ("*", ""), ("", "*")])
async def test_two_misses_leave_no_score(first: str, second: str) -> None:
    apology = [play("invalid-key")] if first else []
    session = await scored([ask_score(first), *apology, ask_score(second), *goodbye()])
    assert "HOTLINE_SCORE" not in session.variables


async def test_caller_hanging_up_sets_nothing() -> None:
    deps, _ = make_deps()
    session = ScriptedSession([expect("read_digits", "hotline/score", raises=AgiHangup)])
    with pytest.raises(AgiHangup):
        await score_flow(session, deps)
    assert session.variables == {}


def test_score_from_key() -> None:
    assert [score_from_key(k) for k in "1234567890"] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert score_from_key("*") is None
    assert score_from_key("") is None
    assert score_from_key("10") is None


# --- queue timeout --------------------------------------------------------------------


def offer(key: str) -> Step:
    return expect("read_digits", "hotline/queue-callback-offer", 5.0, 1, returns=key)


def variables(
    queue: str | None,
    category: str | None,
    priority: str | None,
    pos: str | None,
    queued: str | None = None,
) -> list[Step]:
    return [
        expect("get_variable", "HOTLINE_QUEUE", returns=queue),
        expect("get_variable", "HOTLINE_CATEGORY", returns=category),
        expect("get_variable", "HOTLINE_QUEUE_PRIORITY", returns=priority),
        expect("get_variable", "QUEUEPOSITION", returns=pos),
        expect("get_variable", "QUEUED_AT", returns=queued),
    ]


JOINED = str(int(OPEN_NOW.timestamp()) - 95)  # the dialplan's QUEUED_AT: 95 s before
CONFIRMED = [
    expect("set_variable", "HOTLINE_CALLBACK_ID", "42"),
    expect("set_variable", "HOTLINE_DISPOSITION", "callback_requested"),
    play("callback-confirmed"),
    *goodbye(),
]


async def timed_out(
    steps: list[Step], fakes: Fakes | None = None, caller: str = CALLER
) -> tuple[ScriptedSession, Fakes]:
    deps, fakes = make_deps(fakes)
    session = ScriptedSession(steps, script="hotline-queue-timeout", args=[LINKEDID], caller=caller)
    await queue_timeout_flow(session, deps)
    session.assert_done()
    return session, fakes


async def test_1_stores_a_callback_that_keeps_the_callers_place() -> None:
    session, fakes = await timed_out(
        [offer("1"), *variables("repair", "repair", "5", "3", JOINED), *CONFIRMED]
    )
    assert session.variables["HOTLINE_DISPOSITION"] == "callback_requested"
    assert session.variables["HOTLINE_FLOW_RESULT"] == "done"
    [request] = fakes.callbacks.requests
    assert (request.number, request.linkedid, request.queue) == (CALLER, LINKEDID, "repair")
    assert (request.category, request.priority, request.position) == ("repair", 5, 3)
    assert (request.due_at, request.requested_at) == (None, OPEN_NOW)
    assert request.queued_at == OPEN_NOW - timedelta(seconds=95)  # their place in the line


async def test_odd_channel_variables_are_cleaned_before_they_are_stored() -> None:
    _, fakes = await timed_out(
        [offer("1"), *variables("nope", "Bad Category!", None, "0", "1e9"), *CONFIRMED]
    )
    [request] = fakes.callbacks.requests
    assert (request.queue, request.category, request.priority) == ("", "badcategory", 0)
    assert request.position is None  # 0 would mean "served", not a place in the line
    assert request.queued_at is None  # not epoch seconds


@pytest.mark.parametrize(
    "queued", ["", "-5", str(int(OPEN_NOW.timestamp()) + 60), "1700000000", "１７９"]
)
async def test_a_join_time_from_the_future_or_the_past_is_no_place(queued: str) -> None:
    _, fakes = await timed_out(
        [offer("1"), *variables("repair", "repair", "5", "3", queued), *CONFIRMED]
    )
    assert fakes.callbacks.requests[0].queued_at is None


async def test_priority_falls_back_to_the_queues_own() -> None:
    _, fakes = await timed_out(
        [offer("1"), *variables("emergency", "emergency", "", ""), *CONFIRMED]
    )
    assert fakes.callbacks.requests[0].priority == 10


@pytest.mark.parametrize("key", ["", "2", "*"])
async def test_anything_else_keeps_the_caller_waiting(key: str) -> None:
    session, fakes = await timed_out(
        [offer(key), expect("set_variable", "HOTLINE_FLOW_RESULT", "requeue")]
    )
    assert session.variables == {"HOTLINE_FLOW_RESULT": "requeue"}
    assert fakes.callbacks.requests == []


@pytest.mark.parametrize("problem", ["no number", "database"])
async def test_a_callback_that_cannot_be_stored_keeps_the_caller_waiting(problem: str) -> None:
    apology = "callback-unavailable" if problem == "no number" else "callback-failed"
    session, _ = await timed_out(
        [
            offer("1"),
            *variables("repair", "repair", "5", "2"),
            play(apology),
            expect("set_variable", "HOTLINE_FLOW_RESULT", "requeue"),
        ],
        Fakes(callbacks=FakeCallbacks(fail=problem == "database")),
        caller="" if problem == "no number" else CALLER,
    )
    assert "HOTLINE_DISPOSITION" not in session.variables
