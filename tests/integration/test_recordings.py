"""Call recordings on the real sandbox: the caller plays one tone, the agent another.

The recording of a menu → queue → agent call is a file as long as the talk time that holds
both tones; a recording folder Asterisk cannot write leaves the call as it was and the
record saying why there is no recording.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hotline.callrecord import Disposition
from hotline.config import Settings
from hotline.recordings.feature import RecordingsFeature, service_folder
from hotline.service import HotlineService
from hotline.testcall import live_call
from hotline.web.roles import Role
from hotline.web.tokens import TokenStore
from tests.integration.audio import tone_shares
from tests.integration.inbound_support import (
    PromptSpy,
    ServiceFactory,
    login,
    record_of,
    set_agent,
)
from tests.support import small_disk

pytestmark = pytest.mark.asterisk

CALLER_HZ, AGENT_HZ, NOBODY_HZ = 440, 1400, 2600


async def recording_of(
    service: HotlineService, linkedid: str, within: float = 20.0
) -> dict[str, Any]:
    """The call's recording once the service has looked at its file."""
    store = next(f for f in service.features if isinstance(f, RecordingsFeature)).store
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        found = (await store.of_calls([linkedid])).get(linkedid)
        if found is not None and found["status"] != "pending":
            return found
        await asyncio.sleep(0.25)
    raise AssertionError(f"call {linkedid}: recording not looked at within {within:g} s: {found}")


async def agent_call(
    service: HotlineService, spy: PromptSpy, settings: Settings, talk: float, score: str = "9"
) -> str:
    """Menu → repair queue → agent 1001, each side playing its tone; the caller scores."""
    await set_agent(settings, "1001", rings=0, talk=talk, tone=AGENT_HZ)
    await login(service, "1001", "repair")
    async with live_call(settings, tone=CALLER_HZ) as call:
        await spy.wait_for("menu-main")
        await call.press("2")
        await spy.wait_for("score", within=talk + 30)
        await call.press(score)
        await call.wait_ended(20)
    return call.sip_call_id


async def test_an_agent_call_is_recorded_with_both_parties(
    make_service: ServiceFactory, inbound_settings: Settings
) -> None:
    service, spy, _ = await make_service()
    sip_call_id = await agent_call(service, spy, inbound_settings, talk=6)
    record = await record_of(service, sip_call_id)
    assert record.disposition is Disposition.ANSWERED and record.score == 9
    assert record.recording_file.endswith(f"/{record.linkedid}.wav")
    recording = await recording_of(service, record.linkedid)
    assert recording["status"] == "ok", recording
    folder = service_folder(inbound_settings)
    assert folder is not None
    path = folder / record.recording_file
    assert path.is_file() and path.stat().st_size == recording["bytes"]
    assert record.talk_seconds is not None
    assert abs(recording["seconds"] - record.talk_seconds) <= 1.0, (recording, record.talk_seconds)
    shares = tone_shares(path, [CALLER_HZ, AGENT_HZ, NOBODY_HZ])
    assert shares[CALLER_HZ] > 0.1, shares  # the caller is in it
    assert shares[AGENT_HZ] > 0.1, shares  # and the agent
    assert shares[NOBODY_HZ] < 0.01, shares
    assert spy.said()[-2:] == ["score", "score-thanks"]  # after the recording's end
    await check_playback(service, inbound_settings, record.linkedid, path)


async def check_playback(
    service: HotlineService, settings: Settings, linkedid: str, path: Path
) -> None:
    """Over HTTP: a range of the file (206) to a supervisor, audited; never to an agent."""
    tokens = TokenStore(service.sessions)
    _, supervisor = await tokens.create("sup-wang", Role.SUPERVISOR)
    _, agent = await tokens.create("agent-1001", Role.AGENT, agent="1001")
    content = await asyncio.to_thread(path.read_bytes)
    url = f"http://{settings.web.host}:{settings.web.port}/api/v1/calls/{linkedid}/recording"
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {supervisor}", "Range": "bytes=100-1099"}
        async with session.get(url, headers=headers) as response:
            assert response.status == 206, await response.text()
            assert response.headers["Content-Range"] == f"bytes 100-1099/{len(content)}"
            assert await response.read() == content[100:1100]
        async with session.get(url, headers={"Authorization": f"Bearer {agent}"}) as response:
            assert response.status == 403
    audit = next(f for f in service.features if isinstance(f, RecordingsFeature)).store
    rows = await audit.playbacks(linkedid)
    assert [(r["who"], r["role"], r["range"]) for r in rows] == [
        ("sup-wang", "supervisor", "bytes=100-1099")
    ]


@pytest.fixture
def unwritable_recordings(inbound_settings: Settings) -> Iterator[Path]:
    """The recording folder replaced by a plain file: nothing can be written under it."""
    folder = service_folder(inbound_settings)
    assert folder is not None
    aside = folder.with_name(folder.name + ".aside")
    folder.mkdir(parents=True, exist_ok=True)
    folder.rename(aside)
    folder.write_text("not a folder\n")
    try:
        yield folder
    finally:
        folder.unlink()
        aside.rename(folder)


async def test_an_unwritable_recording_folder_leaves_the_call_and_says_why(
    make_service: ServiceFactory, inbound_settings: Settings, unwritable_recordings: Path
) -> None:
    service, spy, _ = await make_service()
    sip_call_id = await agent_call(service, spy, inbound_settings, talk=3)
    record = await record_of(service, sip_call_id)
    # the call went on as any other: answered by the agent, then scored
    assert record.disposition is Disposition.ANSWERED and record.score == 9
    assert record.talk_seconds is not None and record.talk_seconds >= 2.5
    recording = await recording_of(service, record.linkedid)
    assert recording["status"] == "failed", recording
    assert "not a folder" in recording["error"], recording
    health = next(f for f in service.features if isinstance(f, RecordingsFeature)).health()
    assert health["failures"].get("missing") == 1, health
    web = inbound_settings.web
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"http://{web.host}:{web.port}/metrics",
            headers={"Authorization": f"Bearer {web.token.get_secret_value()}"},
        ) as response,
    ):
        metrics = await response.text()
    assert 'hotline_recording_failures_total{reason="missing"} 1' in metrics, metrics


@pytest.fixture
def full_recordings(inbound_settings: Settings) -> Iterator[Path]:
    """The recording folder on a 48 KiB tmpfs: room for about two seconds of a call."""
    folder = service_folder(inbound_settings)
    assert folder is not None
    folder.mkdir(parents=True, exist_ok=True)
    with small_disk(folder, "48k"):
        yield folder


async def test_a_full_disk_cuts_the_recording_not_the_call(
    make_service: ServiceFactory, inbound_settings: Settings, full_recordings: Path
) -> None:
    service, spy, _ = await make_service()
    sip_call_id = await agent_call(service, spy, inbound_settings, talk=8)
    record = await record_of(service, sip_call_id)
    assert record.disposition is Disposition.ANSWERED and record.score == 9  # the call went on
    assert record.talk_seconds is not None and record.talk_seconds >= 7.5
    recording = await recording_of(service, record.linkedid)
    assert recording["status"] == "partial", recording  # what fitted, and why no more
    assert recording["seconds"] < 4 and "is full" in recording["error"], recording
    health = next(f for f in service.features if isinstance(f, RecordingsFeature)).health()
    assert health["failures"].get("short") == 1, health
