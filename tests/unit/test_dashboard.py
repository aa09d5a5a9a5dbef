"""The console pages on the real service app (SQLite): login with a token, nothing without
one, the live page and its script, reports with SVG charts, pausing a campaign."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.callrecord import CallRecord, Direction, Disposition
from hotline.config import Settings
from hotline.db import upgrade
from hotline.service import HotlineService
from hotline.web.app import DEPS
from hotline.web.charts import bars
from hotline.web.roles import Role
from hotline.web.tokens import TokenStore

ADMIN = "console-admin-token"


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[tuple[TestClient[Any, Any], HotlineService]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    await upgrade(url)
    service = HotlineService(
        Settings(
            var_dir=tmp_path,
            database={"url": url, "spool_dir": tmp_path / "spool"},
            web={"token": ADMIN},
            asterisk={"ami_secret": "a"},
            carrier={"ami_secret": "c"},
        )
    )
    client: TestClient[Any, Any] = TestClient(TestServer(service.web_app))
    await client.start_server()
    yield client, service
    await client.close()
    await service.engine.dispose()


async def test_nothing_is_shown_without_a_login(
    console: tuple[TestClient[Any, Any], HotlineService],
) -> None:
    client, _ = console
    for path in ("/ui", "/ui/live", "/ui/reports", "/ui/campaigns"):
        response = await client.get(path, allow_redirects=False)
        assert (response.status, response.headers["Location"]) == (303, "/ui/login"), path
    page = await client.get("/ui/login")
    assert page.status == 200 and "令牌" in await page.text()
    assert (await client.get("/ui/static/live.js")).status == 200  # code only, no data


async def test_a_supervisor_logs_in_and_an_agent_cannot(
    console: tuple[TestClient[Any, Any], HotlineService],
) -> None:
    client, service = console
    store = TokenStore(service.sessions)
    _, agent = await store.create("a", Role.AGENT, "1001")
    _, supervisor = await store.create("班长", Role.SUPERVISOR)
    for token in ("wrong", agent):
        refused = await client.post("/ui/login", data={"token": token}, allow_redirects=False)
        assert refused.status == 200 and "令牌无效" in await refused.text()
    ok = await client.post("/ui/login", data={"token": supervisor}, allow_redirects=False)
    assert (ok.status, ok.headers["Location"]) == (303, "/ui/live")
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    live = await client.get("/ui/live")
    text = await live.text()
    assert live.status == 200 and "/ui/static/live.js" in text and "班长" in text
    english = await client.get("/ui/live?lang=en")
    assert "Calls in progress" in await english.text()
    assert "Calls in progress" in await (await client.get("/ui/live")).text()  # remembered
    # the cookie also opens the API for the page's script, but not for writes from elsewhere
    assert (await client.get("/api/v1/calls")).status == 200
    cross = await client.post("/api/v1/campaigns", json={"name": "x"})
    assert cross.status == 403
    out = await client.post("/ui/logout", allow_redirects=False, headers=origin(client))
    assert out.status == 303
    after = await client.get("/ui/live", allow_redirects=False)
    assert after.status == 303


def origin(client: TestClient[Any, Any]) -> dict[str, str]:
    return {"Origin": str(client.make_url("")).rstrip("/")}


async def test_reports_draw_charts(console: tuple[TestClient[Any, Any], HotlineService]) -> None:
    client, _ = console
    await client.post("/ui/login", data={"token": ADMIN})
    page = await client.get("/ui/reports")
    text = await page.text()
    # service level, answer speed, score distribution, the quality review per agent
    assert page.status == 200 and text.count("<svg") == 4
    assert 'id="qa-chart"' in text
    assert "/api/v1/reports/service-level?format=csv" in text


async def test_a_campaign_is_paused_from_the_console(
    console: tuple[TestClient[Any, Any], HotlineService],
) -> None:
    client, service = console
    feature = next(f for f in service.features if f.name == "dialer")
    await feature.ops.create({"name": "visits", "type": "callback_survey"})  # type: ignore[attr-defined]
    await feature.ops.transition("visits", "start")  # type: ignore[attr-defined]
    await client.post("/ui/login", data={"token": ADMIN})
    listed = await (await client.get("/ui/campaigns")).text()
    assert "visits" in listed and 'value="pause"' in listed
    forged = await client.post("/ui/campaigns/visits/pause", allow_redirects=False)
    assert forged.status == 403  # no Origin: not from our page
    paused = await client.post(
        "/ui/campaigns/visits/pause", allow_redirects=False, headers=origin(client)
    )
    assert paused.status == 303
    assert (await feature.ops.get("visits")).status.value == "paused"  # type: ignore[attr-defined]
    again = await client.post("/ui/campaigns/visits/pause", headers=origin(client))
    assert again.status == 409 and "cannot pause" in await again.text()


def test_charts_escape_their_labels() -> None:
    svg = bars([("<script>", 3.0), ("b", 0.0)], title='"t"')
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.startswith("<svg") and svg.count("<rect") == 2


async def test_every_csv_link_of_the_reports_page_answers_csv(
    console: tuple[TestClient[Any, Any], HotlineService],
) -> None:
    client, _ = console
    await client.post("/ui/login", data={"token": ADMIN})
    text = await (await client.get("/ui/reports")).text()
    links = re.findall(r'href="(/api/v1/reports/[^"]+)"', text)
    assert len(links) == 10 and "scores-by-category" in text and "业务类别满意度" in text
    assert "qa-agents" in text and "质检得分(各坐席)" in text
    for link in links:
        response = await client.get(link.replace("&amp;", "&"))
        assert (response.status, response.content_type) == (200, "text/csv"), link


async def test_the_live_figures_are_the_days_calls_and_campaign_progress(
    console: tuple[TestClient[Any, Any], HotlineService],
) -> None:
    client, service = console
    started = datetime.now(UTC) - timedelta(seconds=30)
    for n, (agent, score) in enumerate((("1001", 9), ("", None))):
        record = CallRecord(f"1.{n}", Direction.INBOUND, started, queue="repair", agent=agent)
        record.ended_at, record.score = started + timedelta(seconds=20), score
        record.disposition = Disposition.ANSWERED if agent else Disposition.ABANDONED_QUEUE
        await service.records.save(record)
    await client.post("/ui/login", data={"token": ADMIN})
    figures = await (await client.get("/ui/live/figures")).json()
    assert figures == {
        "today": {"calls": 2, "answered": 1, "level": "50%", "abandoned": 1, "score": "9.0"},
        "progress": {},
    }
    page = await (await client.get("/ui/live")).text()
    assert '<td id="today-calls">2</td>' in page and 'id="today-unavailable" hidden' in page


async def test_pages_say_the_database_is_down_instead_of_failing(tmp_path: Path) -> None:
    service = HotlineService(
        Settings(
            var_dir=tmp_path,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/missing/dir/x.db"},
            web={"token": ADMIN},
            asterisk={"ami_secret": "a"},
            carrier={"ami_secret": "c"},
        )
    )
    client: TestClient[Any, Any] = TestClient(TestServer(service.web_app))
    await client.start_server()
    try:
        await client.post("/ui/login", data={"token": ADMIN})  # web.token: no database
        live = await client.get("/ui/live")
        text = await live.text()
        assert live.status == 200 and 'id="today-unavailable" >' in text.replace("  ", " ")
        figures = await (await client.get("/ui/live/figures")).json()
        assert figures == {"today": None, "progress": None}
        for path in ("/ui/reports", "/ui/campaigns"):
            down = await client.get(path)
            assert down.status == 503 and "数据库暂不可用" in await down.text(), path
        pause = await client.post("/ui/campaigns/x/pause", headers=origin(client))
        assert pause.status == 503
        uploads = await (await client.get("/ui/admin/uploads")).text()
        assert "数据库暂不可用" in uploads
    finally:
        await client.close()
        await service.engine.dispose()


async def test_the_live_feed_keeps_a_paused_campaign_and_shows_it_resumed(
    console: tuple[TestClient[Any, Any], HotlineService],
) -> None:
    _, service = console
    feature = next(f for f in service.features if f.name == "dialer")
    ops, engine = feature.ops, feature.engine  # type: ignore[attr-defined]
    await ops.create({"name": "visits"})
    seen = []
    for action in ("start", "pause", "resume"):
        await ops.transition("visits", action)
        await engine._refresh(force=True)
        seen += [(c["name"], c["status"]) for c in engine.live_campaigns()]
    assert seen == [("visits", "running"), ("visits", "paused"), ("visits", "running")]


async def test_the_session_cookie_is_not_the_token_and_logout_revokes_it(
    console: tuple[TestClient[Any, Any], HotlineService],
) -> None:
    client, service = console
    store = TokenStore(service.sessions)
    token_id, token = await store.create("班长", Role.SUPERVISOR)
    ok = await client.post("/ui/login", data={"token": token}, allow_redirects=False)
    session = ok.cookies["hotline_session"].value
    assert (
        session
        and token not in ok.headers["Set-Cookie"]
        and "Secure" not in ok.headers["Set-Cookie"]
    )  # plain HTTP here: no Secure flag, or the browser would never send it back
    copied = {"Cookie": f"hotline_session={session}"}
    assert (await client.get("/api/v1/calls", headers=copied)).status == 200
    await client.post("/ui/logout", allow_redirects=False, headers=origin(client))
    assert (await client.get("/api/v1/calls", headers=copied)).status == 401  # revoked
    # a revoked token ends its sessions too
    again = await client.post("/ui/login", data={"token": token}, allow_redirects=False)
    second = {"Cookie": f"hotline_session={again.cookies['hotline_session'].value}"}
    assert (await client.get("/api/v1/calls", headers=second)).status == 200
    served = service.web_app[DEPS].tokens  # the app's store (others' revocations: its cache)
    assert served is not None and await served.revoke(token_id)
    assert (await client.get("/api/v1/calls", headers=second)).status == 401


async def test_failed_logins_are_logged_and_limited_per_address(
    console: tuple[TestClient[Any, Any], HotlineService], caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = console
    for _ in range(10):
        refused = await client.post("/ui/login", data={"token": "guess"}, allow_redirects=False)
        assert refused.status == 200
    blocked = await client.post("/ui/login", data={"token": ADMIN}, allow_redirects=False)
    assert blocked.status == 429 and "登录失败次数过多" in await blocked.text()
    api = await client.get("/api/v1/calls", headers={"Authorization": f"Bearer {ADMIN}"})
    assert api.status == 200  # the API and the CLI are not locked out by the console's limit
    assert caplog.text.count("a console login refused from 127.0.0.1") == 10
    assert "guess" not in caplog.text  # what was typed is never logged


async def test_behind_a_trusted_tls_proxy_the_cookie_is_secure_and_writes_pass(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    await upgrade(url)
    service = HotlineService(
        Settings(
            var_dir=tmp_path,
            database={"url": url, "spool_dir": tmp_path / "spool"},
            web={"token": ADMIN, "trusted_proxies": ["127.0.0.1"]},
            asterisk={"ami_secret": "a"},
            carrier={"ami_secret": "c"},
        )
    )
    client: TestClient[Any, Any] = TestClient(TestServer(service.web_app))
    await client.start_server()
    try:
        host = client.make_url("").host
        port = client.make_url("").port
        proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.1.2.3"}
        ok = await client.post(
            "/ui/login", data={"token": ADMIN}, allow_redirects=False, headers=proxied
        )
        assert "Secure" in ok.headers["Set-Cookie"]
        cookie = {"Cookie": f"hotline_session={ok.cookies['hotline_session'].value}"}
        out = await client.post(
            "/ui/logout",
            allow_redirects=False,
            headers=proxied | cookie | {"Origin": f"https://{host}:{port}"},
        )
        assert out.status == 303  # the same-origin check sees the browser's https origin
    finally:
        await client.close()
        await service.engine.dispose()
