"""Inbound load: N concurrent SIP callers through menu → queue → agent → score.

Per N (default 50, 100, 200) the carrier simulator places N calls into the hotline over
``--spread`` seconds. Each call rings 2 rings, is answered and greeted, and runs the real
inbound flow: the caller presses 2 (故障报修) while the main menu plays, joins the repair
queue, an agent (one of N simulator phones ``agent-<id>``, logged in through the service's
API) answers at once, talks ``--talk`` seconds and hangs up; the caller presses 9 while
请您对这次服务评分 plays and the hotline hangs up after thanking them. Keys are RFC 4733
events sent by the simulator (AMI ``PlayDTMF``) half a second into the prompt that takes
them (the service process reports each prompt as it starts).

Printed per run: calls, completed (record answered, agent set, score 9), failures by
cause, DTMF-to-next-prompt latency p50/p99 as the service adds it (from the key's arrival
in the flow to the next prompt command, or to the hand-back to the dialplan for a queue;
AGI round trips in between are Asterisk's time and are shown apart), and CPU seconds of
the service process next to the hotline Asterisk's and the simulator's.

The service runs in a process of its own so that its CPU is its own; the bench runs its
own sandbox instance ``bench-inbound`` (free ports, RTP 60000-63999, a temporary SQLite
file) and stops it at the end. As root::

    .venv/bin/python bench/inbound_load.py [--calls 50 100 200] [--talk 5] [--spread 5]
        [--recording on|off]

With recording on (the default, as the product) it also prints the recordings' size per
hour of audio; ``--calls 100 --recording on`` next to ``--recording off`` is the
recording figure of #15 (Asterisk's CPU with and without MixMonitor).

Target of the issue: 200 concurrent, 0 failures, service CPU ≤ 20% of Asterisk's, p99 ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import os
import resource
import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from hotline.ami import AmiClient, AmiEvent
from hotline.callrecord import Disposition
from hotline.config import Settings
from hotline.db import CallRecordRepository, create_engine, session_factory
from hotline.event_loop import EventLoopName
from hotline.recordings.files import wav_length
from hotline.render import RECORDINGS_SUBFOLDER
from hotline.sandbox import AsteriskInstance, Sandbox
from hotline.testcall import carrier_client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.inbound_worker import WorkerReport, service_worker
from bench.pg import drop_database, fresh_database

log = logging.getLogger("bench.inbound_load")

TARGET_CALLS, TARGET_P99_MS, TARGET_CPU_SHARE = 200, 20.0, 0.20
MENU_KEY, SCORE_KEY = "2", "9"  # 2 = 故障报修 → the repair queue
QUEUE_NAMES = ("emergency", "repair", "billing", "appointments", "complaints", "reception")
PRESS_CONNECTIONS = 32  # PlayDTMF holds an AMI session for the tone's length: spread them
KEYS = {"hotline/menu-main": MENU_KEY, "hotline/score": SCORE_KEY}  # prompt → the key
KEY_DELAY = 0.5  # into the prompt, as a caller would


def _free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def bench_settings(
    var_dir: Path,
    agents: int,
    database_url: str = "",
    loop: EventLoopName = "uvloop",
    recording: bool = True,
) -> Settings:
    queue = {"wrapup_seconds": 0, "agent_ring_seconds": 10, "retry_seconds": 1}
    return Settings(
        var_dir=var_dir,
        log_level="WARNING",
        event_loop=loop,
        asterisk={
            "ami_port": _free_port(),
            "ami_secret": secrets.token_urlsafe(16),
            "sip_port": _free_port(socket.SOCK_DGRAM),
            "rtp_start": 60000,
            "rtp_end": 61999,
        },
        carrier={
            "ami_port": _free_port(),
            "ami_secret": secrets.token_urlsafe(16),
            "sip_port": _free_port(socket.SOCK_DGRAM, "127.0.0.2"),
            "rtp_start": 62000,
            "rtp_end": 63999,
        },
        agi={"port": _free_port()},
        web={"port": _free_port(), "token": secrets.token_urlsafe(16)},
        database={"url": database_url or f"sqlite+aiosqlite:///{var_dir / 'hotline.db'}"},
        sandbox={"instance": "bench-inbound"},
        ivr={"hours": {"force": "open"}},
        recording={"enabled": recording},
        queues={
            "queues": [  # the emergency queue never offers a callback (config rule)
                {
                    "name": name,
                    **queue,
                    **({"callback_after_seconds": 0} if name == "emergency" else {}),
                }
                for name in QUEUE_NAMES
            ],
            "agents": [{"id": str(5001 + n), "queues": ["repair"]} for n in range(agents)],
        },
    )


@dataclass
class Call:
    caller: str
    trace: str
    channel: str = ""
    linkedid: str = ""
    sip_call_id: str = ""
    ended: bool = False


@dataclass
class Driver:
    """Places the calls and presses their keys when the hotline's events say so."""

    settings: Settings
    hotline: AmiClient
    carrier: AmiClient
    pressers: list[AmiClient] = field(default_factory=list)
    calls: dict[str, Call] = field(default_factory=dict)  # trace → call
    by_callid: dict[str, Call] = field(default_factory=dict)
    by_linkedid: dict[str, Call] = field(default_factory=dict)
    by_channel: dict[str, Call] = field(default_factory=dict)
    linkedids: dict[str, str] = field(default_factory=dict)  # SIP Call-ID → hotline linkedid
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    press_errors: Counter[str] = field(default_factory=Counter)

    def on_carrier(self, event: AmiEvent) -> None:
        if event.name == "UserEvent" and (call := self.calls.get(event.get("Trace", ""))):
            call.channel, call.sip_call_id = event.get("Channel", ""), event.get("CallID", "")
            self.by_callid[call.sip_call_id] = call
            self.by_channel[call.channel] = call
            if linkedid := self.linkedids.get(call.sip_call_id):  # the hotline's came first
                self._join(call, linkedid)
        elif event.name == "Hangup" and (call := self.by_channel.get(event.get("Channel", ""))):
            call.ended = True

    def _join(self, call: Call, linkedid: str) -> None:
        call.linkedid = linkedid
        self.by_linkedid[linkedid] = call

    def on_hotline(self, event: AmiEvent) -> None:
        linkedid = event.get("Linkedid", "")
        if event.name == "VarSet" and event.get("Variable") == "HOTLINE_SIP_CALLID":
            # set while ringing: the simulator reports the Call-ID only once answered
            self.linkedids[event.get("Value", "")] = linkedid
            if call := self.by_callid.get(event.get("Value", "")):
                self._join(call, linkedid)

    def on_prompt(self, linkedid: str, prompt: str) -> None:
        """A prompt that takes keys started (reported by the service process)."""
        if key := KEYS.get(prompt):
            self._later(linkedid, key, KEY_DELAY)

    def _later(self, linkedid: str, key: str, delay: float) -> None:
        call = self.by_linkedid.get(linkedid)
        if call is None:
            return
        task = asyncio.get_running_loop().create_task(self._press(call, key, delay))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _press(self, call: Call, key: str, delay: float) -> None:
        await asyncio.sleep(delay)
        presser = self.pressers[hash(call.trace) % len(self.pressers)]
        try:
            await presser.action("PlayDTMF", Channel=call.channel, Digit=key, Duration="150")
        except Exception as exc:  # a failed press shows as a failed call, with its cause
            self.press_errors[type(exc).__name__] += 1

    async def place(self, n: int, spread: float, base: int) -> None:
        number = self.settings.inbound.number
        for i in range(n):
            caller = str(13600000000 + base + i)
            call = self.calls.setdefault(trace := secrets.token_hex(8), Call(caller, trace))
            await self.carrier.action(
                "Originate",
                Channel=f"PJSIP/{number}@hotline",
                Context="caller",
                Exten="s",
                Priority="1",
                CallerID=f'"{caller}" <{caller}>',
                Timeout="30000",
                Async="true",
                Variable=[f"TRACE={trace}", "PRESS=", "PRESS_AFTER=0", "STAY=180"],
            )
            assert call.trace
            await asyncio.sleep(spread / n)


