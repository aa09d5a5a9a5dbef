"""``hotline token create|list|revoke``: API tokens with a role, stored hashed."""

from __future__ import annotations

import json

import click

from hotline.cli_inbound import _settings, _with_database
from hotline.web.roles import Role
from hotline.web.tokens import TokenStore

__all__ = ["COMMANDS"]


@click.group()
def token() -> None:
    """API tokens: admin, supervisor or agent."""


@token.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", required=True, help="who holds it (shown in lists and logs)")
@click.option("--agent", default="", help="agent tokens: the agent it acts for (required)")
@click.pass_context
def create(ctx: click.Context, role: str, name: str, agent: str) -> None:
    """Make a token; it is printed once and only its hash is stored."""
    settings = _settings(ctx)
    if not name.strip() or len(name) > 64:
        raise click.BadParameter("1 to 64 characters", param_hint="--name")
    kind = Role(role)
    if kind is Role.AGENT:
        known = {a.id for a in settings.queues.agents}
        if agent not in known:
            raise click.BadParameter(
                f"an agent token needs a configured agent ({', '.join(sorted(known))})",
                param_hint="--agent",
            )
    elif agent:
        raise click.BadParameter("only agent tokens act for one agent", param_hint="--agent")
    token_id, secret = _with_database(
        settings, lambda sessions: TokenStore(sessions).create(name.strip(), kind, agent)
    )
    click.echo(f"token #{token_id} ({kind.value}{' ' + agent if agent else ''}): {secret}")
    click.echo("keep it now: it cannot be shown again", err=True)


@token.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Every token (never the token itself)."""
    rows = _with_database(_settings(ctx), lambda sessions: TokenStore(sessions).tokens())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        state = "revoked" if row["revoked_at"] else "active"
        click.echo(f"#{row['id']:<4} {row['role']:<11}{row['agent']:<9}{state:<9}{row['name']}")


@token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke a token (it stops working within 10 s)."""
    done = _with_database(_settings(ctx), lambda sessions: TokenStore(sessions).revoke(token_id))
    if not done:
        click.echo(f"no active token #{token_id}", err=True)
        raise SystemExit(1)
    click.echo(f"token #{token_id} revoked")


COMMANDS: list[click.Command] = [token]
