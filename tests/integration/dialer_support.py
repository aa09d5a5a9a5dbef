"""Helpers of the dialer's integration tests: settings, campaigns, and the carrier's view.

The carrier simulator is the customers' network: its own AMI shows one ``Newchannel`` per
INVITE that reached it, with the dialled number as ``Exten``. Counting those is how the
tests prove that nobody was dialled twice for one attempt and that DNC and disallowed
numbers were never dialled at all.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from dialer.campaigns import Campaign
from dialer.contacts import ContactIn
from dialer.operations import Operations
from dialer.repository import DialerRepository
from dialer.states import ContactState
from hotline.ami import AmiClient, AmiEvent
from hotline.config import DatabaseSettings, Settings
from hotline.config_dialer import DialerSettings
from hotline.render import PROJECT_ROOT
from hotline.testcall import carrier_client
from tests.integration.conftest import write_settings_files

ALL_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
OPEN = frozenset({ContactState.PENDING.value, ContactState.DIALING.value})


def dialer_settings(
    base: Settings, folder: Path, database_url: str | None = None, **dialer: Any
) -> Settings:
    """The sandbox settings with a database of the test's own and a fast dialer."""
    values: dict[str, Any] = {
        "tick_seconds": 0.05,
        "settle_seconds": 1.0,
        "reconcile_grace_seconds": 2.0,
        "ring_timeout_seconds": 6,
        "trunks": {"carrier": {"cps": 20, "max_concurrent": 50}},
    } | dialer
    url = database_url or f"sqlite+aiosqlite:///{folder / 'dialer.db'}"
    return base.model_copy(
        update={
            "database": DatabaseSettings(url=url, spool_dir=folder / "spool"),
            "dialer": DialerSettings(**values),
        }
    )


def spec(name: str, **fields: Any) -> dict[str, Any]:
    """A campaign open all day, every day, holidays included, with short rings."""
    return {
        "name": name,
        "windows": ALL_DAY,
        "skip_holidays": False,
        "cps": 10,
        "max_concurrent": 20,
        "ring_timeout": 6,
        "max_attempts": 1,
    } | fields


async def campaign_with(
    ops: Operations, name: str, numbers: Iterable[str], *, start: bool = True, **fields: Any
) -> Campaign:
    campaign = await ops.create(spec(name, **fields))
    contacts = [ContactIn(i, n, timezone="Asia/Shanghai") for i, n in enumerate(numbers, 2)]
    await ops.repo.add_contacts(campaign.id, contacts, datetime.now(UTC) - timedelta(seconds=1))
    if start:
        campaign = await ops.transition(str(campaign.id), "start")
    return campaign


async def wait_settled(
    repo: DialerRepository, campaign_id: int, within: float, *, allow_pending: bool = False
) -> list[dict[str, Any]]:
    """Until no contact is dialing (nor pending, unless allowed); returns the contacts."""
    deadline = asyncio.get_running_loop().time() + within
    contacts: list[dict[str, Any]] = []
    while asyncio.get_running_loop().time() < deadline:
        contacts = await repo.contacts_of(campaign_id)
        busy = {"dialing"} if allow_pending else OPEN
        if contacts and not any(c["state"] in busy for c in contacts):
            return contacts
        await asyncio.sleep(0.25)
    raise AssertionError(f"contacts still open after {within:g} s: {contacts}")


class CarrierWatch:
    """INVITEs that reached the carrier simulator, by dialled number."""

    def __init__(self, settings: Settings) -> None:
        self.client: AmiClient = carrier_client(settings)
        self.calls: Counter[str] = Counter()
        self.client.subscribe(self._seen, ["Newchannel"])

    def _seen(self, event: AmiEvent) -> None:
        if event.get("Context") == "customers":
            self.calls[event.get("Exten", "")] += 1

    async def __aenter__(self) -> CarrierWatch:
        await self.client.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()


class ServiceProcess:
    """``hotline --config <file> serve`` as a child process that a test can SIGKILL.

    Settings go to a YAML file and secrets to a separate one (``HOTLINE_SECRETS_FILE``),
    the way an operator runs the service.
    """

    def __init__(self, settings: Settings, folder: Path, name: str = "service") -> None:
        self.settings = settings
        self.config = folder / f"{name}.yaml"
        self.secrets = folder / f"{name}-secrets.yaml"
        self.log = folder / f"{name}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        write_settings_files(settings, self.config, self.secrets)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        assert not self.running
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        env["HOTLINE_SECRETS_FILE"] = str(self.secrets)
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                [str(Path(sys.prefix) / "bin" / "hotline"), "--config", str(self.config), "serve"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=PROJECT_ROOT,
            )

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, nothing queued is written."""
        assert self._proc is not None and self.running
        self._proc.send_signal(signal.SIGKILL)
        assert self._proc.wait(timeout=10) == -signal.SIGKILL

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    async def wait_ready(self, within: float = 20.0) -> None:
        """Until /health says the AMI is logged in and the dialer has reconciled."""
        url = f"http://{self.settings.web.host}:{self.settings.web.port}/health"
        deadline = asyncio.get_running_loop().time() + within
        timeout = aiohttp.ClientTimeout(total=2)
        while asyncio.get_running_loop().time() < deadline:
            assert self.running, f"the service exited:\n{self.log_text()[-3000:]}"
            try:
                async with (
                    aiohttp.ClientSession(timeout=timeout) as session,
                    session.get(url) as response,
                ):
                    report = await response.json()
                if (
                    report.get("ami_connected")
                    and report.get("dialer", {}).get("reconciled")
                    and followed_call_log(report)
                ):
                    return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"service not ready in {within:g} s:\n{self.log_text()[-3000:]}")


def followed_call_log(health: dict[str, Any]) -> bool:
    """The service has read Asterisk's call log once (its position is stored from then)."""
    call_log = health.get("call_log")
    return call_log is None or call_log.get("passes", 0) > 0


def check_accounted(
    contacts: list[dict[str, Any]], attempts: list[dict[str, Any]], calls: Counter[str]
) -> None:
    """Every contact final, every attempt over, and no number dialled more often than it
    had attempts; attempts whose fate was seen were really dialled."""
    open_ = [c for c in contacts if c["state"] in OPEN]
    assert not open_, open_
    unfinished = [a for a in attempts if a["status"] != "done" or not a["disposition"]]
    assert not unfinished, unfinished
    for contact in contacts:
        mine = [a for a in attempts if a["contact_id"] == contact["id"]]
        assert [a["seq"] for a in mine] == list(range(1, len(mine) + 1))
        seen = [
            a
            for a in mine
            if a["disposition"] not in ("unknown", "blocked")
            and not a["detail"].startswith("not sent")
        ]
        dialled = calls[contact["number"]]
        assert len(seen) <= dialled <= len(mine), (contact, mine, dialled)
