"""The automated apology call (致歉外呼), run when the customer of a complaint answers.

您好,这里是燃气客服热线 — 关于您<11月29日>反映的问题 … 现在方便吗? 1 now, 2 later (the
dialer calls again before the deadline: ``rescheduled``), 3 no need (``refused``); then
the recorded apology for the ticket's kind (service error or attitude) and thanks
(``apologised``). Silence asks once more, then the call is tried again later; a customer
who hangs up before the apology ends is recorded as ``hung_up`` (the ticket stays open,
and the SMS apology follows if no later call reaches them).

Agent-assisted campaigns (``agent_first``) ring the responsible agent first:
``apology-whisper`` tells them the ticket, then the customer is dialled and
``apology-confirm`` asks the same convenience question before joining them to the agent.

The date is said in Mandarin from prompts ``month-<1..12>`` and ``day-<1..31>``.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from hotline.errors import AgiHangup, DatabaseError
from ivr.agi import AgiChannel
from ivr.flows.common import bounded, sound

__all__ = [
    "ApologyBook",
    "ApologyDeps",
    "apology_confirm_flow",
    "apology_flow",
    "apology_whisper_flow",
    "date_prompts",
]

log = logging.getLogger(__name__)

VAR_OUTCOME = "HOTLINE_APOLOGY"
VAR_STEP = "HOTLINE_APOLOGY_STEP"
VAR_RETRY = "HOTLINE_RETRY"
VAR_CONFIRMED = "HOTLINE_CONFIRMED"
VAR_WHISPERED = "HOTLINE_WHISPERED"
LOOKUP_SECONDS = 3.0
_CODE = re.compile(r"^[\w.-]{1,64}$")


class TicketLike(Protocol):
    @property
    def ticket_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def contact_date(self) -> date: ...


class ApologyBook(Protocol):
    async def begin(self, code: str) -> TicketLike | None: ...
    async def outcome(self, code: str, outcome: str, now: datetime) -> None: ...


@dataclass(frozen=True)
class ApologyDeps:
    book: ApologyBook
    digit_timeout: float
    clock: Callable[[], datetime]


def date_prompts(day: date) -> list[str]:
    """11月29日 as prompt files: ``month-11``, ``day-29``."""
    return [sound(f"month-{day.month}"), sound(f"day-{day.day}")]


async def apology_flow(call: AgiChannel, deps: ApologyDeps) -> None:
    """The automated apology: convenience, then the recorded script for the kind."""
    await _with_ticket(call, deps, _automated)


async def apology_confirm_flow(call: AgiChannel, deps: ApologyDeps) -> None:
    """Agent-assisted, on the customer's channel before the bridge: is now convenient?
    ``HOTLINE_CONFIRMED=1`` joins them to the waiting agent, who apologises in person."""
    await _with_ticket(call, deps, _confirm)


async def apology_whisper_flow(call: AgiChannel, deps: ApologyDeps) -> None:
    """Agent-assisted, on the agent's phone when they answer: which ticket, which kind.
    ``HOTLINE_WHISPERED=1`` lets the dialplan dial the customer."""
    code = call.args[0] if call.args else call.linkedid
    ticket = None
    if _CODE.fullmatch(code):
        ticket = await bounded(call, "ticket look-up", deps.book.begin(code), LOOKUP_SECONDS)
    if ticket is None:
        log.warning("[%s] apology whisper: no open ticket for %s", call.linkedid, code[:64])
        await call.play(sound("apology-no-ticket"))
        return
    await call.play(sound("apology-whisper"))
    await call.play(sound(f"apology-kind-{ticket.kind.replace('_', '-')}"))
    digits = "".join(ch for ch in ticket.ticket_id if ch.isdigit())
    if digits:
        await call.play(sound("apology-ticket"))
        await call.say_digits(digits[-12:])
    await call.play(sound("apology-connecting"))
    await call.set_variable(VAR_WHISPERED, "1")
    log.info("[%s] apology whisper for ticket %s done", call.linkedid, ticket.ticket_id)


Talk = Callable[[AgiChannel, ApologyDeps, "TicketLike"], Awaitable[str]]


async def _with_ticket(call: AgiChannel, deps: ApologyDeps, talk: Talk) -> None:
    code = call.args[0] if call.args else call.linkedid
    if not _CODE.fullmatch(code):
        log.warning("[%s] apology: refused attempt code %r", call.linkedid, code[:80])
        return
    ticket = await bounded(call, "ticket look-up", deps.book.begin(code), LOOKUP_SECONDS)
    if ticket is None:  # no open ticket or database down: nothing to say; try again later
        log.warning("[%s] apology: no open ticket for attempt %s", call.linkedid, code)
        await call.set_variable(VAR_RETRY, "1")
        await call.play(sound("survey-later"))
        return
    outcome = "hung_up"
    try:
        outcome = await talk(call, deps, ticket)
    finally:
        try:
            await deps.book.outcome(code, outcome, deps.clock())
        except DatabaseError as exc:
            log.warning("[%s] apology outcome %s not stored: %s", call.linkedid, outcome, exc)


async def _automated(call: AgiChannel, deps: ApologyDeps, ticket: TicketLike) -> str:
    ended = await _convenient(call, deps, ticket)
    if ended:
        return ended
    await call.set_variable(VAR_STEP, "script")
    kind = ticket.kind.replace("_", "-")
    await call.play(sound(f"apology-script-{kind}"))  # the apology; then what was done,
    await call.play(sound(f"apology-amends-{kind}"))  # two short prompts, not one long one
    return await _end(call, "apologised", "apology-thanks")


async def _confirm(call: AgiChannel, deps: ApologyDeps, ticket: TicketLike) -> str:
    ended = await _convenient(call, deps, ticket)
    if ended:
        return ended
    await call.set_variable(VAR_CONFIRMED, "1")
    await call.set_variable(VAR_OUTCOME, "apologised")
    log.info("[%s] apology: customer joined to the agent", call.linkedid)
    return "apologised"  # the agent apologises in person


async def _convenient(call: AgiChannel, deps: ApologyDeps, ticket: TicketLike) -> str:
    """Empty when now is convenient; else the outcome the call ended with."""
    log.info("[%s] apology for ticket %s (%s)", call.linkedid, ticket.ticket_id, ticket.kind)
    early = await call.play(sound("apology-intro"), "123")  # a key now answers the question
    for attempt in (1, 2):
        await call.set_variable(VAR_STEP, "convenience")
        key, early = early, ""
        key = key or await call.play(sound("apology-about"), "123")
        for prompt in date_prompts(ticket.contact_date):
            key = key or await call.play(prompt, "123")
        key = key or await call.read_digits(sound("apology-convenience"), deps.digit_timeout, 1)
        if key == "1":
            return ""
        if key == "2":
            return await _end(call, "rescheduled", "apology-later", retry=True)
        if key == "3":
            return await _end(call, "refused", "apology-refused")
        if key and attempt == 1:
            await call.play(sound("invalid-key"))
    return await _end(call, "no_input", "survey-no-input", retry=True)


async def _end(call: AgiChannel, outcome: str, prompt: str, *, retry: bool = False) -> str:
    """Report the outcome (and the wish for another call) before the last words."""
    if retry:
        await call.set_variable(VAR_RETRY, "1")
    await call.set_variable(VAR_OUTCOME, outcome)
    log.info("[%s] apology ends: %s", call.linkedid, outcome)
    with contextlib.suppress(AgiHangup):  # the outcome stands: they heard what mattered
        await call.play(sound(prompt))
    return outcome
