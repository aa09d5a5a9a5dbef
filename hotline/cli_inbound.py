"""CLI of the inbound IVR: blocklist, demo data, the menu check (agents: ``cli_agents``).

Commands that touch the database migrate it to the latest schema first (a no-op when it is
current), so ``hotline demo seed`` works on a fresh install.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from hotline.config import Settings, load_settings
from hotline.errors import ConfigError, HotlineError

__all__ = ["COMMANDS"]

T = TypeVar("T")


def _settings(ctx: click.Context) -> Settings:
    try:
        return load_settings((ctx.obj or {}).get("config"))
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"config error: {problem}", err=True)
        raise SystemExit(2) from exc


def _with_database(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(sessions)`` on a migrated database; HotlineError → exit status 1."""
    from hotline.db import create_engine, session_factory, upgrade

    async def go() -> T:
        await upgrade(settings.database.url)
        engine = create_engine(settings.database.url, settings.database.echo)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except HotlineError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from exc


@click.group()
def demo() -> None:
    """Demo data for trying the hotline."""


@demo.command("seed")
@click.pass_context
def demo_seed(ctx: click.Context) -> None:
    """Add the demo customers and bills (safe to run again)."""
    from ivr.demo import DEMO_CUSTOMERS, seed_demo

    customers, bills = _with_database(_settings(ctx), seed_demo)
    click.echo(f"demo data: {customers} customers, {bills} bills")
    for customer in DEMO_CUSTOMERS:
        click.echo(f"  account {customer.account}  {customer.phone}  {customer.name}")


@click.group()
def blocklist() -> None:
    """Numbers whose calls hear a warning and end (ivr.blocklist adds more)."""


def _number(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    from ivr.numbers import valid_number

    if not valid_number(value):
        raise click.BadParameter("digits with an optional leading +, 3 to 20 characters")
    return value


@blocklist.command("add")
@click.argument("number", callback=_number)
@click.option("--reason", default="", help="why (shown in the list)")
@click.pass_context
def blocklist_add(ctx: click.Context, number: str, reason: str) -> None:
    """Block NUMBER."""
    from ivr.blocklist import Blocklist, BlockSource

    async def add(sessions: Any) -> tuple[Any, bool]:
        return await Blocklist(sessions).add(number, reason.strip()[:255], BlockSource.CLI)

    entry, created = _with_database(_settings(ctx), add)
    click.echo(f"{entry.number}: {'blocked' if created else 'already blocked'}")


@blocklist.command("remove")
@click.argument("number", callback=_number)
@click.pass_context
def blocklist_remove(ctx: click.Context, number: str) -> None:
    """Unblock NUMBER (numbers from ivr.blocklist are removed in the settings)."""
    from ivr.blocklist import Blocklist

    async def remove(sessions: Any) -> bool:
        return await Blocklist(sessions).remove(number)

    if not _with_database(_settings(ctx), remove):
        click.echo(f"{number}: not on the blocklist", err=True)
        raise SystemExit(1)
    click.echo(f"{number}: removed")


@blocklist.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_context
def blocklist_list(ctx: click.Context, as_json: bool) -> None:
    """Every blocked number, newest first."""
    from ivr.blocklist import Blocklist
    from ivr.routes import entry_json

    async def entries(sessions: Any) -> list[Any]:
        return await Blocklist(sessions).entries()

    rows = _with_database(_settings(ctx), entries)
    if as_json:
        click.echo(json.dumps([entry_json(e) for e in rows], ensure_ascii=False, indent=2))
        return
    for entry in rows:
        click.echo(f"{entry.number:<20} {entry.source.value:<7} {entry.reason}")


@click.group()
def menu() -> None:
    """The IVR menu (ivr.menu_file)."""


@menu.command("check")
@click.pass_context
def menu_check(ctx: click.Context) -> None:
    """Check the menu against the queues and prompt texts; every problem with its path."""
    from ivr.menu import load_menu

    settings = _settings(ctx)
    try:
        loaded = load_menu(settings)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(problem)
        raise SystemExit(1) from exc
    click.echo(f"menu OK: {len(loaded.nodes)} menus, emergency key {loaded.emergency.key}")


COMMANDS: list[click.Command] = [demo, blocklist, menu]
