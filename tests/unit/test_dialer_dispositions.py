"""Dispositions from AMI event sequences, and the in-flight table's reconciliation.

The sequences are the ones Asterisk 22 produced in the sandbox for an Originate with
``ChannelId`` (see ``dialer.dispositions``), including the two orders in which the
OriginateResponse and the Hangup arrive.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from dialer.dispositions import AttemptTracker, Signal, disposition_of
from dialer.inflight import InFlightTable
from dialer.repository import Answered, Finished, InFlight
from dialer.states import AttemptStatus, Disposition

CODE = "dl-7-1-abcdef01"
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
Ev = dict[str, str]


def new() -> Ev:
    return {"Event": "Newchannel", "Uniqueid": CODE, "Linkedid": CODE, "ChannelState": "0"}


def state(value: str) -> Ev:
    return {"Event": "Newstate", "Uniqueid": CODE, "Linkedid": CODE, "ChannelState": value}


def dial_end(status: str) -> Ev:
    return {"Event": "DialEnd", "DestUniqueid": CODE, "DialStatus": status}


def response(ok: bool, reason: int) -> Ev:
    return {
        "Event": "OriginateResponse",
        "Uniqueid": CODE,
        "Response": "Success" if ok else "Failure",
        "Reason": str(reason),
    }


def hangup(cause: int) -> Ev:
    return {"Event": "Hangup", "Uniqueid": CODE, "Linkedid": CODE, "Cause": str(cause)}


def var(name: str, value: str, uniqueid: str = CODE) -> Ev:
    return {
        "Event": "VarSet",
        "Uniqueid": uniqueid,
        "Linkedid": CODE,
        "Variable": name,
        "Value": value,
    }


ANSWERED = [new(), state("5"), state("6"), dial_end("ANSWER"), response(True, 4), hangup(16)]
SEQUENCES: list[tuple[str, list[Ev], Disposition]] = [
    ("answered", ANSWERED, Disposition.ANSWERED_HUMAN),
    ("busy", [new(), dial_end("BUSY"), response(False, 0), hangup(17)], Disposition.BUSY),
    ("no answer", [new(), state("5"), response(False, 3), hangup(19)], Disposition.NO_ANSWER),
    (
        "congestion",
        [new(), dial_end("CONGESTION"), response(False, 0), hangup(34)],
        Disposition.CONGESTION,
    ),
    (
        "unallocated (response last)",
        [new(), dial_end("NOANSWER"), hangup(1), response(False, 0)],
        Disposition.INVALID_NUMBER,
    ),
    ("rejected", [new(), hangup(21), response(False, 1)], Disposition.REJECTED),
    (
        "channel unavailable",
        [new(), dial_end("CHANUNAVAIL"), hangup(0), response(False, 0)],
        Disposition.FAILED,
    ),
    (
        "machine",
        [
            new(),
            response(True, 4),
            var("HOTLINE_AMD", "MACHINE:LONGGREETING-1500-1500"),
            hangup(16),
        ],
        Disposition.ANSWERED_MACHINE,
    ),
    (
        "human by AMD",
        [new(), response(True, 4), var("HOTLINE_AMD", "HUMAN:HUMAN-800-800"), hangup(16)],
        Disposition.ANSWERED_HUMAN,
    ),
]


@pytest.mark.parametrize(("what", "events", "expected"), SEQUENCES, ids=[s[0] for s in SEQUENCES])
def test_event_sequences_give_dispositions(
    what: str, events: list[Ev], expected: Disposition
) -> None:
    tracker = AttemptTracker(CODE)
    signals = [tracker.feed(event, T0 + timedelta(seconds=i)) for i, event in enumerate(events)]
    assert signals[-1] is Signal.FINAL
    assert Signal.FINAL not in signals[:-1]  # final only once every piece is in
    assert tracker.disposition is expected
    assert tracker.feed(hangup(16), T0) is None  # nothing after the end


def _in_channel_order(events: tuple[Ev, ...], chain: list[Ev]) -> bool:
    """The channel's own events (Stasis) keep their order; the rest may arrive anywhere."""
    positions = [next(i for i, e in enumerate(events) if e is c) for c in chain]
    return positions == sorted(positions)


def _orderings(events: list[Ev]) -> list[tuple[Ev, ...]]:
    floating = ("OriginateResponse", "DialEnd")
    chain = [e for e in events if e["Event"] not in floating]
    return [p for p in itertools.permutations(events) if _in_channel_order(p, chain)]


