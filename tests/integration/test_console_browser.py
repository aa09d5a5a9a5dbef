"""The supervisors' console in a real browser (Debian's headless Chromium, driven by
Playwright; no browser download), on the real sandbox: a supervisor logs in with a token,
sees a live SIP call appear on the live page and leave it, pauses a campaign, and opens the
reports page, whose charts render. On failure the page's screenshot is saved under
``test-artifacts/``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hotline.callrecord import CallRecord, Direction, Disposition, ScoreStatus
from hotline.config import Settings
from hotline.testcall import live_call
from hotline.web.roles import Role
from hotline.web.tokens import TokenStore
from tests.integration.inbound_support import (
    ServiceFactory,
    agents_feature,
    api,
    login,
)
from tests.support import missing

pytestmark = pytest.mark.asterisk

CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("HOTLINE_TEST_ARTIFACTS", "test-artifacts"))
CALLER = "13912345678"
WAIT_MS = 20_000


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium from the system (``make setup`` installs Debian's package)."""
    if shutil.which(CHROMIUM) is None:
        missing(f"no Chromium at {CHROMIUM} (Debian package chromium; `make setup`)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        missing("playwright is not installed (`make setup`)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def chinese_page(browser: Any) -> Any:
    """A tab as a supervisor in China has it: zh-CN, and patient with a busy machine."""
    page = await browser.new_page(locale="zh-CN")
    page.set_default_timeout(WAIT_MS)
    return page


@contextlib.asynccontextmanager
async def screenshot_on_failure(page: Any, name: str) -> AsyncIterator[None]:
    try:
        yield
    except BaseException:
        shot = ARTIFACTS / f"{name}.png"
        with contextlib.suppress(Exception):
            await page.screenshot(path=str(shot), full_page=True)  # makes the folder
            html = await page.content()
            await asyncio.to_thread((ARTIFACTS / f"{name}.html").write_text, html, "utf-8")
        print(f"screenshot of the failing page: {shot.resolve()}")
        raise


async def test_a_supervisor_watches_a_call_pauses_a_campaign_and_reads_a_chart(
    make_service: ServiceFactory, inbound_settings: Settings, browser: Any
) -> None:
    from playwright.async_api import expect

    service, spy, _ = await make_service()
    _, token = await TokenStore(service.sessions).create("browser test", Role.SUPERVISOR)
    status, campaign = await api(
        service,
        "POST",
        "/api/v1/campaigns",
        {"name": "browser-calls", "skip_holidays": False},
    )
    assert status in (200, 201), campaign
    status, body = await api(service, "POST", "/api/v1/campaigns/browser-calls/start")
    assert status == 200, body
    await login(service, "1002", "emergency")
    web = inbound_settings.web
    base, page = f"http://{web.host}:{web.port}", await chinese_page(browser)

    async with screenshot_on_failure(page, "console-browser"):
        # nothing without a token: the console sends the browser to the login page
        await page.goto(f"{base}/ui/live")
        assert page.url == f"{base}/ui/login"
        await page.fill("input[name=token]", "not-a-token")
        await page.click("#login")
        await expect(page.locator("p.error")).to_have_text("令牌无效或无权查看监控台")
        await page.fill("input[name=token]", token)
        await page.click("#login")
        await page.wait_for_url(f"{base}/ui/live")
        await expect(page.locator("#status")).to_have_text("实时数据已连接")
        # the snapshot: the logged-in agent and the running campaign
        agent = page.locator("#agents tbody tr[data-key='1002']")
        await expect(agent).to_contain_text("李四")
        await expect(agent).to_contain_text("空闲")
        running = page.locator("#campaigns tbody tr[data-key='browser-calls']")
        await expect(running.locator("td.status")).to_have_text("运行中")

        async with live_call(inbound_settings, CALLER) as call:
            row = page.locator("#calls tbody tr", has_text=CALLER)
            await expect(row).to_have_count(1)
            await expect(row.locator("td.state")).to_have_text("语音导航")
            await spy.wait_for("menu-main")
            await call.press("6")  # reception: nobody there, the caller waits
            await expect(row.locator("td.state")).to_have_text("排队中")
            await expect(row).to_contain_text("reception")
            waiting = page.locator("#queues tbody tr[data-key='reception'] td").nth(1)
            await expect(waiting).to_have_text("1")
        await expect(page.locator("#calls tbody tr", has_text=CALLER)).to_have_count(0)
        await expect(waiting).to_have_text("0")

        # pause the campaign from its page; the dialer and the live page both see it
        await page.click("header a[href='/ui/campaigns']")
        listed = page.locator("#campaign-list tr[data-name='browser-calls']")
        await expect(listed.locator("td.status")).to_have_text("running")
        await listed.locator("button[value=pause]").click()
        await expect(listed.locator("td.status")).to_have_text("paused")
        await expect(listed.locator("button[value=resume]")).to_be_visible()
        status, body = await api(service, "GET", "/api/v1/campaigns/browser-calls")
        assert (status, body["status"]) == (200, "paused")
        await page.click("header a[href='/ui/live']")
        paused = page.locator("#campaigns tbody tr[data-key='browser-calls'] td.status")
        await expect(paused).to_have_text("已暂停")

        # the reports page: the day's service level has the abandoned call's queue and an
        # answered, scored call stored earlier today
        await service.records.save(answered_and_scored())
        await page.click("header a[href='/ui/reports']")
        level = page.locator("svg.chart").first
        await expect(level).to_be_visible()
        box = await level.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
        assert await level.locator("text.label", has_text="reception").count() == 1
        assert await page.locator("svg.chart").count() == 4  # and the quality review's
        assert await level.locator("text.value").all_text_contents() == ["0%", "100%", "50%"]
        assert await bar_height(level, 0) == 0 and await bar_height(level, 1) > 100
        scores = page.locator("svg.chart").nth(2)
        assert await scores.locator("rect.bar").count() == 10  # one bar per score 1-10
        assert [await bar_height(scores, n) > 0 for n in range(10)] == [n == 8 for n in range(10)]


def answered_and_scored() -> CallRecord:
    started = datetime.now(UTC) - timedelta(seconds=40)
    return CallRecord(
        "browser.1",
        Direction.INBOUND,
        started,
        caller="13900000001",
        answered_at=started + timedelta(seconds=5),
        ended_at=started + timedelta(seconds=30),
        disposition=Disposition.ANSWERED,
        queue="repair",
        agent="1001",
        wait_seconds=4.0,
        talk_seconds=20.0,
        score=9,
        score_status=ScoreStatus.SCORED,
    )


async def bar_height(chart: Any, index: int) -> float:
    return float(await chart.locator("rect.bar").nth(index).get_attribute("height") or "nan")


async def test_an_admin_keeps_the_lists_uploads_contacts_and_logs_an_agent_out(
    make_service: ServiceFactory, inbound_settings: Settings, browser: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    service, _, _ = await make_service()
    status, made = await api(service, "POST", "/api/v1/campaigns", {"name": "browser-upload"})
    assert status == 201, made
    await login(service, "1002", "emergency")
    web = inbound_settings.web
    base, page = f"http://{web.host}:{web.port}", await chinese_page(browser)

    async with screenshot_on_failure(page, "console-admin"):
        await page.goto(f"{base}/ui/login")
        await page.fill("input[name=token]", web.token.get_secret_value())
        await page.click("#login")
        await page.click("header a[href='/ui/admin']")

        # agents: the logged-in agent, logged out with one click (through the API)
        agent = page.locator("#agent-list tbody tr[data-key='1002']")
        await expect(agent).to_contain_text("空闲")
        await agent.locator("button[value=logout]").click()
        await expect(agent).to_contain_text("未签入")
        assert service_state(service, "1002") == []

        # the blocklist: a bad number is refused naming the field, a good one listed
        await page.click("nav.sub a[href='/ui/admin/lists']")
        blocklist = page.locator("#blocklist")
        await blocklist.locator("input[name=number]").fill("12ab")
        await blocklist.locator("button[type=submit]").click()
        await expect(blocklist.locator("output")).to_contain_text("number")
        await expect(blocklist.locator("output")).to_contain_text("400")
        await blocklist.locator("input[name=number]").fill("13700000009")
        await blocklist.locator("input[name=reason]").fill("骚扰")
        await blocklist.locator("button[type=submit]").click()
        row = blocklist.locator("tbody tr[data-key='+8613700000009']")  # stored in E.164
        await expect(row).to_contain_text("骚扰")
        status, listed = await api(service, "GET", "/api/v1/blocklist")
        assert [e["number"] for e in listed["blocklist"]] == ["+8613700000009"]
        await row.locator("button[value=delete]").click()
        await expect(row).to_have_count(0)
        assert (await api(service, "GET", "/api/v1/blocklist"))[1]["blocklist"] == []

        # an upload: the good rows in, the bad one listed with its line
        await page.click("nav.sub a[href='/ui/admin/uploads']")
        upload = page.locator("#upload")
        await upload.locator("select[name=campaign]").select_option(str(made["id"]))
        # Excel's GBK: refused with the hint, not imported garbled
        gbk = tmp_path / "gbk.csv"
        await asyncio.to_thread(gbk.write_bytes, "号码,姓名\n13800138002,张三\n".encode("gbk"))
        await upload.locator("input[type=file]").set_input_files(str(gbk))
        await upload.locator("button[type=submit]").click()
        await expect(upload.locator("output")).to_contain_text("UTF-8")
        csv = tmp_path / "contacts.csv"
        await asyncio.to_thread(
            csv.write_text, "number\n13800138000\n13800138001\nnot-a-number\n", "utf-8"
        )
        await upload.locator("input[type=file]").set_input_files(str(csv))
        await upload.locator("button[type=submit]").click()
        await expect(upload.locator("output")).to_contain_text("新增: 2")
        await expect(upload.locator("output table.rejected")).to_contain_text("行 4")
        status, campaign = await api(service, "GET", "/api/v1/campaigns/browser-upload")
        assert campaign["progress"]["contacts"]["total"] == 2


def service_state(service: Any, agent: str) -> list[str]:
    state = agents_feature(service).tracker.get(agent)
    return [] if state is None else sorted(state.memberships)
