"""Find an Asterisk 22 to run: the host's own, or a Debian chroot built with debootstrap.

Debian bookworm has no Asterisk package; sid (and testing) carry Asterisk 22 LTS. The chroot
is built once per machine (about a minute) and shared by every checkout; each sandbox
instance keeps its own files in a folder inside it.
"""

from __future__ import annotations

import logging
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hotline.config import SandboxSettings
from hotline.errors import SandboxError

__all__ = ["AsteriskHost", "detect", "install_chroot", "parse_version"]

log = logging.getLogger(__name__)

PACKAGES = (
    "asterisk",
    "asterisk-modules",
    "asterisk-config",
    "asterisk-moh-opsound-wav",
    "asterisk-core-sounds-en-wav",
)
_VERSION = re.compile(r"Asterisk\s+(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class AsteriskHost:
    """Where Asterisk runs: ``root`` is ``/`` for the host, else the chroot folder."""

    root: Path
    chroot: bool
    version: str
    modules_dir: str
    data_dir: str

    def command(self, *args: str) -> list[str]:
        """The argv that runs ``asterisk *args`` in this host (inside the chroot if any)."""
        prefix = ["chroot", str(self.root)] if self.chroot else []
        return [*prefix, "asterisk", *args]

    def host_path(self, inside: str) -> Path:
        """The host's path of a path as Asterisk sees it, following the chroot's own
        absolute symlinks (Debian's ``sounds/en`` points into ``/etc/alternatives``)."""
        if not self.chroot:
            return Path(inside)
        resolved = self.root
        parts = [p for p in inside.split("/") if p]
        hops = 0
        while parts:
            candidate = resolved / parts.pop(0)
            if candidate.is_symlink() and hops < 40:
                hops += 1
                target = str(candidate.readlink())
                parts = [p for p in target.split("/") if p] + parts
                if target.startswith("/"):
                    resolved = self.root
                continue
            resolved = candidate
        return resolved

    @property
    def major(self) -> int:
        return parse_version(self.version)[0]


def parse_version(text: str) -> tuple[int, int, int]:
    """``Asterisk 22.10.1+dfsg…`` → (22, 10, 1); SandboxError when it is not a version."""
    match = _VERSION.search(text)
    if not match:
        raise SandboxError(f"cannot read an Asterisk version from {text!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def _version_of(argv: list[str]) -> str | None:
    try:
        done = subprocess.run([*argv, "-V"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _modules_dir(root: Path) -> str:
    found = sorted(root.glob("usr/lib/*/asterisk/modules")) + sorted(
        root.glob("usr/lib/asterisk/modules")
    )
    if not found:
        raise SandboxError(f"no Asterisk modules folder under {root}")
    return "/" + str(found[0].relative_to(root))


def detect(settings: SandboxSettings, required_major: int) -> AsteriskHost | None:
    """The Asterisk to use, or None when the chroot still has to be installed."""
    if settings.mode in ("auto", "host") and shutil.which("asterisk"):
        version = _version_of(["asterisk"])
        if version and parse_version(version)[0] == required_major:
            return AsteriskHost(
                Path("/"), False, version, _modules_dir(Path("/")), "/usr/share/asterisk"
            )
        if settings.mode == "host":
            raise SandboxError(
                f"sandbox.mode is host but the host Asterisk is {version!r}, not {required_major}"
            )
    if settings.mode == "host":
        raise SandboxError("sandbox.mode is host but no asterisk is on PATH")
    root = settings.root
    if not (root / "usr/sbin/asterisk").exists():
        return None
    version = _version_of(["chroot", str(root), "asterisk"])
    if version is None:
        raise SandboxError(f"{root} has an asterisk binary that does not run")
    return AsteriskHost(root, True, version, _modules_dir(root), "/usr/share/asterisk")


def _apt_mirror() -> str:
    """The Debian mirror apt already uses on this machine."""
    candidates = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in candidates:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        match = re.search(r"(https?://\S+/debian)/?\s", text)
        if match:
            return match.group(1)
    return "http://deb.debian.org/debian"


def install_chroot(settings: SandboxSettings) -> None:
    """Build the Debian chroot with Asterisk, music on hold and core sounds."""
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise SandboxError("debootstrap is missing: apt-get install -y debootstrap")
    root = settings.root
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    mirror = settings.mirror or _apt_mirror()
    argv = [
        debootstrap,
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        settings.suite,
        str(partial),
        mirror,
    ]
    log.info("building the Asterisk chroot: %s", " ".join(argv))
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise SandboxError(f"debootstrap failed ({done.returncode}):\n{tail}")
    # No DNS here: name the host locally or RTP set-up stalls on look-ups.
    hostname = socket.gethostname()
    (partial / "etc/hosts").write_text(f"127.0.0.1 localhost {hostname}\n::1 localhost\n")
    if root.exists():
        shutil.rmtree(root)
    partial.rename(root)
    log.info("Asterisk chroot ready in %s", root)
