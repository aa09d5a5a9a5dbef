"""FastAGI: the typed channel API that flows use, and the session that carries it.

A flow is ``async def flow(channel: AgiChannel) -> None``; it ends when the caller hangs
up (``AgiHangup``) or when it returns, and the dialplan continues after ``AGI()``. The
server that accepts connections is in ``ivr.agi_server``; ``FastAgiServer`` and
``read_environment`` are re-exported here (loaded on first use, as ``ivr.agi_server``
itself imports this module).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from hotline.errors import AgiError, AgiHangup
from ivr.agi_protocol import (
    DTMF,
    MAX_LINE_BYTES,
    AgiResult,
    clean_caller,
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
    key_from_code,
    parse_result,
    script_name,
)

if TYPE_CHECKING:
    from ivr.agi_server import FastAgiServer, read_environment

__all__ = [
    "AgiChannel",
    "AgiSession",
    "CommandHook",
    "FastAgiServer",
    "Flow",
    "SessionEnd",
    "read_environment",
]

logger = logging.getLogger(__name__)
_MAX_USAGE_LINES = 64
_SERVER_NAMES = frozenset({"FastAgiServer", "read_environment"})


def __getattr__(name: str) -> object:
    """``FastAgiServer`` and ``read_environment`` from ``ivr.agi_server`` (PEP 562)."""
    if name in _SERVER_NAMES:
        from ivr import agi_server

        return getattr(agi_server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class AgiChannel(Protocol):
    """What a flow may do with a call; AgiSession and ScriptedSession both provide it."""

    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def script(self) -> str: ...
    @property
    def args(self) -> tuple[str, ...]: ...
    @property
    def linkedid(self) -> str: ...
    @property
    def uniqueid(self) -> str: ...
    @property
    def caller(self) -> str: ...

    async def answer(self) -> None: ...
    async def play(self, prompt: str, escape_digits: str = "") -> str: ...
    async def read_digits(self, prompt: str, timeout: float, max_digits: int) -> str: ...  # noqa: ASYNC109
    async def say_digits(self, digits: str, escape_digits: str = "") -> str: ...
    async def say_number(self, n: int, escape_digits: str = "") -> str: ...
    async def get_variable(self, name: str) -> str | None: ...
    async def set_variable(self, name: str, value: str) -> None: ...
    async def set_variables(self, values: Mapping[str, str]) -> None: ...
    async def verbose(self, msg: str) -> None: ...
    async def exec(self, app: str, *args: str, command_timeout: float | None = None) -> int: ...
    async def hangup(self) -> None: ...


Flow = Callable[[AgiChannel], Awaitable[None]]
CommandHook = Callable[[str, float], None]
SessionEnd = Callable[["AgiSession", str], Awaitable[None]]


class AgiSession:
    """One FastAGI connection: one command at a time, each bounded by a timeout."""

    def __init__(
        self,
        env: Mapping[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        command_timeout: float = 30.0,
        on_command: CommandHook | None = None,
        hangup_grace: float = 0.5,
    ) -> None:
        self._env = MappingProxyType(dict(env))
        self._reader, self._writer = reader, writer
        self._timeout, self._on_command, self._grace = command_timeout, on_command, hangup_grace
        args: list[str] = []
        while (arg := env.get(f"agi_arg_{len(args) + 1}")) is not None:
            args.append(arg)
        self._args = tuple(args)
        self._uniqueid = env.get("agi_uniqueid", "")
        first = self._args[0] if self._args else ""
        self._linkedid = first if is_uniqueid(first) else self._uniqueid
        self._caller = clean_caller(env.get("agi_callerid", ""))
        self.hung_up = False  # the far end is gone (not set by our own hangup())
        self._closed = False  # no more commands: hung up, desynchronised or timed out
        self._busy = False

    @property
    def headers(self) -> Mapping[str, str]:
        """The agi_* environment, read-only."""
        return self._env

    @property
    def script(self) -> str:
        """The route name: ``agi://host/hotline?x=1`` gives ``hotline``."""
        return script_name(self._env)

    @property
    def args(self) -> tuple[str, ...]:
        return self._args

    @property
    def linkedid(self) -> str:
        """agi_arg_1 when the dialplan passed ``${CHANNEL(linkedid)}``, else agi_uniqueid."""
        return self._linkedid

    @property
    def uniqueid(self) -> str:
        return self._uniqueid

    @property
    def caller(self) -> str:
        """The caller's number, digits and a leading ``+`` only."""
        return self._caller

    async def answer(self) -> None:
        await self._ok("ANSWER", "ANSWER")

    async def play(self, prompt: str, escape_digits: str = "") -> str:
        """STREAM FILE; the key that interrupted it, or ``""``."""
        line = cmd_stream_file(prompt, escape_digits)
        return key_from_code((await self._ok("STREAM FILE", line)).as_int())

    async def read_digits(self, prompt: str, timeout: float, max_digits: int) -> str:  # noqa: ASYNC109
        """GET DATA; keys pressed (``#`` ends input), ``""`` if none within ``timeout`` s.

        ``timeout`` is the caller's input time, not a deadline on this coroutine.
        """
        line = cmd_get_data(prompt, timeout, max_digits)
        digits = (await self._ok("GET DATA", line, self._timeout + timeout)).result
        if not set(digits) <= DTMF:
            raise AgiError(f"GET DATA returned {digits[:40]!r}")
        return digits

    async def say_digits(self, digits: str, escape_digits: str = "") -> str:
        line = cmd_say_digits(digits, escape_digits)
        return key_from_code((await self._ok("SAY DIGITS", line)).as_int())

    async def say_number(self, n: int, escape_digits: str = "") -> str:
        line = cmd_say_number(n, escape_digits)
        return key_from_code((await self._ok("SAY NUMBER", line)).as_int())

    async def get_variable(self, name: str) -> str | None:
        """The value, or None when the variable is not set (``200 result=0``)."""
        result = await self._ok("GET VARIABLE", cmd_get_variable(name))
        return None if result.result == "0" else (result.data or "")

    async def set_variable(self, name: str, value: str) -> None:
        await self._ok("SET VARIABLE", cmd_set_variable(name, value))

    async def set_variables(self, values: Mapping[str, str]) -> None:
        """Several variables in one round trip (MSet), set in the mapping's order."""
        if (await self._ok("EXEC", cmd_set_variables(values))).as_int() == -2:
            raise AgiError("application 'MSet' not found")

    async def verbose(self, msg: str) -> None:
        await self._ok("VERBOSE", cmd_verbose(msg))

    async def exec(self, app: str, *args: str, command_timeout: float | None = None) -> int:
        """EXEC an application; its return code. Pass ``command_timeout`` for Dial/Queue."""
        value = (await self._ok("EXEC", cmd_exec(app, args), command_timeout)).as_int()
        if value == -2:
            raise AgiError(f"application {app!r} not found")
        return value

    async def hangup(self) -> None:
        """Hang up the channel; does nothing if it is already gone."""
        if self._closed:
            return
        with contextlib.suppress(AgiHangup):
            await self._ok("HANGUP", "HANGUP")
        self._closed = True

    async def _ok(self, verb: str, line: str, limit: float | None = None) -> AgiResult:
        """Send one command and return its 200 result; -1 means failed or hung up."""
        result = await self._command(verb, line, self._timeout if limit is None else limit)
        if result.result == "-1":
            await self._after_failure(verb)
        return result

    async def _command(self, verb: str, line: str, limit: float) -> AgiResult:
        if self._closed:
            raise (
                AgiHangup(f"{verb}: the channel is gone")
                if self.hung_up
                else AgiError(f"{verb}: the AGI session is closed")
            )
        if self._busy:
            raise AgiError(f"{verb}: another AGI command is still running on this channel")
        self._busy = True
        started = time.perf_counter()
        try:
            self._writer.write(line.encode() + b"\n")
            async with asyncio.timeout(limit):
                await self._writer.drain()
                result = await self._read_result()
        except TimeoutError:
            self._closed = True
            raise AgiError(f"{verb}: no answer from Asterisk within {limit} s") from None
        except (ConnectionError, OSError) as exc:
            self._gone()
            raise AgiHangup(f"{verb}: connection lost") from exc
        finally:
            self._busy = False
        elapsed = time.perf_counter() - started
        logger.debug("%s AGI %s -> %s (%.1f ms)", self._linkedid, verb, result.code, elapsed * 1e3)
        if self._on_command is not None:
            self._on_command(verb, elapsed)
        if result.code == 200:
            return result
        if result.code == 511:
            self._gone()
            raise AgiHangup(f"{verb}: dead channel")
        raise AgiError(f"{verb} refused: {result.code} {result.text}")

    async def _read_result(self) -> AgiResult:
        line = await self._readline()
        while line.startswith("1"):  # "100 result=0 Trying..." precedes the real answer
            line = await self._readline()
        if line.startswith("520-"):
            block = [line]
            while not block[-1].startswith("520 ") and len(block) < _MAX_USAGE_LINES:
                block.append(await self._readline())
            line = "\n".join(block)
        try:
            result = parse_result(line)
        except AgiError:
            self._closed = True
            raise
        if result.hangup:
            self._gone()
            raise AgiHangup("Asterisk reported HANGUP")
        return result

    async def _readline(self) -> str:
        try:
            raw = await self._reader.readline()
        except ValueError as exc:
            self._closed = True
            raise AgiError(f"AGI line longer than {MAX_LINE_BYTES} bytes") from exc
        except (ConnectionError, OSError) as exc:
            self._gone()
            raise AgiHangup("FastAGI connection lost") from exc
        if not raw.endswith(b"\n"):
            self._gone()
            raise AgiHangup("Asterisk closed the FastAGI connection")
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    async def _after_failure(self, verb: str) -> None:
        """result=-1: a hangup if Asterisk follows it with HANGUP or EOF, else an error."""
        try:
            async with asyncio.timeout(self._grace):
                line = await self._readline()
        except TimeoutError:
            raise AgiError(f"{verb} failed (result=-1)") from None
        if line.strip() == "HANGUP":
            self._gone()
            raise AgiHangup(f"{verb}: caller hung up")
        self._closed = True
        raise AgiError(f"{verb} failed (result=-1), then unexpected {line[:80]!r}")

    def _gone(self) -> None:
        self.hung_up = self._closed = True


if TYPE_CHECKING:

    def _conforms(session: AgiSession) -> AgiChannel:
        return session  # mypy proves AgiSession satisfies AgiChannel
