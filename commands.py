"""Operator commands, run as ``flask --app app <group> <command>``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

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
