"""Live supervision on the real sandbox, by ear: the caller plays one tone, the agent
another, the supervisor's phone a third; each phone records what it hears.

Listen: the supervisor hears both parties, nobody hears the supervisor. Whisper: the
agent hears the supervisor, the caller does not. Barge: both do. Agents are refused.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.config import Settings
from hotline.sandbox import Sandbox
from hotline.service import HotlineService
from hotline.testcall import carrier_client, live_call
from hotline.web.roles import Role
from hotline.web.tokens import TokenStore
from tests.integration.audio import tone_shares
from tests.integration.inbound_support import (
    EventLog,
    PromptSpy,
    ServiceFactory,
    api,
    carrier_events,
    login,
    set_agent,
)

pytestmark = pytest.mark.asterisk

CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ = 440, 1400, 2000
SUPERVISOR = "2001"
LISTENING = 6  # seconds the supervisor's phone stays on
HEARD = 0.03  # a tone someone hears has at least this share of what they heard
UNHEARD = 0.005


async def heard_files(events: EventLog, prefix: str) -> list[str]:
    return [
        e["File"]
        for e in events.named("UserEvent", UserEvent="HotlineHeard")
        if e["File"].startswith(prefix)
    ]


async def supervised(
    service: HotlineService, spy: PromptSpy, box: Sandbox, mode: str
) -> dict[str, dict[float, float]]:
    """One agent call supervised in ``mode``: the tone shares of what each phone heard."""
    settings = box.settings
    await set_agent(settings, "1001", rings=0, talk=LISTENING + 8, tone=AGENT_HZ)
    carrier = carrier_client(settings)
    await carrier.connect()
    try:
        await carrier.action("DBPut", Family="agent", Key="1001/hear", Val="1")
        for key, value in (("tone", SUPERVISOR_HZ), ("stay", LISTENING)):
            await carrier.action(
                "DBPut", Family="supervisor", Key=f"{SUPERVISOR}/{key}", Val=str(value)
            )
    finally:
        await carrier.close()
    await login(service, "1001", "repair")
    phones, events = await carrier_events(settings)
    try:
        menus = spy.said().count("menu-main")  # this call's menu is the next one
        async with live_call(settings, tone=CALLER_HZ, hear=True) as call:
            await spy.wait_for("menu-main", count=menus + 1)
            await call.press("2")
            answered = await events.wait("UserEvent", UserEvent="HotlineAgentAnswered")
            linkedid = answered["HotlineLinkedid"]
            await asyncio.sleep(1)  # agent and caller bridged
            status, body = await api(
                service,
                "POST",
                f"/api/v1/calls/{linkedid}/supervise",
                {"mode": mode, "supervisor": SUPERVISOR},
            )
            assert status == 202, body
            assert body["agent_channel"].startswith("PJSIP/agent-1001-")
            await wait_files(events, "supervisor-", 1)
            await asyncio.sleep(LISTENING + 1)  # the supervisor listened, then hung up
        await asyncio.sleep(1.5)  # MixMonitor closes the files
    finally:
        await phones.close()
    folder = box.carrier.base / "spool" / "heard"
    names = {
        "caller": (await heard_files(events, "caller-"))[-1],
        "agent": (await heard_files(events, f"agent-{linkedid}"))[-1],
        "supervisor": (await heard_files(events, "supervisor-"))[-1],
    }
    sessions = (await api(service, "GET", f"/api/v1/supervision?linkedid={linkedid}"))[1]
    assert [(s["mode"], s["supervisor"], s["outcome"]) for s in sessions["sessions"]] == [
        (mode, SUPERVISOR, "sent")
    ]
    return {who: shares(folder / name) for who, name in names.items()}


async def wait_files(events: EventLog, prefix: str, count: int, within: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while len(await heard_files(events, prefix)) < count:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the {prefix} phone never answered")
        await asyncio.sleep(0.2)


def shares(path: Path) -> dict[float, float]:
    return tone_shares(path, [CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ])


async def test_listen_whisper_and_barge_by_ear(
    make_service: ServiceFactory, inbound_sandbox: Sandbox
) -> None:
    service, spy, _ = await make_service()
    listen = await supervised(service, spy, inbound_sandbox, "listen")
    assert listen["supervisor"][CALLER_HZ] > HEARD, listen  # the supervisor hears the call
    assert listen["supervisor"][AGENT_HZ] > HEARD, listen
    assert listen["caller"][SUPERVISOR_HZ] < UNHEARD, listen  # and nobody hears them
    assert listen["agent"][SUPERVISOR_HZ] < UNHEARD, listen
    assert listen["caller"][AGENT_HZ] > HEARD, listen  # (the call itself went on)

    whisper = await supervised(service, spy, inbound_sandbox, "whisper")
    assert whisper["supervisor"][CALLER_HZ] > HEARD, whisper
    assert whisper["agent"][SUPERVISOR_HZ] > HEARD, whisper  # the agent hears the supervisor
    assert whisper["caller"][SUPERVISOR_HZ] < UNHEARD, whisper  # the caller does not

    barge = await supervised(service, spy, inbound_sandbox, "barge")
    assert barge["supervisor"][CALLER_HZ] > HEARD, barge
    assert barge["agent"][SUPERVISOR_HZ] > HEARD, barge  # both parties hear the supervisor
    assert barge["caller"][SUPERVISOR_HZ] > HEARD, barge


async def test_agents_may_not_listen_in_and_bad_requests_change_nothing(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    import aiohttp

    service, _, _ = await make_service()
    _, agent = await TokenStore(service.sessions).create("agent-1001", Role.AGENT, agent="1001")
    web = inbound_settings.web
    url = f"http://{web.host}:{web.port}/api/v1/calls/hotline-1.1/supervise"
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {agent}"}
        async with session.post(
            url, json={"mode": "listen", "supervisor": SUPERVISOR}, headers=headers
        ) as response:
            assert response.status == 403
    for body, status, field in (
        ({"mode": "spy", "supervisor": SUPERVISOR}, 400, "mode"),
        ({"mode": "listen", "supervisor": "9999"}, 400, "supervisor"),
        ({"mode": "listen", "supervisor": "2001;x"}, 400, "supervisor"),
        ({"mode": "listen", "supervisor": SUPERVISOR, "channel": "x"}, 400, "channel"),
        ({"mode": "listen", "supervisor": SUPERVISOR}, 409, "linkedid"),  # no such live call
    ):
        got, answer = await api(service, "POST", "/api/v1/calls/hotline-1.1/supervise", body)
        assert (got, answer["field"]) == (status, field), answer
    # the console's buttons: the same checks, an answer on the call's page
    page = f"http://{web.host}:{web.port}/ui/calls/hotline-1.1/supervise"
    admin = {"Authorization": f"Bearer {web.token.get_secret_value()}", "Origin": page}
    async with aiohttp.ClientSession() as session:
        form = {"mode": "whisper", "supervisor": SUPERVISOR}
        async with session.post(page, data=form, headers=admin, allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/ui/calls/hotline-1.1?supervise_error=409"
        as_agent = {"Authorization": f"Bearer {agent}", "Origin": page}
        async with session.post(
            page, data=form, headers=as_agent, allow_redirects=False
        ) as response:
            assert response.status == 403
    logged = (await api(service, "GET", "/api/v1/supervision?linkedid=hotline-1.1"))[1]
    assert logged["sessions"] == []  # nothing was rung, nothing logged
