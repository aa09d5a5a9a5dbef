"""AGI round trip under load: N concurrent SIP calls through a 10-command FastAGI flow.

What it measures, per N (default 50, 100, 200): the carrier simulator places N calls at
once into the hotline (AMI ``Originate`` spread over ``--spread`` seconds); each call rings
once, is answered and enters ``AGI(${HOTLINE_AGI}/<inbound.agi_route>)``. The route runs a
bench flow of exactly 10 AGI commands: the greeting (STREAM FILE, as the inbound flow greets
first; its time is the prompt's length, so it is left out of the percentiles), then nine
without media (GET/SET VARIABLE, VERBOSE, EXEC NoOp), ``--think`` seconds apart so that the
sessions overlap as they would with prompts in between; the last sets
``HOTLINE_FLOW_RESULT=done`` so the dialplan hangs up.

Printed per run: calls, completed flows, failures (by cause), peak concurrent flows, AGI
command round trip p50/p99 (write of the command to its parsed answer, as the service sees
it), commands measured, CPU seconds of the service (the FastAGI server runs in its own
process so the bench driver's AMI work is not counted) next to the hotline Asterisk's and
the carrier simulator's (utime+stime from /proc), the most files the hotline Asterisk had
open, the CPU seconds the rest of the machine used meanwhile (noise) and wall time.
``--baseline`` runs the
same flow as a classic process-per-call AGI script with pyst2 (``asterisk.agi.AGI``); its
service CPU is the sum of the script processes' own CPU.

It runs its own sandbox instance ``bench`` (free ports, RTP 40000-49999, a temporary
SQLite file) and stops it at the end; other instances are left alone. As root::

    .venv/bin/python bench/agi_roundtrip.py [--calls 50 100 200] [--think 0.2]
        [--spread 1.0] [--baseline]

Target of the issue: 200 concurrent calls, 0 failures, AGI p99 < 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import multiprocessing
import os
import re
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from hotline.ami import AmiClient, AmiEvent
from hotline.config import Settings
from hotline.errors import AgiError, HotlineError
from hotline.render import PROJECT_ROOT
from hotline.sandbox import AsteriskInstance, Sandbox
from ivr.agi import AgiChannel, AgiSession
from ivr.agi_protocol import CommandStats
from ivr.agi_server import FastAgiServer

log = logging.getLogger("bench.agi_roundtrip")

COMMANDS_PER_FLOW = 10
HOTLINE_RTP = (40000, 44999)
CARRIER_RTP = (45000, 49999)
TARGET_CALLS, TARGET_P99_MS = 200, 10.0
GREETING = "hotline/welcome"
MEDIA_VERBS = frozenset({"STREAM FILE"})  # their time is the prompt's length: not counted
CHROOT_PYTHON = ("python3-minimal", "libpython3-stdlib")  # pyst2 needs pprint


# --- the flow (runs in the service process) ----------------------------------------------


async def bench_flow(channel: AgiChannel, think: float, greeting: bool) -> None:
    """Exactly 10 AGI commands; raises AgiError if Asterisk answers wrongly.

    The first is the greeting, as in the real inbound flow (or a GET VARIABLE with
    ``greeting=False``); the other nine carry no media.
    """

    async def pause() -> None:
        if think > 0:
            await asyncio.sleep(think)

    if greeting:
        await channel.play(GREETING)  # 1
    else:
        await channel.get_variable("HOTLINE_RINGS")  # 1
    await pause()
    did = await channel.get_variable("HOTLINE_DID")  # 2
    await pause()
    caller = await channel.get_variable("CALLERID(num)") or ""  # 3
    await pause()
    await channel.verbose(f"bench flow {caller} to {did}")  # 4
    await pause()
    await channel.set_variable("BENCH_STEP", "1")  # 5
    await pause()
    if await channel.get_variable("BENCH_STEP") != "1":  # 6
        raise AgiError("BENCH_STEP did not read back")
    await pause()
    await channel.exec("NoOp", "bench")  # 7
    await pause()
    await channel.set_variable("BENCH_CALLER", caller)  # 8
    await pause()
    if await channel.get_variable("CHANNEL(linkedid)") != channel.linkedid:  # 9
        raise AgiError("linkedid differs from the AGI argument")
    await pause()
    await channel.set_variable("HOTLINE_FLOW_RESULT", "done")  # 10


@dataclass
class WorkerReport:
    """What the service process saw during one run."""

    outcomes: dict[str, str] = field(default_factory=dict)  # caller number -> outcome
    p50: float = 0.0
    p99: float = 0.0
    commands: int = 0
    cpu: float = 0.0
    peak: int = 0


class _RunState:
    def __init__(self) -> None:
        self.stats = CommandStats()
        self.report = WorkerReport()
        self.active = 0
        self.cpu0 = _own_cpu()

    def finish(self) -> WorkerReport:
        report = self.report
        report.p50, report.p99 = self.stats.percentile(50), self.stats.percentile(99)
        report.commands, report.cpu = len(self.stats), _own_cpu() - self.cpu0
        return report


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def agi_worker(
    conn: Connection, port: int, route: str, flow_args: tuple[float, bool], nice: int, log: str
) -> None:
    """The service process: a FastAGI server, driven over ``conn`` (begin / end / stop)."""
    if nice:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    logging.basicConfig(filename=log, level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(_serve_agi(conn, port, route, *flow_args))


async def _serve_agi(conn: Connection, port: int, route: str, think: float, greeting: bool) -> None:
    state = _RunState()

    async def flow(channel: AgiChannel) -> None:
        state.active += 1
        state.report.peak = max(state.report.peak, state.active)
        try:
            await bench_flow(channel, think, greeting)
        finally:
            state.active -= 1

    async def ended(session: AgiSession, outcome: str) -> None:
        state.report.outcomes[session.caller] = outcome

    def on_command(verb: str, seconds: float) -> None:
        if verb not in MEDIA_VERBS:
            state.stats.record(verb, seconds)

    server = FastAgiServer(
        {route: flow}, "127.0.0.1", port, on_session_end=ended, on_command=on_command
    )
    await server.start()
    loop = asyncio.get_running_loop()
    conn.send("ready")
    try:
        while (message := await loop.run_in_executor(None, conn.recv)) != "stop":
            if message == "begin":
                state = _RunState()
                conn.send("ok")
            elif message == "end":
                conn.send(state.finish())
    finally:
        await server.stop(grace=1)


# --- the classic AGI baseline (pyst2, one process per call, inside the sandbox) -----------

_BASELINE_SCRIPT = """\
#!/usr/bin/python3
# Written by bench/agi_roundtrip.py: the bench flow as a classic pyst2 AGI script.
import os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "pylib"))
from asterisk.agi import AGI

