"""The AMI client: one connection, login, keepalive, reconnect, events, reconciliation.

Rules this module guarantees (panoramisk's defaults differ, see :mod:`hotline.ami_actions`):

* Only the read actions in :data:`RETRYABLE_ACTIONS` are re-sent after a reconnect. Any
  other action (Originate above all) is written at most once; if the connection drops
  before its response the caller gets ``AmiError("… outcome unknown …")``.
* While disconnected, :meth:`AmiClient.action` raises :class:`AmiNotConnected` at once.
* Every action passes :func:`hotline.ami_headers.check_action` before a byte is written:
  a value with a CR, LF or other control character is refused (``UnsafeAmiHeader``), so
  no input can smuggle a second action into the stream.
* ``OriginateResponse`` (and any event carrying the ActionID of an action that already got
  its response) reaches subscribers; the rows of a list action belong to its response.
* Subscribers run inside the AMI reader and must not block: Asterisk drops a reader that
  is slower than ``writetimeout`` (100 ms by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hotline.ami_actions import RETRYABLE_ACTIONS, AmiAction, AmiEvent, AmiManager, AmiProtocol
from hotline.ami_headers import check_action
from hotline.ami_snapshot import read_live
from hotline.config import AsteriskSettings
from hotline.errors import AmiError, AmiNotConnected

__all__ = [
    "RETRYABLE_ACTIONS",
    "AmiClient",
    "AmiEvent",
    "AmiResponse",
    "EventCallback",
    "ReconcileCallback",
    "reconnect_delays",
]

log = logging.getLogger(__name__)

EventCallback = Callable[[AmiEvent], None]
ReconcileCallback = Callable[[list[AmiEvent]], Awaitable[None]]
HeaderValue = str | Sequence[str]


@dataclass(frozen=True)
class AmiResponse:
    """A successful action: its Response message, plus the rows of a list action."""

    message: AmiEvent
    events: tuple[AmiEvent, ...] = ()
    complete: AmiEvent | None = None  # the closing ``…Complete`` event of a list


def reconnect_delays(
    initial: float, cap: float, rand: Callable[[], float] = random.random
) -> Iterator[float]:
    """Exponential back-off with equal jitter: each wait is in [d/2, d], d doubling up to cap."""
    delay = min(initial, cap)
    while True:
        yield delay / 2 + rand() * delay / 2
        delay = min(delay * 2, cap)


@dataclass(frozen=True)
class _Subscription:
    callback: EventCallback
    names: frozenset[str] | None


class AmiClient:
    """One AMI connection that logs in again after any drop, never re-sending a write."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        ping_interval: float = 10.0,
        reconnect_max: float = 30.0,
        connect_timeout: float = 5.0,
        *,
        reconnect_initial: float = 0.5,
        action_timeout: float = 10.0,
        event_mask: str = "on",
        reconcile_variables: Collection[str] = (),
    ) -> None:
        self._where = f"{host}:{port}"
        self._host, self._port, self._username = host, port, username
        self._ping_interval = ping_interval
        self._reconnect_initial = reconnect_initial
        self._reconnect_max = reconnect_max
        self._connect_timeout = connect_timeout
        self._action_timeout = action_timeout
        self._reconcile_variables = frozenset(reconcile_variables)
        self._manager = AmiManager(
            on_event=self._dispatch,
            on_lost=self._lost,
            host=host,
            port=port,
            username=username,
            secret=secret,
            events=event_mask,
        )
        self._subscriptions: list[_Subscription] = []
        self._hooks: list[ReconcileCallback] = []
        self._connected = False
        self._lost_event = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._held: list[AmiEvent] | None = None
        self.reconnects = 0

    @classmethod
    def from_settings(cls, settings: AsteriskSettings, **kwargs: Any) -> AmiClient:
        return cls(
            settings.ami_host,
            settings.ami_port,
            settings.ami_user,
            settings.ami_secret.get_secret_value(),
            ping_interval=settings.ami_ping_seconds,
            reconnect_max=settings.ami_reconnect_max_seconds,
            **kwargs,
        )

    @property
    def connected(self) -> bool:
        return self._connected

    def subscribe(
        self, callback: EventCallback, events: Iterable[str] | None = None
    ) -> Callable[[], None]:
        """Call ``callback`` for events named in ``events`` (all if None); returns unsubscribe."""
        if isinstance(events, str):
            events = (events,)
        names = None if events is None else frozenset(name.lower() for name in events)
        subscription = _Subscription(callback, names)
        self._subscriptions.append(subscription)
        return lambda: self._discard(self._subscriptions, subscription)

    def on_connected(self, callback: ReconcileCallback) -> Callable[[], None]:
        """Call ``callback`` with the CoreShowChannel rows after every login, to reconcile state
        (each row holds the ``reconcile_variables`` as ``ChanVariable`` headers)."""
        self._hooks.append(callback)
        return lambda: self._discard(self._hooks, callback)

    @staticmethod
    def _discard(items: list[Any], item: Any) -> None:
        with contextlib.suppress(ValueError):
            items.remove(item)

    async def connect(self) -> None:
        """Log in for the first time; a refused login or an unreachable AMI raises AmiError."""
        if self._supervisor is not None:
            raise AmiError(f"AMI client for {self._where} is already connected")
        self._manager.closing = False
        await self._open()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"ami {self._where}")

    async def close(self) -> None:
        """Stop reconnecting and fail every pending action, leaving no task behind."""
        self._manager.closing = True
        task, self._supervisor = self._supervisor, None
        while task is not None and not task.done():
            # Python 3.11's wait_for can swallow one cancellation mid-connect: ask again.
            task.cancel()
            await asyncio.wait({task}, timeout=0.5)
        if task is not None and not task.cancelled() and task.exception() is not None:
            log.warning("AMI supervisor ended with %r", task.exception())
        was_connected, self._connected = self._connected, False
        self._manager.close()
        self._manager.send_awaiting_actions()  # closing: fails whatever waits for a re-send
        if was_connected:
            log.info("AMI connection to %s closed", self._where)

    async def action(self, name: str, /, **headers: HeaderValue) -> AmiResponse:
        """Send one action; allow-listed reads survive a reconnect, anything else is sent once."""
        if {key.lower() for key in headers} & {"action", "actionid"}:
            raise ValueError("Action and ActionID are set by the client")
        check_action(name, headers)  # the one gate: no CR/LF, no smuggled second action
        return await self._request(name, headers, retry=name.lower() in RETRYABLE_ACTIONS)

    async def _request(
        self,
        name: str,
        headers: Mapping[str, HeaderValue],
        *,
        retry: bool,
        limit: float | None = None,
    ) -> AmiResponse:
        protocol = self._manager.protocol
        if not self._connected or protocol is None or protocol.transport.is_closing():
            raise AmiNotConnected(f"AMI at {self._where} is not connected; {name} was not sent")
        action = AmiAction({"Action": name, **headers}, retry=retry)
        limit = limit or self._action_timeout
        try:
            result = await asyncio.wait_for(self._manager.send_action(action), limit)
        except TimeoutError as exc:
            unknown = "" if retry else "; outcome unknown, not re-sent"
            raise AmiError(f"{name}: no response within {limit:g}s{unknown}") from exc
        finally:
            if not action.future.done() or action.future.cancelled():
                self._manager.forget(action)
        return _response(name, result)

    async def _open(self) -> None:
        """Connect and log in once; on success re-send the reads that were cut off."""
        loop = asyncio.get_running_loop()
        manager = self._manager
        manager.loop = loop
        try:
            transport, protocol = await asyncio.wait_for(
                loop.create_connection(AmiProtocol, self._host, self._port),
                self._connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            raise AmiError(f"cannot reach AMI at {self._where}: {exc or 'timed out'}") from exc
        self._lost_event = asyncio.Event()
        # Events from here until the hooks have the snapshot are held, so subscribers see
        # the snapshot first and every later event on top of it (see _reconcile).
        self._release_held()
        self._held = [] if self._hooks else None
        manager.attach(transport, protocol)
        try:
            reply = await asyncio.wait_for(manager.authenticated_future, self._connect_timeout)
        except (TimeoutError, AmiError) as exc:
            manager.close()
            what = "did not answer Login" if isinstance(exc, TimeoutError) else "hung up on Login"
            raise AmiError(f"AMI at {self._where} {what}") from exc
        if not reply.success:
            manager.close()
            raise AmiError(
                f"AMI login refused for user {self._username!r} at {self._where}: "
                f"{reply.get('Message') or reply.get('Response')}"
            )
        self._connected = True
        log.info("AMI connected to %s as %s", self._where, self._username)
        manager.send_awaiting_actions()

    def _lost(self, exc: Exception | None) -> None:
        was_connected, self._connected = self._connected, False
        self._lost_event.set()
        if was_connected:
            log.warning("AMI connection to %s lost: %s", self._where, exc or "closed by peer")

    async def _supervise(self) -> None:
        """Own the connection: reconcile, ping, and after a drop log in again with back-off."""
        while True:
            await self._session()
            for delay in reconnect_delays(self._reconnect_initial, self._reconnect_max):
                log.info("AMI reconnecting to %s in %.2fs", self._where, delay)
                await asyncio.sleep(delay)
                try:
                    await self._open()
                except AmiError as exc:
                    log.warning("AMI reconnect failed: %s", exc)
                    continue
                self.reconnects += 1
                log.info("AMI reconnected to %s (reconnect #%d)", self._where, self.reconnects)
                break

    async def _session(self) -> None:
        await self._reconcile()
        lost = self._lost_event
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self._ping_interval)
                return
            try:
                await self._request("Ping", {}, retry=False, limit=self._ping_interval)
            except AmiNotConnected:
                return
            except AmiError as exc:
                log.warning("AMI ping to %s failed (%s); dropping the connection", self._where, exc)
                if self._manager.protocol is not None:
                    self._manager.protocol.transport.abort()  # connection_lost follows
                await lost.wait()

    async def _reconcile(self) -> None:
        """Hand the live channels to the hooks (a failed read is tried again: ``read_live``).

        Events that arrived since login were held; they are released after the hooks ran,
        so a call that starts while the snapshot is taken is never mistaken for a gone one.
        """
        try:
            if not self._hooks:
                return
            rows = await read_live(self._read_once, self._reconcile_variables, self._where)
            if rows is None:
                return
            log.info("AMI reconciliation on %s: %d channel(s)", self._where, len(rows))
            for hook in tuple(self._hooks):
                try:
                    await hook(rows)
                except Exception:
                    log.exception("AMI reconciliation hook %r failed", hook)
        finally:
            self._release_held()

    async def _read_once(self, name: str, headers: Mapping[str, str]) -> AmiResponse:
        return await self._request(name, headers, retry=False)

    def _release_held(self) -> None:
        held, self._held = self._held, None
        for event in held or ():
            self._deliver(event)

    def _dispatch(self, message: Any) -> None:
        if not self._subscriptions:
            return
        event = message if isinstance(message, AmiEvent) else AmiEvent(message)
        if self._held is not None:
            self._held.append(event)
            return
        self._deliver(event)

    def _deliver(self, event: AmiEvent) -> None:
        name = event.name.lower()
        for subscription in tuple(self._subscriptions):
            if subscription.names is None or name in subscription.names:
                try:
                    subscription.callback(event)
                except Exception:
                    log.exception("AMI subscriber %r failed on %s", subscription.callback, name)


def _response(name: str, result: Any) -> AmiResponse:
    messages = result if isinstance(result, list) else [result]
    first = AmiEvent(messages[0])
    if not messages[0].success:
        raise AmiError(f"{name} refused: {first.get('Message') or first.get('Response')}")
    rows = [AmiEvent(message) for message in messages[1:]]
    complete = rows.pop() if rows and rows[-1].name.endswith("Complete") else None
    return AmiResponse(first, tuple(rows), complete)
