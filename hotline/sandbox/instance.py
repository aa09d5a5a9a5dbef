"""One running Asterisk: its folders, rendered config, start, stop and CLI.

Asterisk runs as a daemon with its own ``asterisk.conf``; ``asterisk -C … -rx`` reaches it
through the control socket in its run folder, which is how it is checked and stopped.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

from hotline.config import Settings
from hotline.errors import SandboxError
from hotline.render import CALL_LOG_FILE, InstanceDirs, Role, render_instance
from hotline.sandbox.install import AsteriskHost

__all__ = ["AsteriskInstance"]

log = logging.getLogger(__name__)

_SUBDIRS = ("etc", "run", "lib", "log", "log/cel-custom", "spool", "cache", "agi-bin", "recordings")


class AsteriskInstance:
    """The hotline or the carrier simulator, in the given Asterisk host."""

    def __init__(self, host: AsteriskHost, role: Role, instance: str, var_dir: Path) -> None:
        self.host = host
        self.role = role
        if host.chroot:
            base = f"/hotline/{instance}/{role}"
        else:
            base = str((var_dir / "asterisk" / instance / role).resolve())
        self.dirs = InstanceDirs(base=base, modules=host.modules_dir, data=host.data_dir)

    @property
    def base(self) -> Path:
        """The instance folder on the host."""
        return self.host.host_path(self.dirs.base)

    @property
    def conf(self) -> str:
        return f"{self.dirs.base}/etc/asterisk.conf"

    @property
    def log_file(self) -> Path:
        return self.base / "log" / "messages.log"

    @property
    def call_log(self) -> Path:
        """The CEL file Asterisk writes for the service (``cel_custom.conf``)."""
        return self.base / "log" / "cel-custom" / CALL_LOG_FILE

    def render(self, settings: Settings) -> list[Path]:
        for sub in _SUBDIRS:
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        return render_instance(settings, self.role, self.dirs, self.base / "etc")

    def config_digest(self) -> str:
        """A digest of the rendered configuration, to tell whether a restart is due."""
        digest = hashlib.sha256()
        for path in sorted((self.base / "etc").glob("*.conf")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def booted_digest(self) -> str:
        """The digest of the configuration the running daemon was started with."""
        try:
            return (self.base / "run" / "config.sha256").read_text().strip()
        except OSError:
            return ""

    def cli(self, command: str, timeout: float = 15.0) -> str:
        """Run one CLI command on the running instance; SandboxError when it is not up."""
        argv = self.host.command("-C", self.conf, "-rx", command)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise SandboxError(f"{self.role}: CLI {command!r} timed out") from exc
        if done.returncode != 0:
            raise SandboxError(f"{self.role}: CLI {command!r} failed: {done.stderr.strip()}")
        return done.stdout

    def pid(self) -> int | None:
        try:
            pid = int((self.base / "run" / "asterisk.pid").read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def running(self) -> bool:
        if self.pid() is None:
            return False
        try:
            self.cli("core show uptime seconds", timeout=5)
        except SandboxError:
            return False
        return True

    def start(self, timeout: float = 60.0) -> None:
        """Start the daemon (unless its process lives) and wait until it is fully booted."""
        if self.running():
            log.info("%s Asterisk already running (pid %s)", self.role, self.pid())
            return
        if self.pid() is None:  # a live process slow to answer is waited for, not doubled
            (self.base / "run" / "asterisk.ctl").unlink(missing_ok=True)
            argv = self.host.command("-C", self.conf)
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            if done.returncode != 0:
                raise SandboxError(f"{self.role}: asterisk did not start: {done.stderr.strip()}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.cli("core waitfullybooted", timeout=10)
            except SandboxError:
                time.sleep(0.2)
                continue
            (self.base / "run" / "config.sha256").write_text(self.config_digest())
            log.info("%s Asterisk up (pid %s)", self.role, self.pid())
            return
        raise SandboxError(
            f"{self.role}: Asterisk not booted after {timeout:.0f} s; see {self.log_file}"
        )

    def stop(self, timeout: float = 20.0) -> None:
        """Stop now (calls are hung up); kill the process if it does not go."""
        pid = self.pid()
        if pid is None:
            return
        try:
            self.cli("core stop now", timeout=10)
        except SandboxError as exc:
            log.warning("%s: %s; sending SIGTERM", self.role, exc)
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid() is None:
                return
            time.sleep(0.1)
        log.warning("%s Asterisk did not stop in %.0f s; killing pid %s", self.role, timeout, pid)
        os.kill(pid, signal.SIGKILL)
