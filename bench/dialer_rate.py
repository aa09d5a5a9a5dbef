"""Dialer throughput: achieved CPS, concurrency and latency against a bare panoramisk loop.

Per profile (target CPS, concurrency), default (10, 100), (20, 100), (50, 300): the carrier
simulator's load customers (``1390009xxxx``) answer at once and hang up after
``concurrency / cps`` seconds, so the calls in flight climb to the target concurrency.

1. **dialer**: ``hotline serve`` runs as a child process (its CPU is its own) with a
   campaign of ``cps * --seconds`` contacts at that CPS and max concurrency, answered calls
   parked in ``dialer-silent``.
2. **bare**: a child process with a plain panoramisk ``Manager`` sends the same Originates
   (same context, ``ChannelId``) paced by ``asyncio.sleep``, with a semaphore for the
   concurrency: the least any dialer could do.

Measured at the carrier (the INVITEs that reached it, so both are judged alike): achieved
CPS over the run and its deviation from the target, the worst 1-second window, peak calls
in flight; originate-to-answer latency p50/p95 (dialer: attempt committed → answered;
bare: Originate written → OriginateResponse); CPU seconds of the dialing process next to
the hotline Asterisk's and the carrier's; the dialer/bare CPS ratio.

Then scheduler picks per second on PostgreSQL: a campaign of ``--contacts`` (1,000,000)
contacts, claimed (``SELECT … FOR UPDATE SKIP LOCKED`` + attempt rows, committed) for
``--pick-seconds`` by one and by two concurrent claimers, at several batch sizes.

The service's database is a fresh PostgreSQL database (``--sqlite`` for a SQLite file:
on this 2-core machine its fsync'd commits, shared with the call-record writer, are what
caps the rate first). Own sandbox instance ``bench-dialer`` (free ports, RTP
52000-53999), stopped at the end. As root::

    .venv/bin/python bench/dialer_rate.py [--profiles 10:100 20:100 50:300] [--seconds 20]
        [--contacts 1000000] [--nice -10] [--sqlite] [--skip-rate] [--skip-picks]

Targets (issue 5): 50 CPS ±5 %, 300 concurrent, ≥ 0.9× the bare loop, ≥ 1,000 picks/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.pg import fresh_database  # noqa: E402
from hotline.ami import AmiClient, AmiEvent  # noqa: E402
from hotline.config import Settings, secret_fields  # noqa: E402
from hotline.sandbox import Sandbox  # noqa: E402

LOAD_PREFIX = "1390009"
NICE = 0  # --nice: scheduling priority of the dialing process (service, or the bare loop)
TICK = os.sysconf("SC_CLK_TCK")


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def bench_settings(folder: Path, db_url: str) -> Settings:
    all_day = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    return Settings(
        var_dir=folder,
        log_level="WARNING",
        asterisk={
            "ami_port": free_port(),
            "ami_secret": secrets.token_urlsafe(16),
            "sip_port": free_port(socket.SOCK_DGRAM),
            "rtp_start": 52000,
            "rtp_end": 52999,
        },
        carrier={
            "ami_port": free_port(),
            "ami_secret": secrets.token_urlsafe(16),
            "sip_port": free_port(socket.SOCK_DGRAM, "127.0.0.2"),
            "rtp_start": 53000,
            "rtp_end": 53999,
        },
        agi={"port": free_port()},
        web={"port": free_port(), "token": secrets.token_urlsafe(16)},
        database={"url": db_url, "spool_dir": folder / "spool"},
        sandbox={"instance": "bench-dialer"},
        dialer={
            "max_concurrent": 1000,
            "tick_seconds": 0.02,
            "trunks": {"carrier": {"cps": 200, "max_concurrent": 1000}},
            "windows": all_day,
        },
    )


def cap(concurrency: int) -> int:
    """The concurrency limit of a run: 10 % above the target, so that the calls in flight
    reach the target (customers stay target/cps seconds) without the limit pacing the run."""
    return round(concurrency * 1.1)


def cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class Carrier:
    """The carrier's view: INVITE arrival times and calls in flight."""

    arrivals: list[float] = field(default_factory=list)
    live: int = 0
    peak: int = 0
    mine: set[str] = field(default_factory=set)

    def on_event(self, event: AmiEvent) -> None:
        if event.name == "Newchannel" and event.get("Exten", "").startswith(LOAD_PREFIX):
            self.arrivals.append(time.monotonic())
            self.mine.add(event.get("Uniqueid", ""))
            self.live += 1
            self.peak = max(self.peak, self.live)
        elif event.name == "Hangup" and event.get("Uniqueid", "") in self.mine:
            self.mine.discard(event.get("Uniqueid", ""))
            self.live -= 1


