"""The CI rule: under ``CI=true`` a missing PostgreSQL or Asterisk fails the test; and
a small real disk for the tests of a full one."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["missing", "running_under_ci", "small_disk"]


def running_under_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(what: str) -> None:
    """A prerequisite is absent: fail under CI, skip elsewhere (with the reason)."""
    if running_under_ci():
        pytest.fail(f"{what} (CI=true: required, not skipped)")
    pytest.skip(what)


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (``16k``) mounted on ``folder`` (as root), unmounted after."""
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        missing(f"cannot mount a tmpfs (needs root): {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
