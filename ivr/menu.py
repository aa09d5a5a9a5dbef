"""Load and check the admin-edited menu YAML (``prompts/menu.yaml``).

Every problem is collected, not just the first, each with its YAML path, e.g.
``menus.main.options.4.target: unknown queue 'x'``: duplicate keys (YAML itself would keep
the last silently), unknown queues, targets naming no menu, prompts without text in
``prompts.yaml``, menus no caller can reach, and a main menu without its emergency key.
``#`` is never a key: Asterisk's GET DATA ends input on it, so it cannot be told apart
from silence.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from hotline import yaml_strict
from hotline.config import Settings
from hotline.errors import ConfigError
from hotline.prompts import load_prompt_texts
from hotline.render import PROJECT_ROOT
from ivr.menu_model import Menu, MenuNode, Option, TargetKind

__all__ = ["SELF_SERVICES", "load_menu", "parse_menu", "project_path"]

SELF_SERVICES = frozenset({"bill"})
DEFAULT_KEYS = {"repeat": "*", "back": "9", "callback": "2"}
_OPTION_KEY = re.compile(r"^[0-9]$")
_SPECIAL_KEY = re.compile(r"^[0-9*]$")
_ID = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_TOP = {"root", "keys", "agent_queue", "menus"}
_NODE = {"prompt", "options", "agent_queue", "title"}
_OPTION = {"label", "target", "category"}


def project_path(path: Path) -> Path:
    """Relative setting paths start at the project root, not the working directory."""
    return path if path.is_absolute() else PROJECT_ROOT / path


def load_menu(settings: Settings) -> Menu:
    """The menu named by ``ivr.menu_file``, checked against the queues and prompt texts."""
    path = project_path(settings.ivr.menu_file)
    prompts = {p.name for p in load_prompt_texts(project_path(settings.prompts.source_file))}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"ivr.menu_file: cannot read {path}: {exc}"]) from exc
    return parse_menu(
        text,
        queues=settings.queues.names(),
        prompts=prompts,
        emergency_queue=settings.ivr.emergency_queue,
        default_agent_queue=settings.inbound.fallback_queue,
        source=str(settings.ivr.menu_file),
    )


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.lines.append(f"{self.source}: {path}: {message}")


def _mapping(value: Any, path: str, allowed: Collection[str], problems: _Problems) -> bool:
    if not isinstance(value, Mapping):
        problems.add(path, "must be a mapping")
        return False
    for key in sorted(set(map(str, value)) - set(allowed)):
        problems.add(f"{path}.{key}", f"unknown field (allowed: {', '.join(sorted(allowed))})")
    return True


class _Parser:
    def __init__(
        self, queues: Collection[str], prompts: Collection[str], problems: _Problems
    ) -> None:
        self.queues, self.prompts, self.problems = queues, prompts, problems

    def keys(self, raw: Any) -> dict[str, str]:
        keys = dict(DEFAULT_KEYS)
        if raw is None or not _mapping(raw, "keys", DEFAULT_KEYS, self.problems):
            return keys
        for name in DEFAULT_KEYS:
            if name in raw:
                value = str(raw[name])
                if _SPECIAL_KEY.fullmatch(value) is None:
                    self.problems.add(f"keys.{name}", f"{value!r}: one key, 0-9 or *")
                keys[name] = value
        if len(set(keys.values())) < len(keys):
            self.problems.add("keys", f"repeat, back and callback need different keys: {keys}")
        return keys

    def queue(self, value: Any, path: str) -> str:
        if value not in self.queues:
            self.problems.add(path, f"unknown queue {value!r} (queues: {sorted(self.queues)})")
        return str(value)

    def option(self, key: str, raw: Any, path: str, menus: Mapping[str, Any]) -> Option | None:
        if not _mapping(raw, path, _OPTION, self.problems):
            return None
        label, target, category = raw.get("label"), raw.get("target"), raw.get("category")
        if not isinstance(label, str) or not label.strip():
            self.problems.add(f"{path}.label", "missing (what the caller chooses)")
        if not isinstance(target, str) or not target:
            self.problems.add(f"{path}.target", "missing target")
            return None
        kind, _, name = target.partition(":")
        if target == "agent":
            result = Option(key, str(label), TargetKind.AGENT, "", "")
        elif kind == "queue":
            name = self.queue(name, f"{path}.target")
            result = Option(key, str(label), TargetKind.QUEUE, name, "")
        elif kind == "self-service":
            if name not in SELF_SERVICES:
                self.problems.add(f"{path}.target", f"unknown self-service {name!r}")
            result = Option(key, str(label), TargetKind.SELF_SERVICE, name, "")
        elif target in menus:
            result = Option(key, str(label), TargetKind.MENU, target, "")
        else:
            self.problems.add(
                f"{path}.target",
                f"no menu {target!r} (a menu id, queue:<name>, self-service:bill or agent)",
            )
            return None
        if result.kind is TargetKind.MENU:
            if category is not None:
                self.problems.add(f"{path}.category", "only options that end the menu have one")
            return result
        if not isinstance(category, str) or _ID.fullmatch(category) is None:
            self.problems.add(f"{path}.category", "missing or invalid (e.g. repair; a-z0-9-)")
            return None
        return Option(result.key, result.label, result.kind, result.value, category)

    def node(
        self, menu_id: str, raw: Any, menus: Mapping[str, Any], keys: Mapping[str, str], agent: str
    ) -> MenuNode | None:
        path = f"menus.{menu_id}"
        if not _mapping(raw, path, _NODE, self.problems):
            return None
        prompt = raw.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            self.problems.add(f"{path}.prompt", "missing (a prompt name in prompts.yaml)")
        elif prompt not in self.prompts:
            self.problems.add(f"{path}.prompt", f"no text for prompt {prompt!r} in prompts.yaml")
        if "agent_queue" in raw:
            agent = self.queue(raw["agent_queue"], f"{path}.agent_queue")
        options: dict[str, Option] = {}
        raw_options = raw.get("options")
        if not isinstance(raw_options, Mapping) or not raw_options:
            self.problems.add(f"{path}.options", "missing (a mapping of keys to options)")
            return None
        reserved = {keys["repeat"]: "repeat", keys["back"]: "back"}
        for raw_key, raw_option in raw_options.items():
            key, where = str(raw_key), f"{path}.options.{raw_key}"
            if key in reserved:
                self.problems.add(where, f"{key} is the {reserved[key]} key on every menu")
            elif _OPTION_KEY.fullmatch(key) is None:
                self.problems.add(where, "a menu key is one digit 0-9 (# ends keypad input)")
            elif (option := self.option(key, raw_option, where, menus)) is not None:
                options[key] = option
        return MenuNode(menu_id, str(prompt), options, agent)


def _reachable(root: str, nodes: Mapping[str, MenuNode]) -> set[str]:
    seen, todo = {root}, [root]
    while todo:
        node = nodes.get(todo.pop())
        for option in node.options.values() if node is not None else ():
            if option.kind is TargetKind.MENU and option.value not in seen:
                seen.add(option.value)
                todo.append(option.value)
    return seen


def parse_menu(
    text: str,
    *,
    queues: Collection[str],
    prompts: Collection[str],
    emergency_queue: str,
    default_agent_queue: str,
    source: str = "menu.yaml",
) -> Menu:
    """Check the menu text; raise ConfigError with every problem, or return the Menu."""
    problems = _Problems(source)
    data = yaml_strict.load(text, source)
    if not _mapping(data, "(top level)", _TOP, problems):
        raise ConfigError(problems.lines)
    parser = _Parser(queues, prompts, problems)
    keys = parser.keys(data.get("keys"))
    agent = parser.queue(data.get("agent_queue", default_agent_queue), "agent_queue")
    raw_menus = data.get("menus")
    if not isinstance(raw_menus, Mapping) or not raw_menus:
        problems.add("menus", "missing (a mapping of menu ids to prompt and options)")
        raise ConfigError(problems.lines)
    menus = {str(k): v for k, v in raw_menus.items()}
    for menu_id in menus:
        if _ID.fullmatch(menu_id) is None:
            problems.add(f"menus.{menu_id}", "menu ids are a-z, 0-9 and '-'")
    nodes = {
        menu_id: node
        for menu_id, raw in menus.items()
        if (node := parser.node(menu_id, raw, menus, keys, agent)) is not None
    }
    root = str(data.get("root", "main"))
    if root not in menus:
        problems.add("root", f"no menu {root!r}")
        raise ConfigError(problems.lines)
    if root in nodes:
        for menu_id in sorted(set(nodes) - _reachable(root, nodes)):
            problems.add(f"menus.{menu_id}", f"unreachable from the main menu {root!r}")
    emergency = _emergency(root, nodes.get(root), emergency_queue, keys, queues, problems)
    if problems.lines or emergency is None:
        raise ConfigError(problems.lines)
    return Menu(root, nodes, keys["repeat"], keys["back"], keys["callback"], emergency)


def _emergency(
    root: str,
    node: MenuNode | None,
    queue: str,
    keys: Mapping[str, str],
    queues: Collection[str],
    problems: _Problems,
) -> Option | None:
    """The one main-menu key that routes to the emergency queue (also live in the greeting)."""
    if queue not in queues:
        problems.add("ivr.emergency_queue", f"unknown queue {queue!r}")
        return None
    if node is None:
        return None
    found = [
        option
        for option in node.options.values()
        if option.kind is TargetKind.QUEUE and option.value == queue
    ]
    if len(found) != 1:
        problems.add(
            f"menus.{root}.options",
            f"exactly one key must route to the emergency queue {queue!r} "
            f"(ivr.emergency_queue); found {len(found)}",
        )
        return None
    if found[0].key == keys["callback"]:
        problems.add(
            "keys.callback",
            f"{keys['callback']} is also the emergency key; after hours both must work",
        )
    return found[0]
