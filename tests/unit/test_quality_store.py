"""Quality reviews in the database (SQLite and PostgreSQL): the day's sample, in the
quality zone's day; a second sample adds nothing twice; a score saved, a call outside the
sample reviewed on demand; the per-agent and per-item reports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.callrecord import CallRecord, Direction, Disposition
from hotline.db import CallRecordRepository, session_factory
from hotline.quality.config import DEFAULT_FORM, QualitySettings
from hotline.quality.form import form_json, total
from hotline.quality.sampling import pick
from hotline.quality.store import QaStore, Review

DAY = date(2026, 12, 4)
# 08:00 in Shanghai on DAY; the last call at 23:30 there is still DAY, 00:30 is the next
T0 = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)
SETTINGS = QualitySettings(sample_per_agent_per_day=1)


def call(
    linkedid: str, agent: str, minutes: float, score: int | None = 9, category: str = ""
) -> CallRecord:
    start = T0 + timedelta(minutes=minutes)
    return CallRecord(
        linkedid=linkedid,
        direction=Direction.INBOUND,
        started_at=start,
        answered_at=start,
        ended_at=start + timedelta(minutes=3),
        disposition=Disposition.ANSWERED,
        agent=agent,
        talk_seconds=120.0 if agent else None,
        score=score,
        category=category,
    )


async def test_sample_review_and_report(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    records, store = CallRecordRepository(sessions), QaStore(sessions, SETTINGS.timezone)
    await records.save_many(
        [
            (call("a1", "1001", 0), []),
            (call("a2", "1001", 10), []),
            (call("a3", "1001", 20, score=3), []),  # low score: always
            (call("b1", "1002", 30, category="complaints"), []),  # complaint: always
            (call("b2", "1002", 15.5 * 60), []),  # 23:30 in Shanghai: still the day
            (call("next", "1002", 16.5 * 60), []),  # 00:30 the next day there
            (call("ivr", "", 40), []),  # no agent took it: never sampled
        ]
    )
    found, drawn = await store.candidates(DAY)
    assert {c.linkedid for c in found} == {"a1", "a2", "a3", "b1", "b2"} and drawn == {}
    assert await store.add(DAY, pick(DAY, found, SETTINGS, drawn)) == 4
    reviews = {r["linkedid"]: r for r in await store.reviews(DAY)}
    reasons = sorted((r["agent"], r["reason"]) for r in reviews.values())
    assert reasons == [
        ("1001", "low_score"),
        ("1001", "random"),
        ("1002", "complaint"),
        ("1002", "random"),
    ]
    assert reviews["b1"]["status"] == "open" and reviews["b1"]["day"] == "2026-12-04"
    # sampling the day again: the agents have their one random pick each already
    found, drawn = await store.candidates(DAY)
    assert drawn == {"1001": 1, "1002": 1}
    assert await store.add(DAY, pick(DAY, found, SETTINGS, drawn)) == 0
    # scores: one sampled call, and one the sample left out (a supervisor's choice)
    scores = {item.key: 10 for item in DEFAULT_FORM}
    sampled = next(iter(reviews))
    left_out = next(c for c in ("a1", "a2", "b2") if c not in reviews)
    at = T0 + timedelta(hours=10)
    for linkedid, changes in ((sampled, {"greeting": 5}), (left_out, {})):
        given = scores | changes
        saved = await store.save(
            Review(
                linkedid,
                given,
                "ok",
                total(DEFAULT_FORM, given),
                "sup",
                form_json(DEFAULT_FORM),
                at,
            )
        )
        assert saved is not None and saved["status"] == "reviewed"
    chosen = await store.get(left_out)
    assert chosen is not None and chosen["reason"] == "chosen" and chosen["total"] == 100.0
    no_agent = Review("ivr", scores, "", 100.0, "sup", form_json(DEFAULT_FORM), at)
    assert await store.save(no_agent) is None
    # the reports
    since, until = T0 - timedelta(hours=8), T0 + timedelta(hours=16)
    agents = await store.agent_report(since, until)
    assert sum(row["reviewed"] for row in agents) == 2
    items = {row["item"]: row for row in await store.item_report(since, until)}
    assert items["greeting"]["average"] == 7.5 and items["greeting"]["reviews"] == 2
    assert items["closing"]["average"] == 10 and "感谢您的来电" in items["closing"]["title"]
