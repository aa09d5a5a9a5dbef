"""AMI protocol helpers: panoramisk's layers, typed at the edges, with its retry rule fixed.

panoramisk 1.4 splits AMI into framing (``AMIProtocol``), messages (``Message``), pending
actions (``Action``) and the manager (``Manager``). We keep that split and override only
what is unsafe for a dialer:

* ``AMIProtocol.close`` queues *every* unanswered action for a re-send, and
  ``Manager.send_awaiting_actions`` (run on ``FullyBooted`` after each re-login) re-sends
  them with their old ActionID: an Originate in flight at a drop would dial twice. Here an
  action is re-sent only if it was created retryable (an allow-listed read); anything else
  fails at once with an "outcome unknown" :class:`AmiError` and is never written again.
* ``Action.multi`` guesses list responses from message text: async Originate's "successfully
  queued" makes it wait for ``OriginateResponse`` (which is then swallowed, never
  dispatched), and QueueAdd's "Added interface to queue" waits forever. Asterisk 12+ marks
  every list response with ``EventList: start``; that header alone decides here.
* ``Manager`` reconnects on a fixed integer timer and pings without reading the reply;
  :class:`hotline.ami.AmiClient` owns reconnect and keepalive instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar, overload

from panoramisk import actions
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.manager import Manager
from panoramisk.message import Message

from hotline.errors import AmiError

__all__ = ["RETRYABLE_ACTIONS", "AmiAction", "AmiEvent", "AmiManager", "AmiProtocol"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")

#: Read-only actions that may be sent again after a reconnect (lower case). Everything
#: else (Originate, Redirect, Bridge, Hangup, QueueAdd, Setvar, Command, …) changes state
#: and is sent at most once.
RETRYABLE_ACTIONS = frozenset(
    {
        "ping",
        "coresettings",
        "corestatus",
        "coreshowchannels",
        "status",
        "getvar",
        "queuestatus",
        "queuesummary",
        "bridgelist",
        "bridgeinfo",
        "pjsipshowendpoints",
        "pjsipshowcontacts",
        "devicestatelist",
        "extensionstate",
        "listcommands",
    }
)


class AmiEvent(Mapping[str, str]):
    """One AMI message (event or response) as an immutable, case-insensitive mapping.

    Header case varies between Asterisk modules (``Uniqueid``/``UniqueID``), so lookups
    ignore it. A repeated header (``ChanVariable``) maps to its first value; ``getall``
    returns every value.
    """

    __slots__ = ("_store",)

    def __init__(self, headers: Mapping[str, Any]) -> None:
        store: dict[str, tuple[str, tuple[str, ...]]] = {}
        for key, value in headers.items():
            if key.lower() == "content" and not value:
                continue  # panoramisk adds an empty body to every Message
            values = tuple(map(str, value)) if isinstance(value, list | tuple) else (str(value),)
            store[key.lower()] = (key, values)
        self._store = store

    @classmethod
    def from_block(cls, block: str) -> AmiEvent:
        """One message straight from the wire (``Key: value`` lines), without panoramisk's
        Message in between."""
        store: dict[str, tuple[str, tuple[str, ...]]] = {}
        for line in block.split("\r\n"):
            key, sep, value = line.partition(": ")
            if not sep:
                continue
            lower = key.lower()
            if lower in store:  # a repeated header (a site's channelvars): rare
                found = store[lower]
                store[lower] = (found[0], (*found[1], value))
            else:
                store[lower] = (key, (value,))
        event = cls.__new__(cls)
        event._store = store
        return event

    @property
    def name(self) -> str:
        """The ``Event`` header; empty for a response."""
        return self.get("Event", "")

    def getall(self, key: str) -> tuple[str, ...]:
        entry = self._store.get(key.lower())
        return entry[1] if entry else ()

    def replaced(self, headers: Mapping[str, tuple[str, ...]]) -> AmiEvent:
        """A copy with every value of each of ``headers`` replaced (dropped when empty)."""
        store = dict(self._store)
        for key, values in headers.items():
            store.pop(key.lower(), None)
            if values:
                store[key.lower()] = (key, values)
        event = AmiEvent.__new__(AmiEvent)
        event._store = store
        return event

    def __getitem__(self, key: str) -> str:
        return self._store[key.lower()][1][0]

    @overload
    def get(self, key: str, /) -> str | None: ...
    @overload
    def get(self, key: str, /, default: str | _T) -> str | _T: ...
    def get(self, key: str, /, default: object = None) -> object:
        """Mapping.get without its KeyError: many lookups miss (Dest… headers, optional ones)."""
        entry = self._store.get(key.lower())
        return default if entry is None else entry[1][0]

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def __repr__(self) -> str:
        return f"AmiEvent({dict(self)!r})"


def _header(message: Any, key: str) -> str:
    return str(message.get(key, "")).lower()


class AmiAction(actions.Action):  # type: ignore[misc]
    """A pending action that knows whether it may be re-sent and when its answer is whole."""

    def __init__(self, headers: Mapping[str, Any], *, retry: bool) -> None:
        super().__init__(dict(headers))
        self.retry = retry

    @property
    def multi(self) -> bool:
        return bool(self.responses) and _header(self.responses[0], "EventList") == "start"

    @property
    def completed(self) -> bool:
        if not self.multi:
            return True
        last = self.responses[-1]
        return len(self.responses) > 1 and (
            _header(last, "EventList") == "complete" or str(last.event).endswith("Complete")
        )


def _plain_event(block: str) -> AmiEvent | None:
    """A block that is an event of the stream (no ActionID/CommandID: not part of an
    action's reply, and not Shutdown) as an ``AmiEvent``; None for panoramisk to handle."""
    if not block.startswith("Event: "):
        return None
    lower = block.lower()
    if "\nactionid: " in lower or "\ncommandid: " in lower or lower.startswith("event: shutdown"):
        return None
    return AmiEvent.from_block(block)


class AmiProtocol(AMIProtocol):  # type: ignore[misc]
    """Framing as panoramisk does it; on close every unfinished action goes to the retry rule.

    The stream's own events (most of what Asterisk sends under load) are parsed straight
    into ``AmiEvent`` and handed to the manager's subscriber: panoramisk's Message, its
    case-insensitive dict, its pattern dispatch and the copy into ``AmiEvent`` were about
    a quarter of the service's busy samples at 200 calls (py-spy, bench/inbound_load.py);
    the direct parse takes 17 µs an event against 38 µs. Replies to actions, and
    Shutdown, still go through panoramisk.
    """

    closed: bool
    factory: Any
    responses: dict[str, Any]
    queue: Any
    version: str | None

    def data_received(self, data: bytes) -> None:
        if self.version is None or not isinstance(self.factory, AmiManager):
            super().data_received(data)  # the banner (and the version) come first
            return
        text = data.decode(getattr(self, "encoding", "ascii"), "ignore")  # as panoramisk
        if self.queue:
            text = self.queue.popleft() + text
        blocks = text.split("\r\n\r\n")
        self.queue.append(blocks.pop())
        for raw in blocks:
            block = raw.strip()
            event = _plain_event(block)
            if event is not None:
                self.factory.deliver(event)
                continue
            message = Message.from_line(block)
            if message is not None:
                self.handle_message(message)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.close()
            # A superseded connection closing late must not disturb the current one.
            if self.factory is not None and self.factory.protocol is self:
                self.factory.connection_lost(exc)

    def close(self) -> None:
        pending = {id(a): a for a in self.responses.values()}.values()  # keyed twice at times
        self.responses.clear()
        if self.factory is not None:
            for action in pending:
                self.factory.orphan(action)
        if not self.closed:
            try:
                self.transport.close()
            finally:
                self.closed = True


class AmiManager(Manager):  # type: ignore[misc]
    """panoramisk's Manager without its own reconnect and ping, and with a safe re-send."""

    authenticated_future: Any
    protocol: Any

    def __init__(
        self,
        *,
        on_event: Callable[[Any], None],
        on_lost: Callable[[Exception | None], None],
        **config: Any,
    ) -> None:
        super().__init__(protocol_factory=AmiProtocol, **config)
        self.closing = False
        self._on_lost = on_lost
        self._on_event = on_event
        self.register_event("*", lambda _manager, message: on_event(message))

    def deliver(self, event: AmiEvent) -> None:
        """An event the protocol parsed itself (``AmiProtocol.data_received``)."""
        self._on_event(event)

    def attach(self, transport: Any, protocol: AmiProtocol) -> None:
        """Wire a fresh connection through panoramisk's own ``connection_made`` (sends Login)."""
        done = self.loop.create_future()
        done.set_result((transport, protocol))
        self.connection_made(done)

    def login(self, future: Any) -> bool:
        if future.cancelled() or future.exception() is not None:
            self.authenticated_future = None  # the client reports it; base would raise here
            return False
        return bool(super().login(future))

    def ping(self) -> None:
        self.pinger = None  # AmiClient pings and checks the Pong; base never reads it

    def connection_lost(self, exc: Exception | None) -> None:
        self._connected = False
        self.authenticated = False
        if self.pinger is not None:
            self.pinger.cancel()
            self.pinger = None
        self._on_lost(exc)  # base would schedule its own fixed-delay reconnect here

    def orphan(self, action: Any) -> None:
        """Apply the retry rule to an action whose connection ended before it completed."""
        if action.future.done():
            return
        name = str(action["action"])
        if getattr(action, "retry", False) and not self.closing:
            action.responses.clear()  # a partial list is asked again from its start
            self.awaiting_actions.append(action)
            log.info("AMI %s %s will be re-sent after reconnect", name, action.id)
            return
        why = "the AMI client was closed" if self.closing else "the AMI connection was lost"
        action.future.set_exception(
            AmiError(f"{name}: {why} before its response; outcome unknown, not re-sent")
        )

    def send_awaiting_actions(self, *_: object) -> None:
        """Re-send queued retryable reads; base re-sends every unanswered action (double dial)."""
        while self.awaiting_actions:
            action = self.awaiting_actions.popleft()
            if action.future.done():
                continue
            if getattr(action, "retry", False) and not self.closing:
                self.send_action(action)
            else:  # only reachable if something else queued it: still never re-send
                action.future.set_exception(
                    AmiError(f"{action['action']}: not re-sent after reconnect; outcome unknown")
                )

    def forget(self, action: Any) -> None:
        """Drop an action its caller gave up on, so a reconnect cannot re-send it."""
        if self.protocol is not None:
            self.protocol.responses.pop(action.id, None)
            self.protocol.responses.pop(action.action_id, None)
        kept = [a for a in self.awaiting_actions if a is not action]
        self.awaiting_actions.clear()
        self.awaiting_actions.extend(kept)
