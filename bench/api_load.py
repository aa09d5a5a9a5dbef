"""Admin API load: the calls list and reports over 1,000,000 call records on PostgreSQL,
and the live stream fanned out to 100 dashboards during a 100-call load.

1. **Data.** A PostgreSQL database of its own (``--database``, default ``hotline_bench``,
   migrated with the project's Alembic migrations) gets ``--records`` call records
   (1,000,000) spread over 90 days, more in office hours than at night and on weekdays
   than at weekends (Asia/Shanghai): inbound (3/4) through six queues and 60 agents with
   realistic dispositions, waits, talk times, scores, holds (``hold_segments``), notes;
   outbound survey, apology and callback calls (1/4). Loaded with COPY, the secondary
   indexes dropped during the load and re-created exactly as they were. ``--keep``
   reuses a database a previous run loaded with the same ``--records`` and ``--seed``
   (migrations are applied to it first, so new indexes take effect).
2. **API.** The real service (``HotlineService``, its AMI pointed at a closed port) runs in
   a process of its own on that database; the bench drives its HTTP API with an aiohttp
   client at each ``--concurrency`` (default 1 and 8), ``--seconds`` per request kind:
   the calls list (first page; queue + one day; agent + 7 days; pages 2-6 following the
   cursor from the first page; one page at a random depth, i.e. the cursor of a random
   call; the number filter) and reports (service level over one day and over 30 days,
   scores and holds over 30 days). Latency is client-side, from the request written to
   the body read. Printed per kind: requests, requests/s, p50/p99/max, errors, CPU ms per
   request of the service process and of PostgreSQL (all of it: the reaped backends of
   connections opened and closed meanwhile count too), and the PostgreSQL connections
   the service opened meanwhile. Then, per kind, the SQL the project runs for one of
   those requests (captured from SQLAlchemy in-process, the same code) under
   ``EXPLAIN (ANALYZE, BUFFERS)``: a summary line for each, the whole plan for kinds whose
   execution takes a fifth of their target or more or that scan a table sequentially
   (``--explain``: for all).
3. **Fan-out alone.** The same service, no Asterisk: ``--dashboards`` SSE clients (in a
   process of their own) on ``/api/v1/live`` while the service publishes synthetic call
   events into its own hub at each of ``--rates`` (50, 100, 200, 400 a second) for
   ``--fanout-seconds`` (5): lag p50/p99/max and the CPU of the service and of the
   dashboards: what the hub can carry when it has the CPU.
4. **Live.** Unless ``pytest`` is running (an integration suite needs the CPUs), the
   service runs again, with Asterisk (sandbox instance ``bench-api``, free ports) and the
   same database, as ``inbound_load.py`` runs it (``inbound_worker.service_worker``):
   ``--dashboards`` SSE clients (100) connect to ``/api/v1/live``, then ``--calls`` (100)
   real SIP calls go menu → queue → agent → score (``inbound_load.drive``, ``--talk``,
   ``--spread``). Per event, lag = the client's clock when the ``data`` line arrived
   minus the event's ``at`` (the hub's clock when it published it; same machine). Also,
   per call, end to end from Asterisk: the first ``call`` event of a linkedid minus the
   ``Timestamp`` of its first ``Newchannel``, and the ``final`` one minus the last
   ``Hangup`` (the bench's own AMI connection to the hotline). Printed: p50/p99/max of
   each (all events and per kind), events per client, whether every client got every
   event, and per 2 s of the run the events published, their worst lag, the CPU of the
   service, the dashboards, both Asterisks, PostgreSQL and the whole machine, and the
   share of the time the service's event loop was runnable but waiting for a CPU
   (``/proc/PID/schedstat``).
   ``--nice``/``--nice-dashboards`` renice those two processes; ``--dump FILE`` writes
   every event received (CSV); ``--calls 0`` leaves the calls out.

As root (the live part starts Asterisk)::

    .venv/bin/python bench/api_load.py [--records 1000000] [--keep] [--seconds 10]
        [--concurrency 1 8] [--dashboards 100] [--calls 100] [--skip-api] [--skip-live]

Other options: ``--database``, ``--pg`` (the admin connection, default
``$HOTLINE_TEST_PG_URL`` or ``postgresql://postgres@127.0.0.1:5432/test``), ``--seed``.

Targets (issue "Admin console"): list p99 < 50 ms, report p99 < 500 ms (judged at the
largest ``--concurrency``), no stream lag above 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import logging
import multiprocessing
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script

from bench.dialer_rate import cpu_seconds  # noqa: E402
from bench.inbound_load import bench_settings, drive  # noqa: E402
from bench.inbound_load import percentile_ms as pct  # noqa: E402
from bench.inbound_worker import service_worker  # noqa: E402
from hotline.ami import AmiClient, AmiEvent  # noqa: E402
from hotline.call_reports import CallReports  # noqa: E402
from hotline.call_search import encode_cursor, parse_call_query  # noqa: E402
from hotline.config import Settings  # noqa: E402
from hotline.db import CallRecordRepository, create_engine, session_factory, upgrade  # noqa: E402
from hotline.live import LiveHub  # noqa: E402
from hotline.sandbox import Sandbox  # noqa: E402
from hotline.service import HotlineService  # noqa: E402
from hotline.web.report_api import report_span  # noqa: E402
from ivr.hold.report import hold_report  # noqa: E402

TARGET_LIST_P99_MS, TARGET_REPORT_P99_MS, TARGET_LAG_S = 50.0, 500.0, 1.0
ZONE = ZoneInfo("Asia/Shanghai")
DAYS = 90
HOTLINE_NUMBER = "95007"
CUSTOMERS = 150_000  # distinct customer numbers
TICK = os.sysconf("SC_CLK_TCK")

# queue → (share of queued calls, menu path, category); 10 agents each
QUEUES = {
    "reception": (0.30, "0", "other"),
    "repair": (0.30, "2", "repair"),
    "billing": (0.20, "3>1", "billing"),
    "appointments": (0.10, "4", "appointment"),
    "complaints": (0.07, "5", "complaint"),
    "emergency": (0.03, "1", "emergency"),
}
QUEUE_NAMES = list(QUEUES)
QUEUE_WEIGHTS = [share for share, _, _ in QUEUES.values()]
AGENTS = {q: [str(1001 + 10 * i + k) for k in range(10)] for i, q in enumerate(QUEUE_NAMES)}
ALL_AGENTS = [a for agents in AGENTS.values() for a in agents]
INBOUND = {  # disposition → share of inbound calls
    "answered": 0.72,
    "abandoned_queue": 0.08,
    "abandoned_ivr": 0.06,
    "after_hours": 0.04,
    "abandoned": 0.03,
    "no_input": 0.02,
    "callback_requested": 0.02,
    "blocked": 0.005,
    "fallback": 0.003,
    "failed": 0.002,
    "lost": 0.001,
}
OUTBOUND = {"answered": 0.64, "abandoned": 0.22, "failed": 0.14}
FLOWS = {"survey": 0.5, "callback": 0.35, "apology": 0.15}
SCORES = [1, 1, 1, 1, 2, 3, 6, 12, 20, 53]  # weights of 1..10
# calls per local hour of the day, relative (office hours high, night low)
HOURS = [0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 1.6, 2.0, 2.0, 1.8]
HOURS += [1.0, 1.2, 1.8, 1.9, 1.8, 1.5, 1.0, 0.9, 0.8, 0.6, 0.3, 0.2]
REASONS = ["燃气费查询", "故障报修", "预约安装", "投诉", "咨询", "过户", "停气通知"]
NAMES = ["王先生", "李女士", "张先生", "刘女士", "陈先生", "杨女士", ""]
CAUSES = {16: "Normal Clearing", 17: "User busy", 19: "No answer", 34: "Circuit/channel congestion"}
RECORD_COLUMNS = [
    *("id", "linkedid", "direction", "started_at", "caller", "caller_name", "called", "did"),
    *("channel", "answered_at", "ended_at", "disposition", "hangup_cause", "hangup_cause_text"),
    *("sip_call_id", "flow", "end_estimated", "last_seq", "menu_path", "category", "queue"),
    *("wait_seconds", "rings_before_answer", "agent", "talk_seconds", "score", "score_status"),
    *("hold_count", "hold_seconds", "reason", "description", "created_at", "updated_at"),
]
HOLD_COLUMNS = [
    *("call_id", "linkedid", "number", "started_at", "ended_at", "seconds", "agent"),
    *("started_by", "trigger", "outcome"),
]


# ---------------------------------------------------------------- the data


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _customer(rng: random.Random) -> str:
    return f"13{rng.randrange(CUSTOMERS) * 6151 % 10**9:09d}"


class Generator:
    """Call records (and their holds) as COPY rows, in start-time order."""

    def __init__(self, count: int, seed: int, end: float) -> None:
        self.rng = random.Random(seed)
        self.count = count
        self.start = (end - DAYS * 86400) // 3600 * 3600
        self.holds: list[tuple[Any, ...]] = []
        self.hold_count = 0

    def _starts(self) -> list[float]:
        hours = DAYS * 24 - 1  # the last hour's calls would still be going on
        weights = []
        for h in range(hours):
            local = datetime.fromtimestamp(self.start + h * 3600, ZONE)
            weights.append(HOURS[local.hour] * (0.6 if local.weekday() >= 5 else 1.0))
        buckets = self.rng.choices(range(hours), weights, k=self.count)
        return sorted(self.start + (b + self.rng.random()) * 3600 for b in buckets)

    def chunks(self, size: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
        chunk: list[tuple[Any, ...]] = []
        for row_id, ts in enumerate(self._starts(), start=1):
            chunk.append(self._row(row_id, ts))
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _row(self, row_id: int, ts: float) -> tuple[Any, ...]:
        rng = self.rng
        r: dict[str, Any] = {
            "caller_name": "",
            "did": "",
            "answered_at": None,
            "hangup_cause": 16,
            "menu_path": "",
            "category": "",
            "queue": "",
            "wait": None,
            "rings": None,
            "agent": "",
            "talk": None,
            "score": None,
            "score_status": None,
            "reason": "",
            "description": "",
            "end_estimated": False,
        }
        connect = 0.0  # when an agent took the call
        if rng.random() < 0.75:
            direction, flow = "inbound", "hotline"
            caller, called, r["did"] = _customer(rng), HOTLINE_NUMBER, HOTLINE_NUMBER
            r["caller_name"] = rng.choice(NAMES) if rng.random() < 0.3 else ""
            disposition = rng.choices(list(INBOUND), list(INBOUND.values()))[0]
            rings = 2 if rng.random() < 0.9 else 3
            answered = ts + 5 * (rings - 1) + rng.uniform(0.3, 1.0)
            ivr = rng.uniform(8, 30)
            if disposition in ("abandoned", "failed"):
                ended = ts + (rng.uniform(1, 9) if disposition == "abandoned" else 0.5)
                r["hangup_cause"] = 16 if disposition == "abandoned" else 34
            else:
                r["answered_at"], r["rings"] = answered, rings
                ended = answered + rng.uniform(10, 25)
            if disposition in ("answered", "abandoned_queue", "callback_requested", "fallback"):
                queue = (
                    "reception"
                    if disposition == "fallback"
                    else rng.choices(QUEUE_NAMES, QUEUE_WEIGHTS)[0]
                )
                _, r["menu_path"], r["category"] = QUEUES[queue]
                r["queue"] = queue
                if disposition == "abandoned_queue":
                    r["wait"] = round(rng.expovariate(1 / 70), 1)
                    ended = answered + ivr + r["wait"]
                elif disposition == "callback_requested":
                    r["wait"] = round(rng.expovariate(1 / 40), 1)
                    ended = answered + ivr + r["wait"] + 15
                else:
                    r["wait"] = round(rng.expovariate(1 / 18), 1)
                    connect = answered + ivr + r["wait"]
                    r["agent"] = rng.choice(AGENTS[queue])
                    r["talk"] = round(rng.lognormvariate(5.0, 0.6), 1)
                    if rng.random() < 0.65:
                        r["score"] = rng.choices(range(1, 11), SCORES)[0]
                        r["score_status"] = "scored"
                    else:
                        r["score_status"] = "not_scored"
                    ended = connect + r["talk"] + (8 if r["score"] else 3)
                    if rng.random() < 0.2:
                        r["reason"] = rng.choice(REASONS)
                        r["description"] = f"客户来电:{r['reason']},已处理。"
            elif disposition == "abandoned_ivr":
                r["menu_path"] = rng.choice(["", "2", "3", "4>"])
            elif disposition == "lost":
                ended, r["end_estimated"] = answered + 100, True
        else:
            direction = "outbound"
            flow = rng.choices(list(FLOWS), list(FLOWS.values()))[0]
            caller, called = HOTLINE_NUMBER, _customer(rng)
            disposition = rng.choices(list(OUTBOUND), list(OUTBOUND.values()))[0]
            if disposition == "answered":
                r["answered_at"] = ts + rng.uniform(5, 25)
                if flow == "callback" or (flow == "apology" and rng.random() < 0.5):
                    queue = rng.choices(QUEUE_NAMES, QUEUE_WEIGHTS)[0]
                    r["queue"] = queue if flow == "callback" else ""
                    r["agent"] = rng.choice(AGENTS[queue])
                    connect = r["answered_at"] + rng.uniform(1, 4)
                    r["talk"] = round(rng.lognormvariate(4.8, 0.6), 1)
                    ended = connect + r["talk"]
                else:
                    ended = r["answered_at"] + rng.uniform(30, 150)
            else:
                r["hangup_cause"] = 19 if disposition == "abandoned" else rng.choice((17, 34))
                ended = ts + (30 if disposition == "abandoned" else rng.uniform(1, 5))
        linkedid = f"{int(ts)}.{row_id}"
        holds, holds_seconds = 0, 0.0
        if connect and rng.random() < 0.12:
            holds = 1 if rng.random() < 0.8 else 2
            for number in range(1, holds + 1):
                seconds = round(min(rng.expovariate(1 / 35), 300.0), 1)
                begin = connect + r["talk"] * number / (holds + 2)
                outcome = rng.choices(
                    ("resumed", "auto_resumed", "requeued", "caller_hung_up"), (90, 5, 3, 2)
                )[0]
                trigger = rng.choice(("feature_code", "api", "phone"))
                begun, over = _time(begin), _time(begin + seconds)
                agent = r["agent"]
                self.holds.append(
                    (row_id, linkedid, number, begun, over, seconds, agent, agent, trigger, outcome)
                )
                holds_seconds += seconds
            ended += holds_seconds
        answered_at = None if r["answered_at"] is None else _time(r["answered_at"])
        end = _time(ended)
        return (
            row_id,
            linkedid,
            direction,
            _time(ts),
            caller,
            r["caller_name"],
            called,
            r["did"],
            f"PJSIP/carrier-{row_id:08x}",
            answered_at,
            end,
            disposition,
            r["hangup_cause"],
            CAUSES[r["hangup_cause"]],
            f"{row_id:x}-{int(ts):x}@127.0.0.2",
            flow,
            r["end_estimated"],
            rng.randrange(8, 40),
            r["menu_path"],
            r["category"],
            r["queue"],
            r["wait"],
            r["rings"],
            r["agent"],
            r["talk"],
            r["score"],
            r["score_status"],
            holds,
            round(holds_seconds, 1),
            r["reason"],
            r["description"],
            end,
            end,
        )


def _urls(admin_url: str, name: str) -> tuple[str, str]:
    """The bench database's plain (asyncpg) and SQLAlchemy URLs."""
    plain = f"{admin_url.rsplit('/', 1)[0]}/{name}"
    return plain, plain.replace("postgresql://", "postgresql+asyncpg://", 1)


