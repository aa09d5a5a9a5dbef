"""Fixtures of the unit tests: the CLI on a SQLite database of the test's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """``hotline`` with every command, run in ``tmp_path`` on ``tmp_path/h.db``."""
    from hotline.cli import _add_feature_commands

    _add_feature_commands()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    monkeypatch.setenv("HOTLINE_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    return CliRunner()