@pytest.mark.parametrize(("what", "events", "expected"), SEQUENCES, ids=[s[0] for s in SEQUENCES])
def test_every_arrival_order_gives_the_same_disposition(
    what: str, events: list[Ev], expected: Disposition
) -> None:
    """The OriginateResponse and DialEnd may overtake or trail any of the channel's events
    (the busy customer classed ``failed`` under load): the verdict never depends on it."""
    orderings = _orderings(events)
    assert len(orderings) > 1
    for order in orderings:
        tracker = AttemptTracker(CODE, settle=timedelta(seconds=2))
        times = [T0 + timedelta(milliseconds=100 * i) for i in range(len(order))]
        signals = [tracker.feed(event, at) for event, at in zip(order, times, strict=True)]
        if Signal.FINAL not in signals:  # waits for a response that came before the rest
            assert tracker.check(times[-1] + timedelta(seconds=1)) is None, order
            assert tracker.check(times[-1] + timedelta(seconds=2)) is Signal.FINAL, order
        assert signals.count(Signal.FINAL) <= 1, order
        assert tracker.disposition is expected, [e["Event"] for e in order]


def test_a_failure_response_waits_for_the_channel_it_may_have_overtaken() -> None:
    tracker = AttemptTracker(CODE, settle=timedelta(seconds=2))
    assert tracker.feed(response(False, 0), T0) is None  # busy? congested? not known yet
    assert tracker.check(T0 + timedelta(seconds=1)) is None
    assert tracker.feed(new(), T0 + timedelta(seconds=1.5)) is None
    assert tracker.feed(hangup(17), T0 + timedelta(seconds=1.6)) is Signal.FINAL
    assert tracker.disposition is Disposition.BUSY


def test_a_failure_response_with_no_channel_at_all_is_failed_after_the_settle() -> None:
    tracker = AttemptTracker(CODE, settle=timedelta(seconds=2))
    assert tracker.feed(response(False, 0), T0) is None
    assert tracker.check(T0 + timedelta(seconds=1.9)) is None
    assert tracker.check(T0 + timedelta(seconds=2)) is Signal.FINAL
    assert tracker.disposition is Disposition.FAILED


def test_answer_is_signalled_once_when_it_happens() -> None:
    tracker = AttemptTracker(CODE)
    signals = [tracker.feed(e, T0 + timedelta(seconds=i)) for i, e in enumerate(ANSWERED)]
    assert signals == [None, None, Signal.ANSWERED, None, None, Signal.FINAL]
    assert tracker.answered_at == T0 + timedelta(seconds=2)


def test_a_hangup_without_response_settles_after_the_grace() -> None:
    tracker = AttemptTracker(CODE, settle=timedelta(seconds=2))
    assert tracker.feed(new(), T0) is None
    assert tracker.feed(hangup(17), T0) is None  # the OriginateResponse may still come
    assert tracker.check(T0 + timedelta(seconds=1)) is None
    assert tracker.check(T0 + timedelta(seconds=2)) is Signal.FINAL
    assert tracker.disposition is Disposition.BUSY


def test_other_channels_and_optout() -> None:
    tracker = AttemptTracker(CODE)
    tracker.feed(response(True, 4), T0)
    # a flow dialled an agent: its channel's hangup is not the customer's
    assert tracker.feed({**hangup(16), "Uniqueid": "other.2"}, T0) is None
    assert tracker.feed(var("__HOTLINE_OPTOUT", "1", uniqueid="other.2"), T0) is None
    assert tracker.optout
    assert tracker.feed(hangup(16), T0) is Signal.FINAL


def test_a_flow_asking_for_another_try_makes_the_answer_later() -> None:
    tracker = AttemptTracker(CODE)
    tracker.feed(response(True, 4), T0)
    tracker.feed(var("HOTLINE_RETRY", "1"), T0)
    assert tracker.feed(hangup(16), T0) is Signal.FINAL
    assert tracker.disposition is Disposition.LATER
    machine = AttemptTracker(CODE, amd="MACHINE", retry=True, answered_at=T0)
    assert machine.disposition is Disposition.ANSWERED_MACHINE  # a machine is never "later"
    cleared = AttemptTracker(CODE, answered_at=T0)
    cleared.feed(var("HOTLINE_RETRY", "1"), T0)
    cleared.feed(var("HOTLINE_RETRY", "0"), T0)  # the flow changed its mind: answered
    assert cleared.disposition is Disposition.ANSWERED_HUMAN


