"""``hotline call``: a real SIP call from the carrier simulator into the hotline.

The simulator originates ``PJSIP/<hotline number>@hotline``; once the hotline answers, the
simulator's ``caller`` context announces the SIP Call-ID in a ``HotlineTestCall`` user event,
presses the requested digits (RFC 4733) and stays on the line. The hotline side stores the
same Call-ID on its record, which is how the record of this very call is found.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass

from hotline.ami import AmiClient, AmiEvent
from hotline.callrecord import CallRecord
from hotline.config import Settings
from hotline.db import CallRecordRepository
from hotline.errors import HotlineError

__all__ = ["CallOptions", "TestCallError", "place_call", "wait_for_record"]

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

    def __post_init__(self) -> None:
        if not _DTMF.match(self.press):
            raise ValueError("press: digits 0-9, * and # only (w = half-second pause)")
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


async def place_call(settings: Settings, options: CallOptions) -> PlacedCall:
    """Place the call and return once it has ended on the caller's side."""
    trace = uuid.uuid4().hex
    answered: asyncio.Future[PlacedCall] = asyncio.get_running_loop().create_future()
    ended = asyncio.Event()

    def on_event(event: AmiEvent) -> None:
        if event.name == "UserEvent" and event.get("Trace") == trace and not answered.done():
            answered.set_result(PlacedCall(event.get("CallID", ""), event.get("Channel", "")))
        elif (
            event.name == "Hangup"
            and answered.done()
            and event.get("Channel") == answered.result().channel
        ):
            ended.set()

    ami = carrier_client(settings)
    ami.subscribe(on_event, ("UserEvent", "Hangup"))
    await ami.connect()
    try:
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
                f"TRACE={trace}",
                f"PRESS={options.press}",
                f"PRESS_AFTER={options.press_after:g}",
                f"STAY={options.stay:g}",
            ],
        )
        try:
            placed = await asyncio.wait_for(answered, options.answer_timeout + 5)
        except TimeoutError as exc:
            raise TestCallError(f"the hotline did not answer {number} in time") from exc
        log.info("test call answered, SIP Call-ID %s", placed.sip_call_id)
        await asyncio.wait_for(ended.wait(), options.press_after + options.stay + 60)
        return placed
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
