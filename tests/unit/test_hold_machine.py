"""The hold rules of one call, from event tables: effects out, segments recorded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.hold.machine import (
    Effect,
    HoldCall,
    HoldLimits,
    HoldOutcome,
    HoldPhase,
    HoldTrigger,
)

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
API, KEYPAD, PHONE = HoldTrigger.API, HoldTrigger.FEATURE_CODE, HoldTrigger.PHONE


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def play(call: HoldCall, steps: Sequence[tuple[float, str]]) -> list[list[Effect]]:
    """Each step: (seconds, event) with event one of request:<trigger>, yes, no, resume,
    tick, agent_gone, caller_gone."""
    out: list[list[Effect]] = []
    for seconds, name in steps:
        when = at(seconds)
        if name.startswith("request:"):
            out.append(call.request(when, "1001", HoldTrigger(name.split(":", 1)[1])))
        elif name in ("yes", "no"):
            out.append(call.consent(when, name == "yes"))
        elif name == "resume":
            out.append(call.resume(when))
        elif name == "tick":
            out.append(call.tick(when))
        elif name == "agent_gone":
            out.append(call.agent_hung_up(when))
        elif name == "caller_gone":
            out.append(call.caller_hung_up(when))
        else:
            raise ValueError(name)
    return out


def test_announce_hold_then_resume() -> None:
    call = HoldCall()
    effects = play(call, [(0, "request:api"), (10, "tick"), (25, "resume")])
    assert effects == [["announce_hold", "move_to_hold"], [], ["rejoin"]]
    [segment] = call.segments
    assert (segment.seconds, segment.outcome, segment.trigger) == (25, HoldOutcome.RESUMED, API)
    assert segment.started_by == "1001" and not segment.alerted
    assert call.phase is HoldPhase.CONNECTED and call.hold_seconds(at(99)) == 25


def test_consent_ask_refused_keeps_the_caller_connected() -> None:
    call = HoldCall(HoldLimits(consent="ask"))
    effects = play(call, [(0, "request:feature_code"), (4, "no"), (9, "resume")])
    assert effects == [["ask_consent"], ["tone_to_agent"], []]
    assert call.segments == [] and call.phase is HoldPhase.CONNECTED


def test_consent_ask_accepted_starts_the_hold_at_the_answer() -> None:
    call = HoldCall(HoldLimits(consent="ask"))
    effects = play(call, [(0, "request:feature_code"), (4, "yes"), (20, "resume")])
    assert effects == [["ask_consent"], ["move_to_hold"], ["rejoin"]]
    assert call.segments[0].started_at == at(4) and call.segments[0].trigger is KEYPAD


@pytest.mark.parametrize(
    ("steps", "effects", "outcome", "seconds"),
    [
        # soft limit: one alert, then the agent resumes
        (
            [(0, "request:api"), (59, "tick"), (60, "tick"), (61, "tick"), (70, "resume")],
            [["announce_hold", "move_to_hold"], [], ["alert_agent"], [], ["rejoin"]],
            HoldOutcome.RESUMED,
            70,
        ),
        # hard limit: the caller is resumed without the agent
        (
            [(0, "request:api"), (60, "tick"), (180, "tick"), (181, "resume")],
            [["announce_hold", "move_to_hold"], ["alert_agent"], ["rejoin"], []],
            HoldOutcome.AUTO_RESUMED,
            180,
        ),
        # the agent hangs up during the hold: back to the queue, never dropped
        (
            [(0, "request:api"), (30, "agent_gone")],
            [["announce_hold", "move_to_hold"], ["requeue"]],
            HoldOutcome.REQUEUED,
            30,
        ),
        # the caller hangs up during the hold: recorded, the agent freed
        (
            [(0, "request:api"), (12, "caller_gone")],
            [["announce_hold", "move_to_hold"], ["free_agent"]],
            HoldOutcome.CALLER_HUNG_UP,
            12,
        ),
    ],
)
def test_limits_and_endings(
    steps: list[tuple[float, str]],
    effects: list[list[Effect]],
    outcome: HoldOutcome,
    seconds: float,
) -> None:
    call = HoldCall(HoldLimits(soft_seconds=60, hard_seconds=180))
    assert play(call, steps) == effects
    assert (call.segments[0].outcome, call.segments[0].seconds) == (outcome, seconds)


def test_a_phone_hold_is_observed_not_moved() -> None:
    call = HoldCall(HoldLimits(soft_seconds=5, hard_seconds=10))
    steps = [(0, "request:phone"), (5, "tick"), (10, "tick"), (11, "tick"), (15, "resume")]
    assert play(call, steps) == [[], ["alert_agent"], ["alert_agent"], [], []]
    assert call.segments[0].trigger is PHONE and call.segments[0].seconds == 15


def test_requests_while_held_or_asking_are_ignored_and_holds_add_up() -> None:
    call = HoldCall(HoldLimits(consent="ask"))
    steps = [(0, "request:api"), (1, "request:api"), (2, "yes"), (3, "request:api")]
    steps += [(10, "resume"), (20, "request:api"), (21, "yes"), (26, "resume")]
    assert play(call, steps)[1] == []
    assert call.hold_count == 2 and call.hold_seconds(at(99)) == 8 + 5


def test_an_agent_leaving_while_the_caller_is_asked_ends_without_a_segment() -> None:
    call = HoldCall(HoldLimits(consent="ask"))
    assert play(call, [(0, "request:api"), (2, "agent_gone"), (3, "yes")]) == [
        ["ask_consent"],
        [],
        [],
    ]
    assert call.segments == [] and call.phase is HoldPhase.ENDED


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="soft_seconds <= hard_seconds"):
        HoldLimits(soft_seconds=90, hard_seconds=60)


EVENTS = ["request:api", "request:phone", "yes", "no", "resume", "tick", "agent_gone"]


@given(st.lists(st.sampled_from([*EVENTS, "caller_gone"]), max_size=30))
def test_no_hold_is_left_open_once_the_call_ends(names: list[str]) -> None:
    """Whatever happens, every segment ends, once, not before it started."""
    call = HoldCall(HoldLimits(consent="ask", soft_seconds=3, hard_seconds=7))
    play(call, [(i * 2.0, name) for i, name in enumerate(names)])
    play(call, [(len(names) * 2.0 + 1, "caller_gone")])
    assert call.phase is HoldPhase.ENDED
    for segment in call.segments:
        assert segment.ended_at is not None and segment.ended_at >= segment.started_at
        assert segment.outcome is not None
    assert all(s.outcome is not None for s in call.segments[:-1])
