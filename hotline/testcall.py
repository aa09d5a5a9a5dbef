"""``hotline call``: a real SIP call from the carrier simulator into the hotline.

The simulator originates ``PJSIP/<hotline number>@hotline``; once the hotline answers, the
simulator's ``caller`` context announces the SIP Call-ID in a ``HotlineTestCall`` user event,
presses the requested digits (RFC 4733) and stays on the line. The hotline side stores the
same Call-ID on its record, which is how the record of this very call is found.

``place_call`` runs a scripted call to its end (digits after a fixed delay, ``w`` = 0.5 s
pause). ``live_call`` keeps the call open for the caller of the function to act on: press
digits at the moment it chooses (AMI ``PlayDTMF`` on the simulator's channel, sent as
RFC 4733 like a phone would), hang up, or wait for the hotline to hang up. Integration
tests and the load bench use it to press a key when a prompt starts rather than after a
guessed delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from hotline.ami import AmiClient, AmiEvent
from hotline.callrecord import CallRecord
from hotline.config import Settings
from hotline.db import CallRecordRepository
from hotline.errors import AmiError, HotlineError

__all__ = ["CallOptions", "LiveCall", "TestCallError", "live_call", "place_call", "wait_for_record"]

log = logging.getLogger(__name__)

_DTMF = re.compile(r"^[0-9*#wW]{0,64}$")


class TestCallError(HotlineError):
    """The test call could not be placed or its record did not appear."""


@dataclass(frozen=True)
class CallOptions:
    press: str = ""
    caller: str = ""
    press_after: float = 5.0
    stay: float = 15.0
    answer_timeout: float = 30.0
    tone: int = 0  # Hz of a tone the caller plays all along (0: silent), for recordings
    hear: bool = False  # record what the caller hears (the simulator's [hear])

    def __post_init__(self) -> None:
        if not _DTMF.fullmatch(self.press):
            raise ValueError("press: digits 0-9, * and # only (w = half-second pause)")
        if self.tone and not 100 <= self.tone <= 3400:
            raise ValueError("tone: 100-3400 Hz (the telephone band)")
        if self.caller and not self.caller.isdigit():
            raise ValueError("caller: digits only")


@dataclass(frozen=True)
class PlacedCall:
    sip_call_id: str
    channel: str


def carrier_client(settings: Settings) -> AmiClient:
    carrier = settings.carrier
    return AmiClient(
        carrier.ami_host,
        carrier.ami_port,
        carrier.ami_user,
        carrier.ami_secret.get_secret_value(),
        ping_interval=10.0,
        reconnect_max=5.0,
    )


@dataclass
class _Watch:
    """The simulator's events for one originated call: its answer, then its hangup."""

    trace: str = field(default_factory=lambda: uuid.uuid4().hex)
    answered: asyncio.Future[PlacedCall] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    def on_event(self, event: AmiEvent) -> None:
        answered = self.answered
        if event.name == "UserEvent" and event.get("Trace") == self.trace and not answered.done():
            answered.set_result(PlacedCall(event.get("CallID", ""), event.get("Channel", "")))
        elif (
            event.name == "Hangup"
            and answered.done()
            and event.get("Channel") == answered.result().channel
        ):
            self.ended.set()


async def _originate(
    ami: AmiClient, settings: Settings, options: CallOptions, watch: _Watch
) -> PlacedCall:
    """Dial the hotline from the simulator; the placed call once the hotline answered."""
    number = settings.inbound.number
    caller = options.caller or settings.carrier.caller_number
    await ami.action(
        "Originate",
        Channel=f"PJSIP/{number}@hotline",
        Context="caller",
        Exten="s",
        Priority="1",
        CallerID=f'"{caller}" <{caller}>',
        Timeout=str(int(options.answer_timeout * 1000)),
        Async="true",
        Variable=[
            f"TRACE={watch.trace}",
            f"PRESS={options.press}",
            f"PRESS_AFTER={options.press_after:g}",
            f"STAY={options.stay:g}",
            f"TONE={options.tone or ''}",
            f"HEAR={1 if options.hear else ''}",
        ],
    )
    try:
        placed = await asyncio.wait_for(watch.answered, options.answer_timeout + 5)
    except TimeoutError as exc:
        raise TestCallError(f"the hotline did not answer {number} in time") from exc
    log.info("test call answered, SIP Call-ID %s", placed.sip_call_id)
    return placed


