"""Runs the hold machine of every agent call: AMI events and API requests in, moves out.

Who is on which call comes from Asterisk: ``AgentConnect`` (the queue's caller and agent
channels), the agent's hold key (``HotlineHoldKey``, which names its peer, so a key pressed
after a service restart still works), the hold dialplan's HOTLINE_HOLD variable, the
agent's phone (``Hold``/``Unhold``) and hang-ups. Event handling is synchronous (it runs on
the AMI reader); the moves it decides run as tasks, one call's moves in order.

The dialplan does what must not depend on the service (the caller's answer to the consent
question, the tone to the agent on a refusal, the requeue when the service is gone), so the
machine's ``move_to_hold`` after consent and ``tone_to_agent`` need no action here.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hotline.config_hold import HoldSettings
from hotline.errors import AmiError
from hotline.record_fields import Clock, agent_id, safe_token, utc_now
from ivr.hold.actions import HoldMoves, HoldParties, valid_channel
from ivr.hold.machine import Effect, HoldCall, HoldLimits, HoldOutcome, HoldPhase, HoldTrigger

__all__ = ["HoldConflict", "HoldController", "NoSuchCall"]

log = logging.getLogger(__name__)

HOLD_KEY_EVENT = "HotlineHoldKey"
EVENTS = ("AgentConnect", "UserEvent", "VarSet", "Hangup", "Hold", "Unhold")
ALERT_MEMORY = 200
_AGENT_CHANNEL = re.compile(r"^PJSIP/agent-([0-9]{1,16})-[0-9a-f]+$")


class NoSuchCall(LookupError):
    """No agent call with that linkedid is in progress."""


class HoldConflict(Exception):
    """The call is not in a state for that request (e.g. already held)."""


@dataclass(slots=True)
class _Call:
    parties: HoldParties
    hold: HoldCall
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class HoldController:
    """The holds of all calls in progress."""

    def __init__(self, moves: HoldMoves, settings: HoldSettings, clock: Clock = utc_now) -> None:
        self._moves = moves
        self._limits = HoldLimits(
            settings.consent, float(settings.soft_seconds), float(settings.hard_seconds)
        )
        self._clock = clock
        self._calls: dict[str, _Call] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.alerts: deque[dict[str, Any]] = deque(maxlen=ALERT_MEMORY)

    # events (AMI reader: synchronous, never raises)

    def agent_of(self, linkedid: str) -> str | None:
        """The agent on this call now, or None when no agent call of it is in progress."""
        call = self._calls.get(linkedid)
        return None if call is None else call.parties.agent

    def feed(self, event: Mapping[str, str]) -> None:
        try:
            self._feed(event)
        except Exception:  # a bug here must not stop the AMI reader
            log.exception("hold: could not handle %s", event.get("Event"))

    def _feed(self, event: Mapping[str, str]) -> None:
        name = event.get("Event", "")
        linkedid = safe_token(event.get("Linkedid"))
        channel = safe_token(event.get("Channel"))
        if name == "AgentConnect":
            self._connected(linkedid, event)
        elif name == "UserEvent" and event.get("UserEvent") == HOLD_KEY_EVENT:
            self._key(linkedid, channel, safe_token(event.get("Peer")), event.get("Held") == "1")
        elif name == "VarSet" and event.get("Variable") == "HOTLINE_HOLD":
            self._dialplan_said(linkedid, event.get("Value", ""))
        elif name == "Hangup":
            self._hung_up(linkedid, channel)
        elif name in ("Hold", "Unhold"):
            self._phone(linkedid, channel, held=name == "Hold")

    def _connected(self, linkedid: str, event: Mapping[str, str]) -> None:
        caller = safe_token(event.get("Channel"))
        agent_channel = safe_token(event.get("DestChannel"))
        if not (linkedid and valid_channel(caller) and valid_channel(agent_channel)):
            return
        agent = agent_id(event.get("Interface"), event.get("MemberName"))
        parties = HoldParties(linkedid, caller, agent_channel, agent)
        self._calls[linkedid] = _Call(parties, HoldCall(self._limits))

    def _key(self, linkedid: str, agent_channel: str, peer: str, waiting: bool) -> None:
        call = self._calls.get(linkedid)
        if call is None or call.parties.agent_channel != agent_channel:
            if not (linkedid and valid_channel(agent_channel) and valid_channel(peer)):
                log.warning("[%s] hold key without a usable peer ignored", linkedid or "-")
                return
            match = _AGENT_CHANNEL.fullmatch(agent_channel)
            agent = match.group(1) if match else agent_channel
            call = self._calls[linkedid] = _Call(
                HoldParties(linkedid, peer, agent_channel, agent), HoldCall(self._limits)
            )
        now = self._clock()
        if waiting and call.hold.phase is not HoldPhase.HELD:
            # held before a service restart: the agent's key still takes the caller back
            self._spawn(call, self._moves.rejoin(call.parties, automatic=False))
            return
        if call.hold.phase is HoldPhase.HELD:
            self._apply(call, call.hold.resume(now))
        else:
            agent = call.parties.agent
            self._apply(call, call.hold.request(now, agent, HoldTrigger.FEATURE_CODE))

    def _dialplan_said(self, linkedid: str, value: str) -> None:
        call = self._calls.get(linkedid)
        if call is None:
            return
        now = self._clock()
        if value == "held" and call.hold.phase is HoldPhase.ASKING:
            call.hold.consent(now, accepted=True)  # the dialplan already holds the caller
        elif value == "held" and call.hold.current is not None:
            # the music starts after the request prompt: the limits count from here, as
            # the record and the dialplan's own deadline do
            call.hold.current.started_at = now
        elif value == "refused":
            call.hold.consent(now, accepted=False)  # and already bridged them back, with a tone
        elif value == "requeued":  # the dialplan sent the caller back to the queue itself
            call.hold.agent_hung_up(now)
            self._calls.pop(linkedid, None)

    def _hung_up(self, linkedid: str, channel: str) -> None:
        call = self._calls.get(linkedid)
        if call is None:
            return
        now = self._clock()
        if channel == call.parties.agent_channel:
            self._calls.pop(linkedid, None)
            self._apply(call, call.hold.agent_hung_up(now))
        elif channel == call.parties.caller:
            self._calls.pop(linkedid, None)
            self._apply(call, call.hold.caller_hung_up(now))

    def _phone(self, linkedid: str, channel: str, *, held: bool) -> None:
        call = self._calls.get(linkedid)
        if call is None or channel != call.parties.agent_channel:
            return  # the caller's own phone, or a call without an agent
        now = self._clock()
        if held and call.hold.phase is HoldPhase.CONNECTED:
            call.hold.request(now, call.parties.agent, HoldTrigger.PHONE)
            self._spawn(call, self._moves.mark_phone_hold(call.parties, True))
        elif not held and self._phone_held(call):
            call.hold.resume(now)
            self._spawn(call, self._moves.mark_phone_hold(call.parties, False))

    def prune(self, live: Iterable[Mapping[str, str]]) -> None:
        """After an AMI (re)login: forget calls whose caller's channel is gone (their
        Hangup fell into the gap). ``live``: the CoreShowChannel rows."""
        names = {safe_token(row.get("Channel")) for row in live}
        for linkedid, call in list(self._calls.items()):
            if call.parties.caller not in names:
                log.info("[%s] hold: call gone while AMI was away", linkedid)
                self._calls.pop(linkedid, None)

    # requests (API) and the limits

    async def hold(self, linkedid: str, by: str = "api") -> dict[str, Any]:
        call = self._known(linkedid)
        if call.hold.phase is not HoldPhase.CONNECTED:
            raise HoldConflict(f"call {linkedid} is {call.hold.phase.value}, not connected")
        effects = call.hold.request(self._clock(), by, HoldTrigger.API)
        async with call.lock:
            await self._run(call, effects)
        return self.view(call)

    async def resume(self, linkedid: str) -> dict[str, Any]:
        call = self._known(linkedid)
        if call.hold.phase is not HoldPhase.HELD:
            raise HoldConflict(f"call {linkedid} is {call.hold.phase.value}, not held")
        if self._phone_held(call):
            raise HoldConflict(f"call {linkedid} is held by the agent's phone: unhold it there")
        effects = call.hold.resume(self._clock())
        async with call.lock:
            await self._run(call, effects)
        return self.view(call)

    def tick(self) -> None:
        """Check the limits of every held call (the feature calls this every second)."""
        now = self._clock()
        for call in list(self._calls.values()):
            self._apply(call, call.hold.tick(now))

    def get(self, linkedid: str) -> dict[str, Any] | None:
        call = self._calls.get(linkedid)
        return None if call is None else self.view(call)

    def views(self) -> list[dict[str, Any]]:
        return [self.view(call) for call in self._calls.values()]

    def view(self, call: _Call) -> dict[str, Any]:
        now, segment = self._clock(), call.hold.current
        return {
            "linkedid": call.parties.linkedid,
            "agent": call.parties.agent,
            "phase": call.hold.phase.value,
            "hold_count": call.hold.hold_count,
            "held_seconds": None
            if segment is None
            else round((now - segment.started_at).total_seconds(), 1),
            "trigger": None if segment is None else segment.trigger.value,
            "alerted": bool(segment and segment.alerted),
        }

    async def drain(self) -> None:
        """Wait for the moves in flight (stop, tests)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # moves

    def _known(self, linkedid: str) -> _Call:
        call = self._calls.get(linkedid)
        if call is None:
            raise NoSuchCall(linkedid)
        return call

    @staticmethod
    def _phone_held(call: _Call) -> bool:
        segment = call.hold.current
        return segment is not None and segment.trigger is HoldTrigger.PHONE

    def _apply(self, call: _Call, effects: list[Effect]) -> None:
        if effects:
            self._spawn(call, self._run(call, effects))

    def _spawn(self, call: _Call, work: Any) -> None:
        async def locked() -> None:
            async with call.lock:
                try:
                    await work
                except AmiError as exc:
                    log.warning("[%s] hold move failed: %s", call.parties.linkedid, exc)

        task = asyncio.get_running_loop().create_task(locked())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, call: _Call, effects: list[Effect]) -> None:
        parties, segment = call.parties, call.hold.segments[-1] if call.hold.segments else None
        phone = segment is not None and segment.trigger is HoldTrigger.PHONE
        for effect in effects:
            if effect in ("ask_consent", "announce_hold"):
                by, trigger = self._asker(call)
                try:
                    await self._moves.hold(parties, by, trigger, ask=effect == "ask_consent")
                except AmiError:
                    call.hold = HoldCall(self._limits)  # nothing moved: still connected
                    raise
            elif effect == "rejoin":
                automatic = segment is not None and segment.outcome is HoldOutcome.AUTO_RESUMED
                await self._moves.rejoin(parties, automatic=automatic)
            elif effect == "requeue" and not phone:  # a phone hold: the dialplan requeues
                await self._moves.requeue(parties)
            elif effect == "free_agent":
                await self._moves.free_agent(parties)
            elif effect == "alert_agent":
                self._alert(call, segment)
                if not phone:
                    await self._moves.alert_agent(parties)

    @staticmethod
    def _asker(call: _Call) -> tuple[str, str]:
        """Who asked for the hold being started, and how."""
        if call.hold.asked is not None:
            by, trigger = call.hold.asked
        else:
            by, trigger = call.hold.segments[-1].started_by, call.hold.segments[-1].trigger
        return by, trigger.value

    def _alert(self, call: _Call, segment: Any) -> None:
        now = self._clock()
        held = 0.0 if segment is None else (now - segment.started_at).total_seconds()
        kind = "hard_limit" if held >= self._limits.hard_seconds else "soft_limit"
        alert = {
            "at": now.isoformat(),
            "linkedid": call.parties.linkedid,
            "agent": call.parties.agent,
            "kind": kind,
            "held_seconds": round(held, 1),
        }
        self.alerts.append(alert)
        log.warning("[%s] hold %s: agent %s, %.0f s", alert["linkedid"], kind, alert["agent"], held)
