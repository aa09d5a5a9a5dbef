"""No input reaches AMI as more than the one action it was meant for.

The attack: a pause reason ``lunch\\r\\n\\r\\nAction: Hangup\\r\\nChannel: /./`` ended the
QueuePause action early and Asterisk read a second action, ``Hangup`` of every channel
(the emergency queue's included). The bytes an AMI server receives are the proof here:
the API refuses the field by name, and the client's gate refuses any action that could
frame as more than itself, before a byte is written. Hypothesis drives the gate, every
action builder and every API field that reaches AMI with arbitrary text.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from panoramisk import actions

from dialer.campaigns import build_spec
from dialer.numbers import NumberGuard
from dialer.originate import originate_headers
from dialer.repository import Claim
from hotline.ami import AmiClient, AmiResponse
from hotline.ami_headers import check_action
from hotline.config_dialer import DialerSettings
from hotline.errors import UnsafeAmiHeader
from ivr.agents.api import check_body
from ivr.agents.control import AgentControl, AgentError
from tests.unit.test_agents import QUEUES, QueueAmi, ami, queue_ami
from tests.unit.test_dialer_scheduler import campaign

__all__ = ["ami", "queue_ami"]  # the fake AMI of the agents' tests, and a client on it

SMUGGLED = "lunch\r\n\r\nAction: Hangup\r\nChannel: /./"
#: text of every kind: controls, separators, other scripts' digits, full-width forms
ANY_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"])
    | st.sampled_from("\r\n\t\x00\x7f\x85\u2028\u2029١２３")
)


def frames(name: str, headers: dict[str, Any]) -> list[dict[str, list[str]]]:
    """The action as Asterisk's manager reads it back: lines split on CRLF, an empty line
    ends an action. Returns every action found (exactly one, for a safe action)."""

    async def serialize() -> str:  # panoramisk's Action makes a future: it needs a loop
        return str(actions.Action({"Action": name, **headers}))

    data = asyncio.run(serialize())
    found: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] = {}
    for line in data.split("\r\n"):
        if not line:
            if current:
                found.append(current)
            current = {}
            continue
        key, _, value = line.partition(": ")
        current.setdefault(key, []).append(value)
    if current:
        found.append(current)
    return found


@settings(max_examples=300, deadline=None)
@given(value=ANY_TEXT, header=st.sampled_from(["Reason", "Channel", "Variable", "Queue"]))
def test_what_passes_the_gate_frames_as_exactly_one_action(value: str, header: str) -> None:
    if "\r" in value or "\n" in value:  # the smuggler's tools: never through
        with pytest.raises(UnsafeAmiHeader):
            check_action("QueuePause", {header: value})
        return
    try:
        check_action("QueuePause", {header: value})
    except UnsafeAmiHeader:
        return  # another control character, or non-ASCII where Asterisk expects ASCII
    [action] = frames("QueuePause", {header: value})  # exactly one, whatever the text
    assert action["Action"] == ["QueuePause"] and action[header] == [value]


@pytest.mark.parametrize(
    ("name", "headers", "why"),
    [
        ("QueuePause", {"Reason": SMUGGLED}, "control character U+000D"),
        ("QueuePause", {"Interface": "PJSIP/agent-1001\n"}, "control character U+000A"),
        ("Originate", {"CallerID": "x\u2028y"}, "U+2028"),
        ("Originate", {"Channel": "PJSIP/１３９@carrier"}, "ASCII only"),
        ("Originate", {"Variable": ["A=1", "B=2\r\nAction: Hangup"]}, "U+000D"),
        ("Hangup\r\nX", {}, "action name"),
        ("QueuePause", {"Bad Header": "x"}, "header name"),
        ("QueuePause", {"Reason": "x" * 1025}, "longer than"),
    ],
)
def test_the_gate_names_what_it_refuses(name: str, headers: dict[str, Any], why: str) -> None:
    with pytest.raises(UnsafeAmiHeader, match=re.escape(why)):
        check_action(name, headers)


async def test_the_client_sends_nothing_of_a_smuggling_action(
    queue_ami: QueueAmi, ami: AmiClient
) -> None:
    before = bytes(queue_ami.raw)
    with pytest.raises(UnsafeAmiHeader, match="Reason"):
        await ami.action("QueuePause", Interface="PJSIP/agent-1001", Reason=SMUGGLED)
    await ami.action("Ping")  # the connection is fine and in step
    sent = bytes(queue_ami.raw)[len(before) :]
    assert b"QueuePause" not in sent and b"Hangup" not in sent and b"Action: Ping" in sent


class GatedAmi:
    """An AMI client that answers every action, after the real client's gate."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def action(self, name: str, /, **headers: Any) -> AmiResponse:
        check_action(name, headers)
        self.sent.append((name, headers))
        return AmiResponse(message=None)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    reason=ANY_TEXT,
    queues=st.lists(ANY_TEXT | st.sampled_from(["repair", "reception"]), max_size=3),
    agent=ANY_TEXT | st.sampled_from(["1001", "1001\n", "١٠٠١"]),
)
def test_every_agents_api_field_that_reaches_ami_is_checked_first(
    reason: str, queues: list[str], agent: str
) -> None:
    """Whatever the body, the API either refuses it or builds actions that pass the gate."""
    try:
        body = check_body({"reason": reason, "queues": queues})
    except ValueError:
        return
    control = AgentControl(GatedAmi(), QUEUES)

    async def pause() -> None:
        with contextlib.suppress(AgentError):  # an unknown agent or queue: nothing is sent
            await control.pause(agent, body["queues"], body["reason"])

    asyncio.run(pause())  # an UnsafeAmiHeader here would be a field the API let through


@settings(max_examples=300, deadline=None)
@given(number=ANY_TEXT | st.sampled_from(["13900001234", "1390000123٤", "１３９００００１２３４"]))
def test_the_originate_of_any_number_the_guard_lets_through_passes_the_gate(number: str) -> None:
    guard = NumberGuard(DialerSettings().allowed_patterns)
    if not guard.allowed(number):
        return
    assert number.isascii() and number.isdigit()
    claim = Claim(1, "dl-1-1-abcdef01", 1, 1, number, 1, "")
    headers = originate_headers(claim, campaign(), DialerSettings())
    check_action("Originate", headers)


@pytest.mark.parametrize("caller_id", ["９５００７", "95007\n", "٩٥٠٠٧"])
def test_a_caller_id_of_other_digits_never_reaches_originate(caller_id: str) -> None:
    """Full-width digits went out as UTF-8 in the Originate's CallerID."""
    with pytest.raises(ValueError, match="caller_id"):
        build_spec({"name": "x", "caller_id": caller_id}, DialerSettings())
    assert build_spec({"name": "x", "caller_id": "95007"}, DialerSettings()).caller_id == "95007"
