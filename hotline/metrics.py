"""Prometheus metrics at ``GET /metrics`` (text format 0.0.4, written here: no dependency).

Counters and a latency histogram are fed where things happen (the record writer, the
queue events); gauges are read from the service's health at scrape time. Names:

* ``hotline_calls_in_progress``, ``hotline_agi_sessions``, ``hotline_ami_connected``
* ``hotline_ami_reconnects_total``
* ``hotline_queue_callers{queue}``, ``hotline_queue_longest_wait_seconds{queue}``
* ``hotline_calls_total{direction,disposition}``: finished call records
* ``hotline_record_write_seconds`` (histogram): one record save to the database
* ``hotline_records_spooled_total``, ``hotline_records_held`` (in memory: the spool is
  full), ``hotline_records_lost_total``; ``hotline_call_log_rebuilt_total``,
  ``hotline_call_log_merged_total``, ``hotline_call_log_pending_calls``
* ``hotline_dialer_originated_total``, ``hotline_dialer_active_calls``: the originate rate
  is ``rate(…originated_total[1m])``.
* ``hotline_recordings_total{status}``, ``hotline_recording_failures_total{reason}``,
  ``hotline_recording_folder_writable``, ``hotline_recordings_deleted_total``
"""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["BUCKETS", "Metrics", "QueueWaits"]

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def _labels(**values: str) -> str:
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in values.items()
    )
    return "{" + inner + "}" if inner else ""


class QueueWaits:
    """Callers waiting per queue, from AMI QueueCallerJoin/Leave/Abandon (never blocks)."""

    EVENTS = ("QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon")

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        changed: Callable[[str, int, float], None] | None = None,
    ) -> None:
        self._clock = clock
        self._joined: dict[str, dict[str, float]] = {}  # queue → caller uniqueid → since
        self.changed = changed  # (queue, waiting, longest wait): the live feed

    def on_event(self, event: Mapping[str, str]) -> None:
        queue, caller = event.get("Queue", ""), event.get("Uniqueid", "")
        if not queue or not caller:
            return
        waiting = self._joined.setdefault(queue, {})
        now = self._clock()
        if event.get("Event") == "QueueCallerJoin":
            waiting[caller] = now
        else:
            waiting.pop(caller, None)
        if self.changed is not None:
            longest = max((now - t for t in waiting.values()), default=0.0)
            self.changed(queue, len(waiting), round(longest, 1))

    def forget(self) -> None:
        """After an AMI gap the counts are unknown: start again from the next events."""
        self._joined.clear()

    def snapshot(self) -> dict[str, tuple[int, float]]:
        now = self._clock()
        return {
            queue: (len(callers), max((now - t for t in callers.values()), default=0.0))
            for queue, callers in self._joined.items()
        }