@pytest.mark.parametrize(
    ("customer", "expected"),
    [
        ([var("HOTLINE_CUSTOMER_ANSWERED", "1")], Disposition.ANSWERED_HUMAN),
        (
            [var("HOTLINE_CUSTOMER_ANSWERED", "1"), var("HOTLINE_RETRY", "1")],
            Disposition.LATER,
        ),
        ([var("HOTLINE_CUSTOMER_DIAL", "BUSY")], Disposition.BUSY),
        ([var("HOTLINE_CUSTOMER_DIAL", "NOANSWER")], Disposition.NO_ANSWER),
        ([], Disposition.FAILED),  # the agent hung up before the customer was dialled
    ],
)
def test_agent_first_calls_are_judged_by_the_customers_leg(
    customer: list[Ev], expected: Disposition
) -> None:
    tracker = AttemptTracker(CODE)
    tracker.feed(response(True, 4), T0)  # the agent answered
    tracker.feed(var("HOTLINE_AGENT_FIRST", "1"), T0)
    for event in customer:
        tracker.feed(event, T0)
    assert tracker.feed(hangup(16), T0) is Signal.FINAL
    assert tracker.disposition is expected


def test_an_agent_who_never_answers_is_no_answer() -> None:
    tracker = AttemptTracker(CODE)
    tracker.feed(var("HOTLINE_AGENT_FIRST", "1"), T0)  # (set only once answered, in fact)
    tracker.feed(response(False, 3), T0)
    tracker.feed(hangup(19), T0)
    assert tracker.disposition is Disposition.NO_ANSWER


@pytest.mark.parametrize(
    ("cause", "dial_status", "reason", "expected"),
    [
        (17, "", None, Disposition.BUSY),
        (None, "BUSY", None, Disposition.BUSY),
        (None, "", 5, Disposition.BUSY),
        (None, "", 8, Disposition.CONGESTION),
        (None, "", 3, Disposition.NO_ANSWER),
        (16, "", 0, Disposition.NO_ANSWER),
        (28, "NOANSWER", 0, Disposition.INVALID_NUMBER),  # the cause is the most specific
        (None, "", None, Disposition.FAILED),
        (99, "", 0, Disposition.FAILED),
    ],
)
def test_disposition_precedence(
    cause: int | None, dial_status: str, reason: int | None, expected: Disposition
) -> None:
    assert (
        disposition_of(answered=False, cause=cause, dial_status=dial_status, reason=reason)
        is expected
    )


def table() -> InFlightTable:
    return InFlightTable(settle=2, grace=3, ring_timeout_slack=10)


def test_table_turns_events_into_database_changes() -> None:
    flights = table()
    flights.add(CODE, 1, "carrier", T0, 30).sending = False
    assert flights.feed({**new(), "Uniqueid": "unknown.1"}, T0) == []
    changes = [
        c for i, e in enumerate(ANSWERED) for c in flights.feed(e, T0 + timedelta(seconds=i))
    ]
    assert changes == [
        Answered(CODE, T0 + timedelta(seconds=2)),
        Finished(
            CODE,
            Disposition.ANSWERED_HUMAN,
            T0 + timedelta(seconds=5),
            answered_at=T0 + timedelta(seconds=2),
            cause=16,
            dial_status="ANSWER",
        ),
    ]
    assert len(flights) == 0


def row(code: str, state: str) -> dict[str, str]:
    return {"Event": "CoreShowChannel", "Uniqueid": code, "ChannelState": state}


def test_reconcile_adopts_live_channels_and_gives_missing_ones_a_grace() -> None:
    flights = table()
    flights.add("a", 1, "carrier", T0, 30).sending = False  # ringing before the gap
    flights.add("b", 1, "carrier", T0, 30).sending = False  # ended during the gap
    flights.add("c", 1, "carrier", T0, 30)  # its Originate is still being written
    at = T0 + timedelta(seconds=20)
    changes = flights.reconcile([row("a", "6")], [], at, {}, {})
    assert changes == [Answered("a", at)]  # answered while we were away
    assert flights.tick(at + timedelta(seconds=2)) == []
    [gone] = flights.tick(at + timedelta(seconds=3))
    assert isinstance(gone, Finished) and (gone.code, gone.disposition) == (
        "b",
        Disposition.UNKNOWN,
    )
    assert "c" in flights and "a" in flights


