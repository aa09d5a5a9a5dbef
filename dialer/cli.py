"""CLI of the outbound dialer: campaigns and the do-not-call list.

The commands work on the database directly (the running service picks changes up within
a second), so they work whether or not the service runs. Output is for people unless
``--json`` is given.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from dialer.contacts import Format
from dialer.operations import OperationError, Operations, flow_routes
from dialer.repository import ConfigDncEntry, DialerRepository
from hotline.config import Settings, load_settings
from hotline.errors import ConfigError, HotlineError

__all__ = ["COMMANDS"]

T = TypeVar("T")


def _settings(ctx: click.Context) -> Settings:
    try:
        return load_settings((ctx.find_root().obj or {}).get("config"))
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"config error: {problem}", err=True)
        raise SystemExit(2) from exc


def _with_ops(ctx: click.Context, work: Callable[[Operations], Awaitable[T]]) -> T:
    """Run ``work`` against the configured database (migrated first) and close it after."""
    from hotline.db import create_engine, session_factory, upgrade

    settings = _settings(ctx)

    async def go() -> T:
        await upgrade(settings.database.url)
        engine = create_engine(settings.database.url)
        try:
            repo = DialerRepository(session_factory(engine))
            ops = Operations(settings.dialer, repo, flow_routes(settings))
            return await work(ops)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except OperationError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from exc
    except HotlineError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from exc


def _read(file: str, fmt: str | None) -> tuple[bytes, Format]:
    """An import file's bytes and format (``--format``, else by its suffix)."""
    path = Path(file)
    kind = fmt or ("json" if path.suffix.lower() == ".json" else "csv")
    return path.read_bytes(), "json" if kind == "json" else "csv"


def _exit_if_rejected(rejected: list[dict[str, Any]], *, listed: bool) -> None:
    """List the rejected rows (unless the JSON said it all); exit 3 when there were any
    (the rest was imported)."""
    for row in rejected if listed else ():
        click.echo(f"  line {row['line']}: {row['reason']}")
    if rejected:
        sys.exit(3)


def _print_status(info: dict[str, Any]) -> None:
    progress = info["progress"]
    contacts = progress["contacts"]
    click.echo(
        f"{info['name']} (#{info['id']}, {info['type']}): {info['status']}, priority "
        f"{info['priority']}, {info['cps']:g} cps, max {info['max_concurrent']} calls"
    )
    calling = (
        "calling now" if info["calling_now"] else f"not calling: {info['not_calling_because']}"
    )
    click.echo(f"  {calling}")
    click.echo(
        f"  contacts {contacts['total']}: pending {contacts['pending']}, dialing "
        f"{contacts['dialing']}, finished {progress['finished']} (done {contacts['done']}, "
        f"dnc {contacts['dnc']}, blocked {contacts['blocked']}, expired {contacts['expired']})"
    )
    results = ", ".join(f"{k} {v}" for k, v in sorted(progress["results"].items())) or "none yet"
    click.echo(f"  results: {results}")
    attempts = progress["attempts"]
    detail = ", ".join(
        f"{k} {v}" for k, v in sorted(attempts.items()) if k not in ("total", "in_flight")
    )
    click.echo(
        f"  attempts {attempts['total']} (in flight {attempts['in_flight']}): {detail or '-'}"
    )


@click.group()
def campaign() -> None:
    """Outbound campaigns: create, import, start, pause, resume, status, list."""


@campaign.command("create")
@click.argument("name")
@click.option("--from-file", type=click.Path(exists=True, dir_okay=False), help="YAML/JSON spec")
@click.option(
    "--type", "kind", type=click.Choice(["callback_survey", "apology", "promised_callback", "ivr"])
)
@click.option("--priority", type=int)
@click.option("--trunk")
@click.option("--caller-id")
@click.option("--max-concurrent", type=int)
@click.option("--cps", type=float)
@click.option("--timezone")
@click.option("--windows", help='JSON, e.g. {"mon": [["09:00","11:30"]], ...}')
@click.option("--holidays/--no-holidays", "skip_holidays", default=None)
@click.option("--deadline", help="ISO time with zone, or 'today' (end of today)")
@click.option("--retry", help="e.g. busy=600,no_answer=1800,congestion=300")
@click.option("--max-attempts", type=int)
@click.option("--amd/--no-amd", default=None)
@click.option("--route", "agi_route", help="FastAGI route for answered calls")
@click.option("--context", help="dialplan context for answered calls (when no route)")
@click.option("--ring-timeout", type=float)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def create(
    ctx: click.Context, /, name: str, from_file: str | None, as_json: bool, **options: Any
) -> None:
    """Create a campaign (status draft); unset options take the dialer settings' defaults."""
    data: dict[str, Any] = {}
    if from_file:
        loaded = yaml.safe_load(Path(from_file).read_text(encoding="utf-8"))
        if not isinstance(loaded, dict):
            raise click.BadParameter("the spec file must hold a mapping", param_hint="--from-file")
        data.update(loaded)
    data["name"] = name
    kind = options.pop("kind", None)
    if kind:
        data["type"] = kind
    windows, retry = options.pop("windows", None), options.pop("retry", None)
    if windows:
        try:
            data["windows"] = json.loads(windows)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--windows") from exc
    if retry:
        try:
            data["retry"] = {
                k.strip(): int(v) for k, _, v in (p.partition("=") for p in retry.split(","))
            }
        except ValueError as exc:
            raise click.BadParameter("use name=seconds,…", param_hint="--retry") from exc
    data.update({k: v for k, v in options.items() if v is not None})
    made = _with_ops(ctx, lambda ops: ops.create(data))
    if as_json:
        click.echo(json.dumps(made.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"campaign {made.name} (#{made.id}) created, status {made.status.value}")


@campaign.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), help="default: by suffix")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def import_(ctx: click.Context, name: str, file: str, fmt: str | None, as_json: bool) -> None:
    """Import contacts from a CSV or JSON file; every rejected row is listed with its line."""
    from rich.progress import Progress

    data, kind = _read(file, fmt)
    with Progress(transient=True, disable=as_json or len(data) < 1_000_000) as bar:
        task = bar.add_task(f"reading {Path(file).name}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = _with_ops(
            ctx,
            lambda ops: ops.import_contacts(name, data, kind, progress),
        )
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"{report.rows} rows: {report.added} added, {report.merged_in_file} merged "
            f"(repeated in the file), {report.merged_existing} already in the campaign, "
            f"{len(report.rejected)} rejected"
        )
        for line, reason in report.rejected:
            click.echo(f"  line {line}: {reason}")
    if report.rejected:
        sys.exit(3)


