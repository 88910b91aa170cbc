"""`lrs privacy export|erase|retention`."""
import getpass

import click
from flask import current_app
from flask.cli import with_appcontext

from lrs import personal
from lrs.privacy import erase as erasure
from lrs.privacy import export, retention
from lrs.store import db
from lrs.store.db import transaction
from lrs.store.types import utcnow


@click.group("privacy", help="Personal data: an employee's data on request, erasure, retention (docs/privacy.md).")
def privacy_group():
    pass


def _operator() -> str:
    return "cli:" + getpass.getuser()


employee_option = click.option("--employee", "employee_id", required=True, help="The employee id.")


def _found(what, employee_id: str):
    """What export or erasure found of the employee; a clear error when there is no such employee."""
    if what is None:
        raise click.ClickException(f"no employee {employee_id}")
    return what


@privacy_group.command("export", help="Write everything about one employee as JSON and as a printable HTML report.")
@employee_option
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Folder to write into.")
@with_appcontext
def export_command(employee_id, out_dir):
    with transaction() as conn:
        record = _found(export.collect(conn, employee_id, personal.declared(current_app)), employee_id)
    # The report's texts are rendered as for a request (language: bokmål).
    with current_app.test_request_context():
        paths = export.write_files(record, out_dir)
    for path in paths:
        click.echo(path)
    click.echo(f"{len(record['statements'])} statements, {len(record['documents'])} documents, "
               f"{len(record['plan'])} plan items, {len(record['access_log'])} access log entries")


@privacy_group.command("erase", help="Replace an employee's identity everywhere with a pseudonym. Cannot be undone.")
@employee_option
@click.option("--yes", is_flag=True, help="Confirm the erasure (without it you are asked).")
@with_appcontext
def erase_command(employee_id, yes):
    with transaction() as conn:
        found = _found(erasure.preview(conn, employee_id, personal.declared(current_app)), employee_id)
    click.echo(f"employee {employee_id}: {found['statements']} statements, {found['agents']} agents, "
               f"{found['user_accounts']} user accounts will be pseudonymised")
    if not yes:
        click.confirm("Erase this person's identity? This cannot be undone", abort=True)
    with transaction(write=True) as conn:
        pseudonym = erasure.erase(conn, current_app.config, employee_id, _operator(), personal.declared(current_app))
    click.echo(f"erased: the person is now {pseudonym}")


@privacy_group.command("retention", help="Delete the raw learning records of people who left longer ago than the "
                                         "retention period (LRS_RETENTION_DAYS_AFTER_LEAVING).")
@click.option("--dry-run", is_flag=True, help="Only report what would be deleted.")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Retention period in days (default: LRS_RETENTION_DAYS_AFTER_LEAVING).")
@with_appcontext
def retention_command(dry_run, days):
    days = days or current_app.config["RETENTION_DAYS_AFTER_LEAVING"]
    if days <= 0:
        raise click.ClickException("no retention period: set LRS_RETENTION_DAYS_AFTER_LEAVING or give --days")
    today = current_app.extensions["competence.settings"].day(utcnow())
    report = retention.run(db.engine(), today, days, dry_run=dry_run, actor=_operator())
    click.echo(("would delete (dry run):" if dry_run else "deleted:"))
    for line in report.lines():
        click.echo("  " + line)