started = time.time()
agi = AGI(stderr=open(os.devnull, "w"))
rtts = []


def timed(call, *args):
    t0 = time.perf_counter()
    value = call(*args)
    rtts.append(time.perf_counter() - t0)
    return value


def pause():
    if THINK > 0:
        time.sleep(THINK)


outcome = "completed"
try:
    if GREETING:
        agi.stream_file(GREETING)  # not timed: its time is the prompt's length
    else:
        timed(agi.get_variable, "HOTLINE_RINGS")
    pause()
    did = timed(agi.get_variable, "HOTLINE_DID"); pause()
    caller = timed(agi.get_variable, "CALLERID(num)"); pause()
    timed(agi.verbose, "bench flow %s to %s" % (caller, did)); pause()
    timed(agi.set_variable, "BENCH_STEP", "1"); pause()
    if timed(agi.get_variable, "BENCH_STEP") != "1":
        raise RuntimeError("BENCH_STEP did not read back")
    pause()
    timed(agi.appexec, "NoOp", "bench"); pause()
    timed(agi.set_variable, "BENCH_CALLER", caller); pause()
    timed(agi.get_variable, "CHANNEL(linkedid)"); pause()
    timed(agi.set_variable, "HOTLINE_FLOW_RESULT", "done")
except Exception as exc:
    outcome = type(exc).__name__
times = os.times()
line = "%s\\t%s\\t%s\\t%.6f\\t%.6f\\t%.6f\\n" % (
    agi.env.get("agi_callerid", ""), outcome, ",".join("%.7f" % t for t in rtts),
    times.user + times.system, started, time.time())