async def prepare_database(args: argparse.Namespace) -> str:
    """The bench database, loaded (or kept); returns its SQLAlchemy URL."""
    plain, url = _urls(args.pg, args.database)
    mark = f"hotline bench: {args.records} records, seed {args.seed}"
    admin = await asyncpg.connect(args.pg)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", args.database)
        if exists and args.keep:
            conn = await asyncpg.connect(plain)
            try:
                found = await conn.fetchval(
                    "SELECT obj_description('call_records'::regclass, 'pg_class')"
                )
            except asyncpg.PostgresError:
                found = None
            finally:
                await conn.close()
            if found and found.startswith(mark):
                await upgrade(url)
                print(f"database {args.database}: kept ({found})", flush=True)
                return url
            print(f"database {args.database}: not a bench load of this size; reloading")
        await admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{args.database}"')
    finally:
        await admin.close()
    await upgrade(url)
    started = time.monotonic()
    conn = await asyncpg.connect(plain)
    try:
        indexes = await _drop_indexes(conn, ("call_records", "hold_segments"))
        made = Generator(args.records, args.seed, time.time() - 300)
        for chunk in made.chunks():
            await conn.copy_records_to_table("call_records", records=chunk, columns=RECORD_COLUMNS)
        await conn.copy_records_to_table("hold_segments", records=made.holds, columns=HOLD_COLUMNS)
        loaded = time.monotonic() - started
        for statement in indexes:
            await conn.execute(statement)
        for table in ("call_records", "hold_segments"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 1) FROM {table}))"
            )
            await conn.execute(f"VACUUM ANALYZE {table}")
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        await conn.execute(f"COMMENT ON TABLE call_records IS '{mark}, loaded {stamp}'")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_total_relation_size('call_records'))")
    finally:
        await conn.close()
    print(
        f"database {args.database}: {args.records:,} call records and {len(made.holds):,} holds"
        f" loaded in {loaded:.1f} s, indexed and analysed in"
        f" {time.monotonic() - started - loaded:.1f} s; call_records {size}",
        flush=True,
    )
    return url


