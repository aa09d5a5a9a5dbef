"""The foundation inbound flow, run against a scripted AGI session."""

from __future__ import annotations

import pytest

from hotline.errors import AgiError, AgiHangup
from ivr.flows.hotline import DIGIT_TIMEOUT_SECONDS, MAX_DIGITS, hotline_flow
from ivr.scripted import Call, ScriptedSession, expect

READ = ("hotline/enter-digits", DIGIT_TIMEOUT_SECONDS, MAX_DIGITS)


def methods(session: ScriptedSession) -> list[tuple[str, tuple[object, ...]]]:
    return [(call.method, call.args) for call in session.calls]


async def test_digits_are_stored_read_back_and_the_call_marked_done() -> None:
    session = ScriptedSession(
        [
            expect("set_variable", "HOTLINE_FLOW", "hotline"),
            expect("read_digits", *READ, returns="12345"),
            expect("set_variable", "HOTLINE_INPUT", "12345"),
            expect("play", "hotline/you-entered"),
            expect("say_digits", "12345"),
            expect("play", "hotline/goodbye"),
            expect("set_variable", "HOTLINE_FLOW_RESULT", "done"),
        ]
    )
    await hotline_flow(session)
    session.assert_done()
    assert session.variables == {
        "HOTLINE_FLOW": "hotline",
        "HOTLINE_INPUT": "12345",
        "HOTLINE_FLOW_RESULT": "done",
    }
    assert session.calls[-1] == Call("set_variable", ("HOTLINE_FLOW_RESULT", "done"))
    assert not session.hung_up_by_flow  # the dialplan hangs up after its GotoIf


async def test_no_digits_means_no_readback_but_still_done() -> None:
    session = ScriptedSession(
        [
            expect("set_variable", "HOTLINE_FLOW", "hotline"),
            expect("read_digits", *READ, returns=""),
            expect("play", "hotline/goodbye"),
            expect("set_variable", "HOTLINE_FLOW_RESULT", "done"),
        ]
    )
    await hotline_flow(session)
    session.assert_done()
    assert "HOTLINE_INPUT" not in session.variables
    assert [m for m, _ in methods(session)] == [
        "set_variable",
        "read_digits",
        "play",
        "set_variable",
    ]
    assert session.variables["HOTLINE_FLOW_RESULT"] == "done"


async def test_hangup_while_reading_digits_leaves_the_result_unset() -> None:
    session = ScriptedSession(
        [
            expect("set_variable", "HOTLINE_FLOW", "hotline"),
            expect("read_digits", *READ, raises=AgiHangup("GET DATA: caller hung up")),
        ]
    )
    with pytest.raises(AgiHangup):
        await hotline_flow(session)
    session.assert_done()
    assert "HOTLINE_FLOW_RESULT" not in session.variables
    assert methods(session)[-1] == ("read_digits", READ)  # nothing tried after the hangup


@pytest.mark.parametrize("failing", ["play", "say_digits"])
async def test_failure_before_the_end_leaves_the_result_unset(failing: str) -> None:
    """Any error before the last step sends the caller to the dialplan's fallback."""
    steps = [
        expect("set_variable", "HOTLINE_FLOW", "hotline"),
        expect("read_digits", *READ, returns="7"),
        expect("set_variable", "HOTLINE_INPUT", "7"),
        expect("play", "hotline/you-entered"),
        expect("say_digits", "7"),
    ]
    index = next(i for i, step in enumerate(steps) if step.method == failing)
    steps[index] = expect(failing, raises=AgiError(f"{failing} failed (result=-1)"))
    session = ScriptedSession(steps[: index + 1])
    with pytest.raises(AgiError):
        await hotline_flow(session)
    assert "HOTLINE_FLOW_RESULT" not in session.variables
