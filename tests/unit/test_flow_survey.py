"""The callback-survey flow, scripted: each path of the service standard's script."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from dialer.survey.store import SurveyContext
from hotline.config_survey import SurveySettings
from hotline.errors import AgiHangup, DatabaseError
from ivr.flows.survey import SurveyDeps, SurveyFacts, survey_flow
from ivr.scripted import ScriptedSession, Step, expect

CODE = "dl-7-1-abcd1234"
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
FACTS = SurveyContext(CODE, 1, 7, "13900051234", "WO-1", "tech-9", "repair")
ITEMS = ("attitude", "competence", "punctuality", "appearance")


@dataclass
class FakeBook:
    facts: SurveyContext | None = FACTS
    scores: dict[str, int] = field(default_factory=dict)
    finished: list[tuple[str, str, str]] = field(default_factory=list)
    fail_scores: bool = False

    async def begin(self, code: str, now: datetime) -> SurveyFacts | None:
        return self.facts

    async def score(self, context: SurveyFacts, item: str, score: int, now: datetime) -> None:
        if self.fail_scores:
            raise DatabaseError("down")
        self.scores[item] = score

    async def finish(self, code: str, outcome: str, comment_file: str, now: datetime) -> None:
        self.finished.append((code, outcome, comment_file))


def ask(prompt: str, key: str) -> Step:
    return expect("read_digits", f"hotline/{prompt}", 6.0, 1, returns=key)


def play(prompt: str, escape: str = "", returns: str = "") -> Step:
    return expect("play", f"hotline/{prompt}", *((escape,) if escape else ()), returns=returns)


def identity(key: str) -> list[Step]:
    return [
        play("survey-identity", "129"),
        expect("say_digits", "1234", "129"),
        ask("survey-identity-confirm", key),
    ]


def opening() -> list[Step]:
    return [play("survey-intro", "129"), *identity("1"), ask("survey-consent", "1")]


def scores(*keys: str) -> list[Step]:
    return [ask(f"survey-item-{item}", key) for item, key in zip(ITEMS, keys, strict=False)]


def comment() -> list[Step]:
    return [
        play("survey-comment"),
        expect("exec", "Record", f"/var/spool/asterisk/survey/{CODE}.wav", "5", "60", "k"),
        expect("get_variable", "RECORD_STATUS", returns="DTMF"),
    ]


async def run(
    steps: list[Step], book: FakeBook | None = None, **survey: object
) -> tuple[ScriptedSession, FakeBook]:
    book = book or FakeBook()
    deps = SurveyDeps(SurveySettings.model_validate(survey), book, lambda: NOW)
    session = ScriptedSession(
        steps, script="survey", args=[CODE], unscripted=("verbose", "set_variable")
    )
    await survey_flow(session, deps)
    session.assert_done()
    return session, book


async def test_a_completed_survey_stores_every_item_and_the_comment() -> None:
    session, book = await run(
        [*opening(), *scores("9", "8", "0", "7"), *comment(), play("survey-thanks")]
    )
    assert book.scores == {"attitude": 9, "competence": 8, "punctuality": 10, "appearance": 7}
    assert book.finished == [(CODE, "completed", f"/var/spool/asterisk/survey/{CODE}.wav")]
    assert session.variables["HOTLINE_SURVEY"] == "completed"
    assert session.variables["HOTLINE_SURVEY_SCORE"] == "appearance:7"  # the last one set
    assert "HOTLINE_RETRY" not in session.variables
    assert "HOTLINE_OPTOUT" not in session.variables


async def test_a_key_pressed_while_the_number_is_said_answers_the_question() -> None:
    steps = [
        play("survey-intro", "129"),
        play("survey-identity", "129"),
        expect("say_digits", "1234", "129", returns="1"),
        ask("survey-consent", "1"),
        *scores("1", "2", "3", "4"),
        play("survey-thanks"),
    ]
    _, book = await run(steps, comment=False)
    assert book.scores == {"attitude": 1, "competence": 2, "punctuality": 3, "appearance": 4}


@pytest.mark.parametrize(
    ("key", "then", "outcome"),
    [
        ("1", [ask("survey-consent", "2"), play("survey-refused")], "refused"),
        ("2", [play("survey-wrong-party")], "wrong_party"),
        ("9", [play("survey-optout")], "opted_out"),
    ],
)
async def test_a_key_pressed_during_the_intro_answers_the_identity_question(
    key: str, then: list[Step], outcome: str
) -> None:
    _, book = await run([play("survey-intro", "129", returns=key), *then])
    assert book.finished == [(CODE, outcome, "")]


async def test_the_wrong_party_gets_an_apology_and_nothing_is_asked() -> None:
    session, book = await run(
        [play("survey-intro", "129"), *identity("2"), play("survey-wrong-party")]
    )
    assert book.finished == [(CODE, "wrong_party", "")]
    assert book.scores == {}
    assert "HOTLINE_RETRY" not in session.variables


async def test_a_refusal_is_apologised_for() -> None:
    steps = [play("survey-intro", "129"), *identity("1"), ask("survey-consent", "2")]
    _, book = await run([*steps, play("survey-refused")])
    assert book.finished == [(CODE, "refused", "")]


@pytest.mark.parametrize("where", ["identity", "consent"])
async def test_9_at_a_yes_no_question_opts_out(where: str) -> None:
    if where == "identity":
        steps = [play("survey-intro", "129"), *identity("9")]
    else:
        steps = [play("survey-intro", "129"), *identity("1"), ask("survey-consent", "9")]
    session, book = await run([*steps, play("survey-optout")])
    assert session.variables["HOTLINE_OPTOUT"] == "1"
    assert book.finished == [(CODE, "opted_out", "")]


async def test_an_invalid_score_is_asked_again_once_then_left_out() -> None:
    steps = [
        *opening(),
        ask("survey-item-attitude", "*"),
        play("invalid-key"),
        ask("survey-item-attitude", "8"),
        ask("survey-item-competence", "#"),
        play("invalid-key"),
        ask("survey-item-competence", "*"),
        *scores("", "", "5", "6")[2:],
        play("survey-thanks"),
    ]
    _, book = await run(steps, comment=False)
    assert book.scores == {"attitude": 8, "punctuality": 5, "appearance": 6}
    assert book.finished[-1][1] == "completed"


async def test_silence_twice_ends_politely_and_asks_for_another_try() -> None:
    steps = [
        *opening(),
        ask("survey-item-attitude", "9"),
        ask("survey-item-competence", ""),
        ask("survey-item-competence", ""),
        play("survey-no-input"),
    ]
    session, book = await run(steps)
    assert session.variables["HOTLINE_RETRY"] == "1"
    assert book.scores == {"attitude": 9}
    assert book.finished == [(CODE, "no_input", "")]


async def test_silence_at_the_identity_question_is_no_input_too() -> None:
    steps = [play("survey-intro", "129"), *identity(""), *identity(""), play("survey-no-input")]
    session, book = await run(steps)
    assert session.variables["HOTLINE_RETRY"] == "1"
    assert book.finished == [(CODE, "no_input", "")]


async def test_a_hang_up_keeps_the_items_scored_so_far() -> None:
    steps = [
        *opening(),
        ask("survey-item-attitude", "7"),
        expect("read_digits", "hotline/survey-item-competence", 6.0, 1, raises=AgiHangup),
    ]
    book = FakeBook()
    with pytest.raises(AgiHangup):
        await run(steps, book)
    assert book.scores == {"attitude": 7}
    assert book.finished == [(CODE, "hung_up", "")]


async def test_an_unknown_attempt_is_not_surveyed_but_called_again() -> None:
    session, book = await run([play("survey-later")], FakeBook(facts=None))
    assert session.variables == {"HOTLINE_RETRY": "1"}
    assert book.finished == []


async def test_a_database_outage_does_not_stop_the_survey() -> None:
    steps = [*opening(), *scores("9", "8", "0", "7"), play("survey-thanks")]
    session, _ = await run(steps, FakeBook(fail_scores=True), comment=False)
    assert session.variables["HOTLINE_SURVEY"] == "completed"


async def test_configured_items_are_asked_in_their_order() -> None:
    steps = [*opening(), ask("survey-item-safety", "0"), play("survey-thanks")]
    _, book = await run(steps, comment=False, items=[{"key": "safety", "label": "安全"}])
    assert book.scores == {"safety": 10}
