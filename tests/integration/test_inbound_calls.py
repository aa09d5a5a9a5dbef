"""Inbound hotline calls on the real sandbox, asserted on the database.

Each caller is a SIP call from the carrier simulator; keys are RFC 4733 events sent when
the flow's prompt starts (``PromptSpy``). Agents are the simulator's phones ``agent-<id>``
(answer after N rings, talk T seconds, hang up: set per test with AMI DBPut). After each
test neither Asterisk has a channel left and every agent is logged out.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.callrecord import Disposition, ScoreStatus, TimelineEntry
from hotline.config import Settings
from hotline.dialplan_check import run_check
from hotline.prompts import load_prompt_texts
from hotline.render import PROJECT_ROOT, REASSURE_PROMPT, ring_wait_seconds
from hotline.sandbox import AsteriskInstance, Sandbox
from hotline.testcall import live_call
from ivr.callbacks import CallbackRepository
from ivr.demo import DEMO_CUSTOMERS, seed_demo
from tests.integration.inbound_support import (
    ServiceFactory,
    api,
    carrier_events,
    login,
    record_of,
    set_agent,
)

pytestmark = pytest.mark.asterisk

CUSTOMER = DEMO_CUSTOMERS[0]  # 张伟, calls from the simulator's default number


def var_values(timeline: list[TimelineEntry], name: str) -> list[str]:
    return [
        str(entry.detail.get("value"))
        for entry in timeline
        if entry.kind == "var" and entry.detail.get("name") == name
    ]


async def test_menu_to_agent_then_score_9(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    service, spy, events = await make_service()
    await seed_demo(service.sessions)
    await set_agent(inbound_settings, "1001", rings=1, talk=4)
    await login(service, "1001", "repair")
    carrier, phones = await carrier_events(inbound_settings)
    try:
        async with live_call(inbound_settings) as call:
            await spy.wait_for("menu-main")
            await call.press("2")  # 故障报修
            await events.wait("AgentConnect", Queue="repair")
            status, on_call = await api(service, "GET", "/api/v1/agents/1001/call")
            assert status == 200, on_call
            assert (on_call["queue"], on_call["caller"]) == ("repair", CUSTOMER.phone)
            assert on_call["account"] == CUSTOMER.account
            assert on_call["customer"]["name"] == CUSTOMER.name
            _, agent = await api(service, "GET", "/api/v1/agents/1001")
            assert agent["status"] == "on_call"
            answered = await phones.wait("UserEvent", UserEvent="HotlineAgentAnswered")
            assert (answered["Agent"], answered["Queue"]) == ("1001", "repair")
            assert (answered["Caller"], answered["Account"]) == (CUSTOMER.phone, CUSTOMER.account)
            assert answered["HotlineLinkedid"] == on_call["linkedid"]
            await spy.wait_for("score")  # the agent hung up after 4 s: 请您对这次服务评分
            await call.press("9")
            await call.wait_ended(20)
    finally:
        await carrier.close()
    record = await record_of(service, call.sip_call_id)
    assert record.disposition is Disposition.ANSWERED
    assert (record.menu_path, record.category, record.queue) == ("2", "repair", "repair")
    assert record.agent == "1001"
    assert (record.score, record.score_status) == (9, ScoreStatus.SCORED)
    assert record.rings_before_answer == inbound_settings.inbound.answer_after_rings
    assert record.answered_at is not None
    rung = (record.answered_at - record.started_at).total_seconds()
    assert abs(rung - ring_wait_seconds(inbound_settings)) < 1.0
    assert record.wait_seconds is not None and 4.5 <= record.wait_seconds < 8  # one 5 s ring
    assert record.talk_seconds is not None and 3.5 <= record.talk_seconds < 6
    assert spy.said()[:2] == ["welcome", "menu-main"]
    assert spy.said()[-2:] == ["score", "score-thanks"]
    timeline = await service.records.timeline(record.linkedid)
    kinds = [entry.kind for entry in timeline]
    assert kinds.index("queue_join") < kinds.index("agent_connect") < kinds.index("agent_complete")
    assert var_values(timeline, "HOTLINE_SCORE") == ["9"]
    _, agent = await api(service, "GET", "/api/v1/agents/1001")
    assert agent["status"] == "available" and agent["calls_taken"] == 1


async def test_emergency_key_during_the_greeting(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    service, spy, events = await make_service()
    await set_agent(inbound_settings, "1002", rings=0, talk=3)
    await login(service, "1002", "emergency")
    async with live_call(inbound_settings) as call:
        await spy.wait_for("welcome")
        await asyncio.sleep(0.3)  # well inside the greeting
        await call.press("1")
        await events.wait("AgentConnect", Queue="emergency")
        await spy.wait_for("score")
        await call.hangup()  # the caller leaves without scoring
    record = await record_of(service, call.sip_call_id)
    assert "menu-main" not in spy.prompts()
    assert (record.queue, record.category, record.agent) == ("emergency", "emergency", "1002")
    assert record.disposition is Disposition.ANSWERED
    assert (record.score, record.score_status) == (None, ScoreStatus.NOT_SCORED)
    join = events.named("QueueCallerJoin", Queue="emergency")
    assert len(join) == 1 and join[0]["Linkedid"] == record.linkedid


async def test_invalid_key_then_a_valid_one_and_score_10(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    service, spy, events = await make_service()
    await set_agent(inbound_settings, "1001", rings=0, talk=2)
    await login(service, "1001", "reception")
    async with live_call(inbound_settings) as call:
        await spy.wait_for("menu-main")
        await call.press("7")  # no such option
        await spy.wait_for("invalid-key")
        await spy.wait_for("menu-main", count=2)
        await call.press("6")  # 其他咨询
        await events.wait("AgentConnect", Queue="reception")
        await spy.wait_for("score")
        await call.press("0")  # 0 is 10
        await call.wait_ended(20)
    record = await record_of(service, call.sip_call_id)
    assert (record.queue, record.category, record.menu_path) == ("reception", "other", "6")
    assert (record.score, record.score_status, record.agent) == (10, ScoreStatus.SCORED, "1001")


async def test_bill_enquiry_validates_the_account_and_says_the_amount_due(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    service, spy, _ = await make_service()
    await seed_demo(service.sessions)
    async with live_call(inbound_settings) as call:
        await spy.wait_for("menu-main")
        await call.press("3")  # 账单查询与缴费
        await spy.wait_for("menu-billing")
        await call.press("1")  # 自助查询应缴金额
        await spy.wait_for("bill-enter-account")
        await call.press("1234567890#")  # ten digits, wrong check digit
        await spy.wait_for("bill-invalid-account")
        await spy.wait_for("bill-enter-account", count=2)
        await call.press(f"{CUSTOMER.account}#")
        await spy.wait_for("bill-after", within=40)  # after the amount and the due date
        await call.hangup()
    record = await record_of(service, call.sip_call_id)
    said = spy.prompts()
    start = said.index("bill-amount")
    # 128 元 50 分, 缴费截止日期为 11 月 25 日 (the latest bill of the demo customer)
    assert said[start:] == [
        "bill-amount",
        "yuan",
        "fen",
        "bill-due",
        "month",
        "day-of-month",
        "bill-after",
    ]
    assert said.count("bill-invalid-account") == 1
    assert record.disposition is Disposition.ABANDONED_IVR  # hung up in the IVR, no queue
    assert (record.queue, record.agent) == ("", "")


async def test_silence_ends_with_the_no_input_goodbye(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    """The shipped retries (the menu three times): the goodbye within 45 s of the answer."""
    service, spy, _ = await make_service(no_input_retries=2)
    async with live_call(inbound_settings) as call:
        await spy.wait_for("no-input", within=60)
        await call.wait_ended(30)
    record = await record_of(service, call.sip_call_id)
    assert record.disposition is Disposition.NO_INPUT
    assert spy.said() == ["welcome", "menu-main", "menu-main", "menu-main", "no-input"]
    times = [at for _, prompt, at in spy.started]
    assert times[-1] - times[0] <= 45, times  # the flow starts on the answer (its greeting)
    assert record.answered_at is not None and record.ended_at is not None
    goodbye = 6  # prompts.max_seconds: the goodbye itself, then the hang-up
    assert (record.ended_at - record.answered_at).total_seconds() <= 45 + goodbye
    assert (record.queue, record.agent, record.score_status) == ("", "", None)


async def test_after_hours_caller_leaves_a_callback_request(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    service, spy, _ = await make_service(hours={"force": "closed"})
    async with live_call(inbound_settings) as call:
        await spy.wait_for("after-hours")
        await call.press("2")  # the callback key
        await call.wait_ended(30)
    record = await record_of(service, call.sip_call_id)
    assert "menu-main" not in spy.prompts()
    assert record.disposition is Disposition.CALLBACK_REQUESTED
    requests = await CallbackRepository(service.sessions).list_open()
    mine = [r for r in requests if r.linkedid == record.linkedid]
    assert len(mine) == 1 and mine[0].number == inbound_settings.carrier.caller_number
    assert (mine[0].queue, mine[0].category) == ("reception", "after-hours")


async def test_after_hours_caller_who_just_listens(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    """Weekdays 8-20, Saturday 9-17, Sunday closed: the hours are said by weekday names
    (周一至周五, which prompts.yaml's day-N twice had turned into 一日至五日)."""
    hours = {"force": "closed", "sat": ["09:00-17:00"], "sun": []}
    service, spy, _ = await make_service(hours=hours)
    async with live_call(inbound_settings) as call:
        await spy.wait_for("after-hours")
        await call.wait_ended(90)
    record = await record_of(service, call.sip_call_id)
    assert record.disposition is Disposition.AFTER_HOURS
    texts = {
        p.name: p.texts["zh"] for p in load_prompt_texts(PROJECT_ROOT / "prompts/prompts.yaml")
    }
    spoken = [texts[name] for name in spy.prompts() if name in texts]
    said = "".join(spoken)
    assert "周一至周五" in said and "周六" in said and "周日" in said, spoken
    assert "一日" not in said


async def test_queue_timeout_offers_a_callback_that_keeps_the_place(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    service, spy, events = await make_service()
    caller = "13900139000"
    async with live_call(inbound_settings, caller) as call:
        await spy.wait_for("menu-main")
        await call.press("6")  # reception: no agent logged in, callback after 10 s
        await events.wait("QueueCallerJoin", Queue="reception")
        await spy.wait_for("queue-callback-offer", within=30)
        await call.press("1")
        await call.wait_ended(30)
    record = await record_of(service, call.sip_call_id)
    assert record.disposition is Disposition.CALLBACK_REQUESTED
    limit = inbound_settings.queues.get("reception").callback_after_seconds  # type: ignore[union-attr]
    # Asterisk's own clock ends the wait; the events' timestamps agree to a few ms
    assert record.wait_seconds is not None and limit - 0.5 <= record.wait_seconds < limit + 8
    requests = await CallbackRepository(service.sessions).list_open()
    mine = [r for r in requests if r.linkedid == record.linkedid]
    assert len(mine) == 1
    assert (mine[0].number, mine[0].queue, mine[0].position) == (caller, "reception", 1)


async def test_queue_timeout_without_a_key_requeues_in_front(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    service, spy, events = await make_service()
    await set_agent(inbound_settings, "1001", rings=0, talk=2)
    async with live_call(inbound_settings) as call:
        await spy.wait_for("menu-main")
        await call.press("6")
        await spy.wait_for("queue-callback-offer", within=30)  # silence: keep waiting
        await wait_joins(events, 2)
        await login(service, "1001", "reception")
        await events.wait("AgentConnect", Queue="reception")
        await spy.wait_for("score")
        await call.hangup()
    record = await record_of(service, call.sip_call_id)
    assert record.disposition is Disposition.ANSWERED and record.agent == "1001"
    joins = events.named("QueueCallerJoin", Queue="reception")
    assert [join["Position"] for join in joins] == ["1", "1"]
    assert record.wait_seconds is not None and record.wait_seconds >= 10


async def wait_joins(events: object, count: int) -> None:
    from tests.integration.conftest import wait_until

    await wait_until(
        lambda: len(events.named("QueueCallerJoin")) >= count,  # type: ignore[attr-defined]
        20,
        f"not {count} queue joins",
    )


async def test_caller_hanging_up_in_the_queue_is_abandoned_queue(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    service, spy, events = await make_service()
    async with live_call(inbound_settings) as call:
        await spy.wait_for("menu-main")
        await call.press("2")  # repair: nobody logged in
        await events.wait("QueueCallerJoin", Queue="repair")
        await asyncio.sleep(3)
        await call.hangup()
    record = await record_of(service, call.sip_call_id)
    assert record.disposition is Disposition.ABANDONED_QUEUE
    assert record.queue == "repair" and record.agent == ""
    assert record.wait_seconds is not None and 2.5 <= record.wait_seconds < 5
    assert events.named("QueueCallerAbandon", Queue="repair")


async def test_an_agent_who_does_not_answer_is_passed_over(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    service, spy, events = await make_service()
    await set_agent(inbound_settings, "1001", rings=-1, talk=1)  # never answers
    await set_agent(inbound_settings, "1002", rings=0, talk=2)
    await login(service, "1001", "repair")
    await login(service, "1002", "repair")
    async with live_call(inbound_settings) as call:
        await spy.wait_for("menu-main")
        await call.press("2")
        await events.wait("AgentConnect", within=40, Queue="repair")
        await spy.wait_for("score")
        await call.press("5")
        await call.wait_ended(20)
    record = await record_of(service, call.sip_call_id)
    assert record.agent == "1002" and record.score == 5
    timeline = await service.records.timeline(record.linkedid)
    passed = [e for e in timeline if e.kind == "agent_no_answer"]
    ring = inbound_settings.queues.get("repair").agent_ring_seconds  # type: ignore[union-attr]
    # linear strategy: 1001 (logged in first) rings for the queue's timeout, then 1002
    assert [e.detail["agent"] for e in passed] == ["1001"]
    assert abs(passed[0].detail["ring_ms"] / 1000 - ring) < 1.5


async def test_blocked_number_hears_the_warning_and_the_call_ends(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    blocked = "13912340000"
    service, spy, _ = await make_service(blocklist=(blocked,))
    async with live_call(inbound_settings, blocked) as call:
        await call.wait_ended(30)
    record = await record_of(service, call.sip_call_id)
    assert record.disposition is Disposition.BLOCKED
    assert "blocked-warning" in spy.prompts() and "menu-main" not in spy.prompts()


async def test_fallback_still_greets_when_the_service_is_down(
    make_service: ServiceFactory, inbound_settings: Settings, inbound_sandbox: Sandbox
) -> None:
    service, _, events = await make_service()
    await service.agi.stop()
    async with live_call(inbound_settings) as call:
        await events.wait("QueueCallerJoin", Queue=inbound_settings.inbound.fallback_queue)
        await call.hangup()
    record = await record_of(service, call.sip_call_id)
    assert record.fallback and record.disposition is Disposition.ABANDONED_QUEUE
    log = inbound_sandbox.hotline.log_file.read_text(encoding="utf-8", errors="replace")
    played = [line for line in log.splitlines() if record.channel in line and "Playing" in line]
    assert any("'hotline/welcome" in line for line in played), played[-5:]
    assert any("'hotline/fallback" in line for line in played), played[-5:]


def test_dialplan_check_passes_on_the_sandbox(
    inbound_sandbox: Sandbox, inbound_settings: Settings
) -> None:
    report = run_check(inbound_settings)
    assert report.ok, [str(p) for p in report.problems]
    assert any(note.startswith("loaded:") for note in report.notes)


def test_dialplan_check_reports_errors_with_file_and_line(
    inbound_sandbox: Sandbox, inbound_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    render = AsteriskInstance.render

    def broken(instance: AsteriskInstance, settings: Settings) -> list[Path]:
        written = render(instance, settings)
        dialplan = instance.base / "etc" / "dialplan-inbound.conf"
        lines = dialplan.read_text(encoding="utf-8").splitlines()
        lines += ["[broken]", "exten => s,1,NoOpp(x)", " same => n,NoOp(unclosed"]
        dialplan.write_text("\n".join(lines) + "\n", encoding="utf-8")
        queues = instance.base / "etc" / "queues.conf"
        queues.write_text(queues.read_text(encoding="utf-8") + "bogus-key = 1\n")
        return written

    monkeypatch.setattr(AsteriskInstance, "render", broken)
    try:
        report = run_check(inbound_settings)
    finally:
        monkeypatch.undo()
        assert run_check(inbound_settings).ok  # the good configuration back in place
    count = len(lines_of(inbound_sandbox, "dialplan-inbound.conf"))
    assert [str(p).split(": ", 1)[0] for p in report.problems] == [
        f"dialplan-inbound.conf:{count + 2}",
        f"dialplan-inbound.conf:{count + 3}",
        f"queues.conf:{len(lines_of(inbound_sandbox, 'queues.conf')) + 1}",
    ]
    assert "unknown application NoOpp" in str(report.problems[0])
    assert "No closing parenthesis" in str(report.problems[1])
    assert "bogus-key" in str(report.problems[2])


def lines_of(box: Sandbox, name: str) -> list[str]:
    return (box.hotline.base / "etc" / name).read_text(encoding="utf-8").splitlines()


def test_the_queue_reassurance_prompt_exists(inbound_sandbox: Sandbox) -> None:
    """queues.conf plays it as periodic-announce; the IVR side owns its text."""
    sounds = inbound_sandbox.sound_dirs()
    name = REASSURE_PROMPT.removeprefix("hotline/")
    found = [
        lang
        for lang, folder in sounds.items()
        if (Path(folder) / f"{REASSURE_PROMPT}.wav").exists()
    ]
    assert found, (
        f"prompt {name!r} missing: add it to prompts/prompts.yaml (queues.conf periodic-announce)"
    )
