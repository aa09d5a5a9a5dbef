"""The admins' pages on the real service app (SQLite): who may open which, what each shows
(queues from the settings, prompts with recorded/synthesised, the last dialplan check), and
the API routes their script uses. The script itself runs in the browser test."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from hotline.dialplan_check import Problem, Report
from hotline.service import HotlineService
from hotline.web.admin_pages import CHECK_FILE, save_check
from hotline.web.roles import Role
from hotline.web.tokens import TokenStore
from tests.unit.test_dashboard import ADMIN, console, origin

__all__ = ["console"]

Console = tuple[TestClient[Any, Any], HotlineService]
ADMIN_ONLY = ("/ui/admin/uploads", "/ui/admin/lists", "/ui/admin/prompts", "/ui/admin/config")


async def test_admins_see_every_page_supervisors_only_agents(console: Console) -> None:
    client, service = console
    _, supervisor = await TokenStore(service.sessions).create("班长", Role.SUPERVISOR)
    assert (await client.get("/ui/admin/agents", allow_redirects=False)).status == 303  # login
    await client.post("/ui/login", data={"token": supervisor})
    assert (await client.get("/ui/admin/agents")).status == 200
    for path in ADMIN_ONLY:
        assert (await client.get(path)).status == 403, path
    await client.post("/ui/login", data={"token": ADMIN})
    for path in ("/ui/admin/agents", *ADMIN_ONLY):
        page = await client.get(path)
        assert page.status == 200 and "/ui/static/admin.js" in await page.text(), path


async def test_the_agents_page_lists_the_configured_queues(console: Console) -> None:
    client, service = console
    await client.post("/ui/login", data={"token": ADMIN})
    text = await (await client.get("/ui/admin/agents")).text()
    for queue in service.settings.queues.queues:
        assert f'<tr data-key="{queue.name}">' in text
    assert 'data-src="/api/v1/agents"' in text


async def test_the_prompts_page_says_which_are_recorded(console: Console, tmp_path: Path) -> None:
    client, service = console
    recorded = service.settings.var_dir / "prompts" / "recorded" / "zh"
    recorded.mkdir(parents=True)
    (recorded / "welcome.wav").write_bytes(b"RIFF")
    await client.post("/ui/login", data={"token": ADMIN})
    text = await (await client.get("/ui/admin/prompts")).text()
    row = text.split('<tr data-key="welcome">', 1)[1].split("</tr>", 1)[0]
    assert "您好" in row and "zh: 录音, en: 合成" in row
    assert "zh: 合成, en: 合成" in text  # the others


async def test_the_config_page_shows_the_last_check(console: Console) -> None:
    client, service = console
    await client.post("/ui/login", data={"token": ADMIN})
    assert "尚未检查" in await (await client.get("/ui/admin/config")).text()
    report = Report((Problem("extensions.conf", 42, "No application 'Dail'"),), ("loaded",))
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    path = save_check(service.settings.var_dir, report, at)
    assert path.name == CHECK_FILE and not path.with_suffix(".partial").exists()
    text = await (await client.get("/ui/admin/config?lang=en")).text()
    assert "Check found problems" in text and "2026-11-30T08:00:00+00:00" in text
    assert "<code>extensions.conf</code></td><td>42</td><td>No application &#39;Dail&#39;" in text
    save_check(service.settings.var_dir, Report((), ("loaded",)))
    assert "Check passed" in await (await client.get("/ui/admin/config")).text()
    path.write_text("{not json", encoding="utf-8")
    broken = await (await client.get("/ui/admin/config")).text()
    assert "dialplan-check.json" in broken and 'role="alert"' in broken


async def test_the_uploads_page_offers_the_campaigns_and_the_api_takes_the_file(
    console: Console,
) -> None:
    client, service = console
    feature = next(f for f in service.features if f.name == "dialer")
    made = await feature.ops.create({"name": "visits"})  # type: ignore[attr-defined]
    await client.post("/ui/login", data={"token": ADMIN})
    text = await (await client.get("/ui/admin/uploads")).text()
    assert f'<option value="{made.id}">visits (' in text  # by id: a name is not an id
    assert 'data-api="/api/v1/campaigns/{campaign}/{kind}"' in text
    # what the page's script sends: the file's text, same origin, with the session cookie
    sent = await client.post(
        "/api/v1/campaigns/visits/contacts",
        data="number\n13800138000\nnot-a-number\n",
        headers={"Content-Type": "text/csv", **origin(client)},
    )
    body = await sent.json()
    assert sent.status == 200 and body["added"] == 1
    assert [r["line"] for r in body["rejected"]] == [3]
