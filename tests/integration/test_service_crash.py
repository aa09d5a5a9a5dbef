"""`hotline serve` as a real process, killed with SIGKILL mid-call: no call record is lost.

The service runs as a child process (settings in a YAML file, secrets in a separate one
passed through ``HOTLINE_SECRETS_FILE``, a SQLite file of the test's own so counts are
exact) and is killed the hard way while a call is up. What must hold afterwards:

* the row written before the crash is neither lost nor duplicated: the restarted service
  adopts it and either sees the call end (end observed) or, when the call ended while no
  one watched, finishes it from Asterisk's call log (CEL), which saw the whole call;
* while no service runs the caller is still served by the dialplan's fallback queue, and a
  call still up when the service comes back is adopted from CoreShowChannels, then
  completed from the call log (its true start, the fallback it went through).

A record seen live only in part is merged with the call log's view of the same call
(``RecordSource.AMI_LOG``): one record, the live part's timeline continued with what the
live side did not see. Calls that start and end while the service is down are in
``test_calls_while_down.py``.

Variables the dialplan sets while the service is down (``HOTLINE_DISPOSITION=fallback``
when the dead FastAGI sends the caller to the fallback queue, ``HOTLINE_DID`` and
``HOTLINE_SIP_CALLID``) reach the record both ways: from the rows' ``ChanVariable``
headers at reconciliation (asked for with ``Status``) and from the call log's user
events.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hotline.ami import AmiClient, AmiEvent
from hotline.callrecord import CallRecord, Disposition, RecordSource, TimelineEntry
from hotline.config import DatabaseSettings, Settings
from hotline.db import CallRecordRepository, create_engine, session_factory
from hotline.render import PROJECT_ROOT
from hotline.sandbox import Sandbox
from hotline.testcall import CallOptions, PlacedCall, place_call, wait_for_record
from tests.integration.conftest import wait_until, write_settings_files
from tests.integration.dialer_support import followed_call_log

pytestmark = pytest.mark.asterisk

HOTLINE = Path(sys.prefix) / "bin" / "hotline"
LONG_STAY = 40.0  # callers stay until the test hangs them up; this only bounds a failed test


class ServiceProcess:
    """``hotline --config <file> serve`` as a child process that the test can SIGKILL."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        self.settings = settings
        self.config = folder / "hotline.yaml"
        self.secrets = folder / "secrets.yaml"
        self.log = folder / "service.log"
        self._proc: subprocess.Popen[bytes] | None = None
        write_settings_files(settings, self.config, self.secrets)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> datetime:
        """Launch the service; returns the (UTC) time just before the process started."""
        assert not self.running, "the service is already running"
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        env["HOTLINE_SECRETS_FILE"] = str(self.secrets)
        started = datetime.now(UTC)
        with self.log.open("ab") as log:
            log.write(f"--- started at {started.isoformat()}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                [str(HOTLINE), "--config", str(self.config), "serve"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=PROJECT_ROOT,
            )
        return started

    def kill(self) -> datetime:
        """SIGKILL: no shutdown code runs, nothing is flushed. Returns the time of the kill."""
        assert self._proc is not None and self.running, "the service is not running"
        killed = datetime.now(UTC)
        self._proc.send_signal(signal.SIGKILL)
        assert self._proc.wait(timeout=10) == -signal.SIGKILL
        return killed

    def stop(self) -> None:
        """Teardown: no service process outlives its test."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    async def health(self) -> dict[str, Any]:
        url = f"http://{self.settings.web.host}:{self.settings.web.port}/health"
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session,
            session.get(url) as response,
        ):
            report: dict[str, Any] = await response.json()
            return report

    async def wait_ready(self, within: float = 20.0) -> None:
        """Poll /health until the service's AMI is logged in and it has read the call log."""
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            if not self.running:
                raise AssertionError(f"the service exited:\n{self.log_tail()}")
            try:
                report = await self.health()
                if report.get("ami_connected") and followed_call_log(report):
                    return
            except (aiohttp.ClientError, TimeoutError):
                pass  # not listening yet
            await asyncio.sleep(0.1)
        raise AssertionError(f"the service was not ready in {within:g} s:\n{self.log_tail()}")

    async def wait_in_flow(self, within: float = 15.0) -> None:
        """Until a FastAGI session is open: the call is in the service's flow."""
        deadline = asyncio.get_running_loop().time() + within
        while (await self.health()).get("agi_sessions", 0) < 1:
            assert asyncio.get_running_loop().time() < deadline, "the call never reached the flow"
            await asyncio.sleep(0.1)


