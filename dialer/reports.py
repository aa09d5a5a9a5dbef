"""``hotline report survey|apologies|callbacks``: the campaign flows' figures.

Survey: average score per technician (and category) for each survey item. Apologies (the
daily report): per responsible agent, tickets, apologised (by the deadline), refused,
unreachable and SMS sent. Callbacks: per source and queue, requests, reached, reached by
their due time, overdue and still open.
Both default to today (local time) and print a table or, with ``--json``, JSON.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from dialer.apology.store import ApologyStore
from dialer.promised.store import PromisedStore
from dialer.survey.store import SurveyStore
from hotline.cli_inbound import _settings, _with_database

__all__ = ["report_apologies", "report_callbacks", "report_survey"]


def _span(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    now = datetime.now().astimezone()
    start = (since or now.replace(hour=0, minute=0, second=0, microsecond=0)).astimezone()
    end = (until or now).astimezone()
    if end <= start:
        raise click.BadParameter("--until must be after --since", param_hint="--until")
    return start, end


def _echo_json(start: datetime, end: datetime, key: str, rows: list[dict[str, Any]]) -> None:
    payload = {"since": start.isoformat(), "until": end.isoformat(), key: rows}
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2))


_SINCE = click.option("--since", type=click.DateTime(), help="start (local; default today 00:00)")
_UNTIL = click.option("--until", type=click.DateTime(), help="end, excluded (default: now)")
_JSON = click.option("--json", "as_json", is_flag=True, help="print JSON")


@click.command("survey")
@_SINCE
@_UNTIL
@_JSON
@click.pass_context
def report_survey(
    ctx: click.Context, since: datetime | None, until: datetime | None, as_json: bool
) -> None:
    """Callback-survey scores: average per technician and survey item."""
    settings = _settings(ctx)
    start, end = _span(since, until)
    rows = _with_database(settings, lambda s: SurveyStore(s).score_report(start, end))
    if as_json:
        _echo_json(start, end, "technicians", rows)
        return
    items = [item.key for item in settings.survey.items]
    click.echo(f"survey scores {start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}")
    click.echo(f"{'technician':<16}{'category':<14}{'n':>4}" + "".join(f"{i:>13}" for i in items))
    for row in rows:
        cells = "".join(
            f"{row['items'][i]['average']:>13.2f}" if i in row["items"] else f"{'-':>13}"
            for i in items
        )
        click.echo(f"{row['technician']:<16}{row['category']:<14}{row['answers']:>4}{cells}")
    if not rows:
        click.echo("(no scores)")


@click.command("callbacks")
@_SINCE
@_UNTIL
@_JSON
@click.pass_context
def report_callbacks(
    ctx: click.Context, since: datetime | None, until: datetime | None, as_json: bool
) -> None:
    """Promised callbacks: requested, reached, reached in time, overdue, open."""
    settings = _settings(ctx)
    start, end = _span(since, until)
    rows = _with_database(settings, lambda s: PromisedStore(s).report(start, end))
    if as_json:
        _echo_json(start, end, "groups", rows)
        return
    click.echo(f"callbacks requested {start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}")
    heads = ("requested", "reached", "in_time", "overdue", "open", "unreached")
    click.echo(f"{'source':<8}{'queue':<14}" + "".join(f"{h:>11}" for h in heads))
    for r in rows:
        values = (
            r["requested"],
            r["reached"],
            r["reached_in_time"],
            r["overdue"],
            r["open"],
            r["unreachable"],
        )
        click.echo(f"{r['source']:<8}{r['queue'] or '-':<14}" + "".join(f"{v:>11}" for v in values))
    if not rows:
        click.echo("(no callback requests)")


@click.command("apologies")
@_SINCE
@_UNTIL
@_JSON
@click.pass_context
def report_apologies(
    ctx: click.Context, since: datetime | None, until: datetime | None, as_json: bool
) -> None:
    """Apology tickets verified in the span, per responsible agent, and their SMS."""
    settings = _settings(ctx)
    start, end = _span(since, until)
    rows = _with_database(settings, lambda s: ApologyStore(s).report(start, end))
    if as_json:
        _echo_json(start, end, "agents", rows)
        return
    click.echo(f"apology tickets verified {start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}")
    heads = ("tickets", "apologised", "in_time", "refused", "unreached", "open", "sms")
    click.echo(f"{'agent':<12}" + "".join(f"{h:>11}" for h in heads))
    for r in rows:
        values = (
            r["tickets"],
            r["apologised"],
            r["apologised_in_time"],
            r["refused"],
            r["unreachable"],
            r["open"],
            r["sms_sent"],
        )
        click.echo(f"{r['agent']:<12}" + "".join(f"{v:>11}" for v in values))
    if not rows:
        click.echo("(no tickets)")
