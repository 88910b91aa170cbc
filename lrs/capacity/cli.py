"""lrs capacity …: import staffing targets, take or backfill the monthly indicator snapshots."""
import click
from flask import current_app
from flask.cli import with_appcontext

from lrs.capacity import indicators, targets
from lrs.store.db import transaction
from lrs.store.types import utcnow


@click.group("capacity")
def capacity_group():
    """Staffing targets and monthly indicators."""


@capacity_group.command("import-targets")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_targets(path):
    """Import staffing targets from a YAML or CSV file (a new version of each that changed)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        wanted = targets.read(path, text)
        with transaction(write=True) as conn:
            counts = targets.save(conn, wanted)
    except targets.TargetProblem as e:
        raise click.ClickException(str(e))
    click.echo(f"targets: {counts['created']} created, {counts['changed']} changed, {counts['unchanged']} unchanged")


@capacity_group.command("snapshot")
@click.option("--month", help="YYYY-MM (default: last month)")
@click.option("--from", "first", help="backfill from this month (YYYY-MM) to --month or last month")
@with_appcontext
def snapshot(month, first):
    """Take the monthly indicator snapshot (a month already taken is left as it was); with --from, backfill every
    month from then on from the status history."""
    settings = current_app.extensions["competence.settings"]
    today = settings.day(utcnow())
    last = month or indicators.previous_month(today)
    try:
        months = indicators.backfill_months(first, last) if first else [last]
        if indicators.last_day(last) >= today:
            raise ValueError(f"{last} is not over yet")
    except ValueError as e:
        raise click.ClickException(f"{e} (months are YYYY-MM, and only months that are over)")
    for m in months:
        with transaction(write=True) as conn:
            taken = indicators.take(conn, m, today, settings.zone, "backfill" if first else "job")
        click.echo(f"{m}: {'taken' if taken else 'already taken, kept as it was'}")
