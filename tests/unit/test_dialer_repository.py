"""The dialer's repository on SQLite and PostgreSQL (each test runs on both)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from dialer.amd_report import AmdReport
from dialer.campaigns import Campaign, SpecError, build_spec
from dialer.contacts import ContactIn
from dialer.numbers import NumberGuard
from dialer.repository import Answered, CampaignExists, ConfigDncEntry, DialerRepository, Finished
from dialer.states import AttemptStatus, CampaignStatus, Disposition
from hotline.config_dialer import DialerSettings
from hotline.db import create_engine, session_factory

SETTINGS = DialerSettings()
GUARD = NumberGuard(SETTINGS.allowed_patterns)
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
S = timedelta(seconds=1)


@pytest.fixture
def repo(engine: AsyncEngine) -> DialerRepository:
    return DialerRepository(session_factory(engine))


async def make(repo: DialerRepository, name: str = "survey", **fields: Any) -> Campaign:
    return await repo.create_campaign(build_spec({"name": name, **fields}, SETTINGS, T0))


def contacts(*numbers: str, zone: str = "Asia/Shanghai") -> list[ContactIn]:
    return [ContactIn(i, n, timezone=zone) for i, n in enumerate(numbers, 2)]


async def test_campaigns_round_trip_with_defaults(repo: DialerRepository) -> None:
    made = await make(repo, deadline="today", retry={"busy": 60}, amd=True)
    assert made.status is CampaignStatus.DRAFT
    assert made.deadline == datetime(2026, 11, 23, 15, 59, 59, tzinfo=UTC)  # 23:59:59 +08
    assert made.retry == {"busy": 60}
    assert made.windows["mon"] == [("09:00", "11:30"), ("14:00", "17:30"), ("19:00", "20:30")]
    assert await repo.campaign("survey") == made
    assert await repo.campaign(str(made.id)) == made
    assert await repo.campaign("nope") is None
    with pytest.raises(CampaignExists):
        await make(repo)
    assert await repo.set_status(made.id, CampaignStatus.RUNNING, [CampaignStatus.DRAFT])
    assert not await repo.set_status(made.id, CampaignStatus.RUNNING, [CampaignStatus.DRAFT])
    assert [c.name for c in await repo.campaigns([CampaignStatus.RUNNING])] == ["survey"]


async def test_duplicates_merge_with_existing_contacts(repo: DialerRepository) -> None:
    made = await make(repo)
    assert await repo.add_contacts(made.id, contacts("13900000001", "13900000002"), T0) == (2, 0)
    assert await repo.add_contacts(made.id, contacts("13900000002", "13900000003"), T0) == (1, 1)
    other = await make(repo, "other")
    assert await repo.add_contacts(other.id, contacts("13900000001", zone="Asia/Urumqi"), T0) == (
        1,
        0,
    )
    assert (await repo.campaign("other")).timezones == ("Asia/Urumqi",)  # type: ignore[union-attr]
    assert len(await repo.contacts_of(made.id)) == 3


async def test_claim_commits_dialing_attempts_and_closes_dnc_and_blocked(
    repo: DialerRepository,
) -> None:
    made = await make(repo)
    numbers = ("13900000001", "13900000002", "13900000003", "13800000004", "13900000005")
    await repo.add_contacts(made.id, contacts(*numbers), T0)
    await repo.add_dnc("13900000002", "api", "asked")
    mobiles_139 = NumberGuard([r"139\d{8}"])
    claims = await repo.claim(
        made, 10, ("Asia/Shanghai",), "n1", T0, mobiles_139, frozenset({"13900000005"})
    )
    assert [c.number for c in claims] == ["13900000001", "13900000003"]
    assert len({c.code for c in claims}) == 2 and all(c.seq == 1 for c in claims)
    states = {c["number"]: c["state"] for c in await repo.contacts_of(made.id)}
    assert states == {
        "13900000001": "dialing",
        "13900000002": "dnc",
        "13900000003": "dialing",
        "13800000004": "blocked",
        "13900000005": "dnc",
    }
    flights = await repo.in_flight("n1")
    assert {f.code for f in flights} == {c.code for c in claims}
    assert all(f.status is AttemptStatus.DIALING for f in flights)
    assert await repo.in_flight("n2") == []
    assert await repo.active_counts() == {made.id: 2}
    assert await repo.claim(made, 10, ("Asia/Shanghai",), "n1", T0, GUARD) == []
    steering = await repo.steering([made.status])  # what the engine reads each second
    assert [c.id for c in steering.campaigns] == [made.id] and steering.active == {made.id: 2}
    assert (await repo.steering([CampaignStatus.PAUSED])).campaigns == []


async def test_steering_says_when_each_running_campaign_has_a_contact_due(
    repo: DialerRepository,
) -> None:
    """The engine claims from a campaign only once a contact is due (an empty running
    campaign cost a claim every second)."""
    made = await make(repo)
    empty = await make(repo, "empty")
    for campaign in (made, empty):
        assert await repo.set_status(campaign.id, CampaignStatus.RUNNING, [CampaignStatus.DRAFT])
    later = T0 + timedelta(minutes=5)
    await repo.add_contacts(made.id, contacts("13900000001"), later)
    await repo.add_contacts(made.id, contacts("13900000002"), T0 + timedelta(minutes=9))
    steering = await repo.steering([CampaignStatus.RUNNING])
    assert [c.id for c in steering.campaigns] == [made.id, empty.id]
    assert steering.first_due == {made.id: later}  # aware UTC, as the engine's clock
    assert steering.first_due[made.id].tzinfo is not None
    assert await repo.set_status(made.id, CampaignStatus.PAUSED, [CampaignStatus.RUNNING])
    assert (await repo.steering([CampaignStatus.RUNNING, CampaignStatus.PAUSED])).first_due == {}


async def test_claim_respects_due_times_order_and_zones(repo: DialerRepository) -> None:
    made = await make(repo)
    await repo.add_contacts(made.id, contacts("13900000001", "13900000002"), T0)
    await repo.add_contacts(made.id, contacts("13900000003"), T0 + timedelta(minutes=5))
    await repo.add_contacts(made.id, contacts("13900000004", zone="Asia/Urumqi"), T0)
    made = await repo.campaign(made.id)  # type: ignore[assignment]
    zones = ("Asia/Shanghai",)
    [first] = await repo.claim(made, 1, zones, "n1", T0, GUARD)
    rest = await repo.claim(made, 10, zones, "n1", T0, GUARD)
    assert (first.number, [c.number for c in rest]) == ("13900000001", ["13900000002"])
    later = await repo.claim(made, 10, zones, "n1", T0 + timedelta(minutes=5), GUARD)
    assert [c.number for c in later] == ["13900000003"]
    both = made.callee_zones()
    assert [c.number for c in await repo.claim(made, 10, both, "n1", T0, GUARD)] == ["13900000004"]


async def test_outcomes_follow_the_retry_rule_and_apply_is_idempotent(
    repo: DialerRepository,
) -> None:
    made = await make(repo, retry={"busy": 600}, max_attempts=2)
    await repo.add_contacts(made.id, contacts("13900000001", "13900000002"), T0)
    a, b = await repo.claim(made, 2, ("Asia/Shanghai",), "n1", T0, GUARD)
    at = T0 + timedelta(seconds=30)
    changes: list[Answered | Finished] = [
        Answered(a.code, T0 + timedelta(seconds=5)),
        Finished(a.code, Disposition.ANSWERED_HUMAN, at, cause=16),
        Finished(b.code, Disposition.BUSY, at, cause=17, dial_status="BUSY"),
    ]
    await repo.apply(changes, at)
    await repo.apply(changes, at + timedelta(hours=1))  # replayed: nothing changes
    rows = {c["number"]: c for c in await repo.contacts_of(made.id)}
    assert (rows["13900000001"]["state"], rows["13900000001"]["last_disposition"]) == (
        "done",
        "answered_human",
    )
    assert rows["13900000002"]["state"] == "pending"
    assert rows["13900000002"]["next_at"] == at + timedelta(seconds=600)
    attempts = {x["code"]: x for x in await repo.attempts_of(made.id)}
    assert attempts[a.code]["answered_at"] == T0 + timedelta(seconds=5)
    assert attempts[b.code]["dial_status"] == "BUSY"
    assert await repo.claim(made, 5, ("Asia/Shanghai",), "n1", at, GUARD) == []  # not yet due
    [again] = await repo.claim(
        made, 5, ("Asia/Shanghai",), "n1", at + timedelta(seconds=600), GUARD
    )
    assert again.seq == 2 and again.code != b.code
    await repo.apply([Finished(again.code, Disposition.BUSY, at)], at)
    assert {c["number"]: c["state"] for c in await repo.contacts_of(made.id)}[
        "13900000002"
    ] == "done"  # the second busy was the last attempt
    progress = await repo.progress(made.id)
    assert progress["contacts"] == {
        "total": 2,
        "pending": 0,
        "dialing": 0,
        "done": 2,
        "dnc": 0,
        "blocked": 0,
        "expired": 0,
    }
    assert progress["finished"] == 2
    assert progress["results"] == {"answered_human": 1, "busy": 1}
    assert progress["attempts"] == {"total": 3, "in_flight": 0, "answered_human": 1, "busy": 2}


async def test_not_sent_refunds_optout_lists_blocked_closes(repo: DialerRepository) -> None:
    made = await make(repo)
    await repo.add_contacts(made.id, contacts("13900000001", "13900000002", "13900000003"), T0)
    a, b, c = await repo.claim(made, 3, ("Asia/Shanghai",), "n1", T0, GUARD)
    await repo.apply(
        [
            Finished(a.code, Disposition.FAILED, T0, detail="not sent", refund=True),
            Finished(b.code, Disposition.ANSWERED_HUMAN, T0, optout=True),
            Finished(c.code, Disposition.BLOCKED, T0, detail="guard"),
        ],
        T0,
    )
    rows = {x["number"]: x for x in await repo.contacts_of(made.id)}
    assert (rows["13900000001"]["state"], rows["13900000001"]["attempts"]) == ("pending", 0)
    assert rows["13900000002"]["state"] == "dnc"
    assert rows["13900000003"]["state"] == "blocked"
    assert [(d["number"], d["source"]) for d in await repo.dnc()] == [("13900000002", "optout")]
    # the opted-out number is closed in every other campaign before anyone dials it
    other = await make(repo, "other")
    await repo.add_contacts(other.id, contacts("13900000002"), T0)
    assert await repo.claim(other, 5, ("Asia/Shanghai",), "n1", T0, GUARD) == []
    assert (await repo.contacts_of(other.id))[0]["state"] == "dnc"


async def test_deadline_expires_and_finished_campaigns_close(repo: DialerRepository) -> None:
    late = await make(repo, "late", deadline=(T0 + timedelta(hours=1)).isoformat())
    done = await make(repo, "done")
    empty = await make(repo, "empty")  # started before its import
    await repo.add_contacts(late.id, contacts("13900000001"), T0)
    await repo.add_contacts(done.id, contacts("13900000002"), T0)
    for made in (late, done, empty):
        await repo.set_status(made.id, CampaignStatus.RUNNING, [CampaignStatus.DRAFT])
    # its only contact is closed (on the DNC list) without a call: nothing left to dial
    assert (
        await repo.claim(done, 5, ("Asia/Shanghai",), "n1", T0, GUARD, frozenset({"13900000002"}))
        == []
    )
    assert await repo.close_finished(T0) == ["done"]
    assert await repo.close_finished(T0 + timedelta(hours=1)) == ["late"]
    assert (await repo.contacts_of(late.id))[0]["state"] == "expired"
    assert [c.name for c in await repo.campaigns([CampaignStatus.RUNNING])] == ["empty"]
    await repo.add_contacts(empty.id, contacts("13900000003"), T0)  # an import still lands


async def test_config_dnc_is_synchronised(repo: DialerRepository) -> None:
    await repo.add_dnc("13900000009", "api", "by hand")
    await repo.sync_config_dnc(["13900000001", "13900000002"])
    await repo.sync_config_dnc(["13900000002"])
    listed = {(d["number"], d["source"]) for d in await repo.dnc()}
    assert listed == {("13900000002", "config"), ("13900000009", "api")}
    assert await repo.remove_dnc("13900000009")
    assert not await repo.remove_dnc("13900000009")
    with pytest.raises(ConfigDncEntry, match=r"dialer\.dnc"):  # it would come back at the start
        await repo.remove_dnc("13900000002")
    assert [d["number"] for d in await repo.dnc()] == ["13900000002"]


async def test_two_nodes_claiming_at_once_never_share_a_contact(
    engine: AsyncEngine, database_url: str
) -> None:
    """On PostgreSQL the claims run in parallel (SKIP LOCKED); SQLite serialises them."""
    first = DialerRepository(session_factory(engine))
    made = await make(first)
    numbers = [f"139{i:08d}" for i in range(400)]
    await first.add_contacts(made.id, contacts(*numbers), T0)
    other_engine = create_engine(database_url)
    second = DialerRepository(session_factory(other_engine))
    try:

        async def node(repo: DialerRepository, name: str) -> list[str]:
            got: list[str] = []
            while (await repo.progress(made.id))["pending"]:
                claims = await repo.claim(made, 7, ("Asia/Shanghai",), name, T0, GUARD)
                got += [c.number for c in claims]
                await asyncio.sleep(0)
            return got

        a, b = await asyncio.gather(*(node(first, "n1"), node(second, "n2")))
    finally:
        await other_engine.dispose()
    assert not set(a) & set(b)
    assert sorted(a + b) == sorted(numbers)
    attempts = await first.attempts_of(made.id)
    assert len(attempts) == 400 and {x["seq"] for x in attempts} == {1}
    if "postgresql" in database_url:
        assert a and b  # both nodes really worked in parallel


async def test_an_agent_first_campaign_rings_each_agent_once_at_a_time(
    repo: DialerRepository,
) -> None:
    made = await make(repo, "assisted", type="apology", agent_first=True, agi_route="apology")
    assert made.agent_first
    await repo.set_status(made.id, CampaignStatus.RUNNING, [CampaignStatus.DRAFT])
    running = await repo.campaign(made.id)
    assert running is not None
    people = [
        ContactIn(2, "13900000001", data={"agent": "1001"}),
        ContactIn(3, "13900000002", data={"agent": "1001"}),
        ContactIn(4, "13900000003", data={"agent": "1002"}),
    ]
    await repo.add_contacts(made.id, people, T0)
    zones = ("Asia/Shanghai",)
    first = await repo.claim(running, 10, zones, "n1", T0, GUARD)
    assert sorted((c.number, c.agent) for c in first) == [
        ("13900000001", "1001"),
        ("13900000003", "1002"),
    ]
    assert await repo.claim(running, 10, zones, "n1", T0, GUARD) == []  # both agents busy
    done = [Finished(c.code, Disposition.ANSWERED_HUMAN, T0) for c in first if c.agent == "1001"]
    await repo.apply(done, T0)
    [second] = await repo.claim(running, 10, zones, "n1", T0, GUARD)
    assert (second.number, second.agent) == ("13900000002", "1001")


def test_agent_first_needs_a_flow() -> None:
    with pytest.raises(SpecError) as refused:
        build_spec({"name": "x", "agent_first": True}, SETTINGS, T0)
    assert refused.value.field == "agent_first"


@pytest.mark.parametrize(
    ("kind", "silence_is_human"),
    [("callback_survey", True), ("apology", True), ("promised_callback", True), ("ivr", False)],
)
async def test_a_silent_answer_is_a_person_for_the_campaigns_that_talk_to_people(
    repo: DialerRepository, kind: str, silence_is_human: bool
) -> None:
    """Survey, apology and promised callbacks hang up on nobody who waits for us to speak
    (``amd_silence_is_human``), unless a campaign says otherwise; the setting is stored."""
    made = await make(repo, f"c-{kind}", type=kind)
    assert made.amd_silence_is_human is silence_is_human
    assert made.to_json()["amd_silence_is_human"] is silence_is_human
    off = await make(repo, f"off-{kind}", type=kind, amd_silence_is_human=False)
    assert (await repo.campaign(off.id)) == off and not off.amd_silence_is_human


async def test_the_amd_report_counts_each_verdict_and_what_was_done(
    repo: DialerRepository, engine: AsyncEngine
) -> None:
    made = await make(repo, "visit", type="callback_survey")
    numbers = ("13900000001", "13900000002", "13900000003", "13900000004")
    await repo.add_contacts(made.id, contacts(*numbers), T0)
    claims = await repo.claim(made, 10, ("Asia/Shanghai",), "n1", T0, GUARD)
    verdicts = {
        "13900000001": ("MACHINE:INITIALSILENCE:person", Disposition.ANSWERED_HUMAN),
        "13900000002": ("MACHINE:INITIALSILENCE:person", Disposition.ANSWERED_HUMAN),
        "13900000003": ("MACHINE:LONGGREETING", Disposition.ANSWERED_MACHINE),
        "13900000004": ("", Disposition.NO_ANSWER),  # AMD never ran: not in the report
    }
    await repo.apply(
        [Finished(c.code, verdicts[c.number][1], T0, amd=verdicts[c.number][0]) for c in claims],
        T0,
    )
    rows = await AmdReport(session_factory(engine)).rows(T0 - timedelta(hours=1), T0 + S)
    assert rows == [
        {
            "campaign": "visit",
            "type": "callback_survey",
            "status": "MACHINE",
            "cause": "INITIALSILENCE",
            "taken_for_person": True,
            "attempts": 2,
            "answered_human": 2,
            "answered_machine": 0,
        },
        {
            "campaign": "visit",
            "type": "callback_survey",
            "status": "MACHINE",
            "cause": "LONGGREETING",
            "taken_for_person": False,
            "attempts": 1,
            "answered_human": 0,
            "answered_machine": 1,
        },
    ]
    assert await AmdReport(session_factory(engine)).rows(T0 + S, T0 + 2 * S) == []