class Metrics:
    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self._buckets = [0] * len(BUCKETS)
        self._write_count = 0
        self._write_sum = 0.0
        self.queues = QueueWaits()

    def record_written(self, seconds: float) -> None:
        index = bisect.bisect_left(BUCKETS, seconds)
        if index < len(BUCKETS):
            self._buckets[index] += 1
        self._write_count += 1
        self._write_sum += seconds

    def call_finished(self, direction: str, disposition: str) -> None:
        self.calls[(direction, disposition)] += 1

    def render(self, health: Mapping[str, Any]) -> str:
        dialer = health.get("dialer") or {}
        lines: list[str] = []

        def metric(name: str, kind: str, text: str, samples: list[tuple[str, float]]) -> None:
            lines.extend([f"# HELP {name} {text}", f"# TYPE {name} {kind}"])
            lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

        metric(
            "hotline_calls_in_progress",
            "gauge",
            "Calls being tracked now.",
            [("", float(health.get("calls_in_progress", 0)))],
        )
        metric(
            "hotline_agi_sessions",
            "gauge",
            "Open FastAGI sessions.",
            [("", float(health.get("agi_sessions", 0)))],
        )
        metric(
            "hotline_ami_connected",
            "gauge",
            "1 while logged in to AMI.",
            [("", 1.0 if health.get("ami_connected") else 0.0)],
        )
        metric(
            "hotline_ami_reconnects_total",
            "counter",
            "AMI reconnections.",
            [("", float(health.get("ami_reconnects", 0)))],
        )
        waits = self.queues.snapshot()
        metric(
            "hotline_queue_callers",
            "gauge",
            "Callers waiting in each queue.",
            [(_labels(queue=q), float(n)) for q, (n, _) in sorted(waits.items())],
        )
        metric(
            "hotline_queue_longest_wait_seconds",
            "gauge",
            "Longest current wait per queue.",
            [(_labels(queue=q), round(w, 3)) for q, (_, w) in sorted(waits.items())],
        )
        metric(
            "hotline_calls_total",
            "counter",
            "Finished calls by direction and disposition.",
            [
                (_labels(direction=d, disposition=p), float(n))
                for (d, p), n in sorted(self.calls.items())
            ],
        )
        cumulative, samples = 0, []
        for bound, count in zip(BUCKETS, self._buckets, strict=True):
            cumulative += count
            samples.append((_labels(le=f"{bound:g}"), float(cumulative)))
        samples.append((_labels(le="+Inf"), float(self._write_count)))
        lines.extend(
            [
                "# HELP hotline_record_write_seconds Saving one call-record update.",
                "# TYPE hotline_record_write_seconds histogram",
            ]
        )
        lines.extend(f"hotline_record_write_seconds_bucket{lb} {v:g}" for lb, v in samples)
        lines.append(f"hotline_record_write_seconds_sum {self._write_sum:.6f}")
        lines.append(f"hotline_record_write_seconds_count {self._write_count}")
        metric(
            "hotline_records_spooled_total",
            "counter",
            "Record updates spooled to disk.",
            [("", float(health.get("records_spooled", 0)))],
        )
        metric(
            "hotline_records_held",
            "gauge",
            "Record updates held in memory: neither the database nor the spool takes them.",
            [("", float(health.get("records_held", 0)))],
        )
        metric(
            "hotline_records_lost_total",
            "counter",
            "Record updates lost: database down, spool full, memory budget used up.",
            [("", float(health.get("records_lost", 0)))],
        )
        call_log = health.get("call_log") or {}
        metric(
            "hotline_call_log_rebuilt_total",
            "counter",
            "Calls rebuilt from Asterisk's call log (the service never saw them).",
            [("", float(call_log.get("rebuilt", 0)))],
        )
        metric(
            "hotline_call_log_merged_total",
            "counter",
            "Calls seen live in part and completed from the call log.",
            [("", float(call_log.get("merged", 0)))],
        )
        metric(
            "hotline_call_log_pending_calls",
            "gauge",
            "Calls read from the call log and not settled yet.",
            [("", float(call_log.get("pending_calls", 0)))],
        )
        metric(
            "hotline_dialer_originated_total",
            "counter",
            "Originates sent by this node.",
            [("", float(dialer.get("originated", 0)))],
        )
        metric(
            "hotline_dialer_active_calls",
            "gauge",
            "Outbound attempts in flight here.",
            [("", float(dialer.get("active_calls", 0)))],
        )
        recordings = health.get("recordings") or {}
        metric(
            "hotline_recordings_total",
            "counter",
            "Recordings looked at after their call, by outcome.",
            [
                (_labels(status=k), float(v))
                for k, v in sorted((recordings.get("statuses") or {}).items())
            ],
        )
        metric(
            "hotline_recording_failures_total",
            "counter",
            "Recordings failed or cut short, by why (missing, empty, short).",
            [
                (_labels(reason=k), float(v))
                for k, v in sorted((recordings.get("failures") or {}).items())
            ],
        )
        metric(
            "hotline_recording_folder_writable",
            "gauge",
            "1 while a recording can be written to the recording folder.",
            [("", 0.0 if recordings.get("folder_problem") else 1.0)],
        )
        metric(
            "hotline_recordings_deleted_total",
            "counter",
            "Recordings deleted by the retention cleanup.",
            [("", float(recordings.get("deleted", 0)))],
        )
        return "\n".join(lines) + "\n"
