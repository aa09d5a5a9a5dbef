"""Callback surveys on the real sandbox: work orders in through the API, the dialer calls
carrier-simulator customers, who press keys when the flow's questions start.

Each customer is a ``1390005xxxx`` number (answers, then stays on the line) driven by the
test: when the spied flow starts a question on that customer's call, the simulator sends
the key (AMI PlayDTMF on its side of the call, RFC 4733 to the hotline). Assertions are on
the stored responses and scores, the attempts, the DNC list, the INVITEs that reached the
carrier and the call records; the fixture checks no channel is left.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hotline.config import Settings
from hotline.config_survey import SurveySettings
from hotline.sandbox import Sandbox
from tests.integration.campaign_support import Customers, customers_of
from tests.integration.dialer_support import dialer_settings, wait_settled
from tests.integration.inbound_support import (
    ServiceFactory,
    api,
)
from tests.integration.test_recordings import recording_of

pytestmark = pytest.mark.asterisk

ITEMS = ("attitude", "competence", "punctuality", "appearance")
MACHINE_GREETING = "MACHINE:LONGGREETING"  # the simulator's machine talks past 1.5 s


def full_survey(*keys: str) -> list[tuple[str, str]]:
    return [
        ("survey-identity-confirm", "1"),
        ("survey-consent", "1"),
        *[(f"survey-item-{item}", key) for item, key in zip(ITEMS, keys, strict=True)],
        ("exec:Record", "#"),
    ]


class Survey(Customers):
    async def campaign(self, name: str, orders: list[dict[str, str]], **fields: Any) -> int:
        campaign_id = await self.create(name, "callback_survey", **fields)
        status, report = await api(
            self.service, "POST", f"/api/v1/campaigns/{name}/orders?seed=test", orders
        )
        assert status == 200, report
        assert report["sample"]["picked"] == len({o["number"] for o in orders}), report
        return campaign_id

    async def responses(self, name: str) -> dict[str, dict[str, Any]]:
        status, body = await api(self.service, "GET", f"/api/v1/campaigns/{name}/survey-responses")
        assert status == 200, body
        return {r["attempt_code"]: r for r in body["responses"]}


def order(order_id: str, number: str, technician: str = "tech-1") -> dict[str, str]:
    return {
        "order_id": order_id,
        "number": number,
        "category": "repair",
        "technician": technician,
        "completed_at": "2026-11-29T10:00:00+08:00",
    }


@pytest.fixture
async def survey(
    make_service: ServiceFactory,
    inbound_settings: Settings,
    inbound_asterisk: Sandbox,
    tmp_path: Path,
) -> AsyncIterator[Survey]:
    settings = dialer_settings(
        inbound_settings, tmp_path, allowed_patterns=[r"139000[0-9]\d{4}"], max_attempts=2
    )
    quick = SurveySettings(
        digit_timeout_seconds=4,
        comment_max_seconds=10,
        comment_silence_seconds=3,
        sampling_default={"rate": 1.0, "min_per_technician": 0},
    )
    settings = settings.model_copy(update={"survey": quick})
    async for customers in customers_of(make_service, settings, inbound_asterisk):
        yield Survey(**vars(customers))


async def test_a_survey_call_stores_each_item_score_and_the_comment(survey: Survey) -> None:
    number = "13900050101"
    await survey.stay(number)
    campaign_id = await survey.campaign("visit", [order("WO-101", number, "tech-7")])
    await survey.start("visit")
    code = await survey.answer(campaign_id, number, full_survey("9", "8", "0", "7"))
    contacts = await wait_settled(survey.dialer.repo, campaign_id, 90)
    assert [(c["state"], c["last_disposition"]) for c in contacts] == [("done", "answered_human")]
    response = (await survey.responses("visit"))[code]
    assert response["scores"] == {
        "attitude": 9,
        "competence": 8,
        "punctuality": 10,
        "appearance": 7,
    }
    assert (response["outcome"], response["order_id"], response["technician"]) == (
        "completed",
        "WO-101",
        "tech-7",
    )
    recording = survey.sandbox.host.root / response["comment_file"].lstrip("/")
    assert recording.is_file(), recording
    said = survey.spy.prompts(code)
    assert said[:4] == [
        "survey-intro",
        "survey-identity",
        "survey-identity-confirm",
        "survey-consent",
    ]
    assert said[4:8] == [f"survey-item-{item}" for item in ITEMS]
    assert said[8:] == ["survey-comment", "exec:Record", "survey-thanks"]
    status, record = await api(survey.service, "GET", f"/api/v1/calls/{code}")
    assert status == 200, record
    assert record["direction"] == "outbound"
    timeline = [e["detail"].get("value") for e in record["timeline"] if e["kind"] == "var"]
    assert "appearance:7" in timeline
    # the survey call was recorded from the answer, the customer's keys and comment in it
    assert record["recording_file"].endswith(f"/{code}.wav"), record
    recorded = await recording_of(survey.service, code)
    assert recorded["status"] == "ok" and recorded["seconds"] > 10, recorded


async def test_wrong_party_refusal_invalid_key_and_opt_out(survey: Survey) -> None:
    wrong, refuses, fumbles, opts_out = "13900050201", "13900050202", "13900050203", "13900050204"
    for number in (wrong, refuses, fumbles, opts_out):
        await survey.stay(number)
    orders = [order(f"WO-2{i}", n) for i, n in enumerate((wrong, refuses, fumbles, opts_out))]
    campaign_id = await survey.campaign("mixed", orders)
    await survey.start("mixed")
    codes = await asyncio.gather(
        survey.answer(campaign_id, wrong, [("survey-intro", "2")]),  # no need to hear it out
        survey.answer(
            campaign_id, refuses, [("survey-identity-confirm", "1"), ("survey-consent", "2")]
        ),
        survey.answer(
            campaign_id,
            fumbles,
            [
                ("survey-identity-confirm", "1"),
                ("survey-consent", "1"),
                ("survey-item-attitude", "*"),
                ("survey-item-attitude", "6"),
                *[(f"survey-item-{item}", "5") for item in ITEMS[1:]],
                ("exec:Record", "#"),
            ],
        ),
        survey.answer(
            campaign_id, opts_out, [("survey-identity-confirm", "1"), ("survey-consent", "9")]
        ),
    )
    repo = survey.dialer.repo
    contacts = {c["number"]: c for c in await wait_settled(repo, campaign_id, 120)}
    responses = await survey.responses("mixed")
    outcomes = {
        number: responses[code]["outcome"]
        for number, code in zip((wrong, refuses, fumbles, opts_out), codes, strict=True)
    }
    assert outcomes == {
        wrong: "wrong_party",
        refuses: "refused",
        fumbles: "completed",
        opts_out: "opted_out",
    }
    assert responses[codes[2]]["scores"] == {item: 5 for item in ITEMS} | {"attitude": 6}
    assert survey.spy.prompts(codes[2]).count("invalid-key") == 1
    assert responses[codes[0]]["scores"] == responses[codes[3]]["scores"] == {}
    assert survey.spy.prompts(codes[0]) == ["survey-intro", "survey-wrong-party"]
    assert survey.spy.prompts(codes[1])[-1] == "survey-refused"
    assert contacts[opts_out]["state"] == "dnc"
    status, dnc = await api(survey.service, "GET", "/api/v1/dnc")
    assert status == 200 and opts_out in {d["number"] for d in dnc["dnc"]}
    # a later survey with a new order of the opted-out customer never dials them
    later_id = await survey.campaign("later", [order("WO-299", opts_out)])
    await survey.start("later")
    [again] = await wait_settled(repo, later_id, 30)
    assert again["state"] == "dnc"
    assert await repo.attempts_of(later_id) == []
    assert len(survey.channels.named("Newchannel", Exten=opts_out)) == 1


async def test_an_answering_machine_is_not_surveyed_and_is_called_again(survey: Survey) -> None:
    machine = "13900060301"
    campaign_id = await survey.campaign(
        "machine", [order("WO-301", machine)], retry={"answered_machine": 2}
    )
    await survey.start("machine")
    repo = survey.dialer.repo
    await wait_settled(repo, campaign_id, 90)
    attempts = await repo.attempts_of(campaign_id)
    assert [(a["seq"], a["disposition"], a["amd_status"]) for a in attempts] == [
        (1, "answered_machine", MACHINE_GREETING),
        (2, "answered_machine", MACHINE_GREETING),
    ]
    assert len(survey.channels.named("Newchannel", Exten=machine)) == 2
    for attempt in attempts:  # an answering machine is hung up on, never recorded
        _, record = await api(survey.service, "GET", f"/api/v1/calls/{attempt['code']}")
        assert record["recording_file"] == "", record
    assert await survey.responses("machine") == {}
    assert survey.spy.prompts() == []


async def test_silence_is_called_again_later_and_the_next_call_goes_on(survey: Survey) -> None:
    quiet = "13900050401"
    await survey.stay(quiet)
    campaign_id = await survey.campaign("quiet", [order("WO-401", quiet)], retry={"later": 2})
    await survey.start("quiet")
    first = await survey.code_of(campaign_id, quiet, 1)
    await survey.spy.wait_for("survey-no-input", 1, 60, linkedid=first)
    second = await survey.answer(campaign_id, quiet, [("survey-identity-confirm", "2")], seq=2)
    await wait_settled(survey.dialer.repo, campaign_id, 60)
    attempts = await survey.dialer.repo.attempts_of(campaign_id)
    assert [a["disposition"] for a in attempts] == ["later", "answered_human"]
    responses = await survey.responses("quiet")
    assert (responses[first]["outcome"], responses[second]["outcome"]) == (
        "no_input",
        "wrong_party",
    )
    said = survey.spy.prompts(first)
    assert said.count("survey-identity-confirm") == 2 and said[-1] == "survey-no-input"


async def test_a_customer_who_answers_and_waits_in_silence_is_surveyed(survey: Survey) -> None:
    """AMD calls three seconds of silence a machine (INITIALSILENCE); for a survey that is
    a person waiting for us to speak: 喂,您好, and the survey goes on."""
    silent = "13900000501"  # answers, then silent until the keys the test presses
    await survey.stay(silent)
    campaign_id = await survey.campaign("silent", [order("WO-501", silent)])
    await survey.start("silent")
    code = await survey.answer(campaign_id, silent, full_survey("8", "8", "9", "0"))
    contacts = await wait_settled(survey.dialer.repo, campaign_id, 120)
    assert [(c["state"], c["last_disposition"]) for c in contacts] == [("done", "answered_human")]
    [attempt] = await survey.dialer.repo.attempts_of(campaign_id)
    assert attempt["amd_status"] == "MACHINE:INITIALSILENCE:person"
    response = (await survey.responses("silent"))[code]
    assert response["outcome"] == "completed"
    assert response["scores"]["appearance"] == 10
    status, report = await api(survey.service, "GET", "/api/v1/reports/amd")
    assert status == 200, report
    rows = [r for r in report["rows"] if r["campaign"] == "silent"]
    assert rows == [
        {
            "campaign": "silent",
            "type": "callback_survey",
            "status": "MACHINE",
            "cause": "INITIALSILENCE",
            "taken_for_person": True,
            "attempts": 1,
            "answered_human": 1,
            "answered_machine": 0,
        }
    ]
