"""The ``hotline`` command: settings, database, sandbox, prompts, the service, test calls."""

from __future__ import annotations

import json
import logging
import secrets
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from hotline import event_loop
from hotline.config import OPTIONAL_SECRETS, Settings, load_settings, secret_fields
from hotline.errors import ConfigError, HotlineError
from hotline.event_loop import EventLoopName

__all__ = ["main"]

log = logging.getLogger(__name__)


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr
    )


def _settings(ctx: click.Context) -> Settings:
    try:
        settings = load_settings(ctx.obj.get("config"))
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"config error: {problem}", err=True)
        raise SystemExit(2) from exc
    _setup_logging(settings.log_level)
    return settings


def _run(coro: Any, loop: EventLoopName = "asyncio") -> Any:
    try:
        return event_loop.run(coro, loop)
    except HotlineError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from exc


@click.group()
@click.option("--config", type=click.Path(dir_okay=False), help="settings file (hotline.yaml)")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """Gas-utility customer-service hotline on Asterisk 22."""
    ctx.obj = {"config": config}


def _add_feature_commands() -> None:
    from dialer.cli import COMMANDS as DIALER_COMMANDS
    from dialer.reports import report_apologies, report_callbacks, report_survey
    from hotline.cli_agents import COMMANDS as AGENT_COMMANDS
    from hotline.cli_agents import call_group
    from hotline.cli_inbound import COMMANDS as INBOUND_COMMANDS
    from hotline.cli_tokens import COMMANDS as TOKEN_COMMANDS
    from ivr.hold.report import report

    report.add_command(report_survey)
    report.add_command(report_callbacks)
    report.add_command(report_apologies)
    for command in (*INBOUND_COMMANDS, *AGENT_COMMANDS, *DIALER_COMMANDS, *TOKEN_COMMANDS, report):
        main.add_command(command)
    main.add_command(call_group(main.commands["call"]))  # adds `call reason`


@main.group()
def config() -> None:
    """Settings."""


@config.command("check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the settings; print every error with its key path."""
    try:
        settings = load_settings(ctx.obj.get("config"))
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(problem)
        raise SystemExit(1) from exc
    missing = settings.missing_secrets()
    for path in missing:
        click.echo(f"{path}: secret not set (environment or the secrets file)")
    if missing:
        raise SystemExit(1)
    click.echo("settings OK")


@main.group("secrets")
def secrets_group() -> None:
    """Secrets (kept out of the repository)."""


@secrets_group.command("init")
@click.option("--file", "path", default="var/secrets.yaml", show_default=True)
def secrets_init(path: str) -> None:
    """Create the secrets file with random values for every secret not yet set."""
    target = Path(path)
    current: dict[str, Any] = {}
    if target.exists():
        current = yaml.safe_load(target.read_text(encoding="utf-8")) or {}
    added = 0
    for dotted in secret_fields(Settings):
        if dotted in OPTIONAL_SECRETS:
            continue  # a site's own credential (e.g. the SMS gateway's): never made up
        section, _, key = dotted.rpartition(".")
        node = current.setdefault(section, {}) if section else current
        if not node.get(key):
            node[key] = secrets.token_urlsafe(24)
            added += 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=0o600, exist_ok=True)
    target.chmod(0o600)
    target.write_text(yaml.safe_dump(current, sort_keys=True), encoding="utf-8")
    click.echo(f"{target}: {added} secrets generated")


@main.group()
def db() -> None:
    """Database."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the schema to the latest revision."""
    from hotline.db import upgrade
    from hotline.db.engine import safe_url

    settings = _settings(ctx)
    _run(upgrade(settings.database.url))
    click.echo(f"database at {safe_url(settings.database.url)} is up to date")


@main.group()
def sandbox() -> None:
    """The embedded Asterisk (hotline + carrier simulator)."""


@sandbox.command("install")
@click.pass_context
def sandbox_install(ctx: click.Context) -> None:
    """Use the host's Asterisk 22, or build the Debian chroot once."""
    from hotline.sandbox import Sandbox

    try:
        host = Sandbox(_settings(ctx)).install()
    except HotlineError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{host.version} ({'chroot ' + str(host.root) if host.chroot else 'host'})")


@sandbox.command("start")
@click.pass_context
def sandbox_start(ctx: click.Context) -> None:
    """Render the configuration and start both instances."""
    from hotline.sandbox import Sandbox

    settings = _settings(ctx)
    try:
        Sandbox(settings).start()
    except HotlineError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_listening(settings))


@sandbox.command("stop")
@click.pass_context
def sandbox_stop(ctx: click.Context) -> None:
    from hotline.sandbox import Sandbox

    try:
        Sandbox(_settings(ctx)).stop()
    except HotlineError as exc:
        raise click.ClickException(str(exc)) from exc


@sandbox.command("status")
@click.pass_context
def sandbox_status(ctx: click.Context) -> None:
    from hotline.sandbox import Sandbox

    try:
        status = Sandbox(_settings(ctx)).status()
    except HotlineError as exc:
        raise click.ClickException(str(exc)) from exc
    for role, up in status.items():
        click.echo(f"{role}: {'running' if up else 'stopped'}")
    if not all(status.values()):
        raise SystemExit(3)


