"""CLI of the inbound hotline: agents, blocklist, demo data, dialplan check."""

from __future__ import annotations

import click

__all__ = ["COMMANDS"]


@click.group()
def agent() -> None:
    """Agents: login, logout, pause, unpause (queue membership over AMI)."""


COMMANDS: list[click.Command] = [agent]
