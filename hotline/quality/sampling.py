"""Which of a day's agent calls are reviewed: every complaint, every low score, and a
few more drawn at random for each agent.

The draw ranks each call by a hash of the day, the agent and the call, so it is fair,
repeatable, and sampling a day again only tops an agent up to the day's number.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from hotline.quality.config import QualitySettings

__all__ = ["Candidate", "Pick", "SampleReason", "pick"]


class SampleReason(StrEnum):
    COMPLAINT = "complaint"
    LOW_SCORE = "low_score"
    RANDOM = "random"
    CHOSEN = "chosen"  # a supervisor reviewed a call the sample did not pick


@dataclass(frozen=True)
class Candidate:
    linkedid: str
    agent: str
    score: int | None
    category: str


@dataclass(frozen=True)
class Pick:
    linkedid: str
    agent: str
    reason: SampleReason


def _reason(call: Candidate, settings: QualitySettings) -> SampleReason | None:
    if call.category and call.category in settings.complaint_categories:
        return SampleReason.COMPLAINT
    if call.score is not None and call.score <= settings.low_score_at_most:
        return SampleReason.LOW_SCORE
    return None


def pick(
    day: date,
    calls: Sequence[Candidate],
    settings: QualitySettings,
    drawn_before: Mapping[str, int] | None = None,
) -> list[Pick]:
    """The day's picks among ``calls`` (the ones not sampled yet); ``drawn_before``: the
    random picks each agent already has that day, so a second sampling tops them up to
    ``sample_per_agent_per_day`` and no more."""
    picks: list[Pick] = []
    rest: dict[str, list[Candidate]] = {}
    for call in calls:
        reason = _reason(call, settings)
        if reason is None:
            rest.setdefault(call.agent, []).append(call)
        else:
            picks.append(Pick(call.linkedid, call.agent, reason))
    for agent, pool in sorted(rest.items()):
        wanted = settings.sample_per_agent_per_day - (drawn_before or {}).get(agent, 0)
        ranked = sorted(pool, key=lambda call: _rank(day, agent, call.linkedid))
        picks += [Pick(c.linkedid, agent, SampleReason.RANDOM) for c in ranked[: max(wanted, 0)]]
    return picks


def _rank(day: date, agent: str, linkedid: str) -> bytes:
    """A call's place in the day's draw for its agent: a hash, fair and repeatable."""
    return hashlib.sha256(f"{day.isoformat()}:{agent}:{linkedid}".encode()).digest()
