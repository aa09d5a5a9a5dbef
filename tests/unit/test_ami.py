"""AmiClient against a fake AMI server speaking the text protocol over TCP.

The control tests run a bare panoramisk Manager through the same faults, so they show the
behaviour AmiClient has to prevent (re-sent Originate, swallowed OriginateResponse).
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from panoramisk import Manager

from hotline.ami import AmiClient, AmiEvent, reconnect_delays
from hotline.config import AsteriskSettings
from hotline.errors import AmiError, AmiNotConnected
from hotline.record_call import RECORD_VARS
from hotline.record_fields import channel_variables

SECRET = "s3cret"
Headers = dict[str, str]


def _channel(name: str, uniqueid: str) -> Headers:
    return {"Event": "CoreShowChannel", "Channel": name, "Uniqueid": uniqueid, "Linkedid": uniqueid}


class FakeAmi:
    """Just enough of Asterisk's manager.c: banner, Login, FullyBooted, a few actions."""

    def __init__(self) -> None:
        self.received: list[Headers] = []  # every action, across all connections
        self.raw = bytearray()  # every byte received, across all connections
        self.accepted: list[float] = []  # monotonic time of each accepted connection
        self.channels = [_channel("PJSIP/agent1-00000001", "1700000000.1")]
        self.drop_on: set[str] = set()  # one-shot: close without replying to this action
        self.ignore: set[str] = set()  # never reply to these actions
        self.reject_next = 0  # close this many new connections at once
        self.before_snapshot: list[Headers] = []  # events sent just before the channel list
        self._writers: list[asyncio.StreamWriter] = []
        self._handlers: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        self.drop_all()
        await asyncio.gather(*self._handlers)
        await self._server.wait_closed()

    def count(self, action: str) -> int:
        return sum(1 for a in self.received if a["Action"].lower() == action.lower())

    def drop_all(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    def push(self, headers: Headers | list[tuple[str, str]]) -> None:
        data = _frame(headers)
        for writer in self._writers:
            writer.write(data)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted.append(time.monotonic())
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        handler.add_done_callback(self._handlers.discard)
        if self.reject_next:
            self.reject_next -= 1
            writer.transport.abort()
            return
        self._writers.append(writer)
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                self.raw += raw
                action = dict(
                    line.split(": ", 1) for line in raw.decode().split("\r\n") if ": " in line
                )
                self.received.append(action)
                if not self._reply(action, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if writer in self._writers:
                self._writers.remove(writer)
            writer.transport.abort()

    def _reply(self, action: Headers, writer: asyncio.StreamWriter) -> bool:
        name = action["Action"].lower()
        aid = {"ActionID": action.get("ActionID", "")}
        if name in self.drop_on:
            self.drop_on.discard(name)
            return False
        if name in self.ignore:
            return True
        out: list[Headers] = []
        if name == "login":
            if action.get("Secret") != SECRET:
                writer.write(
                    _frame({"Response": "Error", **aid, "Message": "Authentication failed"})
                )
                return False
            out = [
                {"Response": "Success", **aid, "Message": "Authentication accepted"},
                {"Event": "FullyBooted", "Privilege": "system,all", "Status": "Fully Booted"},
            ]
        elif name == "ping":
            out = [{"Response": "Success", **aid, "Ping": "Pong", "Timestamp": "1.0"}]
        elif name in ("coreshowchannels", "status"):  # the snapshot after a login: Status
            row_name, complete = (
                ("CoreShowChannel", "CoreShowChannelsComplete")
                if name == "coreshowchannels"
                else ("Status", "StatusComplete")
            )
            out = [
                *self.before_snapshot,
                {
                    "Response": "Success",
                    **aid,
                    "EventList": "start",
                    "Message": "Channels will follow",
                },
                *({**row, "Event": row_name, **aid} for row in self.channels),
                {
                    "Event": complete,
                    **aid,
                    "EventList": "Complete",
                    "ListItems": str(len(self.channels)),
                },
            ]
        elif name == "originate":
            out = [
                {"Response": "Success", **aid, "Message": "Originate successfully queued"},
                {"Event": "OriginateResponse", **aid, "Response": "Success", "Channel": "x"},
            ]
        elif name == "queueadd":
            out = [{"Response": "Success", **aid, "Message": "Added interface to queue"}]
        else:
            out = [{"Response": "Error", **aid, "Message": "Invalid/unknown command"}]
        for headers in out:
            writer.write(_frame(headers))
        return True


def _frame(headers: Headers | list[tuple[str, str]]) -> bytes:
    items = headers.items() if isinstance(headers, dict) else headers
    return ("".join(f"{k}: {v}\r\n" for k, v in items) + "\r\n").encode()


async def until(condition: Callable[[], bool], within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    await server.start()
    yield server
    await server.stop()


def make_client(port: int, secret: str = SECRET, **kwargs: Any) -> AmiClient:
    options: dict[str, Any] = {
        "ping_interval": 5.0,
        "reconnect_max": 0.08,
        "connect_timeout": 1.0,
        "reconnect_initial": 0.02,
        "action_timeout": 2.0,
    }
    return AmiClient("127.0.0.1", port, "hotline", secret, **{**options, **kwargs})


@pytest.fixture
async def client(fake: FakeAmi) -> AsyncIterator[AmiClient]:
    ami = make_client(fake.port)
    yield ami
    await ami.close()


async def test_login_ok_and_ping(fake: FakeAmi, client: AmiClient) -> None:
    await client.connect()
    assert client.connected
    login = fake.received[0]
    assert (login["Action"], login["Username"], login["Secret"]) == ("Login", "hotline", SECRET)
    response = await client.action("Ping")
    assert response.message["ping"] == "Pong"  # case-insensitive lookup


async def test_login_refused_is_a_clear_error(fake: FakeAmi) -> None:
    ami = make_client(fake.port, secret="wrong")
    with pytest.raises(AmiError, match=r"login refused for user 'hotline' .*Authentication failed"):
        await ami.connect()
    assert not ami.connected
    await asyncio.sleep(0.1)
    assert len(fake.accepted) == 1  # a refused first login is not retried
    await ami.close()


async def test_unreachable_is_a_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ami = make_client(port)
    with pytest.raises(AmiError, match=r"cannot reach AMI at 127\.0\.0\.1"):
        await ami.connect()
    await ami.close()


async def test_events_reach_subscribers_filtered_by_name(fake: FakeAmi, client: AmiClient) -> None:
    newchannels: list[AmiEvent] = []
    everything: list[str] = []

    def broken(event: AmiEvent) -> None:
        raise RuntimeError("a faulty subscriber must not stop the others")

    client.subscribe(broken)
    client.subscribe(newchannels.append, ["Newchannel"])
    unsubscribe = client.subscribe(lambda e: everything.append(e.name))
    await client.connect()
    fake.push(
        [
            ("Event", "Newchannel"),
            ("Channel", "PJSIP/trunk-00000002"),
            ("ChanVariable", "HOTLINE_ATTEMPT=42"),
            ("ChanVariable", "HOTLINE_CAMPAIGN=7"),
        ]
    )
    fake.push({"Event": "Hangup", "Channel": "PJSIP/trunk-00000002"})
    await until(lambda: "Hangup" in everything)
    assert everything == ["FullyBooted", "Newchannel", "Hangup"]
    (event,) = newchannels
    assert event.name == "Newchannel" and event["channel"] == "PJSIP/trunk-00000002"
    assert channel_variables(event) == {"HOTLINE_ATTEMPT": "42", "HOTLINE_CAMPAIGN": "7"}
    with pytest.raises(TypeError):
        event["Channel"] = "x"  # type: ignore[index]
    unsubscribe()
    fake.push({"Event": "Hangup"})
    await client.action("Ping")  # the event was read before this reply
    assert everything.count("Hangup") == 1


def test_reconnect_delays_double_up_to_the_cap_with_jitter() -> None:
    lows = list(itertools.islice(reconnect_delays(0.5, 3.0, lambda: 0.0), 5))
    highs = list(itertools.islice(reconnect_delays(0.5, 3.0, lambda: 1.0), 5))
    assert lows == [0.25, 0.5, 1.0, 1.5, 1.5]
    assert highs == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_reconnect_with_backoff_reconciles_again(fake: FakeAmi, client: AmiClient) -> None:
    snapshots: list[list[str]] = []

    async def reconcile(rows: list[AmiEvent]) -> None:
        snapshots.append([row["Channel"] for row in rows])

    client.on_connected(reconcile)
    await client.connect()
    await until(lambda: len(snapshots) == 1)
    fake.channels = [_channel("PJSIP/a-1", "1.1"), _channel("PJSIP/b-2", "1.2")]
    fake.reject_next = 4
    fake.drop_all()
    await until(lambda: not client.connected)
    with pytest.raises(AmiNotConnected):
        await client.action("Ping")  # fails fast while the connection is down
    await until(lambda: len(snapshots) == 2)
    assert snapshots == [["PJSIP/agent1-00000001"], ["PJSIP/a-1", "PJSIP/b-2"]]
    assert client.connected and client.reconnects == 1
    gaps = [b - a for a, b in itertools.pairwise(fake.accepted[1:])]
    assert len(gaps) == 4
    assert gaps[-1] >= 0.035  # doubled from 0.02 towards the 0.08 cap (jitter: [d/2, d])
    assert max(gaps) < 0.08 + 0.05  # capped


async def test_the_snapshot_after_login_asks_status_for_the_record_variables(
    fake: FakeAmi,
) -> None:
    """What the dialplan set while the service was away (the fallback disposition, the
    DID, the SIP call id) is read back here, as no event carries it any more."""
    assert {"HOTLINE_DISPOSITION", "HOTLINE_DID", "HOTLINE_SIP_CALLID"} <= RECORD_VARS
    fake.channels = [{**_channel("PJSIP/a-1", "1.1"), "Variable": "HOTLINE_DID=95598"}]
    rows: list[AmiEvent] = []

    async def reconcile(snapshot: list[AmiEvent]) -> None:
        rows.extend(snapshot)

    ami = make_client(fake.port, reconcile_variables=RECORD_VARS)
    ami.on_connected(reconcile)
    try:
        await ami.connect()
        await until(lambda: len(rows) == 1)
    finally:
        await ami.close()
    [asked] = [a for a in fake.received if a["Action"] == "Status"]
    assert asked["Variables"].split(",") == sorted(RECORD_VARS)
    assert not [a for a in fake.received if a["Action"] == "CoreShowChannels"]
    assert channel_variables(rows[0]) == {"HOTLINE_DID": "95598"}


async def test_events_during_reconciliation_reach_subscribers_after_the_hook(
    fake: FakeAmi, client: AmiClient
) -> None:
    """A call that starts while the snapshot is taken must not look gone to reconcile."""
    order: list[str] = []

    async def reconcile(rows: list[AmiEvent]) -> None:
        order.append("snapshot:" + ",".join(row["Channel"] for row in rows))

    client.subscribe(lambda event: order.append("event:" + event["Channel"]), ["Newchannel"])
    client.on_connected(reconcile)
    fake.before_snapshot = [{"Event": "Newchannel", "Channel": "PJSIP/new-1"}]
    await client.connect()
    await until(lambda: len(order) == 2)
    assert order == ["snapshot:PJSIP/agent1-00000001", "event:PJSIP/new-1"]
    fake.push({"Event": "Newchannel", "Channel": "PJSIP/later-2"})
    await until(lambda: len(order) == 3)
    assert order[-1] == "event:PJSIP/later-2"


async def test_originate_is_never_resent_after_reconnect(fake: FakeAmi, client: AmiClient) -> None:
    """The proof: the server drops the connection on Originate; exactly one ever arrives."""
    await client.connect()
    fake.drop_on.add("originate")
    with pytest.raises(AmiError, match="outcome unknown") as caught:
        await client.action(
            "Originate", Channel="PJSIP/100@carrier", Exten="s", Context="x", Async="true"
        )
    assert not isinstance(caught.value, AmiNotConnected)
    await until(lambda: client.connected and client.reconnects == 1)
    await client.action("Ping")  # FullyBooted (panoramisk's re-send trigger) came before this
    assert fake.count("login") == 2
    assert fake.count("originate") == 1


async def test_control_bare_panoramisk_resends_originate(fake: FakeAmi) -> None:
    """Same fault with panoramisk's own Manager: it re-sends the Originate (double dial)."""
    manager = Manager(
        host="127.0.0.1",
        port=fake.port,
        username="hotline",
        secret=SECRET,
        ping_delay=3600,
        reconnect_timeout=0,
        loop=asyncio.get_running_loop(),
    )
    await manager.connect()
    await until(lambda: manager.authenticated)
    fake.drop_on.add("originate")
    future = manager.send_action(
        {"Action": "Originate", "Channel": "PJSIP/100@carrier", "Exten": "s", "Async": "true"}
    )
    result = await asyncio.wait_for(future, 2.0)
    manager.close()
    originates = [a for a in fake.received if a["Action"] == "Originate"]
    assert len(originates) == 2  # re-sent after the reconnect...
    assert originates[0]["ActionID"] == originates[1]["ActionID"]  # ...as the same action
    assert [m.get("Event") or m["Response"] for m in result] == ["Success", "OriginateResponse"]


async def test_originate_response_reaches_subscribers(fake: FakeAmi, client: AmiClient) -> None:
    seen: list[AmiEvent] = []
    client.subscribe(seen.append, ["OriginateResponse"])
    await client.connect()
    response = await client.action("Originate", Channel="PJSIP/100@carrier", Async="true")
    assert response.message["Message"] == "Originate successfully queued"
    assert response.events == ()
    await until(lambda: len(seen) == 1)
    assert seen[0]["ActionID"] == response.message["ActionID"]


async def test_control_bare_panoramisk_swallows_originate_response(fake: FakeAmi) -> None:
    manager = Manager(
        host="127.0.0.1", port=fake.port, username="hotline", secret=SECRET, ping_delay=3600
    )
    manager.loop = asyncio.get_running_loop()
    seen: list[Any] = []
    manager.register_event("OriginateResponse", lambda _m, event: seen.append(event))
    await manager.connect()
    await until(lambda: manager.authenticated)
    result = await asyncio.wait_for(
        manager.send_action({"Action": "Originate", "Channel": "x", "Async": "true"}), 2.0
    )
    await manager.send_action({"Action": "Ping"})
    manager.close()
    assert result[1]["Event"] == "OriginateResponse"  # consumed by the action's future...
    assert seen == []  # ...so no event callback ever saw it


async def test_retryable_read_is_completed_after_reconnect(
    fake: FakeAmi, client: AmiClient
) -> None:
    await client.connect()
    fake.drop_on.add("coreshowchannels")
    response = await client.action("CoreShowChannels")
    assert [row["Channel"] for row in response.events] == ["PJSIP/agent1-00000001"]
    assert response.complete is not None and response.complete["ListItems"] == "1"
    assert client.reconnects == 1
    sent = [a for a in fake.received if a["Action"] == "CoreShowChannels"]
    assert len(sent) == 2 and sent[0]["ActionID"] == sent[1]["ActionID"]


async def test_action_replies_and_refusals(fake: FakeAmi, client: AmiClient) -> None:
    await client.connect()
    # panoramisk 1.4 alone would wait forever: it takes "Added … to queue" for a list start.
    added = await client.action("QueueAdd", Queue="general", Interface="PJSIP/agent1")
    assert added.message["Message"] == "Added interface to queue"
    with pytest.raises(AmiError, match="Bogus refused: Invalid/unknown command"):
        await client.action("Bogus")


async def test_actions_fail_fast_while_disconnected(fake: FakeAmi) -> None:
    ami = make_client(fake.port)
    with pytest.raises(AmiNotConnected):
        await ami.action("Ping")
    await ami.connect()
    fake.reject_next = 1000
    fake.drop_all()
    await until(lambda: not ami.connected)
    started = time.monotonic()
    with pytest.raises(AmiNotConnected):
        await ami.action("Originate", Channel="PJSIP/1")
    assert time.monotonic() - started < 0.05
    await ami.close()
    assert fake.count("originate") == 0


async def test_unanswered_ping_drops_and_reconnects(fake: FakeAmi) -> None:
    ami = make_client(fake.port, ping_interval=0.05)
    await ami.connect()
    fake.ignore.add("ping")
    await until(lambda: ami.reconnects >= 1)
    await ami.close()


async def test_close_fails_pending_and_leaves_no_tasks(fake: FakeAmi) -> None:
    ami = make_client(fake.port)
    await ami.connect()
    fake.ignore.add("coreshowchannels")
    pending = asyncio.create_task(ami.action("CoreShowChannels"))
    await until(lambda: fake.count("coreshowchannels") == 1)
    await ami.close()
    with pytest.raises(AmiError, match="closed"):
        await pending
    assert not ami.connected
    await until(lambda: asyncio.all_tasks() == {asyncio.current_task()})


def test_from_settings() -> None:
    settings = AsteriskSettings.model_validate(
        {"ami_port": 5039, "ami_secret": "x", "ami_reconnect_max_seconds": 4}
    )
    ami = AmiClient.from_settings(settings)
    assert ami._where == "127.0.0.1:5039" and ami._reconnect_max == 4


def test_an_event_reads_the_same_from_a_panoramisk_message_and_from_headers() -> None:
    """The fast path over panoramisk's own store keeps case-insensitive keys, the first of
    a repeated header, every value for ``getall``, and drops the empty body."""
    from panoramisk.message import Message

    line = "\r\n".join(
        [
            "Event: VarSet",
            "UniqueID: hotline-1.1",
            "ChanVariable: HOTLINE_A=1",
            "ChanVariable: HOTLINE_B=2",
            "Value: 您好",
        ]
    )
    message = Message.from_line(line)
    headers = {
        "Event": "VarSet",
        "UniqueID": "hotline-1.1",
        "ChanVariable": ["HOTLINE_A=1", "HOTLINE_B=2"],
        "Value": "您好",
    }
    for event in (AmiEvent(message), AmiEvent(headers)):
        assert event.name == "VarSet" and event["uniqueid"] == "hotline-1.1"
        assert event["ChanVariable"] == "HOTLINE_A=1"
        assert event.getall("chanvariable") == ("HOTLINE_A=1", "HOTLINE_B=2")
        assert channel_variables(event) == {"HOTLINE_A": "1", "HOTLINE_B": "2"}
        assert set(event) == {"Event", "UniqueID", "ChanVariable", "Value"}
        assert event.get("UNIQUEID") == "hotline-1.1" and event.get("DestUniqueid") is None
        assert event.get("DestUniqueid", "") == "" and event.get("value", "x") == "您好"
    assert dict(AmiEvent(message)) == dict(AmiEvent(headers))


def test_only_the_streams_own_events_take_the_fast_path() -> None:
    """An action's reply events (ActionID), responses and Shutdown are panoramisk's to
    handle: they complete actions or drop the connection."""
    from hotline.ami_actions import _plain_event

    event = _plain_event("Event: Hangup\r\nUniqueid: a.1\r\nCause: 16\r\nCause-txt: Normal")
    assert event is not None and (event.name, event["cause"]) == ("Hangup", "16")
    assert _plain_event("Event: CoreShowChannel\r\nActionID: 7\r\nChannel: x") is None
    assert _plain_event("Event: X\r\nCommandID: 7") is None
    assert _plain_event("Event: Shutdown\r\nShutdown: Cleanly") is None
    assert _plain_event("Response: Success\r\nActionID: 1") is None
