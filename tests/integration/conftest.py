"""Real Asterisk for integration tests: the sandbox pair on free ports, and the service.

Each test session runs its own sandbox instance (``test-<pid>``) beside a developer's
``make run`` (instance ``default``), on its own ports. After every test both instances
must have no channels left.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline.config import Settings, secret_fields
from hotline.errors import HotlineError
from hotline.sandbox import Sandbox
from hotline.service import HotlineService
from tests.support import missing

_COUNT = re.compile(r"(\d+) active channel")


#: Listening ports of the tests' Asterisks and services come from a block per session,
#: below the kernel's ephemeral range (32768-60999 here). A port picked there (bind to 0)
#: was free only for a moment: any outgoing connection could take it as its source port
#: before Asterisk bound it, and that session's AMI never listened ("AMI did not connect").
PORT_BASE = 20000
PORT_BLOCK = 200
_cursor: dict[str, int] = {}


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    """A port free now in this session's block (the next one each call, wrapping round)."""
    start = PORT_BASE + rtp_slot() * PORT_BLOCK
    offset = _cursor.get("next", 0)
    for step in range(PORT_BLOCK):
        port = start + (offset + step) % PORT_BLOCK
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _cursor["next"] = (offset + step + 1) % PORT_BLOCK
        return port
    raise RuntimeError(f"no free port in {start}-{start + PORT_BLOCK - 1}")


RTP_BASE = 30000
RTP_SLOTS = 8  # sessions side by side: xdist workers (gw0…), else one per pid
RTP_SLOT_PORTS = 4000  # per session: two sandboxes of two instances, 1000 ports each


def rtp_slot() -> int:
    """This session's slot: its xdist worker's number (so workers never share one), else
    one from the process id (developers' and helpers' sessions beside each other)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and worker[2:].isdigit():
        return int(worker[2:]) % RTP_SLOTS
    return os.getpid() % RTP_SLOTS


def integration_settings(
    var_dir: Path,
    database_url: str,
    *,
    instance: str = "test",
    rtp_offset: int = 0,
    **sections: Any,
) -> Settings:
    """Settings for the test sandbox: own instance, free ports, fresh secrets.

    Several test sessions may run at once (xdist workers, developers, helpers, CI): each
    gets its own sandbox instance and its own RTP ports. ``rtp_offset``: 0 for the first
    sandbox of a session, 2000 for the second.
    """
    block = RTP_BASE + rtp_slot() * RTP_SLOT_PORTS + rtp_offset
    defaults: dict[str, Any] = {
        # Tests do not depend on the time of day; the after-hours test forces "closed".
        "ivr": {"hours": {"force": "open"}},
        # Callback requests left by the inbound tests are not dialled back, except in the
        # promised-callback tests, which turn it on.
        "callbacks": {"enabled": False},
        # A test's own database follows the session's call log from the test on, not the
        # calls of the tests before it.
        "call_log": {"first_start": "end"},
        # A recording is looked at soon after its call, so a test need not wait long.
        "recording": {"check_every_seconds": 0.5, "check_after_seconds": 1.5},
    }
    return Settings(
        var_dir=var_dir,
        asterisk={
            "ami_port": free_port(),
            "ami_secret": secrets.token_urlsafe(16),
            "sip_port": free_port(socket.SOCK_DGRAM),
            "rtp_start": block,
            "rtp_end": block + 999,
            "ami_reconnect_max_seconds": 2.0,
        },
        carrier={
            "ami_port": free_port(),
            "ami_secret": secrets.token_urlsafe(16),
            "sip_port": free_port(socket.SOCK_DGRAM, "127.0.0.2"),
            "ari_port": free_port(host="127.0.0.2"),
            "rtp_start": block + 1000,
            "rtp_end": block + 1999,
        },
        agi={"port": free_port()},
        web={"port": free_port(), "token": secrets.token_urlsafe(16)},
        database={"url": database_url, "spool_dir": var_dir / "spool"},
        sandbox={"instance": f"{instance}-{os.getpid()}"},
        **(defaults | sections),
    )


def write_settings_files(settings: Settings, config: Path, secrets_file: Path) -> None:
    """The settings as an operator keeps them: a YAML file, and the secrets apart (0600)."""
    values = settings.model_dump(mode="json")
    hidden: dict[str, Any] = {}
    for path in secret_fields(Settings):
        *sections, key = path.split(".")
        plain: Any = settings
        shown, kept = values, hidden
        for part in sections:
            plain, shown = getattr(plain, part), shown[part]
            kept = kept.setdefault(part, {})
        del shown[key]
        kept[key] = getattr(plain, key).get_secret_value()
    config.write_text(yaml.safe_dump(values, allow_unicode=True), encoding="utf-8")
    secrets_file.touch(mode=0o600)
    secrets_file.write_text(yaml.safe_dump(hidden), encoding="utf-8")


@pytest.fixture(scope="session")
def sandbox_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    var_dir = tmp_path_factory.mktemp("var")
    return integration_settings(var_dir, f"sqlite+aiosqlite:///{var_dir / 'hotline.db'}")


@pytest.fixture(scope="session")
def sandbox(sandbox_settings: Settings) -> Iterator[Sandbox]:
    """Both Asterisk instances, started once for the session."""
    if os.geteuid() != 0:
        missing("the Asterisk sandbox needs root (chroot)")
    box = Sandbox(sandbox_settings)
    try:
        box.install()
        box.build_prompts()
        box.start()
    except HotlineError as exc:
        missing(f"the Asterisk sandbox is not available: {exc}")
    yield box
    box.stop()
    keep_logs(box)
    shutil.rmtree(box.hotline.base.parent, ignore_errors=True)  # the test-<pid> folder


def asterisk_state(box: Sandbox, lines: int = 60) -> str:
    """For a failure message: whether each instance's process lives, and the hotline
    Asterisk's last log lines (a test that finds AMI gone says why)."""
    alive = {instance.role: instance.pid() for instance in box.instances()}
    try:
        tail = box.hotline.log_file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        tail = f"(no log: {exc})"
    return f"pids {alive}; {box.hotline.log_file}:\n" + "\n".join(tail.splitlines()[-lines:])