@dataclass
class Row:
    kind: str
    cps: float
    concurrency: int
    calls: int = 0
    achieved: float = 0.0
    worst_second: int = 0
    peak: int = 0
    p50: float = 0.0
    p95: float = 0.0
    cpu: float = 0.0
    cpu_hotline: float = 0.0
    cpu_carrier: float = 0.0
    failed: int = 0

    def line(self) -> str:
        deviation = (self.achieved - self.cps) / self.cps * 100
        return (
            f"{self.kind:6} {self.cps:5g} {self.concurrency:5d} {self.calls:6d} "
            f"{self.achieved:8.2f} {deviation:+6.1f}% {self.worst_second:6d} {self.peak:5d} "
            f"{self.p50 * 1000:7.0f} {self.p95 * 1000:7.0f} {self.cpu:7.1f} "
            f"{self.cpu_hotline:7.1f} {self.cpu_carrier:7.1f} {self.failed:5d}"
        )


HEADER = (
    "kind     cps  conc  calls achieved    dev  worst  peak  p50 ms  p95 ms  cpu s "
    "ast-hot ast-car  fail"
)


def rate_of(arrivals: list[float]) -> tuple[float, int]:
    """Achieved CPS over the whole run, and the fewest INVITEs in a full 1 s window."""
    if len(arrivals) < 2:
        return 0.0, 0
    arrivals = sorted(arrivals)
    span = arrivals[-1] - arrivals[0]
    achieved = (len(arrivals) - 1) / span
    worst = (
        min(
            sum(1 for t in arrivals if start <= t < start + 1)
            for start in [arrivals[0] + i for i in range(int(span))]
        )
        if span >= 1
        else len(arrivals)
    )
    return achieved, worst


def percentile(values: Iterable[float], q: float) -> float:
    data = sorted(values)
    if not data:
        return 0.0
    return data[min(len(data) - 1, int(q * len(data)))]


# the bare loop, in a child process of its own


async def bare_loop(conf: dict[str, Any]) -> dict[str, Any]:
    from panoramisk import Manager

    manager = Manager(
        host=conf["host"], port=conf["port"], username=conf["user"], secret=conf["secret"]
    )
    await manager.connect()
    limit = asyncio.Semaphore(cap(conf["concurrency"]))
    hangups: dict[str, asyncio.Event] = {}
    manager.register_event(
        "Hangup", lambda _m, msg: hangups[msg.Uniqueid].set() if msg.Uniqueid in hangups else None
    )
    latencies: list[float] = []
    failed = 0

    async def one(index: int) -> None:
        nonlocal failed
        code = f"bare-{index}-{secrets.token_hex(3)}"
        hangups[code] = asyncio.Event()
        sent = time.monotonic()
        try:
            answer = await manager.send_action(
                {
                    "Action": "Originate",
                    "Channel": f"PJSIP/{LOAD_PREFIX}{index % 10000:04d}@carrier",
                    "Context": "dialer-outbound",
                    "Exten": "s",
                    "Priority": "1",
                    "Timeout": "30000",
                    "Async": "true",
                    "ChannelId": code,
                    "Variable": "DIALER_CONTEXT=dialer-silent",
                }
            )
            last = answer[-1] if isinstance(answer, list) else answer
            if last.get("Response") == "Success":
                latencies.append(time.monotonic() - sent)
            else:
                failed += 1
                hangups[code].set()
            await asyncio.wait_for(hangups[code].wait(), 120)
        except Exception:
            failed += 1
        finally:
            hangups.pop(code, None)
            limit.release()

    start = time.monotonic()
    tasks = []
    for index in range(conf["calls"]):
        await limit.acquire()
        delay = start + index / conf["cps"] - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index)))
    await asyncio.gather(*tasks)
    manager.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"latencies": latencies, "failed": failed, "cpu": usage.ru_utime + usage.ru_stime}


