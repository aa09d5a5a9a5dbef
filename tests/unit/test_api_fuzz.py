"""The whole API under random requests (hypothesis): never a 500.

Every documented route is called with random path values, query strings and bodies (JSON
of any shape, or raw bytes), by every role and by no one, against the real service's app
on SQLite with AMI down. Whatever comes in, the answer is a 2xx/4xx with a reason, or a
503 when AMI is needed; an unknown token is a 401 and a role's refusal a 403.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from hotline.config import Settings
from hotline.db import upgrade
from hotline.service import HotlineService
from hotline.web.openapi import ROUTES
from hotline.web.roles import Role
from hotline.web.tokens import TokenStore

ADMIN = "fuzz-admin-token"
SAMPLES = ["1001", "1700000000.1", "13900000001", "visits", "1", "pause", "x" * 70, ""]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    raw: bytes | None
    role: str


@st.composite
def calls(draw: st.DrawFn) -> Call:
    method, template, *_ = draw(st.sampled_from(ROUTES))
    words = st.sampled_from(SAMPLES) | st.text(max_size=24)

    def fill(name: str) -> str:
        return quote(draw(words), safe="") or "x"

    path = template
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + fill(path[start + 1 : end]) + path[end + 1 :]
    keys = st.sampled_from(
        ["limit", "since", "until", "format", "status", "cursor", "seed", "number", "direction"]
    )
    query = draw(st.dictionaries(keys, st.text(max_size=20), max_size=3))
    raw = draw(st.none() | st.binary(max_size=40))
    body = draw(json_values) if raw is None else None
    role = draw(st.sampled_from(["admin", "supervisor", "agent", "nobody"]))
    return Call(method, path, query, body, raw, role)


async def run_all(folder: Path, batch: list[Call]) -> list[tuple[Call, int, str]]:
    url = f"sqlite+aiosqlite:///{folder / 'fuzz.db'}"
    await upgrade(url)
    service = HotlineService(
        Settings(
            var_dir=folder,
            database={"url": url, "spool_dir": folder / "spool"},
            web={"token": ADMIN},
            asterisk={"ami_secret": "a"},
            carrier={"ami_secret": "c"},
        )
    )
    tokens = {"admin": ADMIN, "nobody": "no-such-token"}
    store = TokenStore(service.sessions)
    tokens["supervisor"] = (await store.create("s", Role.SUPERVISOR))[1]
    tokens["agent"] = (await store.create("a", Role.AGENT, "1001"))[1]
    client: TestClient[Any, Any] = TestClient(TestServer(service.web_app))
    await client.start_server()
    answers = []
    try:
        for call in batch:
            data = call.raw if call.raw is not None else json.dumps(call.body).encode()
            response = await client.request(
                call.method,
                call.path,
                params=call.query,
                data=data,
                headers={
                    "Authorization": f"Bearer {tokens[call.role]}",
                    "Content-Type": "application/json",
                },
            )
            streaming = call.path == "/api/v1/live" and response.status == 200  # never ends
            text = "" if streaming else await response.text()
            answers.append((call, response.status, text[:200]))
            response.close()
    finally:
        await client.close()
        await service.engine.dispose()
    return answers


@settings(
    max_examples=30,
    deadline=None,
    # a failure is reported as found: shrinking 25-request batches takes minutes
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(calls(), min_size=25, max_size=25))
# found by this test: a body that is not UTF-8 made resume answer 500
@example(batch=[Call("POST", "/api/v1/calls/1.1/resume", {}, None, b"\xde\xad", "admin")])
def test_no_request_gets_a_500(tmp_path_factory: Any, batch: list[Call]) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    for call, status, text in asyncio.run(run_all(folder, batch)):
        assert status < 500 or status == 503, (call, status, text)
        if call.role == "nobody" and call.path != "/health":
            assert status in (401, 404, 405), (call, status)
        if status == 403:
            assert call.role in ("supervisor", "agent") and "error" in text, (call, text)
        if status == 400:
            assert '"error"' in text, (call, text)