async def _drop_indexes(conn: Any, tables: tuple[str, ...]) -> list[str]:
    """Drop the secondary indexes (not those of constraints); returns their definitions."""
    rows = await conn.fetch(
        """SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
           FROM pg_index i
           WHERE i.indrelid::regclass::text = ANY($1::text[])
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        list(tables),
    )
    for row in rows:
        await conn.execute(f'DROP INDEX "{row["name"]}"')
    return [row["def"] for row in rows]


@dataclass
class Span:
    """What the requests pick from: the loaded days (local midnights), numbers, the end."""

    days: list[datetime]
    numbers: list[str]  # callers of sampled inbound calls
    marks: list[str]  # cursors of sampled calls: a page at any depth
    end: datetime

    @classmethod
    async def read(cls, url: str) -> Span:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            first, last = await conn.fetchrow(
                "SELECT min(started_at), max(started_at) FROM call_records"
            )
            sample = await conn.fetch(
                "SELECT id, started_at, caller, direction FROM call_records"
                " TABLESAMPLE SYSTEM (1) ORDER BY random() LIMIT 5000"
            )
        finally:
            await conn.close()
        day = first.astimezone(ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
        days = []
        while (day := day + timedelta(days=1)) + timedelta(days=1) <= last:
            days.append(day)
        numbers = [r["caller"] for r in sample if r["direction"] == "inbound"]
        marks = [encode_cursor(r["started_at"], r["id"]) for r in sample]
        return cls(days, numbers, marks, last)


# ---------------------------------------------------------------- the API


Query = Callable[[random.Random, Span], dict[str, str]]


def _day(rng: random.Random, span: Span, days: int = 1) -> dict[str, str]:
    since = rng.choice(span.days[: len(span.days) - days + 1])
    return {"since": since.isoformat(), "until": (since + timedelta(days=days)).isoformat()}


@dataclass
class Kind:
    name: str
    group: str  # list | report
    path: str
    query: Query
    pages: int = 0  # a cursor walk: the first page untimed, then this many timed
    last: dict[str, str] = field(default_factory=dict)  # a request's query, for EXPLAIN


def _nothing(rng: random.Random, span: Span) -> dict[str, str]:
    return {}


def _queue_day(rng: random.Random, span: Span) -> dict[str, str]:
    return {"queue": rng.choice(QUEUE_NAMES)} | _day(rng, span)


def _agent_week(rng: random.Random, span: Span) -> dict[str, str]:
    return {"agent": rng.choice(ALL_AGENTS)} | _day(rng, span, 7)


def _any_depth(rng: random.Random, span: Span) -> dict[str, str]:
    return {"cursor": rng.choice(span.marks)}


def _number(rng: random.Random, span: Span) -> dict[str, str]:
    return {"number": rng.choice(span.numbers)}


def _month(rng: random.Random, span: Span) -> dict[str, str]:
    return _day(rng, span, 30)


def kinds() -> list[Kind]:
    calls, reports = "/api/v1/calls", "/api/v1/reports"
    return [
        Kind("calls: first page", "list", calls, _nothing),
        Kind("calls: queue + 1 day", "list", calls, _queue_day),
        Kind("calls: agent + 7 days", "list", calls, _agent_week),
        Kind("calls: cursor pages 2-6", "list", calls, _nothing, pages=5),
        Kind("calls: cursor, any depth", "list", calls, _any_depth),
        Kind("calls: number", "list", calls, _number),
        Kind("report service-level 1 day", "report", f"{reports}/service-level", _day),
        Kind("report service-level 30 d", "report", f"{reports}/service-level", _month),
        Kind("report scores 30 days", "report", f"{reports}/scores", _month),
        Kind("report holds 30 days", "report", f"{reports}/holds", _month),
    ]


def _stop_worker(pipe: Any, worker: Any, folder: Path) -> None:
    """Ask the service process to stop, make sure it did, remove its folder."""
    pipe.send("stop")
    worker.join(30)
    if worker.is_alive():
        worker.kill()
    shutil.rmtree(folder, ignore_errors=True)


class PostgresMeter:
    """CPU seconds of all of PostgreSQL (its processes, plus the exited ones the postmaster
    reaped: a backend the service's pool opens and closes in between counts too; so does
    anyone else's PostgreSQL work meanwhile), and connections opened to the bench database."""

    def __init__(self, conn: Any, database: str) -> None:
        self.conn, self.database = conn, database
        self.cpu0, self.sessions0 = 0.0, 0

    @staticmethod
    def cpu() -> float:
        ticks = 0
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if (proc / "comm").read_text().strip() != "postgres":
                    continue
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
                if Path(f"/proc/{fields[1]}/comm").read_text().strip() != "postgres":
                    ticks += int(fields[13]) + int(fields[14])  # the postmaster: reaped children
            except (OSError, IndexError):
                continue
        return ticks / TICK

    async def _sessions(self) -> int:
        query = "SELECT sessions FROM pg_stat_database WHERE datname = $1"
        return int(await self.conn.fetchval(query, self.database))

    async def start(self) -> None:
        self.cpu0, self.sessions0 = self.cpu(), await self._sessions()

    async def used(self) -> tuple[float, int]:
        await asyncio.sleep(0.6)  # sessions are counted in the statistics within 0.5 s
        return self.cpu() - self.cpu0, await self._sessions() - self.sessions0


@dataclass
class Result:
    kind: Kind
    concurrency: int
    latencies: list[float]
    errors: Counter[str]
    elapsed: float
    service_cpu: float
    pg_cpu: float
    connections: int

    @property
    def p99(self) -> float:
        return pct(self.latencies, 99)

    def line(self) -> str:
        n = len(self.latencies)
        per = 1e3 / n if n else float("nan")
        return (
            f"{self.kind.name:<27} {self.concurrency:>4} {n:>6} {n / self.elapsed:8.1f}"
            f" {pct(self.latencies, 50):8.1f} {self.p99:8.1f}"
            f" {max(self.latencies, default=float('nan')) * 1e3:8.1f}"
            f" {sum(self.errors.values()):>4} {self.service_cpu * per:8.2f}"
            f" {self.pg_cpu * per:8.2f} {self.connections:>6}"
        )


API_HEADER = (
    "kind                        conc   reqs    req/s   p50 ms   p99 ms   max ms  err"
    "  svc ms/r  pg ms/r  conns"
)


class Failed(Exception):
    pass


async def measure(
    session: aiohttp.ClientSession,
    base: str,
    kind: Kind,
    span: Span,
    seconds: float,
    concurrency: int,
    service_pid: int | None,
    postgres: PostgresMeter,
    seed: int,
) -> Result:
    latencies: list[float] = []
    errors: Counter[str] = Counter()

    async def get(params: dict[str, str]) -> tuple[float, bytes]:
        started = time.perf_counter()
        async with session.get(base + kind.path, params=params) as response:
            body = await response.read()
        took = time.perf_counter() - started
        if response.status != 200:
            raise Failed(f"HTTP {response.status}: {body[:200]!r}")
        return took, body

    async def one(rng: random.Random, timed: list[float]) -> None:
        """One request (a cursor walk: the first page, then ``kind.pages`` timed)."""
        params = kind.query(rng, span)
        try:
            if not kind.pages:
                took, _ = await get(params)
                timed.append(took)
                kind.last = params
                return
            _, body = await get(params)
            for _ in range(kind.pages):
                cursor = json.loads(body)["next_cursor"]
                if not cursor:
                    break
                kind.last = params | {"cursor": cursor}
                took, body = await get(kind.last)
                timed.append(took)
        except (Failed, aiohttp.ClientError, TimeoutError) as exc:
            errors[str(exc)[:120] or type(exc).__name__] += 1

    async def worker(rng: random.Random, until: float) -> None:
        while time.monotonic() < until:
            await one(rng, latencies)

    await one(random.Random(seed - 1), [])  # untimed: warm the path
    cpu0 = cpu_seconds(service_pid)
    await postgres.start()
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(*(worker(random.Random(seed + i), until) for i in range(concurrency)))
    elapsed = time.monotonic() - started
    return Result(
        kind,
        concurrency,
        latencies,
        errors,
        elapsed,
        cpu_seconds(service_pid) - cpu0,
        *await postgres.used(),
    )


# the service for the API part, in a process of its own


def api_worker(conn: Connection, settings: Settings, log_file: str) -> None:
    logging.basicConfig(
        filename=log_file, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    asyncio.run(_serve_api(conn, settings))


async def _serve_api(conn: Connection, settings: Settings) -> None:
    """Serve until "stop"; ``("publish", rate, seconds)`` publishes synthetic call events
    into the service's own live hub (the fan-out test) and answers (events, CPU s)."""
    service = HotlineService(settings)
    await service.start()
    conn.send("ready")
    loop = asyncio.get_running_loop()
    try:
        while (message := await loop.run_in_executor(None, conn.recv)) != "stop":
            _, rate, seconds = message
            conn.send(await _publish(service.live, rate, seconds))
    finally:
        await service.stop()


async def _publish(hub: LiveHub, rate: float, seconds: float) -> tuple[int, float]:
    """``rate`` call events a second (as the recorder publishes them) for ``seconds``; the
    CPU counted runs 1 s longer, while the dashboards' queues drain."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = usage.ru_utime + usage.ru_stime
    started, sent = time.monotonic(), 0
    while (elapsed := time.monotonic() - started) < seconds:
        while sent < int(elapsed * rate):
            hub.publish(
                "call",
                {
                    "linkedid": f"fanout.{sent}",
                    "direction": "inbound",
                    "caller": "13800138000",
                    "called": HOTLINE_NUMBER,
                    "started_at": datetime.now(UTC).isoformat(),
                    "answered": True,
                    "queue": "repair",
                    "agent": "1016",
                    "wait_seconds": 12.5,
                    "hold_count": 0,
                    "held_since": None,
                    "flow": "hotline",
                    "disposition": "in_progress",
                    "final": False,
                },
            )
            sent += 1
        await asyncio.sleep(0.005)
    await asyncio.sleep(1)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return sent, usage.ru_utime + usage.ru_stime - cpu0


def _service_settings(folder: Path, url: str, agents: int) -> Settings:
    """``inbound_load``'s settings on the bench database and our own sandbox instance."""
    base = bench_settings(folder, agents)
    return base.model_copy(
        update={
            "database": base.database.model_copy(update={"url": url}),
            "sandbox": base.sandbox.model_copy(update={"instance": "bench-api"}),
        }
    )


async def run_api(args: argparse.Namespace, url: str, span: Span) -> list[Result]:
    folder = Path(tempfile.mkdtemp(prefix="bench-api-"))
    settings = _service_settings(folder, url, 0)  # AMI: a free port nobody listens on
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    worker = context.Process(
        target=api_worker, args=(theirs, settings, str(folder / "service.log"))
    )
    worker.start()
    results: list[Result] = []
    try:
        ready = await asyncio.get_running_loop().run_in_executor(None, ours.recv)
        assert ready == "ready"
        web = settings.web
        base = f"http://{web.host}:{web.port}"
        headers = {"Authorization": f"Bearer {web.token.get_secret_value()}"}
        plain, _ = _urls(args.pg, args.database)
        postgres = PostgresMeter(await asyncpg.connect(plain), args.database)
        print(f"\nAPI (service pid {worker.pid}, {base}); client-side latency")
        print(API_HEADER, flush=True)
        for concurrency in args.concurrency:
            connector = aiohttp.TCPConnector(limit=concurrency)
            timeout = aiohttp.ClientTimeout(total=300)
            async with aiohttp.ClientSession(
                headers=headers, connector=connector, timeout=timeout
            ) as session:
                for index, kind in enumerate(kinds()):
                    result = await measure(
                        session,
                        base,
                        kind,
                        span,
                        args.seconds,
                        concurrency,
                        worker.pid,
                        postgres,
                        args.seed * 1000 + index * 100,
                    )
                    results.append(result)
                    print(result.line(), flush=True)
                    for error, count in result.errors.most_common(3):
                        print(f"      {count} x {error}", flush=True)
        await postgres.conn.close()
    finally:
        _stop_worker(ours, worker, folder)
    return results


async def explain(url: str, results: list[Result], everything: bool) -> list[str]:
    """EXPLAIN ANALYZE of the SQL the project ran for one request of each kind."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    records = CallRecordRepository(sessions)
    defaults = Settings()
    reports = CallReports(sessions, defaults.inbound.service_level_seconds)
    by_path: dict[str, Callable[[datetime, datetime], Awaitable[Any]]] = {
        "/api/v1/reports/service-level": reports.service_level,
        "/api/v1/reports/scores": reports.scores,
        "/api/v1/reports/holds": lambda since, until: hold_report(
            sessions, since, until, float(defaults.hold.soft_seconds)
        ),
    }
    captured: list[tuple[str, Any]] = []

    def grab(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if "call_records" in statement or "hold_segments" in statement:
            captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", grab)
    judged = max(r.concurrency for r in results)
    lines: list[str] = []
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        for result in (r for r in results if r.concurrency == judged):
            kind = result.kind
            captured.clear()
            if kind.group == "list":
                where, limit, after = parse_call_query(kind.last)
                await records.search(where, limit, after)
            else:
                since, until = report_span(kind.last, datetime.now().astimezone())
                await by_path[kind.path](since, until)
            if not captured:
                lines.append(f"{kind.name:<27} (no SQL on call_records/hold_segments seen)")
                continue
            statement, parameters = captured[-1]
            plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *(parameters or ()))
            text = [row[0] for row in plan]
            seq = sorted({t.split(" on ")[1].split()[0] for t in text if "Seq Scan on" in t})
            scans = [
                t.strip().lstrip("-> ").split("  (")[0]
                for t in text
                if " Scan" in t and (" on call_records" in t or " on hold_segments" in t)
            ]
            took = next((t for t in text if t.startswith("Execution Time")), "")
            target = TARGET_LIST_P99_MS if kind.group == "list" else TARGET_REPORT_P99_MS
            slow = float(took.split()[-2]) >= target / 5 if took else True
            flag = " SEQ SCAN" if seq else ""
            lines.append(f"{kind.name:<27} {took}; {'; '.join(scans)}{flag}")
            if everything or seq or slow:
                query = "&".join(f"{k}={v}" for k, v in kind.last.items())
                lines.append(f"    query: {kind.path}?{query}")
                lines.append(f"    sql: {' '.join(statement.split())}")
                lines.append(f"    parameters: {parameters}")
                lines.extend(f"    | {t}" for t in text)
    finally:
        await conn.close()
        await engine.dispose()
    return lines


# ---------------------------------------------------------------- the live stream


@dataclass
class Dashboard:
    events: int = 0
    first_id: int = 0
    last_id: int = 0
    gaps: int = 0
    samples: list[tuple[str, float, float]] = field(default_factory=list)  # kind, at, lag
    ids: list[int] = field(default_factory=list)  # of the samples
    first_call: dict[str, float] = field(default_factory=dict)  # linkedid → received
    final_call: dict[str, float] = field(default_factory=dict)
    ready: bool = False
    ended: str = ""
    last_at: float = 0.0

    def frame(self, frame: bytes, now: float) -> None:
        """One SSE frame (id, event, data lines), received at ``now``."""
        number, kind, data = 0, "", b""
        for line in frame.split(b"\n"):
            if line.startswith(b"data: "):
                data = line[6:]
            elif line.startswith(b"id: "):
                number = int(line[4:])
            elif line.startswith(b"event: "):
                kind = line[7:].decode()
        if kind == "snapshot":
            self.ready = True
            return
        if not data:  # a keep-alive comment
            return
        event = json.loads(data)
        self.events += 1
        self.last_at = now
        self.samples.append((kind, event["at"], now - event["at"]))
        self.ids.append(number)
        if self.first_id and number != self.last_id + 1:
            self.gaps += 1
        self.first_id = self.first_id or number
        self.last_id = number
        if kind == "call":
            self.first_call.setdefault(event["linkedid"], now)
            if event["final"]:
                self.final_call[event["linkedid"]] = now


class SseClient(asyncio.Protocol):
    """One dashboard: a plain HTTP/1.0 GET of the stream (so no chunked framing), frames
    parsed as the bytes arrive and stamped then. Light on purpose: the dashboards share
    the machine's CPUs with the service, which real browsers would not."""

    def __init__(self, board: Dashboard, request: bytes) -> None:
        self.board, self.request = board, request
        self.buffer = b""
        self.body = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.body:
            head, found, rest = self.buffer.partition(b"\r\n\r\n")
            if not found:
                return
            if not head.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")):
                self.board.ended = head.split(b"\r\n", 1)[0].decode(errors="replace")
                return
            self.body, self.buffer = True, rest
        *frames, self.buffer = self.buffer.split(b"\n\n")
        for frame in frames:
            self.board.frame(frame, now)

    def connection_lost(self, exc: Exception | None) -> None:
        self.board.ended = self.board.ended or f"stream ended ({exc or 'by the service'})"


async def _until(done: Callable[[], bool], within: float) -> None:
    """Poll ``done`` (set by other tasks' progress, not by one event) for ``within`` s."""
    deadline = time.monotonic() + within
    while not done() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


def dashboards_worker(conn: Connection, url: str, token: str, count: int) -> None:
    asyncio.run(_dashboards(conn, url, token, count))


async def _dashboards(conn: Connection, url: str, token: str, count: int) -> None:
    boards = [Dashboard() for _ in range(count)]
    where = urlsplit(url)
    request = (
        f"GET {where.path} HTTP/1.0\r\nHost: {where.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    clients: list[SseClient] = []
    for board in boards:
        try:
            _, client = await loop.create_connection(
                functools.partial(SseClient, board, request),
                where.hostname or "127.0.0.1",
                where.port or 80,
            )
            clients.append(client)
        except OSError as exc:
            board.ended = f"connect: {exc}"
    await _until(lambda: all(b.ready or b.ended for b in boards), 60)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    conn.send(("connected", sum(b.ready for b in boards), time.monotonic() - started))
    await loop.run_in_executor(None, conn.recv)  # "stop"
    asked = time.time()  # until 2 s without an event (at most 20 s): nothing in flight
    await _until(lambda: time.time() - max([asked, *(b.last_at for b in boards)]) >= 2, 20)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    for client in clients:
        if client.transport is not None:
            client.transport.close()
    cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    conn.send((boards, cpu))


class AsteriskTimes:
    """Asterisk's own time of each call's first channel and last hang-up (the hotline)."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}

    def on_event(self, event: AmiEvent) -> None:
        linkedid, stamp = event.get("Linkedid", ""), event.get("Timestamp", "")
        if not linkedid or not stamp:
            return
        at = float(stamp)
        if event.name == "Newchannel":
            self.first[linkedid] = min(at, self.first.get(linkedid, at))
        elif event.name == "Hangup":
            self.last[linkedid] = max(at, self.last.get(linkedid, at))


def run_fanout(args: argparse.Namespace, url: str) -> float:
    """The hub alone: synthetic events at each ``--rates`` into the real service (no
    Asterisk, no calls), ``--dashboards`` connected; returns the worst lag (s)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-api-fanout-"))
    settings = _service_settings(folder, url, 0)
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    worker = context.Process(
        target=api_worker, args=(theirs, settings, str(folder / "service.log"))
    )
    web = settings.web
    live_url = f"http://{web.host}:{web.port}/api/v1/live"
    worst = 0.0
    worker.start()
    try:
        assert ours.recv() == "ready"
        print(
            f"\nfan-out alone: {args.dashboards} dashboards, synthetic call events published"
            f" into the service's hub for {args.fanout_seconds:g} s at each rate (no Asterisk)"
        )
        print("  rate/s   events   lag p50    p99      max   service CPU  dashboards CPU")
        for rate in args.rates:
            mine, boards_end = context.Pipe()
            dashboards = context.Process(
                target=dashboards_worker,
                args=(boards_end, live_url, web.token.get_secret_value(), args.dashboards),
            )
            dashboards.start()
            try:
                mine.recv()  # connected
                ours.send(("publish", rate, args.fanout_seconds))
                sent, service_cpu = ours.recv()
                mine.send("stop")
                boards, client_cpu = mine.recv()
            finally:
                dashboards.join(30)
                if dashboards.is_alive():
                    dashboards.kill()
            lags = [lag for b in boards for _, _, lag in b.samples]
            got = Counter(len(b.samples) for b in boards)
            worst = max(worst, max(lags, default=0.0))
            span = args.fanout_seconds + 1
            print(
                f"  {rate:6g} {sent:>8} {pct(lags, 50):7.1f} {pct(lags, 99):8.1f}"
                f" {max(lags, default=float('nan')) * 1e3:8.1f} ms"
                f" {service_cpu / span:8.0%} {client_cpu / span:12.0%}"
                + ("" if set(got) == {sent} else f"   received per dashboard: {dict(got)}"),
                flush=True,
            )
    finally:
        _stop_worker(ours, worker, folder)
    return worst


def _pytest_running() -> list[str]:
    found = subprocess.run(["pgrep", "-f", "pytest"], capture_output=True, text=True)
    return found.stdout.split()


async def _live_drive(
    settings: Settings, box: Sandbox, conn: Connection, prompts: Any, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], AsteriskTimes]:
    times = AsteriskTimes()
    watcher = AmiClient.from_settings(settings.asterisk)
    watcher.subscribe(times.on_event, ("Newchannel", "Hangup"))
    await watcher.connect()
    try:
        plan = argparse.Namespace(calls=[args.calls], talk=args.talk, spread=args.spread)
        rows = await drive(settings, box, conn, prompts, plan)
    finally:
        await watcher.close()
    return rows, times


def run_live(args: argparse.Namespace, url: str) -> dict[str, Any] | None:
    busy = _pytest_running()
    if busy:
        print(f"\nlive part skipped: pytest is running (pids {' '.join(busy)}); run it later")
        return None
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # Asterisk inherits it
    folder = Path(tempfile.mkdtemp(prefix="bench-api-live-"))
    settings = _service_settings(folder, url, args.calls)
    box = Sandbox(settings)
    box.install()
    box.build_prompts()
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    mine, boards_end = context.Pipe()
    prompts = context.Queue()
    service = context.Process(
        target=service_worker, args=(theirs, settings, prompts, str(folder / "service.log"))
    )
    web = settings.web
    live_url = f"http://{web.host}:{web.port}/api/v1/live"
    dashboards = context.Process(
        target=dashboards_worker,
        args=(boards_end, live_url, web.token.get_secret_value(), args.dashboards),
    )
    try:
        box.start()
        print(
            f"\nlive: sandbox instance bench-api (AMI {settings.asterisk.ami_port}),"
            f" {args.dashboards} dashboards, {args.calls} calls; nice: service {args.nice},"
            f" dashboards {args.nice_dashboards}",
            flush=True,
        )
        service.start()
        assert service.pid is not None
        os.setpriority(os.PRIO_PROCESS, service.pid, args.nice)
        assert ours.recv() == "ready"
        dashboards.start()
        assert dashboards.pid is not None
        os.setpriority(os.PRIO_PROCESS, dashboards.pid, args.nice_dashboards)
        _, connected, took = mine.recv()
        print(f"{connected} dashboards connected in {took:.1f} s", flush=True)
        cpu = CpuSampler(
            {
                "service": service.pid,
                "dashboards": dashboards.pid,
                "hotline-ast": box.hotline.pid(),
                "carrier-ast": box.carrier.pid(),
            }
        )
        cpu.start()
        time.sleep(1)  # the logins' member events reach everyone before the calls
        rows, times = asyncio.run(_live_drive(settings, box, ours, prompts, args))
        mine.send("stop")
        boards, client_cpu = mine.recv()
        cpu.stopping.set()
    finally:
        with contextlib.suppress(OSError, ValueError):
            ours.send("stop")
        with contextlib.suppress(OSError, ValueError):
            mine.send("stop")  # the dashboards, if the calls failed half-way
        for child in (service, dashboards):
            if child.pid is None:  # never started
                continue
            child.join(30)
            if child.is_alive():
                child.kill()
                child.join(5)
        box.stop()
        for instance in box.instances():
            shutil.rmtree(instance.base, ignore_errors=True)
        with contextlib.suppress(OSError):
            box.hotline.base.parent.rmdir()
        shutil.rmtree(folder, ignore_errors=True)
    if args.dump:
        with open(args.dump, "w") as out:
            out.write("dashboard,id,kind,at,lag\n")
            for index, b in enumerate(boards):
                for number, (kind, at, lag) in zip(b.ids, b.samples, strict=True):
                    out.write(f"{index},{number},{kind},{at:.6f},{lag:.6f}\n")
    return _live_figures(boards, client_cpu, times, rows[-1], cpu)


class CpuSampler(threading.Thread):
    """CPU seconds of the processes of the live part every ``step`` s (for the timeline)."""

    def __init__(self, pids: dict[str, int | None], step: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pids, self.step = pids, step
        self.rows: list[tuple[float, dict[str, float]]] = []
        self.stopping = threading.Event()

    def sample(self) -> None:
        cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        cpu["pg"] = PostgresMeter.cpu()
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        ticks = [int(f) for f in fields]
        cpu["machine"] = (sum(ticks[:8]) - ticks[3] - ticks[4]) / TICK  # all but idle, iowait
        try:  # the service's main thread (its event loop): time runnable, waiting for a CPU
            waited = Path(f"/proc/{self.pids['service']}/schedstat").read_text().split()[1]
            cpu["svc-wait"] = int(waited) / 1e9
        except (OSError, IndexError, KeyError):
            cpu["svc-wait"] = float("nan")
        self.rows.append((time.time(), cpu))

    def run(self) -> None:
        self.sample()
        while not self.stopping.wait(self.step):
            self.sample()

    def shares(self, start: float, end: float) -> dict[str, float]:
        """Share of one core each used from ``start`` to ``end`` (nearest samples)."""
        first = next((r for r in self.rows if r[0] >= start), None)
        last = next((r for r in self.rows if r[0] >= end), self.rows[-1] if self.rows else None)
        if first is None or last is None or last[0] <= first[0]:
            return {}
        return {k: (last[1][k] - first[1][k]) / (last[0] - first[0]) for k in first[1]}


def _timeline(boards: list[Dashboard], cpu: CpuSampler, step: float = 2.0) -> None:
    """Per ``step`` s of publishing: events published, the worst lag of those events, and
    the CPU each process used meanwhile (share of one core)."""
    if not boards or not boards[0].samples:
        return
    start = min(at for _, at, _ in boards[0].samples)
    published: Counter[int] = Counter(int((at - start) // step) for _, at, _ in boards[0].samples)
    worst: dict[int, float] = {}
    for b in boards:
        for _, at, lag in b.samples:
            slot = int((at - start) // step)
            worst[slot] = max(lag, worst.get(slot, 0.0))
    names = [*cpu.pids, "pg", "machine", "svc-wait"]
    print(
        f"per {step:g} s of publishing: events, worst lag, CPU (% of a core) of {names[:-1]},"
        " and the share of the time the service's event loop waited for a CPU"
    )
    for slot in sorted(published):
        begin = start + slot * step
        shares = cpu.shares(begin, begin + step)
        used = " ".join(f"{shares.get(name, float('nan')):4.0%}" for name in names)
        print(f"  {slot * step:4g} s {published[slot]:>5} ev {worst[slot] * 1e3:7.0f} ms   {used}")


def _live_figures(
    boards: list[Dashboard],
    client_cpu: float,
    times: AsteriskTimes,
    row: dict[str, Any],
    cpu: CpuSampler,
) -> dict[str, Any]:
    lags = [lag for b in boards for _, _, lag in b.samples]
    # compared from the first event published once every dashboard was subscribed
    common = max((b.first_id for b in boards), default=0)
    counts = Counter(b.last_id - common + 1 for b in boards)
    spans = Counter((b.first_id, b.last_id) for b in boards)
    same = len(counts) == 1 and not any(b.gaps or not b.first_id for b in boards)
    starts = [
        at - times.first[lid]
        for b in boards
        for lid, at in b.first_call.items()
        if lid in times.first
    ]
    ends = [
        at - times.last[lid]
        for b in boards
        for lid, at in b.final_call.items()
        if lid in times.last
    ]
    by_kind: dict[str, list[float]] = {}
    for b in boards:
        for kind, _, lag in b.samples:
            by_kind.setdefault(kind, []).append(lag)
    kinds = {kind: len(values) // len(boards) for kind, values in sorted(by_kind.items())}
    print(f"events per dashboard since id {common}: {dict(counts)} (by kind: {kinds})")
    print(
        f"every dashboard got every event from id {common} on, none missing: {same}"
        f" (first and last ids: {dict(spans)})"
    )
    ended = Counter(b.ended for b in boards if b.ended)
    if ended:
        print(f"streams that ended early: {dict(ended)}")
    print(f"dashboards process CPU: {client_cpu:.2f} s for {len(lags):,} events received")
    print("lag (ms)                          events      p50      p99      max")
    for name, values in (
        ("hub publish → dashboard", lags),
        *((f"  {kind} events", values) for kind, values in sorted(by_kind.items())),
        ("Asterisk Newchannel → 1st call", starts),
        ("Asterisk last Hangup → final", ends),
    ):
        print(
            f"{name:<32} {len(values):>8} {pct(values, 50):8.1f} {pct(values, 99):8.1f}"
            f" {max(values, default=float('nan')) * 1e3:8.1f}"
        )
    _timeline(boards, cpu)
    worst = max([*lags, *starts, *ends], default=float("inf"))
    return {
        "same": same,
        "worst": worst,
        "completed": row["completed"],
        "calls": row["calls"],
        "connected": len(boards) - sum(ended.values()),
    }


# ---------------------------------------------------------------- main


async def run_database_and_api(args: argparse.Namespace) -> tuple[str, list[Result], list[str]]:
    url = await prepare_database(args)
    if args.skip_api:
        return url, [], []
    span = await Span.read(url)
    results = await run_api(args, url, span)
    lines = await explain(url, results, args.explain)
    return url, results, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="reuse the loaded database")
    parser.add_argument("--seconds", type=float, default=10.0, help="per request kind")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--dashboards", type=int, default=100)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--talk", type=float, default=5.0, help="seconds each agent talks")
    parser.add_argument("--spread", type=float, default=5.0, help="seconds to place the calls")
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--skip-live", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print every plan in full")
    parser.add_argument(
        "--rates", type=float, nargs="*", default=[50, 100, 200, 400], help="fan-out alone"
    )
    parser.add_argument("--fanout-seconds", type=float, default=5.0)
    parser.add_argument("--dump", help="live: write every event received to this CSV file")
    parser.add_argument("--nice", type=int, default=0, help="live: the service's priority")
    parser.add_argument(
        "--nice-dashboards", type=int, default=0, help="live: the dashboards' priority"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default="hotline_bench")
    parser.add_argument(
        "--pg",
        default=os.environ.get("HOTLINE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="admin connection (CREATE/DROP DATABASE)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    print(f"load average at start: {os.getloadavg()[0]:.2f}; cores: {os.cpu_count()}", flush=True)
    url, results, plans = asyncio.run(run_database_and_api(args))
    if plans:
        print("\nPostgreSQL plans (EXPLAIN ANALYZE of the SQL of one request of each kind)")
        print("\n".join(plans))
    if not args.skip_live and args.rates:
        run_fanout(args, url)
    live = None if args.skip_live or not args.calls else run_live(args, url)
    verdicts = []
    if results:
        judged = max(args.concurrency)
        for group, target in (("list", TARGET_LIST_P99_MS), ("report", TARGET_REPORT_P99_MS)):
            mine = [r for r in results if r.concurrency == judged and r.kind.group == group]
            worst = max(mine, key=lambda r: r.p99)
            ok = worst.p99 < target and not any(r.errors for r in mine)
            verdicts.append(
                f"{group} p99 < {target:g} ms: {'met' if ok else 'NOT met'}"
                f" (worst {worst.p99:.0f} ms, {worst.kind.name}, concurrency {judged})"
            )
    else:
        verdicts.append("API: not measured")
    if live is not None:
        ok = live["worst"] <= TARGET_LAG_S and live["same"] and live["connected"] == args.dashboards
        verdicts.append(
            f"stream lag <= {TARGET_LAG_S:g} s: {'met' if ok else 'NOT met'}"
            f" (max {live['worst'] * 1e3:.0f} ms, {live['connected']} dashboards, same events:"
            f" {live['same']}, {live['completed']}/{live['calls']} calls completed)"
        )
    else:
        verdicts.append("stream lag: not measured")
    print("\ntargets: " + "; ".join(verdicts))
    return 0 if all(": met" in v for v in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