def keep_logs(box: Sandbox) -> None:
    """Before a session's sandbox folder is removed, its logs go to test-artifacts/ (the
    last 2 MB of each), so a failure seen only in a CI run can still be read."""
    folder = Path(os.environ.get("HOTLINE_TEST_ARTIFACTS", "test-artifacts"))
    for instance in box.instances():
        if not instance.log_file.exists():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        with instance.log_file.open("rb") as handle:
            handle.seek(max(0, instance.log_file.stat().st_size - 2_000_000))
            data = handle.read()
        name = f"asterisk-{instance.base.parent.name}-{instance.role}.log"
        (folder / name).write_bytes(data)


def active_channels(box: Sandbox) -> dict[str, int]:
    counts: dict[str, int] = {}
    for instance in box.instances():
        match = _COUNT.search(instance.cli("core show channels count"))
        counts[instance.role] = int(match.group(1)) if match else -1
    return counts


@pytest.fixture
def asterisk(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox, checked to be idle before and after the test."""
    yield sandbox
    deadline = time.monotonic() + 15
    counts = active_channels(sandbox)
    while any(counts.values()) and time.monotonic() < deadline:
        time.sleep(0.25)
        counts = active_channels(sandbox)
    if any(counts.values()):
        for instance in sandbox.instances():
            instance.cli("channel request hangup all")
        pytest.fail(f"channels left after the test: {counts}")


@pytest.fixture
async def service(asterisk: Sandbox, sandbox_settings: Settings) -> AsyncIterator[HotlineService]:
    """The hotline service, connected to the sandbox's AMI."""
    svc = HotlineService(sandbox_settings)
    await svc.start()
    await wait_until(
        lambda: svc.ami.connected, 10, lambda: f"AMI did not connect; {asterisk_state(asterisk)}"
    )
    yield svc
    await svc.stop()


async def wait_until(predicate: object, within: float, what: str | Callable[[], str]) -> None:
    """Until ``predicate()``; ``what`` (or what it returns, made at the failure) explains."""
    assert callable(predicate)
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(what() if callable(what) else what)
        await asyncio.sleep(0.05)


# The inbound sandbox's fixtures, registered here once for every module. Imported into
# each test module instead, they were one session fixture per module: the second module
# on a worker restarted the inbound Asterisk on new ports, and a test of the first module
# that ran after it (work stealing) found no AMI where its settings said.
from tests.integration.inbound_support import (  # noqa: E402
    inbound_asterisk,
    inbound_sandbox,
    inbound_settings,
    make_service,
)

__all__ = ["inbound_asterisk", "inbound_sandbox", "inbound_settings", "make_service"]