@campaign.command("orders")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--seed", help="sampling seed (default: a new random one, printed and stored)")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), help="default: by suffix")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def orders(
    ctx: click.Context, name: str, file: str, seed: str | None, fmt: str | None, as_json: bool
) -> None:
    """Import completed work orders into a callback survey and draw its sample."""
    from dialer.survey.operations import SurveyOps
    from dialer.survey.store import SurveyStore

    data, kind = _read(file, fmt)
    settings = _settings(ctx)

    async def work(ops: Operations) -> dict[str, Any]:
        survey = SurveyOps(settings.survey, ops, SurveyStore(ops.repo.sessions))
        return await survey.import_orders(name, data, kind, seed)

    report = _with_ops(ctx, work)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        picked = report["sample"]
        click.echo(
            f"{report['rows']} rows: {report['orders']} orders ({report['orders_new']} new), "
            f"{len(report['rejected'])} rejected; sample #{picked['id']} seed {picked['seed']}: "
            f"{picked['picked']} picked ({picked['by_rate']} by rate, {picked['by_minimum']} "
            f"by the minimum per technician), {picked['contacts_added']} to call"
        )
    _exit_if_rejected(report["rejected"], listed=not as_json)


@campaign.command("tickets")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), help="default: by suffix")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def tickets(ctx: click.Context, name: str, file: str, fmt: str | None, as_json: bool) -> None:
    """Import verified complaint tickets into an apology campaign."""
    from dialer.apology.operations import ApologyOps
    from dialer.apology.outbox import SmsOutbox
    from dialer.apology.store import ApologyStore

    data, kind = _read(file, fmt)
    settings = _settings(ctx)
    agents = frozenset(agent.id for agent in settings.queues.agents)

    async def work(ops: Operations) -> dict[str, Any]:
        sessions = ops.repo.sessions
        apology = ApologyOps(
            settings.apology, ops, ApologyStore(sessions), SmsOutbox(sessions), agents
        )
        return await apology.import_tickets(name, data, kind)

    report = _with_ops(ctx, work)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"{report['rows']} rows: {report['added']} tickets added, {report['known']} known, "
            f"{report['past_deadline']} past their deadline (SMS at once), "
            f"{len(report['rejected'])} rejected"
        )
    _exit_if_rejected(report["rejected"], listed=not as_json)


def _transition(action: str) -> click.Command:
    @click.command(action, help=f"{action.capitalize()} a campaign.")
    @click.argument("name")
    @click.pass_context
    def command(ctx: click.Context, name: str) -> None:
        made = _with_ops(ctx, lambda ops: ops.transition(name, action))
        click.echo(f"campaign {made.name}: {made.status.value}")

    return command


for _action in ("start", "pause", "resume"):
    campaign.add_command(_transition(_action))


@campaign.command("status")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def status(ctx: click.Context, name: str, as_json: bool) -> None:
    """Progress counters from the database."""
    info = _with_ops(ctx, lambda ops: ops.status(name))
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        _print_status(info)


@campaign.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Every campaign with its progress."""
    infos = _with_ops(ctx, lambda ops: ops.list())
    if as_json:
        click.echo(json.dumps(infos, ensure_ascii=False, indent=2))
        return
    for info in infos:
        _print_status(info)
    if not infos:
        click.echo("no campaigns")


@click.group()
def dnc() -> None:
    """The do-not-call list (settings' dialer.dnc is merged in by the service)."""


@dnc.command("add")
@click.argument("number")
@click.option("--reason", default="")
@click.pass_context
def dnc_add(ctx: click.Context, number: str, reason: str) -> None:
    stored = _with_ops(ctx, lambda ops: ops.add_dnc(number, reason, "cli"))
    click.echo(f"{stored} added to the DNC list")


@dnc.command("remove")
@click.argument("number")
@click.pass_context
def dnc_remove(ctx: click.Context, number: str) -> None:
    try:
        removed = _with_ops(ctx, lambda ops: ops.repo.remove_dnc(number))
    except ConfigDncEntry as exc:
        raise click.ClickException(str(exc)) from None
    if not removed:
        click.echo(f"{number} is not on the DNC list", err=True)
        raise SystemExit(1)
    click.echo(f"{number} removed")


@dnc.command("list")
@click.pass_context
def dnc_list(ctx: click.Context) -> None:
    for row in _with_ops(ctx, lambda ops: ops.repo.dnc()):
        click.echo(f"{row['number']}  {row['source']}  {row['reason']}")


COMMANDS: list[click.Command] = [campaign, dnc]
