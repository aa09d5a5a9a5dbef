"""The CI rule: under ``CI=true`` a missing PostgreSQL or Asterisk fails the test."""

from __future__ import annotations

import os

import pytest

__all__ = ["missing", "running_under_ci"]


def running_under_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(what: str) -> None:
    """A prerequisite is absent: fail under CI, skip elsewhere (with the reason)."""
    if running_under_ci():
        pytest.fail(f"{what} (CI=true: required, not skipped)")
    pytest.skip(what)
