"""A scripted stand-in for AgiSession, so flows are unit-tested without Asterisk.

The test lists the calls it expects, each with a canned answer or an exception
(``AgiHangup`` at step k is a caller hanging up there); the session checks every call
against the script, validates arguments exactly as AgiSession does (the same ``cmd_*``
builders) and records what the flow did::

    session = ScriptedSession([
        expect("answer"),
        expect("read_digits", "menu", returns="2"),
        expect("play", "goodbye", raises=AgiHangup),
    ])
    await flow(session)
    session.assert_done()
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

from hotline.errors import AgiHangup
from ivr.agi_protocol import (
    clean_caller,
    clean_value,
    cmd_exec,
    cmd_get_data,
    cmd_get_variable,
    cmd_say_digits,
    cmd_say_number,
    cmd_set_variable,
    cmd_set_variables,
    cmd_stream_file,
    cmd_verbose,
    is_uniqueid,
    script_name,
)

__all__ = ["Call", "ScriptError", "ScriptedSession", "Step", "expect"]

T = TypeVar("T")
_DEFAULTS: dict[str, object] = {
    "play": "",
    "read_digits": "",
    "say_digits": "",
    "say_number": "",
    "get_variable": None,
    "exec": 0,
}


class ScriptError(AssertionError):
    """The flow did something the script did not expect (a test failure, not a bug here)."""


@dataclass(frozen=True)
class Step:
    """One expected call: ``args`` (if given) must equal the call's first arguments."""

    method: str
    args: tuple[object, ...] | None = None
    returns: object = None
    raises: BaseException | type[BaseException] | None = None


def expect(
    method: str,
    *args: object,
    returns: object = None,
    raises: BaseException | type[BaseException] | None = None,
) -> Step:
    """A Step; with no ``args`` any arguments are accepted."""
    return Step(method, args or None, returns, raises)


@dataclass(frozen=True)
class Call:
    """What the flow did: the method, all its arguments, and the AGI line it would send."""

    method: str
    args: tuple[object, ...]
    command: str = field(default="", compare=False)


