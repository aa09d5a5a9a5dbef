"""The hold controller: AMI events and API requests in, AMI moves out (a fake AMI records
them), with a clock the test moves. The moves themselves are proven on the real sandbox
(``tests/integration/test_hold_calls.py``); here every decision is checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.ami import AmiEvent, AmiResponse
from hotline.config_hold import HoldSettings
from hotline.errors import AmiError
from ivr.hold.actions import HoldMoves, HoldParties
from ivr.hold.controller import HoldConflict, HoldController, NoSuchCall

LINKEDID = "hotline-1.0"
CALLER = "PJSIP/carrier-00000000"
AGENT = "PJSIP/agent-1001-00000001"
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


class FakeAmi:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []
        self.fail: set[str] = set()

    async def action(self, name: str, /, **headers: str) -> AmiResponse:
        if name in self.fail:
            raise AmiError(f"{name} refused")
        self.sent.append((name, headers))
        return AmiResponse(AmiEvent({"Response": "Success"}))

    def redirects(self) -> list[tuple[str, str, str]]:
        return [
            (h["Channel"], h["Context"], h["Exten"]) for name, h in self.sent if name == "Redirect"
        ]

    def named(self, name: str) -> list[dict[str, str]]:
        return [h for n, h in self.sent if n == name]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make(**hold: object) -> tuple[HoldController, FakeAmi, Clock]:
    ami, clock = FakeAmi(), Clock()
    # announce unless a test asks for ask (the default since the standard: consent first)
    base = {"soft_seconds": 60, "hard_seconds": 180, "consent": "announce"}
    settings = HoldSettings.model_validate(base | hold)
    controller = HoldController(HoldMoves(ami), settings, clock)
    controller.feed(
        {
            "Event": "AgentConnect",
            "Linkedid": LINKEDID,
            "Channel": CALLER,
            "DestChannel": AGENT,
            "Interface": "PJSIP/agent-1001",
            "Queue": "repair",
        }
    )
    return controller, ami, clock


def key(controller: HoldController, *, waiting: bool = False) -> None:
    controller.feed(
        {
            "Event": "UserEvent",
            "UserEvent": "HotlineHoldKey",
            "Linkedid": LINKEDID,
            "Channel": AGENT,
            "Peer": CALLER,
            "Held": "1" if waiting else "0",
        }
    )


def said(controller: HoldController, value: str) -> None:
    controller.feed(
        {"Event": "VarSet", "Linkedid": LINKEDID, "Channel": CALLER, "Variable": "HOTLINE_HOLD"}
        | {"Value": value}
    )


def hangup(controller: HoldController, channel: str) -> None:
    controller.feed({"Event": "Hangup", "Linkedid": LINKEDID, "Channel": channel})


async def test_the_hold_key_holds_then_takes_the_caller_back() -> None:
    controller, ami, clock = make()
    key(controller)
    await controller.drain()
    assert ami.redirects() == [(CALLER, "hotline-hold", "announce")]
    redirect = ami.named("Redirect")[0]
    assert (redirect["ExtraChannel"], redirect["ExtraContext"]) == (AGENT, "hotline-hold-agent")
    variables = {(h["Channel"], h["Variable"]): h["Value"] for h in ami.named("Setvar")}
    assert variables == {
        (CALLER, "HOLD_AGENT_CHANNEL"): AGENT,
        (CALLER, "HOTLINE_HOLD_BY"): "1001",
        (CALLER, "HOTLINE_HOLD_TRIGGER"): "feature_code",
        (AGENT, "HOLD_CALLER_CHANNEL"): CALLER,
    }
    said(controller, "held")
    clock.advance(20)
    key(controller, waiting=True)
    await controller.drain()
    assert ami.redirects()[-1] == (CALLER, "hotline-hold-resume", "resumed")
    assert controller.get(LINKEDID) == {
        "linkedid": LINKEDID,
        "agent": "1001",
        "phase": "connected",
        "hold_count": 1,
        "held_seconds": None,
        "trigger": None,
        "alerted": False,
    }


async def test_limits_alert_at_the_soft_one_and_resume_at_the_hard_one() -> None:
    controller, ami, clock = make(soft_seconds=60, hard_seconds=180)
    await controller.hold(LINKEDID, "sup-7")
    clock.advance(3)
    said(controller, "held")  # the limits count from the music, after the request prompt
    clock.advance(59)
    controller.tick()
    await controller.drain()
    assert not controller.alerts
    clock.advance(1)
    controller.tick()
    controller.tick()  # once only
    await controller.drain()
    assert [(a["kind"], a["held_seconds"]) for a in controller.alerts] == [("soft_limit", 60.0)]
    assert ami.redirects()[-1] == (AGENT, "hotline-hold-agent", "alert")
    clock.advance(120)
    controller.tick()
    await controller.drain()
    assert ami.redirects()[-1] == (CALLER, "hotline-hold-resume", "auto_resumed")
    assert ami.named("Setvar")[1]["Value"] == "sup-7"


async def test_the_agent_hanging_up_during_a_hold_requeues_the_caller() -> None:
    controller, ami, _ = make()
    key(controller)
    said(controller, "held")
    hangup(controller, AGENT)
    await controller.drain()
    assert ami.redirects()[-1] == (CALLER, "hotline-hold-requeue", "s")
    assert controller.get(LINKEDID) is None


async def test_the_caller_hanging_up_during_a_hold_frees_the_agent() -> None:
    controller, ami, _ = make()
    key(controller)
    hangup(controller, CALLER)
    await controller.drain()
    assert ami.named("Hangup") == [{"Channel": AGENT, "Cause": "16"}]


async def test_hanging_up_while_connected_moves_nobody() -> None:
    controller, ami, _ = make()
    hangup(controller, AGENT)
    await controller.drain()
    assert ami.sent == []


async def test_consent_ask_sends_the_caller_to_the_question_and_follows_the_answer() -> None:
    controller, ami, _ = make(consent="ask")
    key(controller)
    await controller.drain()
    assert ami.redirects() == [(CALLER, "hotline-hold-ask", "s")]
    assert controller.get(LINKEDID)["phase"] == "asking"  # type: ignore[index]
    said(controller, "refused")  # the dialplan bridged them back, with a tone to the agent
    assert controller.get(LINKEDID)["phase"] == "connected"  # type: ignore[index]
    key(controller)
    said(controller, "held")
    await controller.drain()
    assert controller.get(LINKEDID)["phase"] == "held"  # type: ignore[index]
    assert len(ami.redirects()) == 2  # the dialplan moved the caller on its own


async def test_api_requests_check_the_state() -> None:
    controller, _, _ = make()
    with pytest.raises(NoSuchCall):
        await controller.hold("other")
    with pytest.raises(HoldConflict):
        await controller.resume(LINKEDID)
    await controller.hold(LINKEDID)
    with pytest.raises(HoldConflict):
        await controller.hold(LINKEDID)
    view = await controller.resume(LINKEDID)
    assert view["phase"] == "connected" and view["hold_count"] == 1


async def test_a_refused_move_leaves_the_call_connected() -> None:
    controller, ami, _ = make()
    ami.fail.add("Redirect")
    with pytest.raises(AmiError):
        await controller.hold(LINKEDID)
    assert controller.get(LINKEDID)["phase"] == "connected"  # type: ignore[index]


async def test_the_agents_phone_hold_is_observed_and_marked_for_the_dialplan() -> None:
    controller, ami, clock = make()
    controller.feed({"Event": "Hold", "Linkedid": LINKEDID, "Channel": CALLER})  # caller's own
    controller.feed({"Event": "Hold", "Linkedid": LINKEDID, "Channel": AGENT})
    await controller.drain()
    assert ami.named("Setvar") == [{"Channel": CALLER, "Variable": "HOLD_PHONE", "Value": "1"}]
    assert ami.redirects() == []  # the phone holds the media: nothing to move
    with pytest.raises(HoldConflict):
        await controller.resume(LINKEDID)
    clock.advance(61)
    controller.tick()
    await controller.drain()
    assert [a["kind"] for a in controller.alerts] == ["soft_limit"]
    assert ami.redirects() == []  # no tone: the agent is in the bridge
    controller.feed({"Event": "Unhold", "Linkedid": LINKEDID, "Channel": AGENT})
    await controller.drain()
    assert ami.named("Setvar")[-1]["Value"] == ""
    assert controller.get(LINKEDID)["phase"] == "connected"  # type: ignore[index]


async def test_the_key_of_a_hold_from_before_a_restart_still_resumes() -> None:
    controller, ami, _ = make()
    controller._calls.clear()  # a new service: it never saw this call
    key(controller, waiting=True)
    await controller.drain()
    assert ami.redirects() == [(CALLER, "hotline-hold-resume", "resumed")]


async def test_a_key_without_a_usable_peer_is_ignored() -> None:
    controller, ami, _ = make()
    controller._calls.clear()
    controller.feed(
        {
            "Event": "UserEvent",
            "UserEvent": "HotlineHoldKey",
            "Linkedid": LINKEDID,
            "Channel": AGENT,
            "Peer": "Local/x;1 and more",
        }
    )
    await controller.drain()
    assert ami.sent == []


def test_parties_refuse_what_is_not_a_channel_name() -> None:
    with pytest.raises(ValueError, match="channel"):
        HoldParties(LINKEDID, "PJSIP/x,Context=evil", AGENT, "1001")


async def test_calls_gone_during_an_ami_gap_are_forgotten_at_the_next_login() -> None:
    controller, _, _ = make()
    controller.prune([{"Channel": CALLER, "Linkedid": LINKEDID}])
    assert controller.get(LINKEDID) is not None
    controller.prune([{"Channel": "PJSIP/carrier-00000009", "Linkedid": "other"}])
    assert controller.get(LINKEDID) is None