async def place_call(settings: Settings, options: CallOptions) -> PlacedCall:
    """Place the call and return once it has ended on the caller's side."""
    watch = _Watch()
    ami = carrier_client(settings)
    ami.subscribe(watch.on_event, ("UserEvent", "Hangup"))
    await ami.connect()
    try:
        placed = await _originate(ami, settings, options, watch)
        await asyncio.wait_for(watch.ended.wait(), options.press_after + options.stay + 60)
        return placed
    finally:
        await ami.close()


@dataclass
class LiveCall:
    """A test call in progress, seen from the caller's phone on the simulator."""

    sip_call_id: str
    channel: str  # the simulator's channel towards the hotline
    _ami: AmiClient
    _ended: asyncio.Event

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    async def press(self, digits: str, *, tone_ms: int = 200, gap: float = 0.15) -> None:
        """Send keys now, one RFC 4733 event each (``w`` waits 0.5 s)."""
        if not _DTMF.fullmatch(digits):
            raise ValueError("press: digits 0-9, * and # only (w = half-second pause)")
        for digit in digits:
            if digit in "wW":
                await asyncio.sleep(0.5)
                continue
            await self._ami.action(
                "PlayDTMF", Channel=self.channel, Digit=digit, Duration=str(tone_ms)
            )
            await asyncio.sleep(tone_ms / 1000 + gap)

    async def hangup(self) -> None:
        """The caller hangs up (nothing happens if the call is already over)."""
        if self.ended:
            return
        with contextlib.suppress(AmiError):
            await self._ami.action("Hangup", Channel=self.channel)
        await self.wait_ended(10)

    async def wait_ended(self, within: float) -> None:
        """Until the call is over on the caller's side; TestCallError after ``within`` s."""
        try:
            await asyncio.wait_for(self._ended.wait(), within)
        except TimeoutError as exc:
            raise TestCallError(f"call {self.sip_call_id} still up after {within:g} s") from exc


@contextlib.asynccontextmanager
async def live_call(
    settings: Settings,
    caller: str = "",
    *,
    answer_timeout: float = 30.0,
    longest: float = 600.0,
    tone: int = 0,
    hear: bool = False,
) -> AsyncIterator[LiveCall]:
    """A call into the hotline, answered and held open; hung up on leaving if still up."""
    options = CallOptions(
        caller=caller,
        press_after=0,
        stay=longest,
        answer_timeout=answer_timeout,
        tone=tone,
        hear=hear,
    )
    watch = _Watch()
    ami = carrier_client(settings)
    ami.subscribe(watch.on_event, ("UserEvent", "Hangup"))
    await ami.connect()
    try:
        placed = await _originate(ami, settings, options, watch)
        call = LiveCall(placed.sip_call_id, placed.channel, ami, watch.ended)
        try:
            yield call
        finally:
            await call.hangup()
    finally:
        await ami.close()


async def wait_for_record(
    records: CallRecordRepository, sip_call_id: str, within: float = 15.0
) -> CallRecord:
    """Poll until the hotline's record of the call is final."""
    deadline = asyncio.get_running_loop().time() + within
    record = None
    while asyncio.get_running_loop().time() < deadline:
        record = await records.find_by_sip_call_id(sip_call_id)
        if record is not None and record.finished:
            return record
        await asyncio.sleep(0.2)
    state = "not found" if record is None else "not finished"
    raise TestCallError(
        f"record for SIP Call-ID {sip_call_id} {state} after {within:g} s "
        "(is `hotline serve` running?)"
    )
