"""The Originate of an attempt, its outcomes, and the dialer settings' validation."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from dialer.numbers import NumberGuard
from dialer.originate import Outcome, originate, originate_headers
from dialer.repository import Claim
from hotline.ami import AmiResponse
from hotline.ami_actions import AmiEvent
from hotline.config_dialer import DialerSettings
from hotline.errors import AmiError, AmiNotConnected
from tests.unit.test_dialer_scheduler import campaign

CLAIM = Claim(41, "dl-9-2-0badc0de", 1, 9, "13900000001", 2)
SETTINGS = DialerSettings()
GUARD = NumberGuard(SETTINGS.allowed_patterns)


def test_headers_carry_the_attempt_so_every_event_maps_back() -> None:
    survey = campaign(amd=True, amd_silence_is_human=True, agi_route="survey")
    headers = originate_headers(CLAIM, survey, SETTINGS)
    assert headers == {
        "Channel": "PJSIP/13900000001@carrier",
        "Context": "dialer-outbound",
        "Exten": "s",
        "Priority": "1",
        "Timeout": "30000",
        "Async": "true",
        "ChannelId": "dl-9-2-0badc0de",  # the channel's Uniqueid and the call's linkedid
        "CallerID": '"95007" <95007>',
        "Variable": [
            "HOTLINE_DIRECTION=outbound",
            "HOTLINE_DID=13900000001",
            "DIALER_ATTEMPT=41",
            "DIALER_ATTEMPT_CODE=dl-9-2-0badc0de",
            "DIALER_CAMPAIGN=1",
            "DIALER_AMD=1",
            "DIALER_AMD_SILENCE=1",  # a silent answer is a person waiting for us
            "DIALER_RECORD=1",  # recorded unless the campaign says not
            "DIALER_ROUTE=survey",
            "DIALER_CONTEXT=dialer-default",
        ],
    }


def test_a_campaign_that_does_not_record_says_so_to_the_dialplan() -> None:
    variables = originate_headers(CLAIM, campaign(record=False), SETTINGS)["Variable"]
    assert "DIALER_RECORD=0" in variables and "DIALER_RECORD=1" not in variables


def test_an_agent_first_call_rings_the_agent_and_carries_the_customer() -> None:
    claim = Claim(41, "dl-9-2-0badc0de", 1, 9, "13900000001", 2, "1001")
    headers = originate_headers(claim, campaign(agi_route="apology", agent_first=True), SETTINGS)
    assert (headers["Channel"], headers["Context"]) == ("PJSIP/agent-1001", "dialer-agent-first")
    assert headers["ChannelId"] == "dl-9-2-0badc0de"  # the agent's leg carries the attempt
    variables = headers["Variable"]
    assert isinstance(variables, list)
    assert variables[-2:] == ["DIALER_DIAL=PJSIP/13900000001@carrier", "DIALER_RING=30"]
    assert "HOTLINE_DID=13900000001" in variables  # the record's called party: the customer


@pytest.mark.parametrize("agent", ["x;y", "1001\n", "1001\r\nAction: Hangup", "١٠٠١"])
async def test_an_agent_first_call_without_a_valid_agent_is_not_sent(agent: str) -> None:
    """``^[0-9]{3,8}$`` with ``re.match`` took "1001\n": the line break split the Originate."""
    ami = FakeAmi()
    claim = Claim(41, "dl-9-2-0badc0de", 1, 9, "13900000001", 2, agent)
    result, why = await originate(ami, claim, campaign(agent_first=True), SETTINGS, GUARD)  # type: ignore[arg-type]
    assert result is Outcome.REFUSED and "agent" in why
    assert ami.sent == []


class FakeAmi:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.sent: list[dict[str, Any]] = []

    async def action(self, name: str, /, **headers: Any) -> AmiResponse:
        self.sent.append({"Action": name, **headers})
        if self.error is not None:
            raise self.error
        return AmiResponse(AmiEvent({"Response": "Success"}))


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (None, Outcome.SENT),
        (AmiNotConnected("AMI at x is not connected; Originate was not sent"), Outcome.NOT_SENT),
        (
            AmiError(
                "Originate: the AMI connection was lost before its response; "
                "outcome unknown, not re-sent"
            ),
            Outcome.UNKNOWN,
        ),
        (
            AmiError("Originate: no response within 10s; outcome unknown, not re-sent"),
            Outcome.UNKNOWN,
        ),
        (AmiError("Originate refused: Permission denied"), Outcome.REFUSED),
    ],
)
async def test_outcomes_of_the_one_send(error: Exception | None, outcome: Outcome) -> None:
    ami = FakeAmi(error)
    result, _ = await originate(ami, CLAIM, campaign(), SETTINGS, GUARD)  # type: ignore[arg-type]
    assert result is outcome
    assert len(ami.sent) == 1  # exactly one write, whatever happened


async def test_the_guard_is_asked_again_right_before_sending() -> None:
    ami = FakeAmi()
    only_landlines = NumberGuard([r"0\d{9,11}"])
    result, why = await originate(ami, CLAIM, campaign(), SETTINGS, only_landlines)  # type: ignore[arg-type]
    assert result is Outcome.BLOCKED and "toll-fraud" in why
    assert ami.sent == []


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"allowed_patterns": ["(unclosed"]}, "allowed_patterns"),
        ({"allowed_patterns": []}, "allowed_patterns"),
        ({"dnc": ["12ab"]}, "dnc"),
        ({"windows": {"mon": [["09:00", "25:00"]]}}, "windows"),
        ({"windows": {"mon": [["09:00", "11:00"], ["10:00", "12:00"]]}}, "windows"),
        ({"retry_seconds": {"sometimes": 5}}, "retry_seconds"),
        ({"timezone": "Nowhere/City"}, "timezone"),
        ({"trunks": {"bad name": {}}}, "trunks"),
        ({"trunks": {"t": {"dial_string": "PJSIP/x"}}}, "trunks"),
        ({"node": "a b"}, "node"),
    ],
)
def test_settings_are_validated(values: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError) as info:
        DialerSettings(**values)
    assert where in str(info.value)


def test_default_settings_follow_the_service_standard() -> None:
    settings = DialerSettings()
    assert settings.windows["sun"] == [("09:00", "11:30"), ("14:00", "17:30"), ("19:00", "20:30")]
    assert (settings.timezone, settings.holiday_country, settings.max_attempts) == (
        "Asia/Shanghai",
        "CN",
        3,
    )
    assert settings.retry_seconds["busy"] == 600
    assert settings.retry_seconds["no_answer"] == 1800
    assert settings.retry_seconds["congestion"] == 300
    guard = NumberGuard(settings.allowed_patterns)
    assert guard.allowed("13900000001") and guard.allowed("01012345678")
    assert not guard.allowed("0013900000001") and not guard.allowed("12345")
    assert not guard.allowed("900") and not guard.allowed("4008123123")
