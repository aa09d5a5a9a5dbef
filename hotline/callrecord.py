"""The call record as plain data: what the builder produces and the repository stores.

One ``CallRecord`` per call, keyed on Asterisk's ``linkedid`` (the uniqueid of the first
channel of the call, shared by every channel that joins it). ``TimelineEntry`` rows are the
call's events in order; ``seq`` numbers them within the call so that a write can be retried
without duplicating rows (the repository ignores an entry whose ``(linkedid, seq)`` exists).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "CallRecord",
    "Direction",
    "Disposition",
    "RecordSource",
    "ScoreStatus",
    "TimelineEntry",
]


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class Disposition(StrEnum):
    """How a call ended. Flows may set a more specific one through ``HOTLINE_DISPOSITION``.

    Precedence when several apply (``hotline.record_call.CallState.final_disposition``):
    ``answered`` when an agent connected > the flow's own (``no_input``, ``after_hours``,
    ``blocked``, ``callback_requested``) > ``abandoned_queue`` (joined a queue, never
    reached an agent) > ``abandoned_ivr`` (entered the IVR, left before its flow finished)
    > ``answered`` > ``abandoned``/``lost``/``failed`` for calls never answered.

    A call the dialplan fallback served (FastAGI unreachable) is marked by the record's
    ``fallback`` flag and keeps its outcome here, so a supervisor still tells the caller an
    agent took from the one who gave up in the queue. ``FALLBACK`` is the outcome of rows
    written before the flag existed (migration 0011), never given to a new record.
    """

    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    ABANDONED = "abandoned"  # the caller hung up before the hotline answered
    FAILED = "failed"  # never connected for a technical reason
    LOST = "lost"  # the call ended while the service could not observe it (end time estimated)
    # set by flows (inbound issue and later)
    NO_INPUT = "no_input"
    ABANDONED_IVR = "abandoned_ivr"
    ABANDONED_QUEUE = "abandoned_queue"
    AFTER_HOURS = "after_hours"
    BLOCKED = "blocked"
    CALLBACK_REQUESTED = "callback_requested"
    FALLBACK = "fallback"  # served by the dialplan fallback because FastAGI was unreachable


class RecordSource(StrEnum):
    """Where a record's story comes from: the service watching live (AMI), Asterisk's own
    call log (CEL, ``hotline.call_log``) read back later, or both."""

    AMI = "ami"  # every event of the call seen live
    AMI_GAP = "ami_gap"  # seen live with a gap (AMI away, service restarted): the log completes it
    LOG = "log"  # rebuilt from the call log alone: the service never saw the call
    AMI_LOG = "ami+log"  # the live part merged with the log's


class ScoreStatus(StrEnum):
    """Whether a call an agent took got its post-call score (None: no agent took it)."""

    SCORED = "scored"
    NOT_SCORED = "not_scored"  # an agent answered, the caller gave no score (hung up first)


@dataclass(slots=True)
class TimelineEntry:
    """One event in a call's life, as the record keeps it."""

    linkedid: str
    seq: int
    at: datetime
    kind: str  # e.g. "newchannel", "answer", "dial_begin", "bridge_enter", "hangup", "var"
    channel: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CallRecord:
    """One row per call. Times are timezone-aware UTC."""

    linkedid: str
    direction: Direction
    started_at: datetime
    caller: str = ""  # calling number, sanitised (digits and a leading +)
    caller_name: str = ""
    called: str = ""  # the number dialled (DID for inbound, customer for outbound)
    did: str = ""
    channel: str = ""  # the first channel of the call
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    disposition: Disposition = Disposition.IN_PROGRESS
    hangup_cause: int | None = None
    hangup_cause_text: str = ""
    sip_call_id: str = ""
    flow: str = ""  # the FastAGI route that handled the call, if any
    end_estimated: bool = False  # True when ended_at was inferred after an AMI gap
    # inbound hotline (HOTLINE_* variables of the flows, queue and agent events)
    menu_path: str = ""  # keys through the menu, e.g. "2>1"
    category: str = ""  # business category chosen in the menu
    queue: str = ""  # the queue the caller joined (last one)
    wait_seconds: float | None = None  # first queue join → agent connect, else → leaving
    rings_before_answer: int | None = None  # answer speed: rings the caller heard
    agent: str = ""  # id of the agent who took the call (the last one, if several)
    talk_seconds: float | None = None  # agent connect → the agent leg's end
    score: int | None = None  # post-call score 1-10
    score_status: ScoreStatus | None = None
    hold_count: int = 0  # holds during the call (the hold_segments rows say how each went)
    hold_seconds: float = 0.0  # seconds held in all, finished holds
    fallback: bool = False  # the dialplan fallback served it (the service was unreachable)
    # the recording Asterisk started (HOTLINE_RECORDING: YYYY/MM/DD/<linkedid>.wav under
    # the recording folder); what became of it is in call_recordings (hotline.recordings)
    recording_file: str = ""
    source: RecordSource = RecordSource.AMI
    reason: str = ""  # set by the agent (API/CLI), never by the record builder
    description: str = ""
    # highest timeline seq given out; a builder adopting the row after a restart continues
    # from it, because the repository ignores entries whose (linkedid, seq) already exists
    last_seq: int = 0

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from start to end, or None while the call is in progress."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()

    def __post_init__(self) -> None:
        # a spooled record comes back with the enum's value as a plain string
        if isinstance(self.score_status, str):
            self.score_status = ScoreStatus(self.score_status)
        if not isinstance(self.source, RecordSource):
            self.source = RecordSource(self.source)

    @property
    def connected_seconds(self) -> float | None:
        """Seconds from answer to end, or None if never answered or still running."""
        if self.ended_at is None or self.answered_at is None:
            return None
        return (self.ended_at - self.answered_at).total_seconds()

    @property
    def finished(self) -> bool:
        return self.ended_at is not None