class ScriptedSession:
    """Satisfies ``ivr.agi.AgiChannel``; calls in ``unscripted`` need no step."""

    def __init__(
        self,
        steps: Iterable[Step] = (),
        *,
        script: str = "hotline",
        args: Iterable[str] = (),
        caller: str = "13800138000",
        uniqueid: str = "1700000000.1",
        env: Mapping[str, str] | None = None,
        unscripted: Iterable[str] = ("verbose",),
    ) -> None:
        headers = {
            "agi_network": "yes",
            "agi_network_script": script,
            "agi_request": f"agi://127.0.0.1/{script}",
            "agi_uniqueid": uniqueid,
            "agi_callerid": caller,
        }
        headers.update({f"agi_arg_{i}": arg for i, arg in enumerate(args, start=1)})
        headers.update(env or {})
        self._env = MappingProxyType(headers)
        self._args = tuple(args)
        first = self._args[0] if self._args else ""
        self._linkedid = first if is_uniqueid(first) else headers["agi_uniqueid"]
        self._steps = list(steps)
        self._unscripted = frozenset(unscripted)
        self.calls: list[Call] = []
        self.variables: dict[str, str] = {}
        self.hung_up = False
        self.hung_up_by_flow = False

    @property
    def headers(self) -> Mapping[str, str]:
        return self._env

    @property
    def script(self) -> str:
        return script_name(self._env)

    @property
    def args(self) -> tuple[str, ...]:
        return self._args

    @property
    def linkedid(self) -> str:
        return self._linkedid

    @property
    def uniqueid(self) -> str:
        return self._env["agi_uniqueid"]

    @property
    def caller(self) -> str:
        return clean_caller(self._env["agi_callerid"])

    @property
    def remaining(self) -> list[Step]:
        return list(self._steps)

    def assert_done(self) -> None:
        """Fail the test if the flow stopped before the script's last step."""
        if self._steps:
            raise ScriptError(f"flow ended with {len(self._steps)} steps left: {self._steps}")

    async def answer(self) -> None:
        self._step("answer", (), "ANSWER")

    async def play(self, prompt: str, escape_digits: str = "") -> str:
        line = cmd_stream_file(prompt, escape_digits)
        return self._answer(str, self._step("play", (prompt, escape_digits), line))

    async def read_digits(self, prompt: str, timeout: float, max_digits: int) -> str:  # noqa: ASYNC109
        line = cmd_get_data(prompt, timeout, max_digits)
        step = self._step("read_digits", (prompt, timeout, max_digits), line)
        return self._answer(str, step)

    async def say_digits(self, digits: str, escape_digits: str = "") -> str:
        line = cmd_say_digits(digits, escape_digits)
        return self._answer(str, self._step("say_digits", (digits, escape_digits), line))

    async def say_number(self, n: int, escape_digits: str = "") -> str:
        line = cmd_say_number(n, escape_digits)
        return self._answer(str, self._step("say_number", (n, escape_digits), line))

    async def get_variable(self, name: str) -> str | None:
        step = self._step("get_variable", (name,), cmd_get_variable(name))
        value = _DEFAULTS["get_variable"] if step is None else step.returns
        return None if value is None else str(value)

    async def set_variable(self, name: str, value: str) -> None:
        self._step("set_variable", (name, value), cmd_set_variable(name, value))
        self.variables[name] = clean_value(value)

    async def set_variables(self, values: Mapping[str, str]) -> None:
        self._step("set_variables", (dict(values),), cmd_set_variables(values))
        self.variables.update({name: clean_value(value) for name, value in values.items()})

    async def verbose(self, msg: str) -> None:
        self._step("verbose", (msg,), cmd_verbose(msg))

    async def exec(self, app: str, *args: str, command_timeout: float | None = None) -> int:
        step = self._step("exec", (app, *args), cmd_exec(app, args))
        return self._answer(int, step)

    async def hangup(self) -> None:
        if self.hung_up or self.hung_up_by_flow:
            return
        self._step("hangup", (), "HANGUP")
        self.hung_up_by_flow = True

    def _step(self, method: str, args: tuple[object, ...], command: str) -> Step | None:
        """Record the call, check it against the next step and raise what the step says."""
        call = Call(method, args, command)
        self.calls.append(call)
        if self.hung_up:
            raise AgiHangup(f"{method}: the channel is gone")
        if self.hung_up_by_flow:
            raise ScriptError(f"{_show(call)} after the flow hung up")
        if self._steps and self._steps[0].method == method:
            step = self._steps.pop(0)
        elif method in self._unscripted:
            return None
        elif not self._steps:
            raise ScriptError(f"unexpected {_show(call)}: the script has ended")
        else:
            raise ScriptError(f"expected {self._steps[0]}, the flow called {_show(call)}")
        if step.args is not None and args[: len(step.args)] != step.args:
            raise ScriptError(f"expected {method}{step.args}, the flow called {_show(call)}")
        if step.raises is not None:
            if isinstance(step.raises, AgiHangup) or (
                isinstance(step.raises, type) and issubclass(step.raises, AgiHangup)
            ):
                self.hung_up = True
            raise step.raises
        return step

    def _answer(self, kind: type[T], step: Step | None) -> T:
        method = self.calls[-1].method
        value = _DEFAULTS[method] if step is None or step.returns is None else step.returns
        if not isinstance(value, kind):
            raise ScriptError(f"step for {method} returns {value!r}, not a {kind.__name__}")
        return value


def _show(call: Call) -> str:
    return f"{call.method}{call.args!r}"


if TYPE_CHECKING:
    from ivr.agi import AgiChannel

    def _conforms(session: ScriptedSession) -> AgiChannel:
        return session  # mypy proves ScriptedSession satisfies AgiChannel
