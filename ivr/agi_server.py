"""The FastAGI server: accepts Asterisk's connections and runs the flow each one names.

The accept and header loop is our own (not ``panoramisk.fast_agi``) so that an early
disconnect, an endless line or a silent peer is bounded by size and time limits. The
per-call command API (``AgiSession``) lives in ``ivr.agi``, which re-exports this module's
public names.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from ipaddress import ip_address
from typing import TYPE_CHECKING

from hotline.errors import AgiError, AgiHangup
from ivr.agi import AgiSession
from ivr.agi_protocol import (
    MAX_ENV_BYTES,
    MAX_ENV_LINES,
    MAX_LINE_BYTES,
    CommandStats,
    parse_agi_environment,
)

if TYPE_CHECKING:
    from hotline.config import AgiSettings
    from ivr.agi import CommandHook, Flow, SessionEnd

__all__ = ["FastAgiServer", "read_environment"]

logger = logging.getLogger(__name__)


async def read_environment(reader: asyncio.StreamReader, limit: float) -> dict[str, str]:
    """Read the agi_* block within ``limit`` seconds and the size caps; AgiError otherwise."""
    lines: list[bytes] = []
    total = 0
    try:
        async with asyncio.timeout(limit):
            while total <= MAX_ENV_BYTES and len(lines) <= MAX_ENV_LINES:
                raw = await reader.readline()
                if not raw.endswith(b"\n"):
                    raise AgiError("connection closed before the end of the AGI environment")
                lines.append(raw)
                total += len(raw)
                if not raw.strip(b"\r\n"):
                    break
    except TimeoutError:
        raise AgiError(f"no complete AGI environment within {limit} s") from None
    except ValueError as exc:
        raise AgiError(f"AGI environment line longer than {MAX_LINE_BYTES} bytes") from exc
    except (ConnectionError, OSError) as exc:
        raise AgiError(f"connection lost while reading the AGI environment: {exc}") from exc
    return parse_agi_environment(lines)


class FastAgiServer:
    """Accepts FastAGI connections from Asterisk and runs the flow named by the script.

    Outcomes given to ``on_session_end``: ``completed`` (the flow returned), ``hangup``
    (the caller left), ``error`` (the flow raised, or was cut off by ``stop()``) and
    ``rejected`` (no route). A connection whose environment is malformed is closed
    without a session; the dialplan then sees AGISTATUS=FAILURE and takes its fallback.
    """

    def __init__(
        self,
        routes: Mapping[str, Flow],
        host: str = "127.0.0.1",
        port: int = 4573,
        command_timeout: float = 30.0,
        on_session_end: SessionEnd | None = None,
        *,
        header_timeout: float = 5.0,
        stop_grace: float = 5.0,
        on_command: CommandHook | None = None,
    ) -> None:
        if host != "localhost" and not ip_address(host).is_loopback:
            raise ValueError(f"FastAGI must listen on a loopback address, got {host!r}")
        self._routes = dict(routes)
        self._host, self._port = host, port
        self._command_timeout, self._header_timeout = command_timeout, header_timeout
        self._stop_grace = stop_grace
        self._on_session_end, self._on_command = on_session_end, on_command
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.stats = CommandStats()

    @classmethod
    def from_settings(
        cls,
        routes: Mapping[str, Flow],
        settings: AgiSettings,
        on_session_end: SessionEnd | None = None,
    ) -> FastAgiServer:
        """Built from the ``agi`` settings section (host already checked as loopback)."""
        return cls(
            routes, settings.host, settings.port, settings.command_timeout_seconds, on_session_end
        )

    @property
    def port(self) -> int:
        """The bound port (useful when constructed with port 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def sessions_open(self) -> int:
        return len(self._tasks)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self._host, self._port, limit=MAX_LINE_BYTES, backlog=1024
        )
        logger.info("FastAGI listening on %s:%s", self._host, self.port)

    async def stop(self, grace: float | None = None) -> None:
        """Stop listening, give open sessions ``grace`` seconds, then cancel them."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        tasks = set(self._tasks)
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=self._stop_grace if grace is None else grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        logger.info("FastAGI stopped; %s sessions were cut off", len(pending))

    async def __aenter__(self) -> FastAgiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Our own task (not the one asyncio.start_server would make) so stop() can cancel it.
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            env = await read_environment(reader, self._header_timeout)
        except AgiError as exc:
            logger.warning("FastAGI connection from %s dropped: %s", peer, exc)
            await _close(writer)
            return
        session = AgiSession(
            env,
            reader,
            writer,
            command_timeout=self._command_timeout,
            on_command=self._record,
        )
        outcome = "error"
        try:
            outcome = await self._run(session)
        finally:  # also on cancellation by stop()
            await _close(writer)
            logger.info("%s FastAGI %s ended: %s", session.linkedid, session.script, outcome)
            if self._on_session_end is not None:
                try:
                    await self._on_session_end(session, outcome)
                except Exception:
                    logger.exception("%s on_session_end failed", session.linkedid)

    async def _run(self, session: AgiSession) -> str:
        flow = self._routes.get(session.script)
        if flow is None:
            logger.warning("%s no FastAGI route %r", session.linkedid, session.script)
            return "rejected"
        logger.info("%s FastAGI %s caller=%s", session.linkedid, session.script, session.caller)
        try:
            await flow(session)
        except AgiHangup as exc:
            logger.info("%s caller hung up: %s", session.linkedid, exc)
            return "hangup"
        except Exception:
            logger.exception("%s flow %s failed", session.linkedid, session.script)
            return "error"
        return "hangup" if session.hung_up else "completed"

    def _record(self, verb: str, seconds: float) -> None:
        self.stats.record(verb, seconds)
        if self._on_command is not None:
            self._on_command(verb, seconds)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2):
            await writer.wait_closed()
