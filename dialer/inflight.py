"""The attempts in flight on this node and what their events make of them. Pure code.

The engine registers every claimed attempt here *before* its Originate is written, so
no event can arrive for an attempt the table does not know. Events, ticks and
reconciliations go in; ``Answered``/``Finished`` changes for the database come out.

Reconciliation (after every AMI login, so after a reconnect and after a restart): each
attempt this node still has in flight is looked up among the live channels by its code
(= the channel's Uniqueid). Found: it is adopted and followed to its end. Not found:
it gets ``grace`` seconds to show an event (a channel created just after the snapshot),
then becomes ``unknown``, which follows the campaign's retry rule. An attempt already
answered when the gap began ended unobserved but was answered: it stays answered. No
path here ever sends an Originate again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dialer.dispositions import AttemptTracker, Signal, event_code
from dialer.repository import Answered, Finished, InFlight
from dialer.states import AttemptStatus, Disposition

__all__ = ["Attempt", "InFlightTable"]

log = logging.getLogger(__name__)

Change = Answered | Finished


@dataclass
class Attempt:
    """One attempt in flight: its tracker plus what the engine needs to account for it."""

    code: str
    campaign_id: int
    trunk: str
    started: datetime
    tracker: AttemptTracker
    sending: bool = False  # the Originate is being written; the reconciler leaves it alone
    suspect_until: datetime | None = None  # missing from the live channels since a gap
    stale_checked: bool = False
    restored: bool = False
    answered_before: bool = False  # restored as answered (status up in the database)
    changes: list[Change] = field(default_factory=list)


class InFlightTable:
    """Attempts of this node by code; every method returns the database changes due."""

    def __init__(self, settle: float, grace: float, ring_timeout_slack: float = 15.0) -> None:
        self._settle = timedelta(seconds=settle)
        self._grace = timedelta(seconds=grace)
        self._slack = timedelta(seconds=ring_timeout_slack)
        self._attempts: dict[str, Attempt] = {}
        self._ring_timeouts: dict[str, timedelta] = {}

    def __len__(self) -> int:
        return len(self._attempts)

    def __contains__(self, code: object) -> bool:
        return code in self._attempts

    def get(self, code: str) -> Attempt | None:
        return self._attempts.get(code)

    def by_campaign(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for attempt in self._attempts.values():
            counts[attempt.campaign_id] = counts.get(attempt.campaign_id, 0) + 1
        return counts

    def by_trunk(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for attempt in self._attempts.values():
            counts[attempt.trunk] = counts.get(attempt.trunk, 0) + 1
        return counts

    def add(
        self, code: str, campaign_id: int, trunk: str, at: datetime, ring_timeout: float
    ) -> Attempt:
        attempt = Attempt(code, campaign_id, trunk, at, AttemptTracker(code, self._settle))
        attempt.sending = True
        self._attempts[code] = attempt
        self._ring_timeouts[code] = timedelta(seconds=ring_timeout)
        return attempt

    def feed(self, event: Mapping[str, str], at: datetime) -> list[Change]:
        attempt = self._attempts.get(event_code(event))
        if attempt is None:
            return []
        signal = attempt.tracker.feed(event, at)
        if attempt.tracker.channel_seen or attempt.tracker.response:
            attempt.suspect_until = None  # it showed up after all
        return self._after(attempt, signal, at)

    def _after(self, attempt: Attempt, signal: Signal | None, at: datetime) -> list[Change]:
        tracker = attempt.tracker
        if signal is Signal.ANSWERED:
            log.info("[%s] answered", attempt.code)
            attempt.answered_before = True  # written once
            return [Answered(attempt.code, tracker.answered_at or at)]
        if signal is Signal.FINAL:
            changes: list[Change] = []
            if tracker.answered_at is not None and not attempt.answered_before:
                changes.append(Answered(attempt.code, tracker.answered_at))
            changes.append(self._finish(attempt, tracker.disposition, at, tracker.hangup_at))
            return changes
        return []

    def _finish(
        self,
        attempt: Attempt,
        disposition: Disposition,
        at: datetime,
        ended: datetime | None = None,
        detail: str = "",
        refund: bool = False,
    ) -> Finished:
        self._attempts.pop(attempt.code, None)
        self._ring_timeouts.pop(attempt.code, None)
        tracker = attempt.tracker
        tracker.final = True
        log.info("[%s] %s %s", attempt.code, disposition.value, detail)
        return Finished(
            attempt.code,
            disposition,
            ended or at,
            answered_at=tracker.answered_at,
            cause=tracker.cause,
            dial_status=tracker.dial_status,
            amd=tracker.amd,
            optout=tracker.optout,
            detail=detail,
            refund=refund,
        )

    def close(
        self, code: str, disposition: Disposition, at: datetime, detail: str, refund: bool = False
    ) -> list[Change]:
        """End an attempt whose Originate was never dialled (not sent, refused, blocked)."""
        attempt = self._attempts.get(code)
        if attempt is None:
            return []
        return [self._finish(attempt, disposition, at, detail=detail, refund=refund)]

    def tick(self, at: datetime) -> list[Change]:
        """Settle hangups that got no OriginateResponse; end suspects whose grace ran out."""
        changes: list[Change] = []
        for attempt in list(self._attempts.values()):
            signal = attempt.tracker.check(at)
            if signal is not None:
                changes += self._after(attempt, signal, at)
            elif attempt.suspect_until is not None and at >= attempt.suspect_until:
                changes += self._gone(attempt, at)
        return changes

    def _gone(self, attempt: Attempt, at: datetime) -> list[Change]:
        if attempt.answered_before or attempt.tracker.answered_at is not None:
            return [
                self._finish(
                    attempt, Disposition.ANSWERED_HUMAN, at, detail="ended while not observed"
                )
            ]
        return [self._finish(attempt, Disposition.UNKNOWN, at, detail="fate not observed")]

    def stale(self, at: datetime) -> list[str]:
        """Unanswered attempts far past their ring timeout with no end seen: ask Asterisk."""
        codes = []
        for code, attempt in self._attempts.items():
            limit = self._ring_timeouts.get(code, timedelta(seconds=60)) + self._slack
            tracker = attempt.tracker
            if (
                not attempt.sending
                and not attempt.stale_checked
                and tracker.answered_at is None
                and tracker.hangup_at is None
                and at - attempt.started > limit
            ):
                codes.append(code)
        return codes

    def reconcile(
        self,
        live: Iterable[Mapping[str, str]],
        stored: Iterable[InFlight],
        at: datetime,
        ring_timeouts: Mapping[int, float],
        trunks: Mapping[int, str],
        only: Iterable[str] | None = None,
    ) -> list[Change]:
        """Square the table with live channels (rows of CoreShowChannels).

        ``stored``: this node's attempts the database holds in flight (restored after a
        restart). ``only``: limit the check to these codes (a stale sweep).
        """
        rows = {row.get("Uniqueid", ""): row for row in live}
        for item in stored:
            if item.code not in self._attempts:
                attempt = Attempt(
                    item.code,
                    item.campaign_id,
                    trunks.get(item.campaign_id, ""),
                    item.created_at,
                    AttemptTracker(item.code, self._settle),
                    restored=True,
                    answered_before=item.status is AttemptStatus.UP,
                )
                if attempt.answered_before:
                    attempt.tracker.answered_at = item.created_at
                self._attempts[item.code] = attempt
                self._ring_timeouts[item.code] = timedelta(
                    seconds=ring_timeouts.get(item.campaign_id, 60)
                )
                log.info("[%s] restored from the database for reconciliation", item.code)
        codes = set(self._attempts) if only is None else set(only) & set(self._attempts)
        changes: list[Change] = []
        for code in sorted(codes):
            attempt = self._attempts[code]
            if attempt.sending:
                continue  # its Originate outcome decides
            row = rows.get(code)
            if row is not None:
                attempt.suspect_until = None
                attempt.stale_checked = False
                changes += self._after(attempt, attempt.tracker.adopt(row, at), at)
            elif only is not None:
                changes += self._gone(attempt, at)  # a sweep: already long overdue
            else:
                attempt.suspect_until = at + self._grace
        return changes
