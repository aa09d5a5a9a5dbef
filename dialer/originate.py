"""Origination: one AMI ``Originate`` per attempt, sent at most once.

The attempt is already committed as ``dialing`` when this runs (``DialerRepository.claim``).
The Originate is asynchronous (``Async: true``: the response only says it was queued; the
outcome comes as events) and carries ``ChannelId`` = the attempt code, so the customer's
channel has that Uniqueid: every event and every CoreShowChannel row maps back to the
attempt without any lookup table (verified on Asterisk 22). The same code and the attempt
id also ride along as ``DIALER_*`` channel variables for the dialplan and the flows; only
``HOTLINE_DIRECTION`` and ``HOTLINE_DID`` (for the call record) pass the AMI VarSet filter,
so the variables add two events per call, not five.

``hotline.ami.AmiClient`` never re-sends an Originate; this module turns its errors into
what the engine must do: nothing was sent (safe to try the contact again later as a new
attempt), the outcome is unknown (reconcile, never redial blindly), or Asterisk refused.
"""

from __future__ import annotations

import logging
import re
from enum import Enum

from dialer.campaigns import Campaign
from dialer.numbers import NumberGuard
from dialer.repository import Claim
from hotline.ami import AmiClient
from hotline.config_dialer import DialerSettings
from hotline.errors import AmiError, AmiNotConnected

__all__ = ["AGENT_FIRST_CONTEXT", "Outcome", "originate", "originate_headers"]

AGENT_FIRST_CONTEXT = "dialer-agent-first"
_AGENT = re.compile(r"^[0-9]{3,8}$")

log = logging.getLogger(__name__)


class Outcome(Enum):
    SENT = "sent"  # queued by Asterisk: events will tell the rest
    NOT_SENT = "not_sent"  # never written to the socket (AMI down, guard): nothing dialled
    UNKNOWN = "unknown"  # written, but the link broke before the answer: may be dialling
    REFUSED = "refused"  # Asterisk answered Error: nothing dialled
    BLOCKED = "blocked"  # the toll-fraud guard stopped it: never dialled, never will be


def originate_headers(
    claim: Claim, campaign: Campaign, settings: DialerSettings
) -> dict[str, str | list[str]]:
    """The Originate action for one attempt (no I/O, so it is tested as a table)."""
    trunk = settings.trunks[campaign.trunk]
    caller = campaign.caller_id
    customer = trunk.dial_string.format(number=claim.number, trunk=campaign.trunk)
    headers: dict[str, str | list[str]] = {
        "Channel": customer,
        "Context": settings.outbound_context,
        "Exten": "s",
        "Priority": "1",
        "Timeout": str(int(campaign.ring_timeout * 1000)),
        "Async": "true",
        "ChannelId": claim.code,
        "Variable": [
            "HOTLINE_DIRECTION=outbound",
            f"HOTLINE_DID={claim.number}",
            f"DIALER_ATTEMPT={claim.attempt_id}",
            f"DIALER_ATTEMPT_CODE={claim.code}",
            f"DIALER_CAMPAIGN={campaign.id}",
            f"DIALER_AMD={1 if campaign.amd else 0}",
            f"DIALER_AMD_SILENCE={1 if campaign.amd_silence_is_human else 0}",
            f"DIALER_RECORD={1 if campaign.record else 0}",
            f"DIALER_ROUTE={campaign.agi_route}",
            f"DIALER_CONTEXT={campaign.context}",
        ],
    }
    if caller:
        headers["CallerID"] = f'"{caller}" <{caller}>'
    if campaign.agent_first:
        # The agent's phone rings first (the Originate's channel, so the attempt code is
        # the agent leg's Uniqueid); dialplan-outbound.conf whispers, then dials DIALER_DIAL.
        headers["Channel"] = f"PJSIP/agent-{claim.agent}"
        headers["Context"] = AGENT_FIRST_CONTEXT
        variables = headers["Variable"]
        assert isinstance(variables, list)
        variables += [f"DIALER_DIAL={customer}", f"DIALER_RING={int(campaign.ring_timeout)}"]
    return headers


async def originate(
    ami: AmiClient,
    claim: Claim,
    campaign: Campaign,
    settings: DialerSettings,
    guard: NumberGuard,
) -> tuple[Outcome, str]:
    """Send the attempt's Originate once; returns the outcome and a reason for the log."""
    if not guard.allowed(claim.number):  # the last check before anything leaves the host
        log.warning("[%s] toll-fraud guard refused %s", claim.code, claim.number)
        return Outcome.BLOCKED, "refused by the toll-fraud guard"
    if campaign.agent_first and not _AGENT.fullmatch(claim.agent):
        log.warning("[%s] no valid agent %r to ring first", claim.code, claim.agent[:16])
        return Outcome.REFUSED, f"no valid agent {claim.agent[:16]!r} to ring first"
    headers = originate_headers(claim, campaign, settings)
    try:
        await ami.action("Originate", **headers)
    except AmiNotConnected as exc:
        return Outcome.NOT_SENT, str(exc)
    except AmiError as exc:
        text = str(exc)
        if "outcome unknown" in text:
            log.warning("[%s] Originate outcome unknown: %s", claim.code, text)
            return Outcome.UNKNOWN, text
        log.warning("[%s] Originate refused: %s", claim.code, text)
        return Outcome.REFUSED, text
    log.debug("[%s] Originate queued to %s", claim.code, claim.number)
    return Outcome.SENT, "queued"
