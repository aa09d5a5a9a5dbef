"""A supervisor reviews a call in the browser (headless Chromium, real sandbox): draws the
day's sample, opens the recorded call, plays its recording (the player reads it with range
requests; every request is audited), scores it against the form and sees the total on the
call and in the reports page's chart."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hotline.config import Settings
from hotline.quality.config import DEFAULT_FORM
from hotline.quality.form import total
from hotline.recordings.feature import RecordingsFeature
from hotline.web.roles import Role
from hotline.web.tokens import TokenStore
from tests.integration.inbound_support import ServiceFactory, record_of
from tests.integration.test_console_browser import (  # noqa: F401  (the browser fixture)
    browser,
    chinese_page,
    screenshot_on_failure,
)
from tests.integration.test_recordings import agent_call, recording_of

pytestmark = pytest.mark.asterisk


async def test_a_supervisor_plays_a_calls_recording_and_scores_it(
    make_service: ServiceFactory,
    inbound_settings: Settings,
    browser: Any,  # noqa: F811
) -> None:
    from playwright.async_api import expect

    service, spy, _ = await make_service()
    # scored 3 by the caller: always in the day's sample, whatever other calls the day had
    sip_call_id = await agent_call(service, spy, inbound_settings, talk=4, score="3")
    record = await record_of(service, sip_call_id)
    recording = await recording_of(service, record.linkedid)
    assert recording["status"] == "ok", recording
    _, token = await TokenStore(service.sessions).create("browser qa", Role.SUPERVISOR)
    web = inbound_settings.web
    base, page = f"http://{web.host}:{web.port}", await chinese_page(browser)
    async with screenshot_on_failure(page, "review-browser"):
        await page.goto(f"{base}/ui/login")
        await page.fill("input[name=token]", token)
        await page.click("#login")
        await page.wait_for_url(f"{base}/ui/live")
        # the day's sample: the agent's only call is drawn
        await page.click("header a[href='/ui/quality']")
        await page.click("#draw-sample")
        await expect(page.locator("p.ok")).to_have_text(re.compile(r"新增 [1-9][0-9]* 通待质检"))
        row = page.locator(f"#review-list tr[data-linkedid='{record.linkedid}']")
        await expect(row.locator("td.status")).to_have_text("待质检")
        await expect(row).to_contain_text("低分")  # picked for the caller's low score
        await row.locator("a").click()
        await page.wait_for_url(f"{base}/ui/calls/{record.linkedid}")
        await expect(page.locator("#timeline")).to_contain_text("agent_connect")
        # the player: the recording's length, then playing it
        player = page.locator("#recording")
        await player.evaluate("a => a.readyState >= 1 || new Promise(r => a.onloadedmetadata = r)")
        duration = await player.evaluate("a => a.duration")
        assert abs(duration - recording["seconds"]) < 0.2, (duration, recording)
        await player.evaluate("a => { a.muted = true; return a.play(); }")
        await page.wait_for_function("document.querySelector('#recording').currentTime > 0.5")
        # the review: greeting 5 of 10, the rest full marks
        await page.select_option("#score-greeting", "5")
        await page.fill("textarea[name=comment]", "问候语不完整")
        await page.click("#save-review")
        await expect(page.locator("#review-saved")).to_have_text("已保存,得分 92.5")
        await expect(page.locator("#review-total")).to_have_text("92.5")
        # the reports page charts it
        await page.click("header a[href='/ui/reports']")
        await expect(page.locator("#qa-chart svg")).to_contain_text("1001")
    store = next(f for f in service.features if isinstance(f, RecordingsFeature)).store
    playbacks = await store.playbacks(record.linkedid)
    assert playbacks and {p["who"] for p in playbacks} == {"browser qa"}
    scores = {item.key: 10 for item in DEFAULT_FORM} | {"greeting": 5}
    assert total(DEFAULT_FORM, scores) == 92.5  # what the page said
