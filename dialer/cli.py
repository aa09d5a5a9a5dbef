"""CLI of the outbound dialer: campaigns and the do-not-call list."""

from __future__ import annotations

import click

__all__ = ["COMMANDS"]


@click.group()
def campaign() -> None:
    """Outbound campaigns: create, import, start, pause, resume, status, list."""


COMMANDS: list[click.Command] = [campaign]
