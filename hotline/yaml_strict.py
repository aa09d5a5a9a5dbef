"""YAML for settings files, read strictly: a key given twice is an error naming its line.

PyYAML keeps the last of two equal keys without a word, so a second ``dialer:`` section
silently drops the first one's allow-list. Every file an admin edits (settings, secrets,
prompts, the menu) is read through ``load`` here, which refuses duplicates (at any depth,
with the dotted path, the line and the line of the first one) and reports a syntax error
with its line and column.
"""

from __future__ import annotations

from typing import Any

import yaml

from hotline.errors import ConfigError

__all__ = ["duplicate_keys", "load"]


def duplicate_keys(node: yaml.Node | None, path: str = "") -> list[str]:
    """``<path>: duplicate key (line N; first at line M)`` for each repeated key."""
    found: list[str] = []
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            where = f"{path}.{key}" if path else key
            line = key_node.start_mark.line + 1
            if key in first and key != "<<":  # a merge key may repeat
                found.append(f"{where}: duplicate key (line {line}; first at line {first[key]})")
            first.setdefault(key, line)
            found += duplicate_keys(value, where)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found += duplicate_keys(item, f"{path}.{index}")
    return found


def load(text: str, source: str) -> Any:
    """The document in ``text`` (``source`` names the file in messages); ConfigError with
    every duplicate key, or the syntax error's line and column."""
    try:
        duplicates = duplicate_keys(yaml.compose(text, Loader=yaml.SafeLoader))
        if duplicates:
            raise ConfigError([f"{source}: {problem}" for problem in duplicates])
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError([f"{source}: not valid YAML: {where}{exc.problem}"]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: not valid YAML: {exc}"]) from exc