def test_a_missing_attempt_that_shows_up_in_the_grace_is_followed() -> None:
    flights = table()
    flights.add(CODE, 1, "carrier", T0, 30).sending = False
    flights.reconcile([], [], T0, {}, {})
    flights.feed(new(), T0 + timedelta(seconds=1))  # created just after the snapshot
    assert flights.tick(T0 + timedelta(seconds=10)) == []
    assert CODE in flights


def test_restart_restores_stored_attempts() -> None:
    flights = table()
    stored = [
        InFlight("up-live", 1, AttemptStatus.UP, T0),
        InFlight("up-gone", 1, AttemptStatus.UP, T0),
        InFlight("ring-gone", 2, AttemptStatus.DIALING, T0),
    ]
    at = T0 + timedelta(seconds=30)
    assert flights.reconcile([row("up-live", "6")], stored, at, {1: 30}, {1: "carrier"}) == []
    ended = {c.code: c for c in flights.tick(at + timedelta(seconds=3)) if isinstance(c, Finished)}
    assert ended["up-gone"].disposition is Disposition.ANSWERED_HUMAN  # answered: never redialled
    assert ended["ring-gone"].disposition is Disposition.UNKNOWN
    assert "up-live" in flights
    [done] = flights.feed({**hangup(16), "Uniqueid": "up-live"}, at + timedelta(seconds=5))
    assert isinstance(done, Finished) and done.disposition is Disposition.ANSWERED_HUMAN


def test_stale_attempts_are_checked_against_live_channels() -> None:
    flights = table()
    flights.add("lost", 1, "carrier", T0, 30).sending = False
    flights.add("alive", 1, "carrier", T0, 30).sending = False
    assert flights.stale(T0 + timedelta(seconds=39)) == []
    stale = flights.stale(T0 + timedelta(seconds=41))
    assert sorted(stale) == ["alive", "lost"]
    changes = flights.reconcile([row("alive", "5")], [], T0, {}, {}, only=stale)
    assert [(c.code, c.disposition) for c in changes if isinstance(c, Finished)] == [
        ("lost", Disposition.UNKNOWN)
    ]
    assert "alive" in flights


def test_close_for_never_dialled_attempts() -> None:
    flights = table()
    flights.add(CODE, 1, "carrier", T0, 30)
    [closed] = flights.close(CODE, Disposition.FAILED, T0, "not sent", refund=True)
    assert isinstance(closed, Finished) and closed.refund and closed.detail == "not sent"
    assert flights.close(CODE, Disposition.FAILED, T0, "again") == []


@pytest.mark.parametrize(
    ("value", "kept", "disposition"),
    [
        ("MACHINE:INITIALSILENCE-2500-2500", "MACHINE:INITIALSILENCE", "answered_machine"),
        (
            "MACHINE:INITIALSILENCE-2500-2500:person",
            "MACHINE:INITIALSILENCE:person",
            "answered_human",
        ),
        ("MACHINE:LONGGREETING-1520-1500", "MACHINE:LONGGREETING", "answered_machine"),
        ("MACHINE:MAXWORDS-4-4", "MACHINE:MAXWORDS", "answered_machine"),
        ("HUMAN:HUMAN-600-800", "HUMAN:HUMAN", "answered_human"),
        ("HUMAN:HUMAN-600-800:", "HUMAN:HUMAN", "answered_human"),  # the dialplan's form
        ("MACHINE:INITIALSILENCE-2500-2500:", "MACHINE:INITIALSILENCE", "answered_machine"),
        ("NOTSURE:TOOLONG-5000", "NOTSURE:TOOLONG", "answered_human"),
        ("HANGUP:", "HANGUP", "answered_human"),
        ("MACHINE:x\r\nAction: Hangup", "MACHINE:XACTION", "answered_machine"),
    ],
)
def test_the_amd_verdict_is_kept_with_its_cause_and_the_policy(
    value: str, kept: str, disposition: str
) -> None:
    """AMD's MACHINE for initial silence is a person when the campaign says so (the
    dialplan adds ``:person``); a machine's greeting is still a machine."""
    tracker = AttemptTracker(CODE, answered_at=T0)
    tracker.feed(var("HOTLINE_AMD", value), T0)
    assert tracker.amd == kept
    assert tracker.disposition is Disposition(disposition)
