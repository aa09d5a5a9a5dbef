"""``hotline demo seed``, ``hotline blocklist …`` and ``hotline menu check`` (SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from hotline.cli import main
from ivr.demo import DEMO_CUSTOMERS


def test_demo_seed_twice(runner: CliRunner) -> None:
    for _ in range(2):
        result = runner.invoke(main, ["demo", "seed"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"demo data: {len(DEMO_CUSTOMERS)} customers")
        assert DEMO_CUSTOMERS[0].account in result.output


def test_blocklist_commands(runner: CliRunner) -> None:
    added = runner.invoke(main, ["blocklist", "add", "13900139000", "--reason", "abuse"])
    assert (added.exit_code, added.output) == (0, "+8613900139000: blocked\n")
    again = runner.invoke(main, ["blocklist", "add", "+8613900139000"])
    assert again.output == "+8613900139000: already blocked\n"
    listed = runner.invoke(main, ["blocklist", "list", "--json"])
    [entry] = json.loads(listed.output)
    assert (entry["number"], entry["reason"], entry["source"]) == ("+8613900139000", "abuse", "cli")
    plain = runner.invoke(main, ["blocklist", "list"])
    assert plain.output.split() == ["+8613900139000", "cli", "abuse"]
    assert runner.invoke(main, ["blocklist", "remove", "13900139000"]).exit_code == 0
    gone = runner.invoke(main, ["blocklist", "remove", "13900139000"])
    assert gone.exit_code == 1
    bad = runner.invoke(main, ["blocklist", "add", "12"])
    assert bad.exit_code == 2 and "3 to 20 characters" in bad.output


def test_menu_check(runner: CliRunner, tmp_path: Path) -> None:
    ok = runner.invoke(main, ["menu", "check"])
    assert (ok.exit_code, ok.output) == (0, "menu OK: 4 menus, emergency key 1\n")
    broken = tmp_path / "menu.yaml"
    broken.write_text("root: main\nmenus:\n  main: {prompt: nope, options: {}}\n", "utf-8")
    config = tmp_path / "hotline.yaml"
    config.write_text(f"ivr:\n  menu_file: {broken}\n", "utf-8")
    result = runner.invoke(main, ["--config", str(config), "menu", "check"])
    assert result.exit_code == 1
    assert f"{broken}: menus.main.prompt: no text for prompt 'nope'" in result.output
