"""Menu navigation and the after-hours path of the main flow, on a scripted AGI session."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hotline.errors import AgiHangup
from ivr.flows import QUEUE_TIMEOUT_ROUTE, SCORE_ROUTE, make_routes
from ivr.flows.hotline import hotline_flow
from ivr.scripted import ScriptedSession, Step, expect
from tests.unit.inbound_fakes import (
    CALLER,
    CLOSED_NOW,
    FakeCallbacks,
    Fakes,
    done,
    goodbye,
    greeting,
    make_deps,
    menu,
    no_input_goodbye,
    path,
    play,
    queued,
)

OFFER_KEYS = "12*"  # emergency, callback, repeat


async def run(steps: list[Step], **ivr: Any) -> ScriptedSession:
    deps, _ = make_deps(**ivr)
    session = ScriptedSession(steps)
    await hotline_flow(session, deps)
    session.assert_done()
    return session


# --- the menu -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "queue", "priority", "category"),
    [
        (["1"], "emergency", 10, "emergency"),
        (["2"], "repair", 5, "repair"),
        (["6"], "reception", 1, "other"),
        (["0"], "reception", 1, "agent"),
        (["3", "2"], "billing", 3, "billing"),
        (["4", "1"], "appointments", 3, "appointment-install"),
        (["4", "3"], "appointments", 3, "appointment-inspection"),
        (["4", "4"], "appointments", 3, "appointment-meter"),
        (["5", "1"], "complaints", 3, "complaint"),
        (["5", "3"], "complaints", 3, "praise"),
    ],
)
async def test_every_category_routes_to_its_queue(
    keys: list[str], queue: str, priority: int, category: str
) -> None:
    prompts = {"3": "menu-billing", "4": "menu-appointments", "5": "menu-feedback"}
    steps = [*greeting(), menu("menu-main", keys[0])]
    if len(keys) == 2:
        steps += [path(keys[0]), menu(prompts[keys[0]], keys[1])]
    session = await run([*steps, *queued(queue, priority, category, ">".join(keys))])
    assert session.variables["HOTLINE_MENU_PATH"] == ">".join(keys)
    assert session.variables["HOTLINE_FLOW_RESULT"] == "queue"


async def test_invalid_key_gets_a_short_apology_and_the_menu_again() -> None:
    await run(
        [
            *greeting(),
            menu("menu-main", "8"),
            play("invalid-key"),
            menu("menu-main", "2"),
            *queued("repair", 5, "repair", "2"),
        ]
    )


async def test_too_many_invalid_keys_hand_the_caller_to_the_menus_agent_queue() -> None:
    steps = [*greeting(), menu("menu-main", "4"), path("4")]
    for _ in range(2):  # invalid_retries = 2 re-prompts, then an agent
        steps += [menu("menu-appointments", "7"), play("invalid-key")]
    steps += [menu("menu-appointments", "8"), play("fallback")]
    await run([*steps, *queued("appointments", 3, "agent", "4")])


async def test_silence_reprompts_then_the_no_input_goodbye() -> None:
    steps = [*greeting(), *[menu("menu-main", "") for _ in range(3)], *no_input_goodbye()]
    session = await run(steps)
    assert session.variables["HOTLINE_DISPOSITION"] == "no_input"
    assert "HOTLINE_QUEUE" not in session.variables


async def test_no_input_retries_is_a_setting() -> None:
    await run([*greeting(), menu("menu-main", ""), *no_input_goodbye()], no_input_retries=0)


async def test_a_key_resets_the_silence_count() -> None:
    steps = [*greeting(), menu("menu-main", ""), menu("menu-main", ""), menu("menu-main", "*")]
    steps += [menu("menu-main", ""), menu("menu-main", ""), menu("menu-main", "2")]
    await run([*steps, *queued("repair", 5, "repair", "2")])


async def test_repeat_and_back_on_every_level() -> None:
    await run(
        [
            *greeting(),
            menu("menu-main", "*"),  # repeat
            menu("menu-main", "9"),  # back on the main menu: the main menu again
            menu("menu-main", "5"),
            path("5"),
            menu("menu-feedback", "*"),
            menu("menu-feedback", "9"),
            path(""),
            menu("menu-main", "4"),
            path("4"),
            menu("menu-appointments", "2"),
            *queued("appointments", 3, "appointment-repair", "4>2"),
        ]
    )


async def test_hangup_in_a_submenu_leaves_the_path_so_far() -> None:
    deps, _ = make_deps()
    session = ScriptedSession(
        [
            *greeting(),
            menu("menu-main", "4"),
            path("4"),
            expect("read_digits", "hotline/menu-appointments", raises=AgiHangup),
        ]
    )
    with pytest.raises(AgiHangup):
        await hotline_flow(session, deps)
    assert session.variables["HOTLINE_MENU_PATH"] == "4"
    assert "HOTLINE_FLOW_RESULT" not in session.variables


# --- after hours ----------------------------------------------------------------------


def hours_message(escape: str = OFFER_KEYS, first: str = "after-hours") -> list[Step]:
    def number(n: int) -> Step:
        return expect("say_number", n, escape)

    return [
        *([play(first, escape)] if first else []),
        play("hours-intro", escape),
        play("hours-every-day", escape),
        number(8),
        play("hours-oclock", escape),
        play("hours-to", escape),
        number(20),
        play("hours-oclock", escape),
        play("hours-holiday", escape),
        number(9),
        play("hours-oclock", escape),
        play("hours-to", escape),
        number(17),
        play("hours-oclock", escape),
    ]


def offer(key: str) -> Step:
    return expect("read_digits", "hotline/after-hours-offer", 5.0, 1, returns=key)


AFTER_HOURS = expect("set_variable", "HOTLINE_DISPOSITION", "after_hours")


async def after_hours(steps: list[Step], fakes: Fakes | None = None) -> ScriptedSession:
    deps, _ = make_deps(fakes, now=CLOSED_NOW)
    session = ScriptedSession([*greeting(welcome="welcome-evening"), AFTER_HOURS, *steps])
    await hotline_flow(session, deps)
    session.assert_done()
    return session


async def test_after_hours_says_the_hours_and_takes_a_callback_due_at_the_next_opening() -> None:
    fakes = Fakes()
    session = await after_hours(
        [
            *hours_message(),
            offer("2"),
            expect("set_variable", "HOTLINE_CALLBACK_ID", "42"),
            expect("set_variable", "HOTLINE_DISPOSITION", "callback_requested"),
            play("callback-confirmed"),
            *goodbye(),
        ],
        fakes,
    )
    assert session.variables["HOTLINE_DISPOSITION"] == "callback_requested"
    [request] = fakes.callbacks.requests
    assert (request.number, request.linkedid) == (CALLER, "1700000000.1")
    assert (request.queue, request.category, request.priority) == ("reception", "after-hours", 1)
    assert request.position is None
    assert request.requested_at == CLOSED_NOW
    assert request.due_at == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # Tue 08:00 Shanghai


async def test_after_hours_callback_key_works_while_the_hours_are_said() -> None:
    fakes = Fakes()
    await after_hours(
        [
            play("after-hours", OFFER_KEYS),
            play("hours-intro", OFFER_KEYS, key="2"),
            expect("set_variable", "HOTLINE_CALLBACK_ID", "42"),
            expect("set_variable", "HOTLINE_DISPOSITION", "callback_requested"),
            play("callback-confirmed"),
            *goodbye(),
        ],
        fakes,
    )
    assert len(fakes.callbacks.requests) == 1


async def test_after_hours_emergency_key_still_reaches_the_emergency_queue() -> None:
    session = await after_hours(
        [
            play("after-hours", OFFER_KEYS, key="1"),
            expect("set_variable", "HOTLINE_DISPOSITION", ""),
            *queued("emergency", 10, "emergency", "1"),
        ]
    )
    assert session.variables["HOTLINE_DISPOSITION"] == ""  # cleared: not after_hours


async def test_after_hours_silence_ends_politely_as_after_hours() -> None:
    session = await after_hours([*hours_message(), offer(""), offer(""), offer(""), *goodbye()])
    assert session.variables["HOTLINE_DISPOSITION"] == "after_hours"


async def test_after_hours_repeat_and_invalid_key() -> None:
    await after_hours(
        [
            *hours_message(),
            offer("*"),
            *hours_message(first=""),
            offer("5"),
            play("invalid-key"),
            offer("1"),
            expect("set_variable", "HOTLINE_DISPOSITION", ""),
            *queued("emergency", 10, "emergency", "1"),
        ]
    )


@pytest.mark.parametrize("problem", ["no number", "database"])
async def test_after_hours_callback_that_cannot_be_taken_gets_an_apology(problem: str) -> None:
    fakes = Fakes(callbacks=FakeCallbacks(fail=problem == "database"))
    deps, _ = make_deps(fakes, now=CLOSED_NOW)
    apology = "callback-unavailable" if problem == "no number" else "callback-failed"
    session = ScriptedSession(
        [
            *greeting(welcome="welcome-evening"),
            AFTER_HOURS,
            *hours_message(),
            offer("2"),
            play(apology),
            *goodbye(),
        ],
        caller="" if problem == "no number" else CALLER,
    )
    await hotline_flow(session, deps)
    session.assert_done()
    assert session.variables["HOTLINE_DISPOSITION"] == "after_hours"
    assert "HOTLINE_CALLBACK_ID" not in session.variables


async def test_forced_closed_hours_send_callers_to_the_after_hours_message() -> None:
    deps, _ = make_deps(hours=make_deps()[0].ivr.hours.model_copy(update={"force": "closed"}))
    session = ScriptedSession(
        [
            *greeting(),
            AFTER_HOURS,
            play("after-hours", OFFER_KEYS),
            play("hours-intro", OFFER_KEYS),
            play("hours-every-day", OFFER_KEYS),
            expect("say_number", 8, OFFER_KEYS, returns="1"),
            expect("set_variable", "HOTLINE_DISPOSITION", ""),
            *queued("emergency", 10, "emergency", "1"),
        ]
    )
    await hotline_flow(session, deps)
    session.assert_done()


def test_routes_carry_the_contract_names() -> None:
    deps, _ = make_deps()
    assert set(make_routes(deps, "hotline")) == {"hotline", SCORE_ROUTE, QUEUE_TIMEOUT_ROUTE}
    assert (SCORE_ROUTE, QUEUE_TIMEOUT_ROUTE) == ("hotline-score", "hotline-queue-timeout")


async def test_done_is_the_last_thing_the_after_hours_flow_sets() -> None:
    session = await after_hours([*hours_message(), offer(""), offer(""), offer(""), *goodbye()])
    assert session.calls[-1].args == done().args
