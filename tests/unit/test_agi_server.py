"""FastAgiServer over real TCP, against a fake Asterisk written here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from hotline.errors import AgiError
from ivr.agi import AgiChannel, AgiSession, FastAgiServer, Flow

Reply = Callable[[str], "str | None"]


def env_block(script: str = "hotline", **extra: str) -> bytes:
    headers = {
        "agi_network": "yes",
        "agi_network_script": script,
        "agi_request": f"agi://127.0.0.1/{script}",
        "agi_channel": "PJSIP/carrier-00000001",
        "agi_uniqueid": "1700000000.5",
        "agi_callerid": "13800138000",
        "agi_arg_1": "1700000000.1",
        **extra,
    }
    return "".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + b"\n"


def asterisk(command: str) -> str | None:
    """Canned answers like Asterisk's (None: close the connection, "": stay silent)."""
    verb = " ".join(command.split()[:2])
    return {
        "GET DATA": "200 result=12",
        "GET VARIABLE": "200 result=1 (zh)",
        "STREAM FILE": "200 result=0 endpos=8000",
        "SAY DIGITS": "200 result=0",
        "SAY NUMBER": "200 result=0",
        "SET VARIABLE": "200 result=1",
    }.get(verb, "200 result=1" if verb.startswith(("VERBOSE", "HANGUP")) else "200 result=0")


async def fake_call(
    port: int, head: bytes | None = None, reply: Reply = asterisk, close_after: bool = False
) -> list[str]:
    """Connect, send the environment, answer commands until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    commands: list[str] = []
    try:
        writer.write(env_block() if head is None else head)
        await writer.drain()
        if close_after:
            return commands
        while line := await asyncio.wait_for(reader.readline(), 10):
            commands.append(line.decode().rstrip("\n"))
            answer = reply(commands[-1])
            if answer is None:
                break
            if answer:
                writer.write(answer.encode() + b"\n")
                await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()
    return commands


async def closed_by_server(port: int, payload: bytes) -> bool:
    """Send payload (and nothing more); True once the server closes its side."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5) == b""
    except ConnectionError:
        return True
    finally:
        writer.close()


async def eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds * 100)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in time")


async def ten_commands(ch: AgiChannel) -> None:
    await ch.answer()
    assert await ch.play("hello-world", "0#") == ""
    assert await ch.read_digits("menu", 3, 4) == "12"
    await ch.say_digits("95007")
    await ch.say_number(42)
    assert await ch.get_variable("CHANNEL(language)") == "zh"
    await ch.set_variable("MENU_CHOICE", "12")
    await ch.verbose("menu done")
    assert await ch.exec("Playback", "beep") == 0
    await ch.hangup()


async def waits_forever(ch: AgiChannel) -> None:
    await ch.answer()
    await ch.read_digits("menu", 600, 1)


async def broken(ch: AgiChannel) -> None:
    await ch.answer()
    raise RuntimeError("bug in a flow")


@dataclass
class Harness:
    server: FastAgiServer
    ended: list[tuple[str, str, str]] = field(default_factory=list)

    async def wait_ended(self, count: int) -> None:
        await eventually(lambda: len(self.ended) >= count and not self.server.sessions_open)


