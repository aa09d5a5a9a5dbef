"""Reports over HTTP: ``GET /api/v1/reports/{name}?since=…&until=…&format=json|csv``.

Each feature registers its reports with ``add_report``; this module parses the common
query (ISO 8601 times; default: today 00:00 local until now; ``until`` after ``since``),
runs the report and answers JSON (``{"since", "until", "rows"}``) or CSV (one header
line, one line per row; nested values as JSON text), so a supervisor can open it in a
spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from hotline.errors import DatabaseError

__all__ = ["Report", "add_report", "report_span"]

Report = Callable[[datetime, datetime], Awaitable[list[dict[str, Any]]]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def report_span(query: Any, now: datetime) -> tuple[datetime, datetime]:
    """``since``/``until`` of a query; ``ValueError`` names the field at fault."""
    local_now = now.astimezone()
    values: dict[str, datetime] = {}
    for name in ("since", "until"):
        raw = query.get(name)
        if raw is None:
            continue
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{name}: an ISO 8601 time, e.g. 2026-11-30T08:00:00+08:00") from None
        values[name] = value if value.utcoffset() is not None else value.astimezone()
    since = values.get("since", local_now.replace(hour=0, minute=0, second=0, microsecond=0))
    until = values.get("until", local_now)
    if until <= since:
        raise ValueError("until: must be after since")
    return since, until


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        cells = [row.get(c, "") for c in columns]
        writer.writerow(
            [json.dumps(c, ensure_ascii=False) if isinstance(c, dict | list) else c for c in cells]
        )
    return out.getvalue()


def add_report(app: web.Application, name: str, report: Report) -> None:
    async def serve(request: web.Request) -> web.Response:
        fmt = request.query.get("format", "json")
        if fmt not in ("json", "csv"):
            return _error(400, "format: json or csv")
        try:
            since, until = report_span(request.query, datetime.now().astimezone())
        except ValueError as exc:
            return _error(400, str(exc))
        try:
            rows = await report(since, until)
        except DatabaseError as exc:
            return _error(503, f"database unavailable: {exc}")
        if fmt == "csv":
            filename = f"{name}-{since:%Y%m%d}.csv"
            return web.Response(
                text=_csv(rows),
                content_type="text/csv",
                charset="utf-8",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return web.json_response(
            {"report": name, "since": since.isoformat(), "until": until.isoformat(), "rows": rows}
        )

    app.router.add_get(f"/api/v1/reports/{name}", serve)
