"""CLI of agents, call notes and the dialplan check.

``hotline agent login|logout|pause|unpause|status`` and ``hotline call reason`` talk to
the running service's HTTP API (``web.host``/``web.port``, bearer ``web.token`` from the
settings): the service owns the one AMI connection and the agent state, so a change made
here shows at once in ``GET /api/v1/agents`` and is validated in one place. They need
``hotline serve`` (or ``hotline run``) to be up. ``hotline dialplan check`` needs no
service: it works on the sandbox Asterisk directly.

``call_group`` turns the core ``hotline call`` command (a test call) into a group that
still places a test call when given no subcommand, so ``hotline call reason`` can exist.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import click

from hotline.config import Settings, load_settings
from hotline.errors import ConfigError, HotlineError

__all__ = ["COMMANDS", "ApiError", "api_request", "call_group"]

TIMEOUT_SECONDS = 15.0


class ApiError(HotlineError):
    """The service's API answered with an error, or could not be reached."""


def _settings(ctx: click.Context) -> Settings:
    try:
        return load_settings((ctx.obj or {}).get("config"))
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"config error: {problem}", err=True)
        raise SystemExit(2) from exc


def api_request(
    settings: Settings, method: str, path: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One JSON request to the running service; ApiError with the service's message."""
    web = settings.web
    url = f"http://{web.host}:{web.port}{path}"
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {web.token.get_secret_value()}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            answer: dict[str, Any] = json.loads(response.read() or b"{}")
            return answer
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error", exc.reason)
        except (ValueError, AttributeError):
            message = exc.reason
        raise ApiError(f"{exc.code}: {message}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ApiError(f"the service is not reachable at {url} ({exc}); is it running?") from exc


def _call_api(
    ctx: click.Context, method: str, path: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    try:
        return api_request(_settings(ctx), method, path, body)
    except ApiError as exc:
        raise click.ClickException(str(exc)) from exc


def _show_agent(agent: dict[str, Any]) -> str:
    queues = ", ".join(
        q["queue"]
        + (f" (paused{': ' + q['reason'] if q['reason'] else ''})" if q["paused"] else "")
        for q in agent["queues"]
    )
    call = agent.get("call")
    on = f"  call {call['linkedid']} from {call['caller']}" if call else ""
    return f"{agent['id']} {agent['status']:<11} {queues or '-'}{on}"


@click.group("agent")
def agent() -> None:
    """Agents: login, logout, pause, unpause (queue membership over AMI), status."""


def _agent_command(verb: str, *, reason: bool = False) -> click.Command:
    @click.argument("agent_id")
    @click.option("--queue", "queues", multiple=True, help="a queue (repeatable)")
    @click.pass_context
    def command(
        ctx: click.Context, /, agent_id: str, queues: tuple[str, ...], **extra: Any
    ) -> None:
        body: dict[str, Any] = {"queues": list(queues)}
        if extra.get("reason"):
            body["reason"] = extra["reason"]
        answer = _call_api(ctx, "POST", f"/api/v1/agents/{agent_id}/{verb}", body)
        outcome = ", ".join(f"{q}: {r}" for q, r in answer["queues"].items())
        click.echo(f"{outcome}\n{_show_agent(answer['agent'])}")

    if reason:
        command = click.option("--reason", default="", help="why (shown in the agent state)")(
            command
        )
    command.__doc__ = {
        "login": "Join queues (the agent's configured ones by default).",
        "logout": "Leave queues (all by default).",
        "pause": "Stop being rung (in all queues by default).",
        "unpause": "Be rung again.",
    }[verb]
    return click.command(verb)(command)


for _verb in ("login", "logout", "pause", "unpause"):
    agent.add_command(_agent_command(_verb, reason=_verb == "pause"))


@agent.command("status")
@click.argument("agent_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def agent_status(ctx: click.Context, agent_id: str | None, as_json: bool) -> None:
    """Every agent's state (or one agent's)."""
    path = "/api/v1/agents" + (f"/{agent_id}" if agent_id else "")
    answer = _call_api(ctx, "GET", path)
    agents = [answer] if agent_id else answer["agents"]
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    for found in agents:
        click.echo(_show_agent(found))


@click.command("reason")
@click.argument("linkedid")
@click.option("--reason", default=None, help="the call's reason (at most 64 characters)")
@click.option("--description", default=None, help="what happened (at most 2000 characters)")
@click.pass_context
def call_reason(
    ctx: click.Context, linkedid: str, reason: str | None, description: str | None
) -> None:
    """Set the reason and description of a call record."""
    body = {
        name: value
        for name, value in (("reason", reason), ("description", description))
        if value is not None
    }
    if not body:
        raise click.UsageError("give --reason and/or --description")
    record = _call_api(ctx, "PATCH", f"/api/v1/calls/{linkedid}", body)
    click.echo(f"{record['linkedid']}: reason={record['reason']!r}")


def call_group(place: click.Command) -> click.Group:
    """``hotline call`` as a group: a test call by default, ``reason`` as a subcommand."""

    @click.pass_context
    def callback(ctx: click.Context, /, **options: Any) -> None:
        if ctx.invoked_subcommand is None:
            ctx.invoke(place, **options)

    group = click.Group(
        "call",
        params=list(place.params),
        callback=callback,
        invoke_without_command=True,
        help=f"{place.help or ''}\n\nSubcommand: `call reason LINKEDID` sets a record's notes.",
    )
    group.add_command(call_reason)
    return group


@click.group("dialplan")
def dialplan() -> None:
    """The rendered Asterisk configuration and dialplan."""


@dialplan.command("check")
@click.pass_context
def dialplan_check(ctx: click.Context) -> None:
    """Render, load into the sandbox hotline Asterisk, report errors with file and line."""
    from hotline.dialplan_check import Problem, Report, check_or_raise
    from hotline.web.admin_pages import save_check

    settings = _settings(ctx)
    try:
        report = check_or_raise(settings)
    except HotlineError as exc:  # the page must not go on showing an earlier pass
        save_check(settings.var_dir, Report((Problem("(check)", None, str(exc)),), ()))
        raise click.ClickException(str(exc)) from exc
    save_check(settings.var_dir, report)  # shown on the console's configuration page
    for note in report.notes:
        click.echo(note)
    for problem in report.problems:
        click.echo(f"error: {problem}")
    if not report.ok:
        click.echo(f"{len(report.problems)} problem(s)")
        raise SystemExit(1)
    click.echo("dialplan OK")


COMMANDS: list[click.Command] = [agent, dialplan]
