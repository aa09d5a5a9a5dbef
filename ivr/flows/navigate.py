"""Walking the menu: keys in, one decision out.

Repeat (``*`` by default) replays the current menu; back (``9``) returns to the menu above
(on the main menu it repeats it). A wrong key gets a short apology and the menu again;
after ``invalid_retries`` such re-prompts, one more wrong key sends the caller to an agent.
Silence replays the menu; after ``no_input_retries`` silent replays the caller hears the
no-input goodbye. The path of keys is reported in ``HOTLINE_MENU_PATH`` on each step
down, so a caller who hangs up half-way still leaves it in the record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ivr.agi import AgiChannel
from ivr.flows.common import VAR_PATH, menu_path, sound
from ivr.flows.deps import InboundDeps
from ivr.menu_model import MenuNode, Option, TargetKind

__all__ = ["Chosen", "GaveUp", "Navigator", "Outcome", "Silent"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chosen:
    """The caller picked an option that ends the menu (a queue, an agent, a self-service)."""

    node: MenuNode
    option: Option
    path: str


@dataclass(frozen=True)
class Silent:
    """No key after every re-prompt."""


@dataclass(frozen=True)
class GaveUp:
    """Too many wrong keys in a row: an agent of this menu should take the call."""

    node: MenuNode
    path: str


Outcome = Chosen | Silent | GaveUp


class Navigator:
    """The caller's place in the menu; ``choose`` may be called again after ``back``."""

    def __init__(self, call: AgiChannel, deps: InboundDeps, path: tuple[str, ...] = ()) -> None:
        self._call, self._deps = call, deps
        self._stack = [deps.menu.root]
        self._keys = list(path)

    @property
    def path(self) -> str:
        return menu_path(self._keys)

    def back(self) -> None:
        """Return to the menu the last option was chosen on (after a self-service)."""
        if self._keys:
            self._keys.pop()

    async def _up(self) -> None:
        if len(self._stack) > 1:
            self._stack.pop()
            self._keys.pop()
            await self._call.set_variable(VAR_PATH, self.path)

    async def choose(self) -> Outcome:
        call, menu, ivr = self._call, self._deps.menu, self._deps.ivr
        silent = wrong = 0
        while True:
            node = menu.nodes[self._stack[-1]]
            key = await call.read_digits(sound(node.prompt), ivr.digit_timeout_seconds, 1)
            if not key:
                silent += 1
                log.debug("[%s] menu %s: no key (%s)", call.linkedid, node.id, silent)
                if silent > ivr.no_input_retries:
                    return Silent()
                continue
            silent = 0
            if key == menu.repeat_key:
                continue
            if key == menu.back_key:
                await self._up()
                continue
            option = node.options.get(key)
            if option is None:
                wrong += 1
                log.info("[%s] menu %s: invalid key %s (%s)", call.linkedid, node.id, key, wrong)
                if wrong > ivr.invalid_retries:
                    return GaveUp(node, self.path)
                await call.play(sound("invalid-key"))
                continue
            wrong = 0
            self._keys.append(key)
            if option.kind is TargetKind.MENU:
                self._stack.append(option.value)
                await call.set_variable(VAR_PATH, self.path)
                continue
            log.info("[%s] menu %s: key %s → %s", call.linkedid, node.id, key, option.category)
            return Chosen(node, option, self.path)
