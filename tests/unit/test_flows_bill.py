"""Self-service bill enquiry (menu 3 > 1), on a scripted AGI session."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ivr.flows.bill import bill_speech
from ivr.flows.hotline import hotline_flow
from ivr.flows.speech import Number, Play, amount_speech
from ivr.scripted import ScriptedSession, Step, expect
from tests.unit.inbound_fakes import (
    ACCOUNT,
    FakeDirectory,
    Fakes,
    bill,
    customer,
    goodbye,
    greeting,
    make_deps,
    menu,
    path,
    play,
    queued,
)

AFTER_KEYS = "0*9"  # agent, repeat, back
OTHER_PHONE = "13999999999"  # the account holder is not the caller: no screen variables
TO_BILL = [menu("menu-main", "3"), path("3"), menu("menu-billing", "1")]


def account(digits: str) -> Step:
    return expect("read_digits", "hotline/bill-enter-account", 15.0, 16, returns=digits)


def amount(yuan: int, fen: int, key: str = "") -> list[Step]:
    steps = [play("bill-amount", AFTER_KEYS), expect("say_number", yuan, AFTER_KEYS)]
    steps.append(play("yuan", AFTER_KEYS, key=key if not fen else ""))
    if fen:
        steps += [expect("say_number", fen, AFTER_KEYS), play("fen", AFTER_KEYS, key=key)]
    return steps


def after(key: str) -> Step:
    return expect("read_digits", "hotline/bill-after", 5.0, 1, returns=key)


async def run(steps: list[Step], directory: FakeDirectory | None = None) -> ScriptedSession:
    directory = directory or FakeDirectory([customer(phone=OTHER_PHONE)], {ACCOUNT: bill("128.50")})
    deps, _ = make_deps(Fakes(directory=directory))
    session = ScriptedSession([*greeting(), *steps])
    await hotline_flow(session, deps)
    session.assert_done()
    return session


async def test_amount_due_then_goodbye() -> None:
    session = await run([*TO_BILL, account(ACCOUNT), *amount(128, 50), after(""), *goodbye()])
    assert "HOTLINE_QUEUE" not in session.variables
    assert session.variables["HOTLINE_FLOW_RESULT"] == "done"


async def test_amount_due_then_an_agent_of_the_billing_menu() -> None:
    await run(
        [
            *TO_BILL,
            account(ACCOUNT),
            *amount(128, 50),
            after("0"),
            *queued("billing", 3, "billing", "3>1"),
        ]
    )


async def test_zero_during_the_amount_goes_to_an_agent_at_once() -> None:
    await run(
        [
            *TO_BILL,
            account(ACCOUNT),
            *amount(128, 50, key="0"),
            *queued("billing", 3, "billing", "3>1"),
        ]
    )


async def test_repeat_back_and_an_invalid_key_after_the_amount() -> None:
    await run(
        [
            *TO_BILL,
            account(ACCOUNT),
            *amount(128, 50),
            after("*"),
            *amount(128, 50),
            after("7"),
            play("invalid-key"),
            after("9"),  # back to the billing menu
            menu("menu-billing", "2"),
            *queued("billing", 3, "billing", "3>2"),
        ]
    )


async def test_an_invalid_account_is_refused_before_any_lookup_then_asked_again() -> None:
    directory = FakeDirectory([customer(phone=OTHER_PHONE)], {ACCOUNT: bill("128.00")})
    await run(
        [
            *TO_BILL,
            account("3101000011"),  # wrong check digit
            play("bill-invalid-account"),
            account(ACCOUNT),
            *amount(128, 0),
            after(""),
            *goodbye(),
        ],
        directory,
    )


async def test_unknown_account_twice_hands_over_to_an_agent() -> None:
    unknown = "3101000028"  # valid check digit, not in this directory
    await run(
        [
            *TO_BILL,
            account(unknown),
            play("bill-unknown-account"),
            account(""),  # silence counts as the second attempt
            play("fallback"),
            *queued("billing", 3, "billing", "3>1"),
        ]
    )


async def test_nothing_due_is_said_plainly() -> None:
    directory = FakeDirectory([customer(phone=OTHER_PHONE)], {ACCOUNT: bill("0.00")})
    await run(
        [*TO_BILL, account(ACCOUNT), play("bill-nothing-due", AFTER_KEYS), after(""), *goodbye()],
        directory,
    )


@pytest.mark.parametrize("failure", ["error", "slow"])
async def test_a_failing_directory_apologises_and_hands_over(failure: str) -> None:
    directory = FakeDirectory(
        [customer(phone=OTHER_PHONE)],
        fail=failure == "error",
        delay=1.0 if failure == "slow" else 0.0,
    )
    deps, _ = make_deps(Fakes(directory=directory), lookup_timeout_seconds=0.05)
    session = ScriptedSession(
        [
            *greeting(),
            *TO_BILL,
            account(ACCOUNT),
            play("bill-failed"),
            *queued("billing", 3, "billing", "3>1"),
        ]
    )
    await hotline_flow(session, deps)
    session.assert_done()


def test_bill_speech_with_due_date() -> None:
    parts = bill_speech(bill("1056.05", due_date=date(2026, 11, 25)))
    assert parts == [
        Play("bill-amount"),
        Number(1056),
        Play("yuan"),
        Number(5),
        Play("fen"),
        Play("bill-due"),
        Number(11),
        Play("month"),
        Number(25),
        Play("day-of-month"),
    ]
    assert bill_speech(None) == [Play("bill-nothing-due")]
    assert bill_speech(bill("-3.00")) == [Play("bill-nothing-due")]  # a credit


@pytest.mark.parametrize(
    ("amount_due", "yuan", "fen"),
    [("0.50", 0, 50), ("12", 12, 0), ("99.995", 100, 0), ("100.01", 100, 1)],
)
def test_amounts_are_said_in_yuan_and_fen(amount_due: str, yuan: int, fen: int) -> None:
    expected = [Number(yuan), Play("yuan")] + ([Number(fen), Play("fen")] if fen else [])
    assert amount_speech(Decimal(amount_due)) == expected
