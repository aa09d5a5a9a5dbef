"""What the call log makes of one call: rebuild it, merge it into what was seen live, or
leave it. Pure code: rows and stored records in, the write to make out.

A call is settled from the log once the log holds all of it (``LINKEDID_END``), or when
it has been quiet so long that it cannot still be up. Then, by what the database holds
under its linkedid (the key that makes a call one record, never two):

==================================  ==================================================
stored record                       what the log does
==================================  ==================================================
none                                rebuild it from the log (``source = log``)
seen live from start to end (ami)   nothing: the live record is the whole story
live with a gap (ami_gap), or       merge: the live part's variables (menu, score,
still in progress                   flow's outcome) with the log's events, the timeline
                                    continued after the live part (``ami+log``)
already from the log (log, ami+log) nothing: it was done before (a re-read after a
                                    restart changes nothing)
==================================  ==================================================
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from hotline.call_log.cel import CelRow, to_ami_events
from hotline.callrecord import CallRecord, RecordSource, TimelineEntry
from hotline.records import CallRecordBuilder, RecordUpdate

__all__ = ["Rebuilt", "merge", "merges", "rebuild", "resolve"]

log = logging.getLogger(__name__)

_DONE = frozenset({RecordSource.LOG, RecordSource.AMI_LOG})
SAME_EVENT = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """The write that accounts for a call: its record and the timeline entries to add."""

    record: CallRecord
    entries: tuple[TimelineEntry, ...]


def _run(linkedid: str, events: Iterable[dict[str, str]], end: datetime) -> list[RecordUpdate]:
    """Feed a fresh builder; a call whose channels did not all hang up in the log (it ended
    unseen: Asterisk stopped) is finished at ``end``, estimated."""
    builder = CallRecordBuilder(clock=lambda: end)
    updates: list[RecordUpdate] = []
    for event in events:
        updates += builder.feed(event)
    if linkedid in builder.in_flight():
        updates += builder.reconcile([])
    return [u for u in updates if u.record.linkedid == linkedid]


def _collect(updates: Sequence[RecordUpdate]) -> tuple[CallRecord | None, list[TimelineEntry]]:
    entries = [entry for update in updates for entry in update.entries]
    finals = [update.record for update in updates if update.final]
    return (finals[-1] if finals else None), entries


def rebuild(linkedid: str, rows: Sequence[CelRow]) -> Rebuilt | None:
    """The record of a call the service never saw, from its log rows alone."""
    if not rows:
        return None
    record, entries = _collect(_run(linkedid, to_ami_events(rows), rows[-1].time))
    if record is None:
        log.warning("call %s: the log's rows make no record", linkedid)
        return None
    record.source = RecordSource.LOG
    return Rebuilt(record, tuple(entries))


def _var_events(linkedid: str, timeline: Sequence[TimelineEntry]) -> list[dict[str, str]]:
    """The variables the live part saw (set by flows over FastAGI, never in the log)."""
    events = []
    for entry in timeline:
        name = str(entry.detail.get("name", ""))
        if entry.kind != "var" or entry.detail.get("ignored") or not name:
            continue
        events.append(
            {
                "Event": "VarSet",
                "Timestamp": f"{entry.at.timestamp():.6f}",
                "Channel": entry.channel,
                "Uniqueid": linkedid,
                "Linkedid": linkedid,
                "Variable": name,
                "Value": str(entry.detail.get("value", "")),
            }
        )
    return events


def _twins(seen: TimelineEntry, logged: TimelineEntry) -> bool:
    """The same event, once from AMI and once from the log (their clocks read it a few
    milliseconds apart). A hold segment is the same hold by its number: the live side may
    have closed it only when it came back after a crash, long after the log did."""
    if (seen.kind, seen.channel) != (logged.kind, logged.channel):
        return False
    if seen.kind == "hold_segment":  # one per hold number, whenever each side closed it
        return bool(seen.detail.get("number") == logged.detail.get("number"))
    if abs(seen.at - logged.at) > SAME_EVENT:
        return False
    if seen.kind != "var":
        return True
    keys = ("name", "value")
    return all(seen.detail.get(k) == logged.detail.get(k) for k in keys)


def _unseen(
    entries: Sequence[TimelineEntry], timeline: Sequence[TimelineEntry]
) -> list[TimelineEntry]:
    """The log's entries the live timeline does not already hold."""
    pool = list(timeline)
    unseen = []
    for entry in entries:
        if entry.kind == "reconciled":
            continue  # the replay's own bookkeeping, not an event of the call
        twin = next((seen for seen in pool if _twins(seen, entry)), None)
        if twin is None:
            unseen.append(entry)
        elif entry.kind != "var":  # a variable is set again by the replay: same, not new
            pool.remove(twin)
    return unseen


def merge(
    live: CallRecord, timeline: Sequence[TimelineEntry], rows: Sequence[CelRow]
) -> Rebuilt | None:
    """A call seen live in part, completed by the log: one record from both.

    The log's events and the live part's variables are replayed together in time order
    (the log first at equal times: a variable is set on a channel that exists); the new
    timeline entries are the log's that the live timeline does not hold already, numbered
    on from the live part's seqs.
    """
    if not rows:
        return None
    linkedid = live.linkedid
    log_events = [(float(e["Timestamp"]), 0, i, e) for i, e in enumerate(to_ami_events(rows))]
    first = rows[0].at  # a variable seen live is set on a channel the log has started
    var_events = [
        (max(float(e["Timestamp"]), first), 1, i, e)
        for i, e in enumerate(_var_events(linkedid, timeline))
    ]
    ordered = [event for *_, event in sorted(log_events + var_events, key=lambda t: t[:3])]
    record, entries = _collect(_run(linkedid, ordered, rows[-1].time))
    if record is None:
        log.warning("call %s: the log's rows and the live part make no record", linkedid)
        return None
    unseen = _unseen(entries, timeline)
    seq = live.last_seq
    added: list[TimelineEntry] = []
    for entry in unseen:
        seq += 1
        added.append(replace(entry, seq=seq))
    saw_start = bool(timeline) and timeline[0].kind == "newchannel"
    saw_end = live.finished and not live.end_estimated
    merged = replace(
        record,  # a time the live side saw stays as it saw it (AMI's clock reading)
        started_at=live.started_at if saw_start else record.started_at,
        answered_at=live.answered_at or record.answered_at,
        ended_at=live.ended_at if saw_end else record.ended_at,
        source=RecordSource.AMI_LOG,
        last_seq=seq,
        caller=record.caller or live.caller,
        called=record.called or live.called,
        did=record.did or live.did,
        channel=live.channel or record.channel,
    )
    return Rebuilt(merged, tuple(added))


def merges(stored: CallRecord | None) -> bool:
    """Whether ``resolve`` merges the log into this stored record (and so needs its
    timeline): not for a call seen whole live, nor for one the log already completed."""
    if stored is None or stored.source in _DONE:
        return False
    return not (stored.source is RecordSource.AMI and stored.finished)


def resolve(
    linkedid: str,
    rows: Sequence[CelRow],
    stored: CallRecord | None,
    timelines: Mapping[str, Sequence[TimelineEntry]],
) -> Rebuilt | None:
    """The write the log calls for (see the table above), or None."""
    if stored is None:
        return rebuild(linkedid, rows)
    if not merges(stored):
        return None
    return merge(stored, timelines.get(linkedid, ()), rows)
