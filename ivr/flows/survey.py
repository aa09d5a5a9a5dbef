"""The callback survey (电话回访) call, run when a survey customer answers (AMD said human).

The script of the service standard: introduce ourselves; confirm the party by the last
four digits of the number (1 yes, 2 no → apology, ``wrong_party``); ask consent (1 yes,
2 no → apology, ``refused``); the items from ``survey.items``, each scored by one key with
the inbound score's rule (1-9, 0 = 10); an optional spoken comment; thanks and goodbye.

* Keys pressed while a prompt plays are taken (barge-in); a key during the intro answers
  the identity question that follows it.
* A wrong key is answered with 对不起,您的输入有误 and the question asked once more; a
  second wrong key leaves that item unscored and goes on.
* Silence is asked once more; silence again ends the call politely with ``HOTLINE_RETRY=1``
  (``no_input``): the dialer calls again later under the campaign's retry rule.
* 9 at the yes/no questions means "do not call me again": ``HOTLINE_OPTOUT=1`` puts the
  number on the DNC list. At the score questions 9 is the score 9 (the keypad rule).

Every answer is stored as it is given (a customer who hangs up half-way leaves the items
they scored, outcome ``hung_up``); ``HOTLINE_SURVEY_STEP`` names each question as it
starts and ``HOTLINE_SURVEY_SCORE`` carries ``item:score``, so the call record's
timeline holds the answers too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hotline.config_survey import SurveyItem, SurveySettings
from hotline.errors import AgiHangup, DatabaseError
from ivr.agi import AgiChannel
from ivr.flows.common import bounded, sound
from ivr.flows.score import score_from_key

__all__ = [
    "OPT_OUT_KEY",
    "SurveyBook",
    "SurveyDeps",
    "SurveyFacts",
    "survey_flow",
]

log = logging.getLogger(__name__)

OPT_OUT_KEY = "9"
_PARTY_KEYS = "12" + OPT_OUT_KEY
VAR_STEP = "HOTLINE_SURVEY_STEP"
VAR_SCORE = "HOTLINE_SURVEY_SCORE"
VAR_OUTCOME = "HOTLINE_SURVEY"
VAR_RETRY = "HOTLINE_RETRY"
VAR_OPTOUT = "HOTLINE_OPTOUT"
LOOKUP_SECONDS = 3.0
_CODE = re.compile(r"^[\w.-]{1,64}$")


class SurveyFacts(Protocol):
    """Who the call is about (``dialer.survey.store.SurveyContext`` provides it)."""

    @property
    def code(self) -> str: ...
    @property
    def number(self) -> str: ...
    @property
    def order_id(self) -> str: ...
    @property
    def technician(self) -> str: ...
    @property
    def category(self) -> str: ...


class SurveyBook(Protocol):
    async def begin(self, code: str, now: datetime) -> SurveyFacts | None: ...
    async def score(self, context: SurveyFacts, item: str, score: int, now: datetime) -> None: ...
    async def finish(self, code: str, outcome: str, comment_file: str, now: datetime) -> None: ...


@dataclass(frozen=True)
class SurveyDeps:
    settings: SurveySettings
    book: SurveyBook
    clock: Callable[[], datetime]


class _Ended(Exception):
    """The survey is over early (wrong party, refusal, opt-out, no input)."""

    def __init__(self, outcome: str) -> None:
        self.outcome = outcome
        super().__init__(outcome)


@dataclass
class _Call:
    """One survey call in progress: the channel, what it is about, and how far it got."""

    channel: AgiChannel
    deps: SurveyDeps
    facts: SurveyFacts
    outcome: str = "in_progress"
    comment: str = ""

    async def step(self, name: str) -> None:
        await self.channel.set_variable(VAR_STEP, name)

    async def ask(self, prompt: str) -> str:
        return await self.channel.read_digits(
            sound(prompt), self.deps.settings.digit_timeout_seconds, 1
        )

    async def end(self, outcome: str, prompt: str) -> None:
        log.info("[%s] survey ends: %s", self.channel.linkedid, outcome)
        if outcome == "opted_out":
            await self.channel.set_variable(VAR_OPTOUT, "1")
        elif outcome == "no_input":
            await self.channel.set_variable(VAR_RETRY, "1")
        await self.channel.set_variable(VAR_OUTCOME, outcome)
        self.outcome = outcome
        await self.channel.play(sound(prompt))
        raise _Ended(outcome)


async def survey_flow(call: AgiChannel, deps: SurveyDeps) -> None:
    code = call.args[0] if call.args else call.linkedid
    if not _CODE.fullmatch(code):
        log.warning("[%s] survey: refused attempt code %r", call.linkedid, code[:80])
        return
    facts = await bounded(
        call, "survey look-up", deps.book.begin(code, deps.clock()), LOOKUP_SECONDS
    )
    if facts is None:  # unknown attempt or database down: say sorry, try again later
        log.warning("[%s] survey: no order for attempt %s; call again later", call.linkedid, code)
        await call.set_variable(VAR_RETRY, "1")
        await call.play(sound("survey-later"))
        return
    state = _Call(call, deps, facts)
    try:
        await _run(state)
    except _Ended:
        pass
    except AgiHangup:
        state.outcome = "hung_up" if state.outcome == "in_progress" else state.outcome
        raise
    finally:
        try:
            await deps.book.finish(code, state.outcome, state.comment, deps.clock())
        except DatabaseError as exc:
            log.warning("[%s] survey outcome %s not stored: %s", call.linkedid, state.outcome, exc)


async def _run(state: _Call) -> None:
    call = state.channel
    await state.step("intro")
    early = await call.play(sound("survey-intro"), _PARTY_KEYS)
    await _confirm_party(state, early)
    await _yes_no(state, "consent", "survey-consent", "refused", "survey-refused")
    for item in state.deps.settings.items:
        await _score_item(state, item)
    if state.deps.settings.comment:
        await _comment(state)
    await call.set_variable(VAR_OUTCOME, "completed")
    state.outcome = "completed"
    await call.play(sound("survey-thanks"))


async def _confirm_party(state: _Call, early: str) -> None:
    """请问您是尾号 <1234> 的机主吗? Keys pressed while it plays count, and so does a key
    pressed during the intro (``early``): a customer surveyed before knows 1, 2 and 9."""
    call, last4 = state.channel, state.facts.number[-4:]
    for attempt in (1, 2):
        await state.step("identity")
        key, early = early, ""
        key = (
            key
            or await call.play(sound("survey-identity"), _PARTY_KEYS)
            or await call.say_digits(last4, _PARTY_KEYS)
            or await state.ask("survey-identity-confirm")
        )
        if await _answered(state, key, attempt, "wrong_party", "survey-wrong-party"):
            return
    await state.end("no_input", "survey-no-input")


async def _yes_no(state: _Call, step: str, prompt: str, outcome: str, sorry: str) -> None:
    for attempt in (1, 2):
        await state.step(step)
        if await _answered(state, await state.ask(prompt), attempt, outcome, sorry):
            return
    await state.end("no_input", "survey-no-input")


async def _answered(state: _Call, key: str, attempt: int, outcome: str, sorry: str) -> bool:
    """True on 1; ends the call on 2 (``outcome``) or 9; False to ask again."""
    if key == "1":
        return True
    if key == "2":
        await state.end(outcome, sorry)
    if key == OPT_OUT_KEY:
        await state.end("opted_out", "survey-optout")
    if key and attempt == 1:
        await state.channel.play(sound("invalid-key"))
    return False


async def _score_item(state: _Call, item: SurveyItem) -> None:
    call = state.channel
    silent = 0
    for attempt in (1, 2):
        await state.step(f"item:{item.key}")
        key = await state.ask(f"survey-item-{item.key}")
        score = score_from_key(key)
        if score is not None:
            log.info("[%s] survey %s = %s", call.linkedid, item.key, score)
            await call.set_variable(VAR_SCORE, f"{item.key}:{score}")
            try:
                await state.deps.book.score(state.facts, item.key, score, state.deps.clock())
            except DatabaseError as exc:  # the call record's timeline still has it
                log.warning("[%s] survey score not stored: %s", call.linkedid, exc)
            return
        if key:
            log.info("[%s] survey %s: invalid key %r", call.linkedid, item.key, key)
            if attempt == 1:
                await call.play(sound("invalid-key"))
        else:
            silent += 1
    if silent == 2:
        await state.end("no_input", "survey-no-input")
    log.info("[%s] survey %s left unscored", call.linkedid, item.key)


async def _comment(state: _Call) -> None:
    """如您还有意见或建议,请在提示音后留言,按井号键结束 (Record; kept if they hang up)."""
    call, settings = state.channel, state.deps.settings
    await state.step("comment")
    await call.play(sound("survey-comment"))
    path = f"{settings.comment_dir.rstrip('/')}/{state.facts.code}"
    state.comment = f"{path}.wav"
    await call.exec(
        "Record",
        f"{path}.wav",
        str(settings.comment_silence_seconds),
        str(settings.comment_max_seconds),
        "k",
        command_timeout=settings.comment_max_seconds + 15.0,
    )
    status = await call.get_variable("RECORD_STATUS")
    if status == "ERROR":
        log.warning("[%s] survey comment not recorded", call.linkedid)
        state.comment = ""
