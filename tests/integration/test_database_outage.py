"""The database gone for a minute while calls go on: the records are complete afterwards
and none is written twice (the recorder's spool, then its replay).

PostgreSQL is reached through a TCP proxy that the test cuts: connections drop and new
ones are refused, as when the server or its network goes away. SQLite is held by another
process's exclusive transaction (a backup, a long admin query): every write fails with
"database is locked" after the busy timeout.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.callrecord import CallRecord, Disposition, ScoreStatus
from hotline.config import DatabaseSettings, Settings
from hotline.db import upgrade
from hotline.errors import DatabaseError
from hotline.sandbox import Sandbox
from hotline.service import HotlineService
from hotline.testcall import live_call
from tests.integration.conftest import free_port, wait_until
from tests.integration.inbound_support import (
    ServiceFactory,
    login,
    set_agent,
)

pytestmark = pytest.mark.asterisk

OUTAGE = 60.0


class TcpProxy:
    """127.0.0.1:<port> → PostgreSQL, with a switch that takes the database away."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def down(self) -> None:
        """Refuse new connections and drop the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._pipes):
            writer.close()
        self._pipes.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._pipes |= {writer, up_writer}
        await asyncio.gather(
            self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True
        )

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        finally:
            sink.close()
            self._pipes.discard(sink)


class Outage:
    """Takes the test's database away and brings it back."""

    def __init__(self, kind: str, path: Path | None = None, proxy: TcpProxy | None = None) -> None:
        self.kind = kind
        self._path = path
        self._proxy = proxy
        self._lock: sqlite3.Connection | None = None

    async def begin(self) -> None:
        if self._proxy is not None:
            await self._proxy.down()
            return
        assert self._path is not None
        # the service's readers (the recordings look, every 0.5 s here) come and go: wait
        # for a moment between them, as a real outage would take the file anyway
        self._lock = sqlite3.connect(self._path, timeout=15, isolation_level=None)
        self._lock.execute("BEGIN EXCLUSIVE")

    async def end(self) -> None:
        if self._proxy is not None:
            await self._proxy.up()
        elif self._lock is not None:
            self._lock.execute("ROLLBACK")
            self._lock.close()
            self._lock = None

    async def close(self) -> None:
        """Teardown: the lock released, the proxy gone."""
        await self.end()
        if self._proxy is not None:
            await self._proxy.down()


@pytest.fixture(params=["sqlite", "postgresql"])
def outage_database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Outage]:
    """A database of the test's own (a SQLite file, or PostgreSQL behind a proxy), and its
    way to fail."""
    if request.param == "sqlite":
        path = tmp_path / "records.db"
        return f"sqlite+aiosqlite:///{path}", Outage("sqlite", path=path)
    direct: str = request.getfixturevalue("postgres_url")
    proxy = TcpProxy(("127.0.0.1", 5432))
    url = direct.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
    return url, Outage("postgresql", proxy=proxy)


@pytest.fixture
async def outage_settings(
    outage_database: tuple[str, Outage], inbound_settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[Settings, Outage]]:
    """The inbound settings on that database, migrated, with the database up."""
    url, outage = outage_database
    await outage.end()  # the proxy listens
    await upgrade(url)
    database = DatabaseSettings(url=url, spool_dir=tmp_path / "spool")
    yield inbound_settings.model_copy(update={"database": database}), outage
    await outage.close()


async def finished(service: HotlineService, sip_call_id: str, within: float) -> CallRecord:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        try:
            record = await service.records.find_by_sip_call_id(sip_call_id)
        except DatabaseError:  # still coming back
            record = None
        if record is not None and record.finished:
            return record
        await asyncio.sleep(0.25)
    raise AssertionError(f"no finished record for {sip_call_id} after {within:g} s")


async def test_a_minute_without_the_database_loses_no_record_and_doubles_none(
    make_service: ServiceFactory,
    outage_settings: tuple[Settings, Outage],
    inbound_asterisk: Sandbox,
) -> None:
    settings, outage = outage_settings
    service, spy, events = await make_service(base=settings)
    await set_agent(settings, "1001", rings=0, talk=3)
    await login(service, "1001", "repair")

    await outage.begin()
    started = asyncio.get_running_loop().time()
    async with live_call(settings) as scored:  # menu → repair → agent → score 9
        await spy.wait_for("menu-main")
        await scored.press("2")
        await events.wait("AgentConnect", Queue="repair")
        await spy.wait_for("score")
        await scored.press("9")
        await scored.wait_ended(20)
    async with live_call(settings) as left:  # gives up in the menu
        await spy.wait_for("menu-main", count=2)
        await left.hangup()
    await wait_until(lambda: service.recorder.spooled > 0, 30, "nothing was spooled")
    await asyncio.sleep(max(0.0, OUTAGE - (asyncio.get_running_loop().time() - started)))
    await outage.end()

    answered = await finished(service, scored.sip_call_id, 60)
    abandoned = await finished(service, left.sip_call_id, 60)
    await wait_until(lambda: service.recorder.backlog == 0, 60, "spool not drained")
    assert (answered.disposition, answered.agent, answered.queue) == (
        Disposition.ANSWERED,
        "1001",
        "repair",
    )
    assert (answered.score, answered.score_status) == (9, ScoreStatus.SCORED)
    assert abandoned.disposition is Disposition.ABANDONED_IVR
    records = await service.records.recent(100)
    assert sorted(r.linkedid for r in records) == sorted([answered.linkedid, abandoned.linkedid])
    for record in (answered, abandoned):
        timeline = await service.records.timeline(record.linkedid)
        assert [e.seq for e in timeline] == list(range(1, record.last_seq + 1))
        for kind in ("newchannel", "answer", "hangup"):  # once per channel, never replayed twice
            channels = [e.channel for e in timeline if e.kind == kind]
            assert len(channels) == len(set(channels)), (kind, channels)
