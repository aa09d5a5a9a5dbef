"""The menu YAML: the shipped menu loads; every kind of mistake is reported with its path."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.config import Settings
from hotline.errors import ConfigError
from ivr.menu import load_menu, parse_menu
from ivr.menu_model import Menu, TargetKind

QUEUES = {"emergency", "repair", "billing", "reception"}
PROMPTS = {"menu-main", "menu-billing"}
GOOD = """
root: main
agent_queue: reception
menus:
  main:
    prompt: menu-main
    options:
      "1": {label: 燃气泄漏, target: "queue:emergency", category: emergency}
      "2": {label: 报修, target: "queue:repair", category: repair}
      "3": {label: 账单, target: billing}
      "0": {label: 人工, target: agent, category: agent}
  billing:
    prompt: menu-billing
    agent_queue: billing
    options:
      "1": {label: 查询, target: "self-service:bill", category: billing}
      "2": {label: 人工, target: agent, category: billing}
"""


def parse(text: str) -> Menu:
    return parse_menu(
        text,
        queues=QUEUES,
        prompts=PROMPTS,
        emergency_queue="emergency",
        default_agent_queue="reception",
    )


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    return caught.value.problems


def test_a_good_menu_is_resolved() -> None:
    menu = parse(GOOD)
    assert (menu.root, menu.repeat_key, menu.back_key, menu.callback_key) == ("main", "*", "9", "2")
    assert menu.emergency.key == "1" and menu.emergency.category == "emergency"
    billing = menu.nodes["billing"]
    assert billing.options["1"].kind is TargetKind.SELF_SERVICE
    assert menu.queue_of(billing, billing.options["2"]) == "billing"
    assert menu.queue_of(menu.main, menu.main.options["0"]) == "reception"
    assert menu.main.options["3"].kind is TargetKind.MENU


def test_the_shipped_menu_loads_with_the_default_settings() -> None:
    menu = load_menu(Settings())
    assert set(menu.nodes) == {"main", "billing", "appointments", "feedback"}
    assert menu.emergency.key == "1"
    assert set(menu.main.options) == {"0", "1", "2", "3", "4", "5", "6"}
    categories = {o.category for o in menu.nodes["appointments"].options.values()}
    assert categories == {
        "appointment-install",
        "appointment-repair",
        "appointment-inspection",
        "appointment-meter",
    }


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            '"2": {label: 报修, target: "queue:repair"',
            '"2": {label: 报修, target: "queue:x"',
            "menu.yaml: menus.main.options.2.target: unknown queue 'x'",
        ),
        (
            '"2": {label: 报修,',
            '"1": {label: 报修,',
            "menu.yaml: menus.main.options.1: duplicate key (line 9; first at line 8)",
        ),
        (
            "prompt: menu-billing",
            "prompt: menu-bills",
            "menu.yaml: menus.billing.prompt: no text for prompt 'menu-bills' in prompts.yaml",
        ),
        (
            "target: billing}",
            "target: bills}",
            "menu.yaml: menus.main.options.3.target: no menu 'bills' (a menu id, queue:<name>,",
        ),
        (
            '"3": {label: 账单, target: billing}',
            '"3": {label: 账单, target: "queue:billing", category: billing}',
            "menu.yaml: menus.billing: unreachable from the main menu 'main'",
        ),
        (
            '"2": {label: 报修, target: "queue:repair", category: repair}',
            '"2": {label: 报修, category: repair}',
            "menu.yaml: menus.main.options.2.target: missing target",
        ),
        (
            "agent_queue: billing",
            "agent_queue: nope",
            "menu.yaml: menus.billing.agent_queue: unknown queue 'nope'",
        ),
        ("agent_queue: reception", "agent_queue: gone", "menu.yaml: agent_queue: unknown queue"),
        (
            '"2": {label: 报修, target: "queue:repair", category: repair}',
            '"2": {label: 报修, target: "queue:repair"}',
            "menu.yaml: menus.main.options.2.category: missing or invalid",
        ),
        (
            '"3": {label: 账单, target: billing}',
            '"3": {label: 账单, target: billing, category: billing}',
            "menu.yaml: menus.main.options.3.category: only options that end the menu have one",
        ),
        (
            '"0": {label: 人工',
            '"9": {label: 人工',
            "menu.yaml: menus.main.options.9: 9 is the back key on every menu",
        ),
        (
            '"0": {label: 人工',
            '"#": {label: 人工',
            "menu.yaml: menus.main.options.#: a menu key is one digit 0-9 (# ends keypad input)",
        ),
        (
            '"1": {label: 查询, target: "self-service:bill"',
            '"1": {label: 查询, target: "self-service:meter"',
            "menu.yaml: menus.billing.options.1.target: unknown self-service 'meter'",
        ),
        (
            '"1": {label: 燃气泄漏, target: "queue:emergency"',
            '"1": {label: 燃气泄漏, target: "queue:repair"',
            "menu.yaml: menus.main.options: exactly one key must route to the emergency queue",
        ),
        ("root: main", "root: start", "menu.yaml: root: no menu 'start'"),
        (
            "    prompt: menu-main\n",
            "    prompt: menu-main\n    colour: red\n",
            "menu.yaml: menus.main.colour: unknown field",
        ),
        ("{label: 报修, ", "{label: '', ", "menu.yaml: menus.main.options.2.label: missing"),
    ],
)
def test_each_mistake_is_reported_with_its_path(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    found = problems(GOOD.replace(old, new, 1))
    assert any(line.startswith(expected) for line in found), found


def test_every_problem_is_reported_at_once() -> None:
    text = GOOD.replace('"queue:repair"', '"queue:x"').replace("menu-billing", "menu-nope")
    found = problems(text)
    assert len(found) == 2
    assert found[0].startswith("menu.yaml: menus.main.options.2.target")
    assert found[1].startswith("menu.yaml: menus.billing.prompt")


def test_integer_and_string_keys_are_the_same_key() -> None:
    text = GOOD.replace('"0": {label: 人工', "2: {label: 人工")
    assert any("menus.main.options.2: duplicate key" in p for p in problems(text))


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ('{repeat: "*", back: "*"}', "keys: repeat, back and callback need different keys"),
        ('{back: "#"}', "keys.back: '#': one key, 0-9 or *"),
        ('{callback: "1"}', "keys.callback: 1 is also the emergency key"),
        ("{undo: 8}", "keys.undo: unknown field"),
    ],
)
def test_special_keys_are_checked(keys: str, expected: str) -> None:
    text = GOOD.replace("root: main", f"root: main\nkeys: {keys}")
    assert any(expected in line for line in problems(text)), problems(text)


def test_special_keys_can_be_changed() -> None:
    text = GOOD.replace("root: main", 'root: main\nkeys: {back: "8", callback: "7"}')
    text = text.replace('"0": {label: 人工', '"9": {label: 人工')
    menu = parse(text)
    assert (menu.back_key, menu.callback_key) == ("8", "7")
    assert "9" in menu.main.options


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("menus: [1, 2", "menu.yaml: not valid YAML"),
        ("- a list", "menu.yaml: (top level): must be a mapping"),
        ("", "menu.yaml: (top level): must be a mapping"),
        ("root: main\nmenus: {}", "menu.yaml: menus: missing"),
        ("menus:\n  main:\n    prompt: menu-main\n", "menu.yaml: menus.main.options: missing"),
    ],
)
def test_broken_files(text: str, expected: str) -> None:
    assert any(line.startswith(expected) for line in problems(text)), problems(text)


def test_unknown_emergency_queue_setting() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_menu(
            GOOD,
            queues=QUEUES,
            prompts=PROMPTS,
            emergency_queue="fire",
            default_agent_queue="reception",
        )
    assert caught.value.problems == ["menu.yaml: ivr.emergency_queue: unknown queue 'fire'"]


def test_load_menu_reports_a_missing_file(tmp_path: Path) -> None:
    settings = Settings(ivr={"menu_file": tmp_path / "none.yaml"})
    with pytest.raises(ConfigError, match=r"ivr.menu_file: cannot read .*none.yaml"):
        load_menu(settings)


def test_load_menu_checks_against_the_configured_queues(tmp_path: Path) -> None:
    path = tmp_path / "menu.yaml"
    path.write_text(GOOD.replace('"queue:repair"', '"queue:plumbing"'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_menu(Settings(ivr={"menu_file": path}))
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}: menus.main.options.2.target: unknown queue 'plumbing'")
    path.write_text(GOOD, encoding="utf-8")
    assert load_menu(Settings(ivr={"menu_file": path})).emergency.key == "1"
