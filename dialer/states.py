"""The words the dialer's tables and API use: campaign, contact and attempt states.

Kept free of I/O and SQLAlchemy so the scheduler and the disposition tracker (pure code)
and the tables (``hotline.db.models_dialer``) share one vocabulary. Every enum is a
``StrEnum`` stored as its value, so adding a member needs no migration.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACTIVE_ATTEMPT",
    "FINAL_CONTACT",
    "AttemptStatus",
    "CampaignStatus",
    "CampaignType",
    "ContactState",
    "Disposition",
]


class CampaignType(StrEnum):
    """What the answered call is for; the flows behind each come with the campaign-flows issue."""

    CALLBACK_SURVEY = "callback_survey"
    APOLOGY = "apology"
    PROMISED_CALLBACK = "promised_callback"
    IVR = "ivr"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


class ContactState(StrEnum):
    """Where a contact is in its campaign; everything but pending and dialing is final."""

    PENDING = "pending"  # waiting for its (next) attempt; ``next_at`` says from when
    DIALING = "dialing"  # an attempt is in flight
    DONE = "done"  # answered, or no attempt left; ``last_disposition`` says how it ended
    DNC = "dnc"  # on the do-not-call list (found at dial time, or opted out on a call)
    BLOCKED = "blocked"  # refused by the toll-fraud guard at dial time
    EXPIRED = "expired"  # the campaign's deadline passed before it was reached


FINAL_CONTACT = frozenset(
    {ContactState.DONE, ContactState.DNC, ContactState.BLOCKED, ContactState.EXPIRED}
)


class AttemptStatus(StrEnum):
    DIALING = "dialing"  # committed before the Originate is sent; ringing
    UP = "up"  # answered, the call is running
    DONE = "done"  # over; ``disposition`` is final


ACTIVE_ATTEMPT = frozenset({AttemptStatus.DIALING, AttemptStatus.UP})


class Disposition(StrEnum):
    """How one attempt ended."""

    ANSWERED_HUMAN = "answered_human"
    ANSWERED_MACHINE = "answered_machine"
    # answered, and the flow asked for another try (no input, "call me later"): HOTLINE_RETRY
    LATER = "later"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    INVALID_NUMBER = "invalid_number"
    REJECTED = "rejected"  # the callee (or network) declined the call
    FAILED = "failed"  # a technical failure; nothing reached the customer, or it is unknown why
    UNKNOWN = "unknown"  # the fate was not observed (AMI gap, crash): follows the retry rule
    BLOCKED = "blocked"  # stopped before origination (DNC or toll-fraud guard): never dialled
