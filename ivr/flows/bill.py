"""Self-service bill enquiry: account number in, amount due out.

The caller types the 10-digit account number and ``#``. A number that fails the check
digit is refused at once; one the directory does not know gets an apology too; either
way the caller may try once more, then an agent takes over (they clearly need one). The
amount is said as 元 and 分, with the due date; then 0 for an agent, repeat, back, or
silence for goodbye (a wrong key is apologised for, as in the menu). A directory that
fails or is slow also hands the caller to an agent.
"""

from __future__ import annotations

import asyncio
import logging
from enum import StrEnum

from hotline.errors import DatabaseError
from ivr.agi import AgiChannel
from ivr.flows.common import sound
from ivr.flows.deps import InboundDeps
from ivr.flows.speech import Part, Play, amount_speech, date_speech, speak
from ivr.lookup import Bill, valid_account

__all__ = ["ACCOUNT_ATTEMPTS", "AGENT_KEY", "BillOutcome", "bill_enquiry", "bill_speech"]

log = logging.getLogger(__name__)

ACCOUNT_ATTEMPTS = 2
ACCOUNT_MAX_DIGITS = 16  # longer than an account, so # ends the entry and typos show
AGENT_KEY = "0"


class BillOutcome(StrEnum):
    AGENT = "agent"  # put the caller through to an agent
    DONE = "done"  # served: say goodbye
    BACK = "back"  # back to the menu


def bill_speech(bill: Bill | None) -> list[Part]:
    """The amount due and its due date, or that nothing is due."""
    if bill is None or bill.amount_due <= 0:
        return [Play("bill-nothing-due")]
    parts: list[Part] = [Play("bill-amount"), *amount_speech(bill.amount_due)]
    if bill.due_date is not None:
        parts += [Play("bill-due"), *date_speech(bill.due_date)]
    return parts


async def _account(call: AgiChannel, deps: InboundDeps) -> str | None:
    """A known account number, or None after two failed attempts."""
    directory, ivr = deps.directory, deps.ivr
    for attempt in range(1, ACCOUNT_ATTEMPTS + 1):
        prompt = sound("bill-enter-account")
        digits = await call.read_digits(prompt, ivr.account_timeout_seconds, ACCOUNT_MAX_DIGITS)
        if not digits:
            log.info("[%s] bill: no account entered (attempt %s)", call.linkedid, attempt)
            continue
        if not valid_account(digits):
            log.info("[%s] bill: invalid account (attempt %s)", call.linkedid, attempt)
            await call.play(sound("bill-invalid-account"))
            continue
        async with asyncio.timeout(ivr.lookup_timeout_seconds):
            customer = await directory.by_account(digits)
        if customer is not None:
            return digits
        log.info("[%s] bill: unknown account (attempt %s)", call.linkedid, attempt)
        await call.play(sound("bill-unknown-account"))
    return None


async def bill_enquiry(call: AgiChannel, deps: InboundDeps) -> BillOutcome:
    """Ask for the account, say what is due, and ask what next."""
    menu, ivr = deps.menu, deps.ivr
    try:
        account = await _account(call, deps)
        if account is None:
            await call.play(sound("fallback"))  # 正在为您转接人工服务
            return BillOutcome.AGENT
        async with asyncio.timeout(ivr.lookup_timeout_seconds):
            bill = await deps.directory.current_bill(account)
    except (DatabaseError, TimeoutError) as exc:
        log.warning("[%s] bill: directory failed: %s", call.linkedid, exc or "timeout")
        await call.play(sound("bill-failed"))
        return BillOutcome.AGENT
    log.info("[%s] bill: account found, %s due", call.linkedid, bill.amount_due if bill else 0)
    keys = AGENT_KEY + menu.repeat_key + menu.back_key
    say_amount, wrong = True, 0
    while True:
        key = await speak(call, bill_speech(bill), keys) if say_amount else ""
        say_amount = False
        if not key:
            key = await call.read_digits(sound("bill-after"), ivr.digit_timeout_seconds, 1)
        if key == menu.repeat_key:
            say_amount = True
        elif key == AGENT_KEY:
            return BillOutcome.AGENT
        elif key == menu.back_key:
            return BillOutcome.BACK
        elif not key:
            return BillOutcome.DONE
        else:
            wrong += 1
            if wrong > ivr.invalid_retries:
                return BillOutcome.DONE
            await call.play(sound("invalid-key"))