@pytest.fixture
async def harness(caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    ended: list[tuple[str, str, str]] = []

    async def on_end(session: AgiSession, outcome: str) -> None:
        ended.append((session.script, outcome, session.linkedid))

    routes: dict[str, Flow] = {"hotline": ten_commands, "wait": waits_forever, "bug": broken}
    server = FastAgiServer(routes, "127.0.0.1", 0, 2.0, on_end, header_timeout=0.5)
    await server.start()
    yield Harness(server, ended)
    await server.stop(grace=0.1)
    assert server.sessions_open == 0
    leaked = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert not leaked
    assert not [r for r in caplog.records if r.name == "asyncio" and r.levelno >= logging.ERROR]


async def test_flow_of_ten_commands_completes(harness: Harness) -> None:
    commands = await fake_call(harness.server.port)
    await harness.wait_ended(1)
    assert commands == [
        "ANSWER",
        'STREAM FILE hello-world "0#"',
        "GET DATA menu 3000 4",
        'SAY DIGITS 95007 ""',
        'SAY NUMBER 42 ""',
        "GET VARIABLE CHANNEL(language)",
        'SET VARIABLE MENU_CHOICE "12"',
        'VERBOSE "menu done" 1',
        'EXEC Playback "beep"',
        "HANGUP",
    ]
    assert harness.ended == [("hotline", "completed", "1700000000.1")]
    assert len(harness.server.stats) == 10 and harness.server.stats.percentile(99) > 0


@pytest.mark.parametrize(
    "reply",
    [
        lambda c: "200 result=-1 endpos=0\nHANGUP" if c.startswith("GET DATA") else asterisk(c),
        lambda c: "HANGUP" if c.startswith("GET DATA") else asterisk(c),
        lambda c: "511 Command Not Permitted" if c.startswith("GET DATA") else asterisk(c),
        lambda c: None if c.startswith("GET DATA") else asterisk(c),  # socket closed
    ],
    ids=["result-1-then-HANGUP", "HANGUP", "511", "eof"],
)
async def test_hangup_mid_flow(harness: Harness, reply: Reply) -> None:
    commands = await fake_call(harness.server.port, reply=reply)
    await harness.wait_ended(1)
    assert commands[-1].startswith("GET DATA")
    assert harness.ended == [("hotline", "hangup", "1700000000.1")]


async def test_failed_command_is_an_error_not_a_hangup() -> None:
    seen: list[str] = []

    async def flow(ch: AgiChannel) -> None:
        for prompt in ("missing-file", "usage"):
            try:
                await ch.play(prompt)
            except AgiError as exc:
                seen.append(type(exc).__name__)
        await ch.verbose("still in sync")

    def reply(command: str) -> str | None:
        if "missing-file" in command:
            return "200 result=-1 endpos=0"
        if "usage" in command:
            return "520-Invalid command syntax.  Usage follows:\n Usage: x\n520 End of usage."
        return asterisk(command)

    async with FastAgiServer({"hotline": flow}, port=0) as server:
        commands = await fake_call(server.port, reply=reply)
    assert seen == ["AgiError", "AgiError"] and commands[-1] == 'VERBOSE "still in sync" 1'


@pytest.mark.parametrize(
    "payload",
    [
        b"\x00\xff\xfe garbage \x1b[0m\n\n",
        b"agi_network: yes\nagi_network_script: hotline",  # disconnect before the blank line
        b"agi_network: yes\nagi_uniqueid: 1.2\n\n",  # no agi_network_script
        b"agi_network_script: hotline\n" + b"agi_x: 1\n" * 400 + b"\n",  # too many lines
        b"agi_network_script: hotline\nagi_x: " + b"a" * 100_000,  # an endless line
        b"agi_network_script: hotline\n",  # then silence: header timeout
    ],
    ids=["garbage", "early-eof", "no-script", "too-many-lines", "endless-line", "silent"],
)
async def test_malformed_connection_is_closed_and_server_keeps_serving(
    harness: Harness, payload: bytes
) -> None:
    if payload.endswith(b"hotline"):
        _, writer = await asyncio.open_connection("127.0.0.1", harness.server.port)
        writer.write(payload)
        writer.close()  # early disconnect
    else:
        assert await closed_by_server(harness.server.port, payload)
    assert len(await fake_call(harness.server.port)) == 10
    await harness.wait_ended(1)
    assert harness.ended == [("hotline", "completed", "1700000000.1")]


async def test_unknown_route_is_rejected(harness: Harness) -> None:
    assert await closed_by_server(harness.server.port, env_block("nope"))
    await harness.wait_ended(1)
    assert harness.ended == [("nope", "rejected", "1700000000.1")]
    assert len(await fake_call(harness.server.port)) == 10


async def test_flow_exception_is_logged_and_closed(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    assert await fake_call(harness.server.port, env_block("bug")) == ["ANSWER"]
    await harness.wait_ended(1)
    assert harness.ended == [("bug", "error", "1700000000.1")]
    assert any(r.exc_info and "bug in a flow" in str(r.exc_info[1]) for r in caplog.records)


async def test_command_timeout_ends_the_session() -> None:
    outcomes: list[str] = []

    async def on_end(session: AgiSession, outcome: str) -> None:
        outcomes.append(outcome)

    def silent_on_play(command: str) -> str | None:
        return "" if command.startswith("STREAM FILE") else asterisk(command)

    routes: dict[str, Flow] = {"hotline": ten_commands}
    async with FastAgiServer(routes, port=0, command_timeout=0.2, on_session_end=on_end) as server:
        commands = await fake_call(server.port, reply=silent_on_play)
    assert commands == ["ANSWER", 'STREAM FILE hello-world "0#"'] and outcomes == ["error"]


async def test_200_concurrent_calls(harness: Harness) -> None:
    results = await asyncio.gather(*(fake_call(harness.server.port) for _ in range(200)))
    await harness.wait_ended(200)
    assert all(len(r) == 10 for r in results)
    assert {o for _, o, _ in harness.ended} == {"completed"} and len(harness.ended) == 200
    assert len(harness.server.stats) == 2000


async def test_stop_with_an_open_session(harness: Harness) -> None:
    port = harness.server.port
    silent = lambda c: asterisk(c) if c == "ANSWER" else ""  # noqa: E731
    task = asyncio.create_task(fake_call(port, env_block("wait"), silent))
    await eventually(
        lambda: harness.server.sessions_open == 1 and "ANSWER" in harness.server.stats.counts
    )
    await harness.server.stop(grace=0.1)
    assert harness.server.sessions_open == 0
    assert await asyncio.wait_for(task, 5) == ["ANSWER", "GET DATA menu 600000 1"]
    assert harness.ended == [("wait", "error", "1700000000.1")]
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


def test_host_must_be_loopback() -> None:
    with pytest.raises(ValueError):
        FastAgiServer({}, "0.0.0.0", 0)