# the dialer as `hotline serve`


def write_config(settings: Settings, folder: Path) -> tuple[Path, Path]:
    values = settings.model_dump(mode="json")
    hidden: dict[str, Any] = {}
    for path in secret_fields(Settings):
        *sections, key = path.split(".")
        plain: Any = settings
        shown, kept = values, hidden
        for part in sections:
            plain, shown, kept = getattr(plain, part), shown[part], kept.setdefault(part, {})
        del shown[key]
        kept[key] = getattr(plain, key).get_secret_value()
    config, secrets_file = folder / "bench.yaml", folder / "bench-secrets.yaml"
    config.write_text(yaml.safe_dump(values, allow_unicode=True))
    secrets_file.write_text(yaml.safe_dump(hidden))
    return config, secrets_file


async def dialer_run(
    settings: Settings, folder: Path, box: Sandbox, cps: float, conc: int, calls: int
) -> Row:
    from dialer.contacts import ContactIn
    from dialer.operations import Operations
    from dialer.repository import DialerRepository
    from hotline.db import create_engine, session_factory, upgrade
    from hotline.record_fields import utc_now

    await upgrade(settings.database.url)
    engine = create_engine(settings.database.url)
    ops = Operations(settings.dialer, DialerRepository(session_factory(engine)))
    name = f"rate-{cps:g}-{conc}-{secrets.token_hex(2)}"
    made = await ops.create(
        {
            "name": name,
            "cps": cps,
            "max_concurrent": cap(conc),
            "context": "dialer-silent",
            "skip_holidays": False,
            "max_attempts": 1,
            "retry": {},
        }
    )
    numbers = [f"{LOAD_PREFIX}{i % 10000:04d}" for i in range(calls)]
    await ops.repo.add_contacts(
        made.id, [ContactIn(i, n) for i, n in enumerate(numbers)], utc_now()
    )
    config, secrets_file = write_config(settings, folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_SECRETS_FILE"] = str(secrets_file)
    log = (folder / "service.log").open("ab")
    proc = subprocess.Popen(  # noqa: ASYNC220  (started once, before the measurement)
        [str(Path(sys.prefix) / "bin" / "hotline"), "--config", str(config), "serve"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
    )
    if NICE:
        os.setpriority(os.PRIO_PROCESS, proc.pid, NICE)
    carrier, row = await watch_carrier(settings), Row("dialer", cps, conc)
    try:
        await asyncio.sleep(3)  # logged in and reconciled
        before = [
            cpu_seconds(proc.pid),
            cpu_seconds(box.hotline.pid()),
            cpu_seconds(box.carrier.pid()),
        ]
        await ops.transition(str(made.id), "start")
        await wait_done(ops, made.id, calls, within=calls / cps + conc / cps + 60)
        after = [
            cpu_seconds(proc.pid),
            cpu_seconds(box.hotline.pid()),
            cpu_seconds(box.carrier.pid()),
        ]
        attempts = await ops.repo.attempts_of(made.id)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        await carrier[0].close()
        await engine.dispose()
    view = carrier[1]
    row.calls = len(view.arrivals)
    row.achieved, row.worst_second = rate_of(view.arrivals)
    row.peak = view.peak
    waits = [
        (a["answered_at"] - a["created_at"]).total_seconds() for a in attempts if a["answered_at"]
    ]
    row.p50, row.p95 = percentile(waits, 0.5), percentile(waits, 0.95)
    row.cpu, row.cpu_hotline, row.cpu_carrier = (b - a for a, b in zip(before, after, strict=True))
    row.failed = calls - sum(a["disposition"] == "answered_human" for a in attempts)
    return row


async def wait_done(ops: Any, campaign_id: int, calls: int, within: float) -> None:
    """Until every contact is finished; past ``within`` the row shows the shortfall."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        progress = await ops.repo.progress(campaign_id)
        if progress["finished"] >= calls:
            return
        await asyncio.sleep(0.5)
    print(f"  (campaign {campaign_id} not finished after {within:.0f} s)", flush=True)


async def watch_carrier(settings: Settings) -> tuple[AmiClient, Carrier]:
    from hotline.testcall import carrier_client

    view = Carrier()
    client = carrier_client(settings)
    client.subscribe(view.on_event, ["Newchannel", "Hangup"])
    await client.connect()
    return client, view


async def bare_run(settings: Settings, box: Sandbox, cps: float, conc: int, calls: int) -> Row:
    conf = {
        "host": settings.asterisk.ami_host,
        "port": settings.asterisk.ami_port,
        "user": settings.asterisk.ami_user,
        "secret": settings.asterisk.ami_secret.get_secret_value(),
        "cps": cps,
        "concurrency": conc,
        "calls": calls,
    }
    client, view = await watch_carrier(settings)
    before = [cpu_seconds(box.hotline.pid()), cpu_seconds(box.carrier.pid())]
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--bare", json.dumps(conf), stdout=subprocess.PIPE
    )
    if NICE:
        os.setpriority(os.PRIO_PROCESS, child.pid, NICE)
    out, _ = await child.communicate()
    after = [cpu_seconds(box.hotline.pid()), cpu_seconds(box.carrier.pid())]
    await client.close()
    result = json.loads(out.decode().strip().splitlines()[-1])
    row = Row("bare", cps, conc, calls=len(view.arrivals), peak=view.peak)
    row.achieved, row.worst_second = rate_of(view.arrivals)
    row.p50, row.p95 = percentile(result["latencies"], 0.5), percentile(result["latencies"], 0.95)
    row.cpu, row.failed = result["cpu"], result["failed"]
    row.cpu_hotline, row.cpu_carrier = (b - a for a, b in zip(before, after, strict=True))
    return row


# scheduler picks on PostgreSQL


async def picks(admin_url: str, contacts: int, seconds: float) -> list[str]:
    import asyncpg

    from dialer.numbers import NumberGuard
    from dialer.operations import Operations
    from dialer.repository import DialerRepository
    from dialer.scheduler import CampaignLoad, Scheduler
    from dialer.states import CampaignStatus
    from hotline.config_dialer import DialerSettings
    from hotline.db import create_engine, session_factory, upgrade
    from hotline.record_fields import utc_now

    name = f"hotline_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    url = f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    lines = []
    try:
        await upgrade(url)
        settings = DialerSettings(
            windows={
                d: [("00:00", "24:00")] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            }
        )
        engine = create_engine(url)
        repo = DialerRepository(session_factory(engine))
        draft = await Operations(settings, repo).create({"name": "million", "skip_holidays": False})
        await repo.set_status(draft.id, CampaignStatus.RUNNING, [draft.status])
        made = await repo.campaign(draft.id)
        assert made is not None
        started = time.monotonic()
        conn = await asyncpg.connect(f"{base}/{name}")
        now = utc_now()
        rows = (
            (made.id, f"139{i:08d}", "", "Asia/Shanghai", "{}", "pending", 0, now, None, i, now)
            for i in range(contacts)
        )
        await conn.copy_records_to_table(
            "dialer_contacts",
            records=rows,
            columns=[
                "campaign_id",
                "number",
                "name",
                "timezone",
                "data",
                "state",
                "attempts",
                "next_at",
                "last_disposition",
                "source_line",
                "updated_at",
            ],
        )
        await conn.execute("ANALYZE dialer_contacts")
        await conn.close()
        lines.append(f"{contacts:,} contacts loaded in {time.monotonic() - started:.1f} s")
        guard = NumberGuard(settings.allowed_patterns)
        scheduler = Scheduler(settings.trunks, 10**6)
        plans = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.0:
            scheduler.plan([CampaignLoad(made)], utc_now(), 0)
            plans += 1
        lines.append(f"scheduler.plan (pure): {plans / (time.monotonic() - t0):,.0f} plans/s")
        for batch, claimers in ((1, 1), (10, 1), (50, 1), (10, 2)):
            engines = [create_engine(url) for _ in range(claimers)]
            repos = [DialerRepository(session_factory(e)) for e in engines]
            counts = [0] * claimers

            async def claimer(
                repo: DialerRepository, size: int, until: float, tally: list[int], index: int
            ) -> None:
                while time.monotonic() < until:
                    got = await repo.claim(
                        made, size, made.callee_zones(), f"n{index}", utc_now(), guard
                    )
                    tally[index] += len(got)

            t0 = time.monotonic()
            await asyncio.gather(
                *(claimer(repos[i], batch, t0 + seconds, counts, i) for i in range(claimers))
            )
            elapsed = time.monotonic() - t0
            lines.append(
                f"claim batch {batch:3d} x {claimers} claimer(s): "
                f"{sum(counts) / elapsed:8,.0f} picks/s ({sum(counts):,} in {elapsed:.1f} s)"
            )
            for e in engines:
                await e.dispose()
        await engine.dispose()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return lines


async def main(args: argparse.Namespace) -> None:
    global NICE
    NICE = args.nice
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 16384)), hard))
    print(
        f"load average at start: {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs, "
        f"dialing process nice {NICE}"
    )
    if not args.skip_rate:
        folder = Path(tempfile.mkdtemp(prefix="bench-dialer-"))
        if args.sqlite:
            url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        else:
            url = await fresh_database(args.pg, "hotline_bench_rate")
        print(f"service database: {url.split('://')[0]}")
        settings = bench_settings(folder, url)
        box = Sandbox(settings)
        box.install()
        box.start()
        try:
            box.carrier.cli("database deltree customer/bench")
            print(HEADER)
            for profile in args.profiles:
                cps_text, conc_text = profile.split(":")
                cps, conc = float(cps_text), int(conc_text)
                calls = int(cps * args.seconds)
                box.carrier.cli(f"database put customer/bench stay {max(1, round(conc / cps))}")
                rows = [
                    await dialer_run(settings, folder, box, cps, conc, calls),
                    await bare_run(settings, box, cps, conc, calls),
                ]
                for row in rows:
                    print(row.line(), flush=True)
                ratio = rows[0].achieved / rows[1].achieved
                print(f"       dialer/bare achieved CPS ratio: {ratio:.3f}")
                await asyncio.sleep(2)
        finally:
            box.stop()
    if not args.skip_picks:
        for line in await picks(args.pg, args.contacts, args.pick_seconds):
            print(line, flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--bare":
        print(json.dumps(asyncio.run(bare_loop(json.loads(sys.argv[2])))))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", nargs="+", default=["10:100", "20:100", "50:300"])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of originating")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--pick-seconds", type=float, default=5.0)
    parser.add_argument(
        "--pg",
        default=os.environ.get("HOTLINE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--nice", type=int, default=0, help="e.g. -10 for both dialing processes")
    parser.add_argument("--skip-rate", action="store_true")
    parser.add_argument("--sqlite", action="store_true", help="service on SQLite, not PostgreSQL")
    parser.add_argument("--skip-picks", action="store_true")
    asyncio.run(main(parser.parse_args()))
