"""Operator commands, run as ``flask --app app <group> <command>``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from consent.identifiers import mask_cr_id
from consent.registry import RegistryError, read_csv

registry_cli = AppGroup("registry", help="The health-worker registry.")


@registry_cli.command("load")
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load(csv_path: Path) -> None:
    """Load workers from a CSV (phone,name,facility,language,active); all rows or none."""
    try:
        workers = read_csv(csv_path)
    except RegistryError as error:
        raise click.ClickException(str(error)) from None

    count = current_app.extensions["gateway"].registry.load(workers)
    click.echo(f"loaded {count} health workers")


audit_cli = AppGroup("audit", help="The consent audit trail.")


@audit_cli.command("show")
@click.argument("reference")
def show(reference: str) -> None:
    """One consent request: its record and every event, oldest first."""
    gateway = current_app.extensions["gateway"]
    record = gateway.records.get(reference)
    events = gateway.trail.history(reference)
    if record is None and not events:
        raise click.ClickException(f"no consent request {reference}")

    if record is not None:
        click.echo(f"{record.reference}  status={record.status}  patient="
                   f"{mask_cr_id(record.cr_id)}  facility={record.facility}  "
                   f"sends={record.send_count}  wrong_codes={record.wrong_codes}  "
                   f"visit={record.visit_reference or '-'}")
    for event in events:
        click.echo(f"  {event['at']}  {event['event']:<10} {event['outcome']:<12} "
                   f"channel={event['channel']} worker={event['worker']} {event['detail']}")


@audit_cli.command("export")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="First day, UTC (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="Last day, UTC, included.")
def export(since: datetime, until: datetime) -> None:
    """Every event between two days as JSON lines, for the Data Commissioner or an audit."""
    start = int(since.replace(tzinfo=UTC).timestamp() * 1000)
    end = int((until.replace(tzinfo=UTC) + timedelta(days=1)).timestamp() * 1000) - 1
    for event in current_app.extensions["gateway"].trail.export(start, end):
        click.echo(json.dumps(event, sort_keys=True))
