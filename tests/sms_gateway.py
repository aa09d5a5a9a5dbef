"""A fake SMS gateway for the apology tests: a local aiohttp server on 127.0.0.1.

It answers 503 ``fail`` times, then 200 with a message id; it keeps every request (body
and ``Idempotency-Key``) and the ticket ids of the SMS it accepted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

__all__ = ["FakeSmsGateway", "sms_gateway"]


class FakeSmsGateway:
    def __init__(self) -> None:
        self.fail = 0
        self.url = ""
        self.requests: list[tuple[dict[str, Any], str]] = []  # body, Idempotency-Key
        self.delivered: list[str] = []  # ticket ids of the SMS it accepted

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append((body, request.headers.get("Idempotency-Key", "")))
        if self.fail > 0:
            self.fail -= 1
            return web.json_response({"error": "try later"}, status=503)
        self.delivered.append(str(body.get("ticket_id", "")))
        return web.json_response({"message_id": f"m{len(self.requests)}"})


@asynccontextmanager
async def sms_gateway() -> AsyncIterator[FakeSmsGateway]:
    fake = FakeSmsGateway()
    app = web.Application()
    app.router.add_post("/sms", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("/sms"))
    try:
        yield fake
    finally:
        await server.close()