class Caller:
    """One test call from the carrier simulator, hung up when the test decides."""

    def __init__(self, box: Sandbox, settings: Settings, caller: str) -> None:
        self.box = box
        options = CallOptions(caller=caller, press_after=1, stay=LONG_STAY)
        self.task: asyncio.Task[PlacedCall] = asyncio.create_task(place_call(settings, options))

    async def hang_up(self) -> PlacedCall:
        """The caller hangs up (carrier side); returns once the call is over there."""
        self.box.carrier.cli("channel request hangup all")  # the test's only call
        return await asyncio.wait_for(self.task, 15)

    async def abandon(self) -> None:
        if not self.task.done():
            self.task.cancel()
            for instance in self.box.instances():
                instance.cli("channel request hangup all")
        await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture
def crash_settings(sandbox_settings: Settings, tmp_path: Path) -> Settings:
    """The sandbox's settings with a database (and spool) of this test's own."""
    database = DatabaseSettings(
        url=f"sqlite+aiosqlite:///{tmp_path / 'records.db'}", spool_dir=tmp_path / "spool"
    )
    return sandbox_settings.model_copy(update={"database": database})


@pytest.fixture
def proc(crash_settings: Settings, tmp_path: Path) -> Iterator[ServiceProcess]:
    service = ServiceProcess(crash_settings, tmp_path)
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
async def records(crash_settings: Settings) -> AsyncIterator[CallRecordRepository]:
    engine = create_engine(crash_settings.database.url)
    try:
        yield CallRecordRepository(session_factory(engine))
    finally:
        await engine.dispose()


@pytest.fixture
async def queue_joins(sandbox: Sandbox, crash_settings: Settings) -> AsyncIterator[list[AmiEvent]]:
    """QueueCallerJoin events, seen by a hotline AMI login of the test's own."""
    joined: list[AmiEvent] = []
    client = AmiClient.from_settings(crash_settings.asterisk)
    client.subscribe(joined.append, ["QueueCallerJoin"])
    await client.connect()
    try:
        yield joined
    finally:
        await client.close()


@pytest.fixture
async def fallbacks(sandbox: Sandbox, crash_settings: Settings) -> AsyncIterator[list[AmiEvent]]:
    """The dialplan fallback taking a call (its HOTLINE_DISPOSITION), seen the same way."""
    seen: list[AmiEvent] = []

    def on_var(event: AmiEvent) -> None:
        if event.get("Variable") == "HOTLINE_DISPOSITION" and event.get("Value") == "fallback":
            seen.append(event)

    client = AmiClient.from_settings(crash_settings.asterisk)
    client.subscribe(on_var, ["VarSet"])
    await client.connect()
    try:
        yield seen
    finally:
        await client.close()


@pytest.fixture
async def calls(asterisk: Sandbox) -> AsyncIterator[list[Caller]]:
    """Calls placed by the test; a failed test's calls are hung up before the idle check."""
    placed: list[Caller] = []
    yield placed
    for call in placed:
        await call.abandon()


