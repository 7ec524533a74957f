"""Operator commands for what the telco tells us, run as ``flask --app app sessions ...``."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

sessions_cli = AppGroup("sessions", help="USSD sessions as Africa's Talking reported their end.")


@sessions_cli.command("failed")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="How many sessions to list, newest first.")
def failed(limit: int) -> None:
    """List recent sessions that ended Failed or Incomplete (phones masked)."""
    ends = current_app.extensions["operations"].session_ends.recent_failed(limit)
    if not ends:
        click.echo("no failed or incomplete sessions recorded")
        return

    for end in ends:
        click.echo(_line(end))


def _line(end: dict[str, object]) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(float(end["received"])))
    screen = str(end["last_screen"]).replace("\n", " | ")[:60]

    return (f"{when}Z {end['status']:<10} {end['session']} phone {end['phone']} "
            f"hops {end['hops']} {end['duration_ms']} ms  last: {screen or '-'}  "
            f"error: {end['error'] or '-'}")
