"""The IVR menu as the flows see it: validated, immutable, every name already resolved.

``ivr.menu`` builds it from the admin-edited YAML; flows only walk it. Keys are single
characters; ``repeat`` and ``back`` work on every level (back on the main menu repeats it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Menu", "MenuNode", "Option", "TargetKind"]


class TargetKind(StrEnum):
    MENU = "menu"  # a sub-menu id
    QUEUE = "queue"  # queue:<name>
    SELF_SERVICE = "self-service"  # self-service:<service>, e.g. self-service:bill
    AGENT = "agent"  # the agent queue of the menu the option is on


@dataclass(frozen=True)
class Option:
    key: str
    label: str
    kind: TargetKind
    value: str  # the menu id, queue name or service name; "" for AGENT
    category: str  # what the call is about, for the record; "" for MENU


@dataclass(frozen=True)
class MenuNode:
    id: str
    prompt: str  # a prompt name in prompts.yaml, played as hotline/<prompt>
    options: Mapping[str, Option]
    agent_queue: str  # where AGENT options (and a caller who keeps mistyping) go


@dataclass(frozen=True)
class Menu:
    root: str
    nodes: Mapping[str, MenuNode]
    repeat_key: str
    back_key: str
    callback_key: str  # after hours: leave a callback request
    emergency: Option  # the main-menu option that routes to the emergency queue

    @property
    def main(self) -> MenuNode:
        return self.nodes[self.root]

    def queue_of(self, node: MenuNode, option: Option) -> str:
        """The queue an option routes to (its own, or the menu's agent queue)."""
        return option.value if option.kind is TargetKind.QUEUE else node.agent_queue
