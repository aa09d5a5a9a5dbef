"""The telecom admins' pages under ``/ui/admin``: lists, uploads, agents and queues, prompts,
and the last dialplan/config check.

The pages are rendered here; every change they make goes through the same ``/api/v1``
routes as any client (``static/admin.js``), so the API's validation, its field-naming errors
and its role rules are the only ones. Supervisors may open the agents page (they act for
agents); the other pages are for admins.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from hotline.config import Settings
from hotline.dialplan_check import Report
from hotline.errors import ConfigError, DatabaseError
from hotline.prompts import LANGUAGES, load_prompt_texts
from hotline.web.app import CALLER
from hotline.web.roles import Role

__all__ = ["CHECK_FILE", "AdminPages", "install_routes", "save_check"]

CHECK_FILE = "dialplan-check.json"  # in settings.var_dir, written by `hotline dialplan check`

Render = Callable[..., web.Response]


@dataclass(frozen=True)
class AdminPages:
    """What the pages read: the settings and the campaign list (for the upload form)."""

    settings: Settings
    campaigns: Callable[[], Awaitable[list[dict[str, Any]]]]
    render: Render  # (request, template, **values) → page


ADMIN_PAGES = web.AppKey("admin_pages", AdminPages)


def save_check(var_dir: Path, report: Report, at: datetime | None = None) -> Path:
    """Keep the check's result for the config page (the CLI calls this after each check)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / CHECK_FILE
    data = {
        "checked_at": (at or datetime.now(UTC)).isoformat(),
        "ok": report.ok,
        "problems": [
            {"file": p.file, "line": p.line, "message": p.message} for p in report.problems
        ],
        "notes": list(report.notes),
    }
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    partial.replace(path)
    return path


def _admin_only(request: web.Request) -> None:
    caller = request.get(CALLER)
    if caller is None or caller.role is not Role.ADMIN:
        raise web.HTTPForbidden(text="admins only")


async def _index(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/ui/admin/agents")


async def _lists(request: web.Request) -> web.Response:
    _admin_only(request)
    pages = request.app[ADMIN_PAGES]
    return pages.render(request, "admin_lists.html", section="lists")


async def _uploads(request: web.Request) -> web.Response:
    _admin_only(request)
    pages = request.app[ADMIN_PAGES]
    try:
        campaigns, unavailable = await pages.campaigns(), False
    except DatabaseError:
        campaigns, unavailable = [], True
    example = {
        "name": "survey-2026-12",
        "type": "callback_survey",
        "amd": True,
        "max_attempts": 3,
        "timezone": "Asia/Shanghai",
    }
    return pages.render(
        request,
        "admin_uploads.html",
        section="uploads",
        campaigns=campaigns,
        unavailable=unavailable,
        example=json.dumps(example, ensure_ascii=False, indent=2),
    )


async def _agents(request: web.Request) -> web.Response:
    pages = request.app[ADMIN_PAGES]
    queues = pages.settings.queues
    members = {q.name: [a.id for a in queues.agents if q.name in a.queues] for q in queues.queues}
    return pages.render(
        request, "admin_agents.html", section="agents", queues=queues.queues, members=members
    )


async def _prompts(request: web.Request) -> web.Response:
    _admin_only(request)
    pages = request.app[ADMIN_PAGES]
    settings = pages.settings
    recorded = settings.var_dir / "prompts" / "recorded"
    try:
        prompts = load_prompt_texts(settings.prompts.source_file)
        problems: list[str] = []
    except ConfigError as exc:
        prompts, problems = [], list(exc.problems)
    rows = [
        {
            "name": p.name,
            "texts": p.texts,
            "recorded": {lang: (recorded / lang / f"{p.name}.wav").is_file() for lang in LANGUAGES},
        }
        for p in prompts
    ]
    return pages.render(
        request,
        "admin_prompts.html",
        section="prompts",
        prompts=rows,
        problems=problems,
        source=str(settings.prompts.source_file),
        recorded_dir=str(recorded),
    )


async def _config(request: web.Request) -> web.Response:
    _admin_only(request)
    pages = request.app[ADMIN_PAGES]
    path = pages.settings.var_dir / CHECK_FILE
    check: dict[str, Any] | None = None
    unreadable = ""
    if path.is_file():
        try:
            check = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            unreadable = f"{path}: {exc}"
    return pages.render(
        request, "admin_config.html", section="config", check=check, unreadable=unreadable
    )


def install_routes(app: web.Application, pages: AdminPages) -> None:
    app[ADMIN_PAGES] = pages
    app.router.add_get("/ui/admin", _index)
    app.router.add_get("/ui/admin/agents", _agents)
    app.router.add_get("/ui/admin/lists", _lists)
    app.router.add_get("/ui/admin/uploads", _uploads)
    app.router.add_get("/ui/admin/prompts", _prompts)
    app.router.add_get("/ui/admin/config", _config)