@main.command("render")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    required=True,
    help="folder to write the hotline's Asterisk configuration into",
)
@click.option(
    "--base",
    default="/var/lib/asterisk-hotline",
    show_default=True,
    help="folder Asterisk keeps this instance's run/log/spool files in",
)
@click.pass_context
def render(ctx: click.Context, out: str, base: str) -> None:
    """Render asterisk-conf/ and dialplans/ for an Asterisk of your own."""
    from hotline.render import InstanceDirs, render_instance

    settings = _settings(ctx)
    dirs = InstanceDirs(base=base, modules="/usr/lib/asterisk/modules", data="/usr/share/asterisk")
    try:
        written = render_instance(settings, "hotline", dirs, Path(out))
    except HotlineError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in written:
        click.echo(path)


@main.group()
def prompts() -> None:
    """Prompt sound files."""


@prompts.command("build")
@click.pass_context
def prompts_build(ctx: click.Context) -> None:
    """Make 8 kHz WAVs from prompts/prompts.yaml with espeak-ng and sox."""
    from hotline.sandbox import Sandbox

    try:
        written = Sandbox(_settings(ctx)).build_prompts()
    except HotlineError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{len(written)} prompt files built")


@prompts.command("check")
@click.pass_context
def prompts_check(ctx: click.Context) -> None:
    """Build the prompts, print how long each plays; fail any over prompts.max_seconds."""
    from hotline.prompt_lengths import measure, report, too_long
    from hotline.sandbox import Sandbox

    settings = _settings(ctx)
    box = Sandbox(settings)
    try:
        box.build_prompts()
        names = [prompt.name for prompt in box.prompt_texts()]
    except HotlineError as exc:
        raise click.ClickException(str(exc)) from exc
    limit = settings.prompts.max_seconds
    lengths = measure(names, box.sound_dirs())
    for line in report(lengths, limit):
        click.echo(line)
    problems = too_long(lengths, limit)
    if problems:
        raise click.ClickException(
            f"{len(problems)} prompt(s) over {limit:g} s:\n" + "\n".join(problems)
        )
    click.echo(f"all {len(lengths)} prompt files play in {limit:g} s or less")


def _listening(settings: Settings) -> str:
    a, c = settings.asterisk, settings.carrier
    return "\n".join(
        [
            f"hotline Asterisk   SIP {a.sip_bind}:{a.sip_port}  AMI {a.ami_host}:{a.ami_port}",
            f"carrier simulator  SIP {c.sip_bind}:{c.sip_port}  AMI {c.ami_host}:{c.ami_port}",
            f"FastAGI            {settings.agi.host}:{settings.agi.port}",
            f"web / API          http://{settings.web.host}:{settings.web.port}/health",
            f"hotline number     {settings.inbound.number}   database {settings.database.url}",
        ]
    )


@main.command("serve")
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run the service (AMI, FastAGI, web) in the foreground until Ctrl-C."""
    from hotline.service import run_service

    settings = _settings(ctx)
    _run(run_service(settings), settings.event_loop)


@main.command("run")
@click.pass_context
def run(ctx: click.Context) -> None:
    """Set up and start everything: sandbox Asterisk, prompts, database, service."""
    from hotline.sandbox import Sandbox
    from hotline.service import run_service

    settings = _settings(ctx)
    box = Sandbox(settings)
    try:
        box.install()
        box.build_prompts()
        box.start()
    except HotlineError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_listening(settings))
    click.echo("Ctrl-C stops the service and both Asterisk instances.")
    try:
        _run(run_service(settings), settings.event_loop)
    finally:
        box.stop()
        click.echo("stopped")


@main.command("call")
@click.option("--json", "as_json", is_flag=True, help="print the call record as JSON")
@click.option("--press", default="", help="keypad digits to send after answer (RFC 4733)")
@click.option("--from", "caller", default="", help="calling number (digits)")
@click.option("--stay", default=15.0, show_default=True, help="seconds to stay on the line")
@click.pass_context
def call(ctx: click.Context, as_json: bool, press: str, caller: str, stay: float) -> None:
    """Place a real SIP call from the carrier simulator into the hotline."""
    from hotline.db import CallRecordRepository, create_engine, session_factory
    from hotline.testcall import CallOptions, place_call, wait_for_record
    from hotline.web.app import record_json

    settings = _settings(ctx)
    try:
        options = CallOptions(press=press, caller=caller, stay=stay)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc

    async def go() -> dict[str, Any]:
        placed = await place_call(settings, options)
        engine = create_engine(settings.database.url)
        try:
            record = await wait_for_record(
                CallRecordRepository(session_factory(engine)), placed.sip_call_id
            )
        finally:
            await engine.dispose()
        return record_json(record)

    result = _run(go())
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"{result['linkedid']}: {result['disposition']}, "
            f"{result['duration_seconds']:.1f} s, caller {result['caller']}"
        )


_add_feature_commands()
