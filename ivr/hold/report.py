"""The hold report: per agent, how many holds, how long on average, how many over the limit.

Read from ``hold_segments`` (one row per finished hold). "Over the limit" means held at
least ``hold.soft_seconds`` (the agent was alerted); ``auto_resumed`` counts the holds the
hard limit ended. ``hotline report holds`` prints it; the admin console (issue 7) serves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import click
from sqlalchemy import ColumnElement, Integer, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.cli_inbound import _settings, _with_database
from hotline.db.models_hold import HoldSegmentRow

__all__ = ["AgentHolds", "hold_report", "report"]


@dataclass(frozen=True, slots=True)
class AgentHolds:
    agent: str
    holds: int
    average_seconds: float
    longest_seconds: float
    over_limit: int
    auto_resumed: int
    requeued: int


async def hold_report(
    sessions: async_sessionmaker[AsyncSession],
    since: datetime,
    until: datetime,
    limit_seconds: float,
) -> list[AgentHolds]:
    """Holds that started in ``[since, until)``, per agent, the most held first."""

    def count_of(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)

    row = HoldSegmentRow
    query = (
        select(
            row.agent,
            func.count(),
            func.avg(row.seconds),
            func.max(row.seconds),
            count_of(row.seconds >= limit_seconds),
            count_of(row.outcome == "auto_resumed"),
            count_of(row.outcome == "requeued"),
        )
        .where(row.started_at >= since, row.started_at < until)
        .group_by(row.agent)
        .order_by(func.count().desc(), row.agent)
    )
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return [
        AgentHolds(
            agent=agent or "-",
            holds=int(holds),
            average_seconds=round(float(average or 0), 1),
            longest_seconds=round(float(longest or 0), 1),
            over_limit=int(over),
            auto_resumed=int(auto),
            requeued=int(requeued),
        )
        for agent, holds, average, longest, over, auto, requeued in rows
    ]


@click.group()
def report() -> None:
    """Reports from the call records."""


@report.command("holds")
@click.option("--since", type=click.DateTime(), help="start (local time; default: today 00:00)")
@click.option("--until", type=click.DateTime(), help="end, excluded (default: now)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_context
def report_holds(
    ctx: click.Context, since: datetime | None, until: datetime | None, as_json: bool
) -> None:
    """Average hold per agent and holds over the limit (hold.soft_seconds)."""
    import json
    from dataclasses import asdict

    settings = _settings(ctx)
    now = datetime.now().astimezone()
    start = (since or now.replace(hour=0, minute=0, second=0, microsecond=0)).astimezone()
    end = (until or now).astimezone()
    if end <= start:
        raise click.BadParameter("--until must be after --since", param_hint="--until")
    limit = float(settings.hold.soft_seconds)
    rows = _with_database(settings, lambda sessions: hold_report(sessions, start, end, limit))
    if as_json:
        payload = {
            "since": start.isoformat(),
            "until": end.isoformat(),
            "limit_seconds": limit,
            "agents": [asdict(r) for r in rows],
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    click.echo(f"holds {start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}, limit {limit:g} s")
    click.echo(
        f"{'agent':<10}{'holds':>7}{'avg s':>8}{'max s':>8}{'over':>6}{'auto':>6}{'requeued':>10}"
    )
    for r in rows:
        click.echo(
            f"{r.agent:<10}{r.holds:>7}{r.average_seconds:>8.1f}{r.longest_seconds:>8.1f}"
            f"{r.over_limit:>6}{r.auto_resumed:>6}{r.requeued:>10}"
        )
    if not rows:
        click.echo("(no holds)")