fd = os.open(RESULTS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
os.write(fd, line.encode())
os.close(fd)
"""


def ensure_python(sandbox: Sandbox) -> None:
    """Python 3 with pprint in the sandbox; installs it into the chroot once (about 10 s)."""
    host = sandbox.host
    check = ["python3", "-c", "import pprint, re, signal"]
    argv = ["chroot", str(host.root), *check] if host.chroot else check
    if host.chroot and subprocess.run(argv, capture_output=True).returncode != 0:
        print(f"baseline: installing {' '.join(CHROOT_PYTHON)} into the chroot", flush=True)
        started = time.monotonic()
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        apt = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *CHROOT_PYTHON]
        done = subprocess.run(
            ["chroot", str(host.root), *apt], capture_output=True, text=True, env=env
        )
        if done.returncode != 0:
            raise HotlineError(f"apt-get in the chroot failed: {done.stderr.strip()[-400:]}")
        print(f"baseline: installed in {time.monotonic() - started:.0f} s", flush=True)
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise HotlineError(f"no usable python3 for the baseline: {done.stderr.strip()[-400:]}")


def install_baseline(
    hotline: AsteriskInstance, route: str, think: float, greeting: bool
) -> tuple[str, Path]:
    """Write the script and pyst2 into agi-bin; (agi-bin as Asterisk sees it, results file)."""
    import asterisk.agi

    six = importlib.util.find_spec("six")
    if six is None or six.origin is None:
        raise HotlineError("six (a pyst2 dependency) is not installed")
    agi_bin = hotline.base / "agi-bin"
    pylib = agi_bin / "pylib"
    shutil.rmtree(pylib, ignore_errors=True)
    pyst2 = Path(asterisk.agi.__file__).parent
    shutil.copytree(pyst2, pylib / "asterisk", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(six.origin, pylib / "six.py")
    results_inside = f"{hotline.dirs.base}/spool/bench-baseline.tsv"
    play = GREETING if greeting else ""
    header = f"THINK = {think!r}\nGREETING = {play!r}\nRESULTS = {results_inside!r}\n"
    text = _BASELINE_SCRIPT.replace("started = time.time()", header + "started = time.time()")
    script = agi_bin / route
    script.write_text(text, encoding="utf-8")
    script.chmod(0o755)
    return f"{hotline.dirs.base}/agi-bin", hotline.base / "spool" / "bench-baseline.tsv"


def read_baseline(path: Path) -> WorkerReport:
    report, stats = WorkerReport(), CommandStats()
    spans: list[tuple[float, int]] = []
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    for line in lines:
        caller, outcome, rtts, cpu, start, end = line.split("\t")
        report.outcomes[caller] = outcome
        for rtt in filter(None, rtts.split(",")):
            stats.record("baseline", float(rtt))
        report.cpu += float(cpu)
        spans += [(float(start), 1), (float(end), -1)]
    active = 0
    for _, step in sorted(spans):
        active += step
        report.peak = max(report.peak, active)
    report.p50, report.p99, report.commands = stats.percentile(50), stats.percentile(99), len(stats)
    return report


# --- the driver ---------------------------------------------------------------------------


def free_port(kind: socket.SocketKind, host: str) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def bench_settings(work: Path) -> Settings:
    tcp, udp = socket.SOCK_STREAM, socket.SOCK_DGRAM
    data: dict[str, Any] = {
        "var_dir": str(PROJECT_ROOT / "var"),
        "asterisk": {
            "ami_port": free_port(tcp, "127.0.0.1"),
            "ami_secret": secrets.token_hex(16),
            "sip_bind": "127.0.0.1",
            "sip_port": free_port(udp, "127.0.0.1"),
            "rtp_start": HOTLINE_RTP[0],
            "rtp_end": HOTLINE_RTP[1],
        },
        "carrier": {
            "ami_port": free_port(tcp, "127.0.0.1"),
            "ami_secret": secrets.token_hex(16),
            "sip_bind": "127.0.0.2",
            "sip_port": free_port(udp, "127.0.0.2"),
            "rtp_start": CARRIER_RTP[0],
            "rtp_end": CARRIER_RTP[1],
        },
        "agi": {"port": free_port(tcp, "127.0.0.1")},
        "database": {
            "url": f"sqlite+aiosqlite:///{work / 'bench.db'}",
            "spool_dir": str(work / "spool"),
        },
        "web": {"port": free_port(tcp, "127.0.0.1"), "token": secrets.token_hex(16)},
        "inbound": {"answer_after_rings": 1},
        "sandbox": {"instance": "bench"},
        "prompts": {"source_file": str(PROJECT_ROOT / "prompts" / "prompts.yaml")},
    }
    return Settings(**data)


def proc_cpu(pid: int | None) -> float:
    """utime+stime of a process in seconds (0.0 if it is gone)."""
    if pid is None:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine since boot (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def open_fds(pid: int | None) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd")) if pid else 0
    except OSError:
        return 0


def open_files_limit(pid: int | None) -> str:
    """The soft RLIMIT_NOFILE of a process, from /proc/<pid>/limits."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                return line.split()[3]
    return "?"


def active_channels(instance: AsteriskInstance) -> int:
    out = instance.cli("core show channels count", timeout=10)
    match = re.search(r"^\s*(\d+) active channels?$", out, re.MULTILINE)
    if match:
        return int(match[1])
    raise HotlineError(f"{instance.role}: unexpected `core show channels count`: {out!r}")


@dataclass
class RunResult:
    mode: str
    calls: int
    report: WorkerReport
    failures: Counter[str]
    hotline_cpu: float
    carrier_cpu: float
    wall: float
    spread: float
    peak_fds: int
    other_cpu: float

    @property
    def completed(self) -> int:
        return self.calls - sum(self.failures.values())


class Bench:
    """Places the calls from the carrier's AMI and watches both instances."""

    def __init__(self, sandbox: Sandbox, args: argparse.Namespace, worker: Connection) -> None:
        self.sandbox, self.args, self.worker = sandbox, args, worker
        self.hotline, self.carrier = sandbox.instances()
        self.responses: dict[str, str] = {}
        self.runs = 0
        carrier = sandbox.settings.carrier
        self.ami = AmiClient(
            carrier.ami_host, carrier.ami_port, carrier.ami_user,
            carrier.ami_secret.get_secret_value(), action_timeout=30.0,
        )  # fmt: skip
        self.ami.subscribe(self._on_response, ("OriginateResponse",))

    def _on_response(self, event: AmiEvent) -> None:
        ok = event.get("Response") == "Success"
        self.responses[event.get("CallerIDNum", "")] = "" if ok else event.get("Reason", "?")

    async def _cli(self, instance: AsteriskInstance, command: str) -> str:
        return await asyncio.to_thread(instance.cli, command)

    async def _originate(self, caller: str) -> str:
        try:
            await self.ami.action(
                "Originate",
                Channel=f"PJSIP/{self.sandbox.settings.inbound.number}@hotline",
                Context="caller",
                Exten="s",
                Priority="1",
                CallerID=f'"{caller}" <{caller}>',
                Timeout="30000",
                Async="true",
                Variable=[f"TRACE=bench-{caller}", "PRESS=", "PRESS_AFTER=0", "STAY=30"],
            )
        except HotlineError as exc:
            return f"originate refused: {exc}"
        return ""

    async def run(self, calls: int, mode: str, baseline_results: Path | None) -> RunResult:
        self.runs += 1
        callers = [f"1{self.runs:03d}{i:07d}" for i in range(calls)]
        self.responses = {}
        if baseline_results is not None:
            await asyncio.to_thread(baseline_results.unlink, missing_ok=True)
        else:
            await self._ask("begin")
        hot0, car0 = proc_cpu(self.hotline.pid()), proc_cpu(self.carrier.pid())
        all0, own0 = machine_cpu(), time.process_time()
        started = time.monotonic()
        tasks = []
        for i, caller in enumerate(callers):
            await asyncio.sleep(max(0.0, started + i * self.args.spread / calls - time.monotonic()))
            tasks.append(asyncio.create_task(self._originate(caller)))
        refused = dict(zip(callers, await asyncio.gather(*tasks), strict=True))
        spread = time.monotonic() - started
        fds = await self._wait_until_idle(started, len([r for r in refused.values() if not r]))
        wall = time.monotonic() - started
        hot1, car1 = proc_cpu(self.hotline.pid()), proc_cpu(self.carrier.pid())
        all1, own1 = machine_cpu(), time.process_time()
        if baseline_results is not None:
            report = await asyncio.to_thread(read_baseline, baseline_results)
        else:
            report = await self._ask("end")
        failures: Counter[str] = Counter()
        for caller in callers:
            outcome = report.outcomes.get(caller)
            if outcome == "completed":
                continue
            if refused[caller]:
                failures[refused[caller]] += 1
            elif self.responses.get(caller):
                failures[f"originate failed (reason {self.responses[caller]})"] += 1
            elif outcome is not None:
                failures[f"flow {outcome}"] += 1
            else:
                failures["never reached the flow"] += 1
        ours = (hot1 - hot0) + (car1 - car0) + report.cpu + (own1 - own0)
        other = all1 - all0 - ours
        return RunResult(
            mode, calls, report, failures, hot1 - hot0, car1 - car0, wall, spread, fds, other
        )

    async def _ask(self, message: str) -> WorkerReport:
        self.worker.send(message)
        answer = await asyncio.to_thread(self.worker.recv)
        return answer if isinstance(answer, WorkerReport) else WorkerReport()

    async def _wait_until_idle(self, started: float, placed: int) -> int:
        """Until every originate is answered or failed and both sides have no channel.

        Returns the most file descriptors the hotline Asterisk had open meanwhile.
        """
        deadline = started + self.args.timeout
        peak_fds = 0
        while time.monotonic() < deadline:
            peak_fds = max(peak_fds, open_fds(self.hotline.pid()))
            counts: list[int] = []
            for instance in (self.hotline, self.carrier):
                try:
                    counts.append(await asyncio.to_thread(active_channels, instance))
                except HotlineError as exc:  # e.g. the CLI socket refused: out of files
                    log.warning("%s", exc)
                    counts.append(-1)
            if len(self.responses) >= placed and not any(counts):
                return peak_fds
            await asyncio.sleep(0.5)
        print(f"  timeout after {self.args.timeout:g} s: hanging up what is left", flush=True)
        for instance in (self.hotline, self.carrier):
            with contextlib.suppress(HotlineError):
                await self._cli(instance, "channel request hangup all")
        return peak_fds

    async def set_agi(self, target: str) -> None:
        await self._cli(self.hotline, f"dialplan set global HOTLINE_AGI {target}")


def print_table(results: list[RunResult]) -> None:
    head = (
        f"{'mode':<8} {'calls':>5} {'done':>5} {'fail':>4} {'peak':>4} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'cmds':>5} {'svc CPU':>7} {'ast CPU':>7} {'car CPU':>7} "
        f"{'svc/ast':>7} {'wall s':>6} {'fds':>5} {'other':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        ratio = r.report.cpu / r.hotline_cpu if r.hotline_cpu else 0.0
        rep = r.report
        print(
            f"{r.mode:<8} {r.calls:>5} {r.completed:>5} {sum(r.failures.values()):>4} "
            f"{rep.peak:>4} {rep.p50 * 1e3:>7.2f} {rep.p99 * 1e3:>7.2f} {rep.commands:>5} "
            f"{rep.cpu:>7.2f} {r.hotline_cpu:>7.2f} {r.carrier_cpu:>7.2f} {ratio:>7.2f} "
            f"{r.wall:>6.1f} {r.peak_fds:>5} {r.other_cpu:>5.1f}"
        )
    for r in results:
        for cause, count in r.failures.most_common():
            print(f"  {r.mode} N={r.calls}: {count} x {cause}")
    print(
        "peak = most flows open at once; p50/p99 = AGI command round trip; svc CPU = FastAGI\n"
        "service process (baseline: sum of the AGI script processes); ast/car CPU = hotline/\n"
        "carrier Asterisk utime+stime; fds = most files the hotline Asterisk had open;\n"
        "other = CPU s the rest of the machine used meanwhile (the bench's own CLI polls,\n"
        "anything else running); a busy machine makes p99 mostly a wait for a CPU"
    )
    target = [r for r in results if r.mode == "fastagi" and r.calls == TARGET_CALLS]
    if not target:
        print(f"target: {TARGET_CALLS} concurrent was not run")
        return
    met = all(r.completed == r.calls and r.report.p99 * 1e3 < TARGET_P99_MS for r in target)
    print(
        f"target: {TARGET_CALLS} concurrent, 0 failures, p99 < {TARGET_P99_MS:g} ms: "
        f"{'MET' if met else 'NOT MET'}"
    )


async def run_all(sandbox: Sandbox, args: argparse.Namespace, worker: Connection) -> None:
    bench = Bench(sandbox, args, worker)
    settings = sandbox.settings
    fastagi = f"agi://{settings.agi.host}:{settings.agi.port}"
    baseline: tuple[str, Path] | None = None
    if args.baseline:
        await asyncio.to_thread(ensure_python, sandbox)
        baseline = install_baseline(
            sandbox.hotline, settings.inbound.agi_route, args.think, not args.no_greeting
        )
    await bench.ami.connect()
    results: list[RunResult] = []
    try:
        for calls in args.calls:
            modes = ["fastagi", "baseline"] if baseline else ["fastagi"]
            for mode in modes:
                results_file = baseline[1] if baseline and mode == "baseline" else None
                await bench.set_agi(baseline[0] if baseline and results_file else fastagi)
                print(f"{mode}: {calls} calls ...", flush=True)
                result = await bench.run(calls, mode, results_file)
                print(
                    f"  originated in {result.spread:.2f} s, {result.completed}/{calls} "
                    f"completed, wall {result.wall:.1f} s",
                    flush=True,
                )
                results.append(result)
                await asyncio.sleep(args.settle)
    finally:
        await bench.ami.close()
    print()
    print(
        f"{COMMANDS_PER_FLOW} AGI commands per flow, {args.think:g} s think time between "
        f"commands, calls originated over {args.spread:g} s, answer on ring 1, command 1 "
        f"{'GET VARIABLE' if args.no_greeting else 'the greeting (not in p50/p99)'}, "
        f"service process nice {args.nice}, hotline Asterisk open-file limit "
        f"{open_files_limit(sandbox.hotline.pid())}"
    )
    print_table(results)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--think", type=float, default=0.2, help="s between AGI commands")
    parser.add_argument("--spread", type=float, default=1.0, help="s to originate all calls")
    parser.add_argument("--timeout", type=float, default=90.0, help="s per run at most")
    parser.add_argument("--settle", type=float, default=3.0, help="s of rest between runs")
    parser.add_argument(
        "--no-greeting", action="store_true", help="command 1 is GET VARIABLE, not the greeting"
    )
    parser.add_argument("--nice", type=int, default=0, help="nice value of the service process")
    parser.add_argument("--baseline", action="store_true", help="also run pyst2 classic AGI")
    parser.add_argument("--keep", action="store_true", help="leave the instances running")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s"
    )
    for name in [key for key in os.environ if key.startswith("HOTLINE_")]:
        del os.environ[name]  # the bench's own settings, not the developer's overrides
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    settings = bench_settings(work)
    sandbox = Sandbox(settings)
    sandbox.install()
    if not (sandbox.sound_dirs()[settings.prompts.language] / "hotline" / "welcome.wav").exists():
        sandbox.build_prompts()  # shared by every instance: built only when missing
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    worker = context.Process(
        target=agi_worker,
        args=(theirs, settings.agi.port, settings.inbound.agi_route,
              (args.think, not args.no_greeting), args.nice,
              str(work / "agi-worker.log")),
        daemon=True,
    )  # fmt: skip
    worker.start()
    try:
        if not ours.poll(30) or ours.recv() != "ready":
            raise HotlineError("the FastAGI worker did not start")
        for instance in sandbox.instances():
            with contextlib.suppress(FileNotFoundError):
                instance.log_file.unlink()  # the bench instance's own log; verbose(3) grows
        sandbox.start()
        asyncio.run(run_all(sandbox, args, ours))
    finally:
        with contextlib.suppress(OSError, ValueError):
            ours.send("stop")
        worker.join(10)
        if not args.keep:
            sandbox.stop()
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