def _cpu(instance: AsteriskInstance) -> float:
    pid = instance.pid()
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile_ms(values: list[float], q: int) -> float:
    """The q-th percentile of ``values`` (seconds), in ms."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0] * 1e3
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1e3


async def _outcomes(settings: Settings, calls: list[Call]) -> Counter[str]:
    engine = create_engine(settings.database.url)
    records = CallRecordRepository(session_factory(engine))
    outcome: Counter[str] = Counter()
    try:
        for call in calls:
            if not call.sip_call_id:
                outcome["not answered"] += 1
                continue
            record = await records.find_by_sip_call_id(call.sip_call_id)
            if record is None or not record.finished:
                outcome["no final record"] += 1
            elif record.disposition is not Disposition.ANSWERED:
                outcome[f"disposition {record.disposition.value}"] += 1
            elif not record.agent:
                outcome["no agent"] += 1
            elif record.score != int(SCORE_KEY):
                outcome[f"score {record.score}"] += 1
            else:
                outcome["completed"] += 1
    finally:
        await engine.dispose()
    return outcome


async def run_round(
    driver: Driver, conn: Connection, box: Sandbox, n: int, spread: float, base: int
) -> dict[str, Any]:
    conn.send("begin")
    assert conn.recv() == "ok"
    cpu0 = (_cpu(box.hotline), _cpu(box.carrier))
    started = time.monotonic()
    before = set(driver.calls)
    await driver.place(n, spread, base)
    calls = [driver.calls[t] for t in driver.calls if t not in before]
    for _ in range(300):  # at most 150 s for the round to end
        if all(call.ended for call in calls):
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)  # the last records reach the database
    conn.send("end")
    report: WorkerReport = conn.recv()
    cpu1 = (_cpu(box.hotline), _cpu(box.carrier))
    outcomes = await _outcomes(driver.settings, calls)
    return {
        "calls": n,
        "completed": outcomes.pop("completed", 0),
        "failures": dict(outcomes) | dict(driver.press_errors),
        "added_p50": percentile_ms(report.added, 50),
        "added_p99": percentile_ms(report.added, 99),
        "gap_p50": percentile_ms(report.gaps, 50),
        "gap_p99": percentile_ms(report.gaps, 99),
        "keys": len(report.added),
        "service_cpu": report.cpu,
        "hotline_cpu": cpu1[0] - cpu0[0],
        "carrier_cpu": cpu1[1] - cpu0[1],
        "peak": report.peak,
        "wall": time.monotonic() - started,
    }


def _print(row: dict[str, Any]) -> None:
    share = row["service_cpu"] / row["hotline_cpu"] if row["hotline_cpu"] else float("nan")
    print(
        f"{row['calls']:>5} {row['completed']:>9} {sum(row['failures'].values()):>8}"
        f"  {row['added_p50']:6.2f} {row['added_p99']:7.2f}  {row['gap_p50']:6.1f}"
        f" {row['gap_p99']:7.1f} {row['keys']:>5}  {row['service_cpu']:7.2f}"
        f" {row['hotline_cpu']:8.2f} {row['carrier_cpu']:8.2f} {share:6.1%}"
        f" {row['peak']:>5} {row['wall']:6.1f}",
        flush=True,
    )
    if row["failures"]:
        print(f"      failures: {row['failures']}", flush=True)


async def drive(
    settings: Settings, box: Sandbox, conn: Connection, prompts: Any, args: argparse.Namespace
) -> list[dict[str, Any]]:
    hotline = AmiClient.from_settings(settings.asterisk)
    carrier = carrier_client(settings)
    driver = Driver(settings, hotline, carrier)
    hotline.subscribe(driver.on_hotline, ("VarSet",))
    loop = asyncio.get_running_loop()

    stopping = threading.Event()

    def relay() -> None:  # "linkedid\tprompt" lines from the service process
        while not stopping.is_set():
            if prompts.poll(0.2):
                linkedid, _, prompt = prompts.recv_bytes().decode().partition("\t")
                loop.call_soon_threadsafe(driver.on_prompt, linkedid, prompt)

    relay_thread = threading.Thread(target=relay, daemon=True)
    relay_thread.start()
    carrier.subscribe(driver.on_carrier, ("UserEvent", "Hangup"))
    await hotline.connect()
    await carrier.connect()
    driver.pressers = [carrier_client(settings) for _ in range(PRESS_CONNECTIONS)]
    for presser in driver.pressers:
        await presser.connect()
    rows = []
    try:
        for agent in settings.queues.agents:
            await carrier.action("DBPut", Family="agent", Key=f"{agent.id}/rings", Val="0")
            talk = f"{args.talk:g}"
            await carrier.action("DBPut", Family="agent", Key=f"{agent.id}/talk", Val=talk)
        print(
            "calls completed failures  added-ms p50   p99  gap-ms p50   p99  keys"
            "  svc-cpu  ast-cpu  sim-cpu  share  peak   wall",
            flush=True,
        )
        for index, n in enumerate(args.calls):
            row = await run_round(driver, conn, box, n, args.spread, index * 10000)
            _print(row)
            rows.append(row)
            await asyncio.sleep(3)
    finally:
        stopping.set()
        relay_thread.join(5)
        for client in (hotline, carrier, *driver.pressers):
            await client.close()
    return rows


def print_recordings(folder: Path) -> None:
    """The recordings the rounds left: how many, their size, and MB per hour of audio."""
    files = list(folder.rglob("*.wav"))
    if not files:
        print("recordings: none", flush=True)
        return
    lengths = [wav_length(path) for path in files]
    size = sum(b for b, _ in lengths)
    hours = sum(s for _, s in lengths) / 3600
    per_hour = size / 1e6 / hours if hours else 0.0
    print(
        f"recordings: {len(files)} files, {size / 1e6:.1f} MB, {hours * 60:.1f} min of audio:"
        f" {per_hour:.1f} MB per call-hour",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--talk", type=float, default=5.0, help="seconds each agent talks")
    parser.add_argument("--spread", type=float, default=5.0, help="seconds to place a round")
    parser.add_argument("--profile", help="cProfile the service process into this file")
    parser.add_argument(
        "--pg",
        metavar="ADMIN_URL",
        help="the service on a fresh PostgreSQL database made through this URL "
        "(e.g. postgresql://postgres@127.0.0.1:5432/test), dropped at the end; "
        "default: a temporary SQLite file",
    )
    parser.add_argument(
        "--recording",
        choices=["on", "off"],
        default="on",
        help="record the agent calls (recording.enabled; default on, as the product)",
    )
    parser.add_argument(
        "--loop",
        choices=["uvloop", "asyncio"],
        default="uvloop",
        help="the service's event loop (the event_loop setting; default uvloop)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # Asterisk inherits it
    var_dir = Path(tempfile.mkdtemp(prefix="bench-inbound-"))
    name = f"hotline_bench_inbound_{secrets.token_hex(4)}"
    database_url = asyncio.run(fresh_database(args.pg, name)) if args.pg else ""
    settings = bench_settings(
        var_dir, max(args.calls), database_url, args.loop, args.recording == "on"
    )
    print(f"database: {settings.database.url.split('@')[-1]}", flush=True)
    box = Sandbox(settings)
    box.install()
    box.build_prompts()
    box.start()
    print(
        f"load average at start: {os.getloadavg()[0]:.2f}; cores: {os.cpu_count()};"
        f" AMI: hotline {settings.asterisk.ami_port}, simulator {settings.carrier.ami_port}",
        flush=True,
    )
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    # The service's prompt cues: a pipe written from its event loop (a Queue's feeder thread
    # woke for every prompt, a few per cent of the CPU counted as the service's).
    prompts, cues = context.Pipe(duplex=False)
    worker = context.Process(
        target=service_worker,
        args=(theirs, settings, cues, str(var_dir / "service.log"), args.profile),
    )
    worker.start()
    try:
        assert ours.recv() == "ready"
        rows = asyncio.run(drive(settings, box, ours, prompts, args))
    finally:
        ours.send("stop")
        worker.join(30)
        box.stop()
        print_recordings(box.hotline.base / RECORDINGS_SUBFOLDER)
        for instance in box.instances():
            shutil.rmtree(instance.base, ignore_errors=True)
        with contextlib.suppress(OSError):
            box.hotline.base.parent.rmdir()
        shutil.rmtree(var_dir, ignore_errors=True)
        if args.pg:
            asyncio.run(drop_database(args.pg, name))
    best = rows[-1]
    share = best["service_cpu"] / best["hotline_cpu"] if best["hotline_cpu"] else 1.0
    met = (
        best["calls"] >= TARGET_CALLS
        and not best["failures"]
        and best["added_p99"] <= TARGET_P99_MS
        and share <= TARGET_CPU_SHARE
    )
    verdict = "met" if met else "NOT met"
    print(
        f"target (200 calls, 0 failures, p99 <= 20 ms, service CPU <= 20% of Asterisk's): {verdict}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
