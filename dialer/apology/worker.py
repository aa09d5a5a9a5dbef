"""The apology loop: close tickets that can no longer be reached, send their SMS.

Every ``sms.poll_seconds``: tickets past their deadline (or whose calls are used up) become
``unreachable`` with an apology SMS queued (once per ticket); a customer's "call me later"
that would fall after the deadline is pulled in before it; due SMS are posted to the
gateway. A post that fails (network, non-2xx) is tried again after ``retry_seconds``,
doubled each time up to ``retry_max_seconds``, at most ``max_attempts`` times; every post
of a row carries the same ``Idempotency-Key``, so a gateway that honours it delivers the
SMS once even when our acknowledgement was lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from dialer.apology.outbox import SmsOut, SmsOutbox
from dialer.apology.store import ApologyStore
from hotline.config_apology import ApologySettings
from hotline.db.models_apology import ApologyTicketRow
from hotline.periodic import Periodic

__all__ = ["ApologyWorker", "sms_text"]

log = logging.getLogger(__name__)

PULL_IN_MARGIN = timedelta(minutes=5)


def sms_text(settings: ApologySettings, site: str, ticket: ApologyTicketRow) -> str:
    day = ticket.contact_date
    return settings.sms_text[ticket.kind].format(
        site=site, date=f"{day.month}月{day.day}日", acceptance=ticket.acceptance_no
    )


class ApologyWorker:
    def __init__(
        self,
        settings: ApologySettings,
        site: str,
        store: ApologyStore,
        outbox: SmsOutbox,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self._site = site
        self._store = store
        self._outbox = outbox
        self._clock = clock
        self._loop = Periodic("apology", settings.sms.poll_seconds, self.tick, log)
        self._http: aiohttp.ClientSession | None = None
        self.sent = 0

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.settings.sms.timeout_seconds)
        )
        await self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def tick(self) -> None:
        now = self._clock()
        for ticket_id in await self._store.settle(
            now, lambda t: sms_text(self.settings, self._site, t)
        ):
            log.info("apology: ticket %s not reached; apology SMS queued", ticket_id)
        pulled = await self._store.pull_in(now, PULL_IN_MARGIN)
        if pulled:
            log.info("apology: %d call(s) moved before their deadline", pulled)
        if self.settings.sms.url and self._http is not None:
            lease = timedelta(seconds=self.settings.sms.timeout_seconds * 2 + 5)
            for sms in await self._outbox.lease_sms(now, lease):
                await self._send(sms)

    async def _send(self, sms: SmsOut) -> None:
        assert self._http is not None
        sms_settings = self.settings.sms
        headers = {"Idempotency-Key": f"hotline-sms-{sms.id}"}
        token = sms_settings.token.get_secret_value()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = {"id": sms.id, "to": sms.number, "text": sms.text, "ticket_id": sms.ticket_id}
        error, ref = "", ""
        try:
            async with self._http.post(sms_settings.url, json=body, headers=headers) as response:
                if 200 <= response.status < 300:
                    ref = _reference(await _json_or_empty(response))
                else:
                    error = f"gateway answered {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"gateway unreachable: {exc or type(exc).__name__}"
        now = self._clock()
        if not error:
            self.sent += 1
            log.info("apology SMS %s for ticket %s sent (%s)", sms.id, sms.ticket_id, ref or "-")
            await self._outbox.sms_result(sms.id, now, ref=ref)
            return
        tries = sms.attempts + 1
        retry_at = None
        if tries < sms_settings.max_attempts:
            delay = min(
                sms_settings.retry_seconds * 2 ** (tries - 1), sms_settings.retry_max_seconds
            )
            retry_at = now + timedelta(seconds=delay)
        log.warning(
            "apology SMS %s (ticket %s) try %d failed: %s; %s",
            sms.id,
            sms.ticket_id,
            tries,
            error,
            "given up" if retry_at is None else f"again at {retry_at:%H:%M:%S}",
        )
        await self._outbox.sms_result(sms.id, now, error=error, retry_at=retry_at)


async def _json_or_empty(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except ValueError:
        return {}


def _reference(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("message_id", "id", "ref"):
            if isinstance(body.get(key), str | int):
                return str(body[key])
    return ""
