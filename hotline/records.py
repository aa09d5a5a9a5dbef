"""Call records from AMI events: a pure pipeline, events → interpretation → record.

One ``CallRecord`` per Asterisk ``linkedid``. ``feed`` takes events one by one and returns
the writes to make; ``reconcile`` squares what we track with Asterisk's live channels after
an AMI gap; ``adopt_unfinished`` takes back in-progress rows after a service restart. No
I/O and no asyncio here, so every rule is tested from event tables. Odd input (missing,
duplicated or out-of-order events, channels never seen) is logged and absorbed, never raised:
this code sits on the AMI reader, which must not stop.

Writes stay few: an update is emitted when a call is first seen (so a crash mid-call still
leaves a row), when it is answered, when a variable that decides the record changes (a
flow's disposition, the queue, the score), when it ends (``final``), and when enough
timeline entries are pending. Between those, entries wait and go out with the next update;
each entry is emitted exactly once.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from hotline.callrecord import CallRecord, Direction, RecordSource, TimelineEntry
from hotline.record_call import CallState, var_name
from hotline.record_fields import (
    Clock,
    event_time,
    parse_duration,
    safe_token,
    safe_word,
    utc_now,
)
from hotline.record_inbound import AGENT_EVENTS, QUEUE_EVENTS

__all__ = ["CallRecordBuilder", "RecordUpdate"]

logger = logging.getLogger(__name__)

FLUSH_AT = 32  # pending entries that force a write between milestones
MAX_DEFERRED = 100_000  # events held while stored calls cannot be loaded (database down)
FINISHED_MEMORY = 4096  # finished linkedids remembered so late or repeated events are dropped
_EVENTS = frozenset(
    {"Newchannel", "Newstate", "DialBegin", "DialEnd", "BridgeEnter", "BridgeLeave", "Hangup"}
    | {"VarSet", "Hold", "Unhold"}
    | QUEUE_EVENTS
    | AGENT_EVENTS
)
_KINDS = {"DialBegin": "dial_begin", "DialEnd": "dial_end"} | {
    "BridgeEnter": "bridge_enter",
    "BridgeLeave": "bridge_leave",
}


_Rows = Mapping[str, Mapping[str, Mapping[str, str]]]  # linkedid → uniqueid → row


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """A reconcile's rows held until stored calls are restored. ``pending``: the calls it
    could not square when taken (events held, or unknown); they are squared at replay."""

    rows: _Rows
    at: datetime
    pending: frozenset[str]


@dataclass(frozen=True, slots=True)
class RecordUpdate:
    """One write: a snapshot of the record and the timeline entries not written before."""

    record: CallRecord
    entries: tuple[TimelineEntry, ...]
    final: bool
    held_since: datetime | None = None  # the caller is on hold now (for dashboards)


class CallRecordBuilder:
    """Turns AMI events into call records and the updates that persist them."""

    def __init__(self, clock: Clock = utc_now, *, await_restore: bool = False) -> None:
        """``await_restore``: a previous run may have left rows in progress. Calls first seen
        mid-call could be one of them, so their events wait until ``adopt_unfinished`` has
        loaded those rows (a fresh record would overwrite the row and reuse its seqs)."""
        self._clock = clock
        self._calls: dict[str, CallState] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._deferred: list[Mapping[str, str] | _Snapshot] | None = [] if await_restore else None
        self._deferred_ids: set[str] = set()

    def in_flight(self) -> set[str]:
        """Linkedids of the calls being tracked."""
        return set(self._calls)

    def live_records(self) -> list[tuple[CallRecord, datetime | None]]:
        """The working copies of the calls being tracked (read them, never change them),
        each with the start of the hold it is in, if any."""
        return [(call.record, _held_since(call)) for call in self._calls.values()]

    def feed(self, event: Mapping[str, str]) -> list[RecordUpdate]:
        """Interpret one AMI event; return the writes it makes due (often none)."""
        name = event.get("Event", "")
        if name not in _EVENTS or (name == "VarSet" and not var_name(event).startswith("HOTLINE_")):
            return []
        linkedid = safe_token(event.get("Linkedid") or event.get("DestLinkedid"))
        if not linkedid or not (event.get("Uniqueid") or event.get("DestUniqueid")):
            logger.debug("call %s: %s without Linkedid or Uniqueid ignored", linkedid or "-", name)
            return []
        if linkedid in self._finished:
            logger.debug("call %s: %s after the call ended ignored", linkedid, name)
            return []
        replayed: list[RecordUpdate] = []
        if self._deferred is not None and self._may_be_stored(linkedid, event, name):
            if len(self._deferred) < MAX_DEFERRED:
                self._deferred_ids.add(linkedid)
                self._deferred.append(event)
                return []
            logger.error("%d events wait for stored calls; going on without them", MAX_DEFERRED)
            replayed = self._replay_deferred()
        at = event_time(event, self._clock)
        call = self._calls.get(linkedid)
        if call is None:
            call = self._open(linkedid, at)
            if name != "Newchannel" or event.get("Uniqueid") != linkedid:
                logger.info("call %s: first seen mid-call (%s), adopting it", linkedid, name)
                call.note(at, "reconciled", reason="first_seen_mid_call")
        try:
            self._interpret(call, name, event, at)
        except Exception:  # a bug here must not stop the AMI reader
            logger.exception("call %s: could not interpret %s, skipped", linkedid, name)
        return replayed + self._updates(call)

    def reconcile(self, live: Iterable[Mapping[str, str]]) -> list[RecordUpdate]:
        """Square tracked calls with CoreShowChannel rows taken after an AMI (re)connect."""
        now = self._clock()
        rows: dict[str, dict[str, Mapping[str, str]]] = {}
        for row in live:
            linkedid, uid = safe_token(row.get("Linkedid")), safe_token(row.get("Uniqueid"))
            if linkedid and uid:
                rows.setdefault(linkedid, {})[uid] = row
        updates: list[RecordUpdate] = []
        for linkedid, call in list(self._calls.items()):
            updates += self._square(call, rows.get(linkedid, {}), now)
        if self._deferred is not None:  # unknown calls may be stored ones: squared later
            pending = frozenset(self._deferred_ids | (rows.keys() - self._calls.keys()))
            self._deferred_ids |= pending
            self._deferred.append(_Snapshot(rows, now, pending))
            return updates
        return updates + self._adopt_unknown(rows, now)

    def _square(
        self, call: CallState, chans: Mapping[str, Mapping[str, str]], at: datetime
    ) -> list[RecordUpdate]:
        self._check(call, chans, at)
        return self._updates(call, force=bool(call.pending))

    def _adopt_unknown(self, rows: _Rows, at: datetime) -> list[RecordUpdate]:
        updates: list[RecordUpdate] = []
        for linkedid, chans in rows.items():
            if linkedid in self._calls:
                continue
            if linkedid in self._finished:
                logger.warning("call %s: live channels after the call was finalised", linkedid)
            else:
                updates += self._adopt_live(linkedid, chans, at)
        return updates

    def _may_be_stored(self, linkedid: str, event: Mapping[str, str], name: str) -> bool:
        """Whether an event may belong to a stored in-progress call not yet restored."""
        if linkedid in self._calls:
            return False
        fresh = name == "Newchannel" and event.get("Uniqueid") == linkedid
        return not fresh or linkedid in self._deferred_ids  # a call starting now has no row

    def _replay_deferred(self) -> list[RecordUpdate]:
        """Events and snapshots held meanwhile, in their order, now that rows are restored."""
        deferred, self._deferred = self._deferred or [], None
        self._deferred_ids.clear()
        if deferred:
            logger.info("replaying %d events held until stored calls were restored", len(deferred))
        updates: list[RecordUpdate] = []
        for item in deferred:
            if isinstance(item, _Snapshot):
                for linkedid, call in list(self._calls.items()):
                    if linkedid in item.pending or not call.confirmed:  # held or restored
                        updates += self._square(call, item.rows.get(linkedid, {}), item.at)
                unknown = {i: c for i, c in item.rows.items() if i in item.pending}
                updates += self._adopt_unknown(unknown, item.at)
            else:
                updates += self.feed(item)
        return updates

    def adopt_unfinished(
        self,
        records: Iterable[CallRecord],
        timelines: Mapping[str, Sequence[TimelineEntry]] | None = None,
    ) -> list[RecordUpdate]:
        """Take back in-progress rows after a restart; the next reconcile ends or keeps them.

        ``timelines`` (stored entries by linkedid) give back the variables the flows set
        before the restart (a disposition, the queue, the score), which the row alone lacks.
        Returns the updates of the events held meanwhile (``await_restore``).
        """
        for record in records:
            linkedid = record.linkedid
            if record.finished or linkedid in self._calls or linkedid in self._finished:
                logger.debug("call %s: restored record skipped (finished or tracked)", linkedid)
                continue
            restored = replace(record, source=_gap(record.source))  # not watched meanwhile
            call = CallState(restored, record.started_at, confirmed=False, announced=True)
            call.answer_announced = record.answered_at is not None
            call.pinned = {name for name in ("caller", "did") if getattr(record, name)}
            call.party_name = record.channel
            for entry in (timelines or {}).get(linkedid, ()):
                if entry.kind == "var":
                    call.replay_var(entry)
            self._calls[linkedid] = call
            logger.info("call %s: in-progress record restored, awaiting reconcile", linkedid)
        return self._replay_deferred()

    # interpretation

    def _open(self, linkedid: str, at: datetime) -> CallState:
        record = CallRecord(linkedid=linkedid, direction=Direction.INBOUND, started_at=at)
        call = self._calls[linkedid] = CallState(record, at)
        logger.info("call %s: tracking", linkedid)
        return call

    def _interpret(
        self, call: CallState, name: str, event: Mapping[str, str], at: datetime
    ) -> None:
        record = call.record
        record.started_at = min(record.started_at, at)
        call.last_at = max(call.last_at, at)
        uid, channel = safe_token(event.get("Uniqueid")), safe_token(event.get("Channel"))
        if name == "Newchannel":
            if uid in call.channels:
                logger.debug("call %s: repeated Newchannel for %s ignored", record.linkedid, uid)
                return
            context = safe_token(event.get("Context"), 64)
            exten = safe_token(event.get("Exten"), 64)
            call.note(at, "newchannel", channel, context=context, exten=exten)
        elif name == "Hangup":
            call.leg_event(name, channel, at)
            if uid:
                call.hangup(uid, event, at)
                call.refresh()
            if call.confirmed and not call.live():  # the last channel of the call is gone
                self._finish(call, call.last_at, estimated=False)
            return
        elif name == "VarSet":
            call.apply_var(channel, event, at)
        elif name in QUEUE_EVENTS:
            call.inbound.queue_event(record, call.note, name, event, at)
        elif name in AGENT_EVENTS:
            call.inbound.agent_event(record, call.note, name, event, at)
        elif name in ("DialBegin", "DialEnd"):
            detail = {"dest": safe_token(event.get("DestChannel"))}
            if name == "DialBegin":
                detail["dialstring"] = safe_token(event.get("DialString"), 64)
            else:
                detail["dialstatus"] = safe_word(event.get("DialStatus"), 32)
            call.note(at, _KINDS[name], channel, **detail)
            dest = safe_token(event.get("DestUniqueid"))
            if dest and safe_token(event.get("DestLinkedid")) == record.linkedid:
                call.touch(dest, event, at, "Dest")
        elif name in _KINDS:
            call.note(at, _KINDS[name], channel, bridge=safe_token(event.get("BridgeUniqueid")))
            call.leg_event(name, channel, at)
        elif name in ("Hold", "Unhold"):
            call.note(at, name.lower(), channel)
            call.leg_event(name, channel, at)
        if uid:
            call.touch(uid, event, at)
        call.refresh()

    def _finish(self, call: CallState, at: datetime, *, estimated: bool) -> None:
        record = call.record
        record.ended_at = max(at, record.started_at, record.answered_at or at)
        record.end_estimated = estimated
        call.close_holds(record.ended_at)
        call.inbound.close(record, record.ended_at)
        record.disposition = call.final_disposition(estimated=estimated)
        self._calls.pop(record.linkedid, None)
        self._finished[record.linkedid] = None
        while len(self._finished) > FINISHED_MEMORY:
            self._finished.popitem(last=False)
        logger.info(
            "call %s: ended, %s, estimated=%s", record.linkedid, record.disposition, estimated
        )

    def _updates(self, call: CallState, *, force: bool = False) -> list[RecordUpdate]:
        """The update due for this call now, if a milestone or the backlog calls for one."""
        record = call.record
        final = record.ended_at is not None
        answered = record.answered_at is not None
        due = not call.announced or (answered and not call.answer_announced) or call.urgent
        if not (final or force or due or len(call.pending) >= FLUSH_AT):
            return []
        call.announced, call.answer_announced, call.urgent = True, answered, False
        entries = tuple(call.pending)
        call.pending.clear()
        return [RecordUpdate(replace(record), entries, final, _held_since(call))]

    # reconciliation

    def _check(
        self, call: CallState, chans: Mapping[str, Mapping[str, str]], now: datetime
    ) -> None:
        """Finish a call whose channels all vanished; otherwise make its live set the truth."""
        linkedid = call.record.linkedid
        if not chans and call.channels and not call.live():
            # a restored call whose channels we all saw hang up since: that was its end
            self._finish(call, call.last_at, estimated=False)
            return
        if not chans:
            logger.info("call %s: gone while AMI was away", linkedid)
            call.note(now, "reconciled", reason="gone")
            self._finish(call, now, estimated=True)
            return
        call.last_at = max(call.last_at, now)
        for uid, chan in call.channels.items():
            if not chan.dead and uid not in chans:
                chan.dead = True
                call.note(now, "reconciled", chan.name, reason="channel_gone")
        for uid, row in chans.items():
            if uid not in call.channels:
                call.note(now, "reconciled", safe_token(row.get("Channel")), reason="channel_found")
            call.touch(uid, row, now, estimated=True)
        call.apply_row_vars(chans, now)  # what was set while AMI was away
        call.confirmed = True
        call.refresh()
        if not call.live():
            self._finish(call, call.last_at, estimated=False)

    def _adopt_live(
        self, linkedid: str, chans: Mapping[str, Mapping[str, str]], now: datetime
    ) -> list[RecordUpdate]:
        """Start tracking a call that was already up when we connected."""
        age = max(parse_duration(row.get("Duration")) for row in chans.values())
        call = self._open(linkedid, now - age)
        call.last_at = now
        call.note(now, "reconciled", reason="adopted", estimated="started_at")
        for uid, row in chans.items():
            call.touch(uid, row, now, estimated=True)
        call.apply_row_vars(chans, now)  # what was set while AMI was away
        call.refresh()
        return self._updates(call)


def _gap(source: RecordSource) -> RecordSource:
    return RecordSource.AMI_GAP if source is RecordSource.AMI else source


def _held_since(call: CallState) -> datetime | None:
    return None if call.hold.open is None else call.hold.open.started_at
