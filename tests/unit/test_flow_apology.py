"""The automated apology flow, scripted: convenience keys, the kind's script, the date."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest

from dialer.apology.store import TicketFacts
from hotline.errors import AgiHangup
from ivr.flows.apology import ApologyDeps, TicketLike, apology_flow
from ivr.scripted import ScriptedSession, Step, expect

CODE = "dl-3-1-abcd1234"
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
TICKET = TicketFacts("T-1", "attitude", date(2026, 11, 29), "A-77", "1001")


@dataclass
class FakeBook:
    ticket: TicketFacts | None = TICKET
    outcomes: list[tuple[str, str]] = field(default_factory=list)

    async def begin(self, code: str) -> TicketLike | None:
        return self.ticket

    async def outcome(self, code: str, outcome: str, now: datetime) -> None:
        self.outcomes.append((code, outcome))


def play(prompt: str, escape: str = "", returns: str = "", raises: type | None = None) -> Step:
    args = (f"hotline/{prompt}", *((escape,) if escape else ()))
    return expect("play", *args, returns=returns, raises=raises)


def question(key: str) -> list[Step]:
    return [
        play("apology-about", "123"),
        play("month-11", "123"),
        play("day-29", "123"),
        expect("read_digits", "hotline/apology-convenience", 6.0, 1, returns=key),
    ]


async def run(steps: list[Step], book: FakeBook | None = None) -> tuple[ScriptedSession, FakeBook]:
    book = book or FakeBook()
    session = ScriptedSession(
        steps, script="apology", args=[CODE], unscripted=("verbose", "set_variable")
    )
    await apology_flow(session, ApologyDeps(book, 6.0, lambda: NOW))
    session.assert_done()
    return session, book


@pytest.mark.parametrize(
    ("kind", "script"),
    [("attitude", "apology-script-attitude"), ("service_error", "apology-script-service-error")],
)
async def test_1_hears_the_apology_for_the_kind(kind: str, script: str) -> None:
    book = FakeBook(TicketFacts("T-1", kind, date(2026, 11, 29), "A-77", "1001"))
    amends = script.replace("-script-", "-amends-")
    steps = [
        play("apology-intro", "123"),
        *question("1"),
        play(script),
        play(amends),
        play("apology-thanks"),
    ]
    session, _ = await run(steps, book)
    assert book.outcomes == [(CODE, "apologised")]
    assert session.variables["HOTLINE_APOLOGY"] == "apologised"


async def test_a_key_during_the_date_answers() -> None:
    steps = [
        play("apology-intro", "123"),
        play("apology-about", "123"),
        play("month-11", "123", returns="1"),
        play("apology-script-attitude"),
        play("apology-amends-attitude"),
        play("apology-thanks"),
    ]
    _, book = await run(steps)
    assert book.outcomes == [(CODE, "apologised")]


@pytest.mark.parametrize(("key", "outcome"), [("2", "rescheduled"), ("3", "refused")])
async def test_a_key_during_the_intro_answers_the_question(key: str, outcome: str) -> None:
    ending = "apology-later" if key == "2" else "apology-refused"
    _, book = await run([play("apology-intro", "123", returns=key), play(ending)])
    assert book.outcomes == [(CODE, outcome)]


async def test_2_reschedules_and_asks_for_another_call() -> None:
    session, book = await run([play("apology-intro", "123"), *question("2"), play("apology-later")])
    assert book.outcomes == [(CODE, "rescheduled")]
    assert session.variables["HOTLINE_RETRY"] == "1"


async def test_3_refuses() -> None:
    session, book = await run(
        [play("apology-intro", "123"), *question("3"), play("apology-refused")]
    )
    assert book.outcomes == [(CODE, "refused")]
    assert "HOTLINE_RETRY" not in session.variables


async def test_a_wrong_key_then_silence_is_tried_again_later() -> None:
    steps = [
        play("apology-intro", "123"),
        *question("7"),
        play("invalid-key"),
        *question(""),
        play("survey-no-input"),
    ]
    session, book = await run(steps)
    assert book.outcomes == [(CODE, "no_input")]
    assert session.variables["HOTLINE_RETRY"] == "1"


async def test_hanging_up_during_the_apology_is_not_an_apology() -> None:
    steps = [
        play("apology-intro", "123"),
        *question("1"),
        play("apology-script-attitude", raises=AgiHangup),
    ]
    book = FakeBook()
    with pytest.raises(AgiHangup):
        await run(steps, book)
    assert book.outcomes == [(CODE, "hung_up")]


async def test_hanging_up_during_the_thanks_keeps_the_apology() -> None:
    steps = [
        play("apology-intro", "123"),
        *question("1"),
        play("apology-script-attitude"),
        play("apology-amends-attitude"),
        play("apology-thanks", raises=AgiHangup),
    ]
    _, book = await run(steps)
    assert book.outcomes == [(CODE, "apologised")]


async def test_no_open_ticket_is_tried_again_later() -> None:
    session, book = await run([play("survey-later")], FakeBook(ticket=None))
    assert session.variables == {"HOTLINE_RETRY": "1"}
    assert book.outcomes == []