async def answered_row(
    records: CallRecordRepository, proc: ServiceProcess, within: float = 25.0
) -> CallRecord:
    """The one unfinished row of the test's database, once it shows the answer."""
    deadline = asyncio.get_running_loop().time() + within
    rows: list[CallRecord] = []
    while asyncio.get_running_loop().time() < deadline:
        rows = await records.in_progress()
        if len(rows) == 1 and rows[0].answered_at is not None:
            return rows[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no single answered in-progress row: {rows}\n{proc.log_tail()}")


async def completed(
    records: CallRecordRepository, proc: ServiceProcess, linkedid: str, within: float = 20.0
) -> CallRecord:
    """The record once the call log has completed the live part (``ami+log``)."""
    deadline = asyncio.get_running_loop().time() + within
    record = None
    while asyncio.get_running_loop().time() < deadline:
        record = await records.get(linkedid)
        if record is not None and record.source is RecordSource.AMI_LOG:
            return record
        await asyncio.sleep(0.2)
    raise AssertionError(f"{linkedid} not completed from the log: {record}\n{proc.log_tail()}")


def last_by_time(timeline: list[TimelineEntry]) -> TimelineEntry:
    """Entries the log adds come after the live part's seqs: order by time to read it."""
    return max(timeline, key=lambda entry: (entry.at, entry.seq))


async def row_of(
    records: CallRecordRepository,
    proc: ServiceProcess,
    linkedid: str,
    *,
    finished: bool,
    within: float = 15.0,
) -> CallRecord:
    deadline = asyncio.get_running_loop().time() + within
    record = None
    while asyncio.get_running_loop().time() < deadline:
        record = await records.get(linkedid)
        if record is not None and record.finished == finished:
            return record
        await asyncio.sleep(0.2)
    raise AssertionError(
        f"record of {linkedid} (finished={finished}) not there: {record}\n{proc.log_tail()}"
    )


async def hotline_idle(box: Sandbox, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while "0 active channels" not in box.hotline.cli("core show channels count"):
        assert asyncio.get_running_loop().time() < deadline, "hotline channels still up"
        await asyncio.sleep(0.2)


def contiguous_seqs(timeline: list[TimelineEntry]) -> bool:
    return [entry.seq for entry in timeline] == list(range(1, len(timeline) + 1))


async def test_killed_mid_call_then_back_before_the_end_sees_the_end(
    asterisk: Sandbox,
    crash_settings: Settings,
    proc: ServiceProcess,
    records: CallRecordRepository,
    queue_joins: list[AmiEvent],
    calls: list[Caller],
) -> None:
    proc.start()
    await proc.wait_ready()
    calls.append(call := Caller(asterisk, crash_settings, "13912340001"))
    before = await answered_row(records, proc)  # on disk before the crash
    await proc.wait_in_flow()

    killed = proc.kill()
    # the FastAGI socket died with the process: the dialplan queues the caller (no dead air)
    await wait_until(lambda: len(queue_joins) == 1, 10, "the caller was not queued")
    assert queue_joins[0]["Queue"] == crash_settings.inbound.fallback_queue
    restarted = proc.start()
    await proc.wait_ready()
    placed = await call.hang_up()
    seen = await wait_for_record(records, placed.sip_call_id, within=15)
    record = await completed(records, proc, seen.linkedid)

    assert [r.linkedid for r in await records.recent(100)] == [before.linkedid]
    assert record.linkedid == before.linkedid and record.finished
    assert not record.end_estimated
    assert record.answered_at == before.answered_at  # the adopted row, not a re-estimate
    assert record.ended_at is not None and record.ended_at > restarted > killed
    assert record.hangup_cause is not None  # the caller's BYE, seen by the new process
    timeline = await records.timeline(record.linkedid)
    assert contiguous_seqs(timeline) and last_by_time(timeline).kind == "hangup"
    # The crash sent the caller to the fallback queue (a variable set while no service
    # listened, read back at reconciliation), where the caller hung up: the log saw the
    # queue the live side missed.
    assert record.fallback and record.disposition is Disposition.ABANDONED_QUEUE
    assert record.queue == crash_settings.inbound.fallback_queue
    assert [e.kind for e in timeline].count("queue_join") == 1


async def test_call_ending_while_the_service_is_down_is_finished_from_the_call_log(
    asterisk: Sandbox,
    crash_settings: Settings,
    proc: ServiceProcess,
    records: CallRecordRepository,
    fallbacks: list[AmiEvent],
    calls: list[Caller],
) -> None:
    proc.start()
    await proc.wait_ready()
    calls.append(call := Caller(asterisk, crash_settings, "13912340002"))
    before = await answered_row(records, proc)
    await proc.wait_in_flow()

    killed = proc.kill()
    at_crash = await records.get(before.linkedid)
    assert at_crash is not None and not at_crash.finished  # the crash kept the row
    await wait_until(lambda: len(fallbacks) == 1, 10, "the fallback did not take the call")
    await call.hang_up()  # during the fallback's notice, before the queue
    await hotline_idle(asterisk)
    assert await records.get(before.linkedid) == at_crash  # no one wrote while down
    hung_up = datetime.now(UTC)
    proc.start()
    await proc.wait_ready()
    record = await completed(records, proc, before.linkedid)

    assert [r.linkedid for r in await records.recent(100)] == [before.linkedid]
    assert record.linkedid == before.linkedid
    # answered before the crash, then the fallback's notice no one watched, during which
    # the caller hung up: Asterisk's log saw it, so the end is the real one, not an estimate
    assert record.fallback and record.disposition is Disposition.ABANDONED_IVR
    assert not record.end_estimated
    assert record.answered_at == before.answered_at
    assert record.ended_at is not None and killed <= record.ended_at <= hung_up
    assert record.hangup_cause is not None  # the caller's BYE, from the log
    timeline = await records.timeline(record.linkedid)
    assert contiguous_seqs(timeline)
    gone = [e for e in timeline if e.kind == "reconciled" and e.detail.get("reason") == "gone"]
    assert len(gone) == 1  # the restart found it gone; the log then told how it ended
    assert last_by_time(timeline).kind == "reconciled"
    assert [e.kind for e in timeline if e.at < gone[0].at][-1] == "hangup"


async def test_caller_is_served_while_the_service_is_dead_and_adopted_after(
    asterisk: Sandbox,
    crash_settings: Settings,
    proc: ServiceProcess,
    records: CallRecordRepository,
    queue_joins: list[AmiEvent],
    calls: list[Caller],
) -> None:
    proc.start()  # creates the database, then dies with no call up
    await proc.wait_ready()
    proc.kill()

    calls.append(call := Caller(asterisk, crash_settings, "13912340003"))
    await wait_until(lambda: len(queue_joins) == 1, 25, "the caller never reached the queue")
    queued = datetime.now(UTC)
    assert queue_joins[0]["Queue"] == crash_settings.inbound.fallback_queue
    linkedid = queue_joins[0]["Linkedid"]
    assert await records.recent(100) == []  # no one is recording

    restarted = proc.start()
    await proc.wait_ready()
    adopted = await row_of(records, proc, linkedid, finished=False)  # written at reconciliation
    placed = await call.hang_up()
    record = await completed(records, proc, linkedid)

    assert [r.linkedid for r in await records.recent(100)] == [linkedid]
    assert record.caller == adopted.caller == "13912340003"
    # adopted with a start estimated from its age (whole seconds); the log knows it exactly
    assert record.started_at <= adopted.started_at < queued
    assert adopted.started_at - record.started_at < timedelta(seconds=1.5)
    assert not record.end_estimated
    assert record.ended_at is not None and record.ended_at > restarted
    assert record.answered_at is not None and record.answered_at <= record.ended_at
    timeline = await records.timeline(linkedid)
    assert contiguous_seqs(timeline) and last_by_time(timeline).kind == "hangup"
    assert timeline[0].kind == "reconciled" and timeline[0].detail.get("reason") == "adopted"
    assert "queue_join" in [e.kind for e in timeline]  # from the log: before the adoption
    # what only the dialplan's variables say: it was the fallback, which number, which call
    facts = (record.fallback, record.disposition, record.did, record.sip_call_id)
    assert facts == (
        True,
        Disposition.ABANDONED_QUEUE,
        crash_settings.inbound.number,
        placed.sip_call_id,
    )
