"""The main inbound flow's first seconds: greeting, emergency barge-in, screening, hours.

Menu navigation, after-hours, self-service and post-call flows have their own files; here
every call starts with the greeting and the screening that runs while it plays.
"""

from __future__ import annotations

import pytest

from hotline.errors import AgiError, AgiHangup
from ivr.flows.hotline import clean_name, hotline_flow
from ivr.scripted import ScriptedSession, expect
from tests.unit.inbound_fakes import (
    CALLER,
    CLOSED_NOW,
    FakeBlocklist,
    FakeDirectory,
    Fakes,
    customer,
    done,
    greeting,
    make_deps,
    menu,
    play,
    queued,
)


async def test_greeting_then_the_main_menu_and_a_queue() -> None:
    deps, _ = make_deps()
    session = ScriptedSession(
        [*greeting(), menu("menu-main", "2"), *queued("repair", 5, "repair", "2")]
    )
    await hotline_flow(session, deps)
    session.assert_done()
    assert session.variables == {
        "HOTLINE_FLOW": "hotline",
        "HOTLINE_MENU_PATH": "2",
        "HOTLINE_CATEGORY": "repair",
        "HOTLINE_QUEUE": "repair",
        "HOTLINE_QUEUE_PRIORITY": "5",
        "HOTLINE_FLOW_RESULT": "queue",
    }
    assert session.calls[-1].method == "set_variables"  # the route in one command,
    route = session.calls[-1].args[0]
    assert isinstance(route, dict) and list(route)[-1] == "HOTLINE_FLOW_RESULT"  # result last


async def test_emergency_key_during_the_greeting_goes_straight_to_the_emergency_queue() -> None:
    deps, _ = make_deps()
    session = ScriptedSession([*greeting(key="1"), *queued("emergency", 10, "emergency", "1")])
    await hotline_flow(session, deps)
    session.assert_done()
    assert session.variables["HOTLINE_QUEUE_PRIORITY"] == "10"
    assert not any(call.method == "read_digits" for call in session.calls)


async def test_emergency_key_during_the_greeting_is_served_after_hours_too() -> None:
    deps, _ = make_deps(now=CLOSED_NOW)
    session = ScriptedSession(
        [*greeting(key="1", welcome="welcome-evening"), *queued("emergency", 10, "emergency", "1")]
    )
    await hotline_flow(session, deps)
    session.assert_done()
    assert "HOTLINE_DISPOSITION" not in session.variables


async def test_blocked_number_hears_the_warning_and_the_call_ends() -> None:
    fakes = Fakes(blocklist=FakeBlocklist({CALLER}))
    deps, _ = make_deps(fakes)
    session = ScriptedSession(
        [
            *greeting(),
            expect("set_variable", "HOTLINE_DISPOSITION", "blocked"),
            play("blocked-warning"),
            done(),
        ]
    )
    await hotline_flow(session, deps)
    session.assert_done()
    assert fakes.blocklist.asked == [CALLER]
    assert session.variables["HOTLINE_DISPOSITION"] == "blocked"


async def test_blocked_number_is_not_routed_even_when_it_pressed_the_emergency_key() -> None:
    deps, _ = make_deps(Fakes(blocklist=FakeBlocklist({CALLER})))
    session = ScriptedSession(
        [
            *greeting(key="1"),
            expect("set_variable", "HOTLINE_DISPOSITION", "blocked"),
            play("blocked-warning"),
            done(),
        ]
    )
    await hotline_flow(session, deps)
    session.assert_done()
    assert "HOTLINE_QUEUE" not in session.variables


async def test_known_caller_gets_inherited_customer_variables() -> None:
    fakes = Fakes(directory=FakeDirectory([customer(name='张伟 "VIP",\x07;')]))
    deps, _ = make_deps(fakes)
    session = ScriptedSession(
        [
            *greeting(),
            expect("set_variable", "__HOTLINE_CUSTOMER_ACCOUNT", "3101000010"),
            expect("set_variable", "__HOTLINE_CUSTOMER_NAME", "张伟 VIP"),
            menu("menu-main", "0"),
            *queued("reception", 1, "agent", "0"),
        ]
    )
    await hotline_flow(session, deps)
    session.assert_done()


def test_clean_name_keeps_letters_and_drops_what_could_break_a_header() -> None:
    assert clean_name("  Mary-Ann  O'Neil ") == "Mary-Ann O'Neil"
    assert clean_name("欧阳·娜娜,${EVIL}|x") == "欧阳·娜娜EVILx"
    assert len(clean_name("长" * 100)) == 40


async def test_a_failing_blocklist_lets_the_call_through_and_still_identifies_it() -> None:
    fakes = Fakes(
        blocklist=FakeBlocklist({CALLER}, fail=True), directory=FakeDirectory([customer()])
    )
    deps, _ = make_deps(fakes)
    session = ScriptedSession(
        [
            *greeting(),
            expect("set_variable", "__HOTLINE_CUSTOMER_ACCOUNT", "3101000010"),
            expect("set_variable", "__HOTLINE_CUSTOMER_NAME", "张伟"),
            menu("menu-main", "2"),
            *queued("repair", 5, "repair", "2"),
        ]
    )
    await hotline_flow(session, deps)
    session.assert_done()
    assert "HOTLINE_DISPOSITION" not in session.variables


@pytest.mark.parametrize("failure", ["error", "slow"])
async def test_a_failing_or_slow_directory_never_holds_the_caller_up(failure: str) -> None:
    directory = FakeDirectory(
        [customer()], fail=failure == "error", delay=1.0 if failure == "slow" else 0.0
    )
    deps, _ = make_deps(Fakes(directory=directory), lookup_timeout_seconds=0.05)
    session = ScriptedSession(
        [*greeting(), menu("menu-main", "2"), *queued("repair", 5, "repair", "2")]
    )
    await hotline_flow(session, deps)
    session.assert_done()  # not identified: the menu as usual
    assert not any(name.startswith("__") for name in session.variables)


async def test_anonymous_caller_is_not_looked_up() -> None:
    fakes = Fakes(directory=FakeDirectory([customer(phone="")]))
    deps, _ = make_deps(fakes)
    session = ScriptedSession(
        [*greeting(), menu("menu-main", "6"), *queued("reception", 1, "other", "6")],
        caller="",
    )
    await hotline_flow(session, deps)
    session.assert_done()
    assert fakes.blocklist.asked == [""]
    assert "__HOTLINE_CUSTOMER_ACCOUNT" not in session.variables


async def test_hangup_during_the_greeting_sets_nothing_more() -> None:
    deps, _fakes = make_deps()
    session = ScriptedSession(
        [
            expect("set_variable", "HOTLINE_FLOW", "hotline"),
            expect(
                "play", "hotline/welcome-morning", raises=AgiHangup("STREAM FILE: caller hung up")
            ),
        ]
    )
    with pytest.raises(AgiHangup):
        await hotline_flow(session, deps)
    session.assert_done()
    assert session.variables == {"HOTLINE_FLOW": "hotline"}


async def test_failure_before_the_end_leaves_the_result_unset() -> None:
    """Any error before the last step sends the caller to the dialplan's fallback."""
    deps, _ = make_deps()
    session = ScriptedSession(
        [*greeting(), expect("read_digits", raises=AgiError("GET DATA failed (result=-1)"))]
    )
    with pytest.raises(AgiError):
        await hotline_flow(session, deps)
    assert "HOTLINE_FLOW_RESULT" not in session.variables
