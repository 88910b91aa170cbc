"""`lrs programmes import|enrol|examples`."""
import os
from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from lrs.programmes import EXAMPLES, service
from lrs.programmes.definition import ProgrammeError
from lrs.store import db


@click.group("programmes", help="Education programmes: import programme files, enrol participants.")
def programmes_group():
    pass


def _import(paths):
    for path in paths:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
        try:
            with db.transaction(write=True) as conn:
                done = service.import_programme(conn, os.path.basename(path), text)
        except ProgrammeError as e:
            raise click.ClickException(str(e))
        click.echo(f"{done['code']}: version {done['version']}{'' if done['changed'] else ' (unchanged)'}")


@programmes_group.command("import", help="Import programme files (YAML, docs/programmes.md). A changed file is a "
                                         "new version; an unchanged one changes nothing.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_command(files):
    _import(files)


@programmes_group.command("examples", help="Import the three example programmes (LIS, specialist nurse, apprentice).")
@with_appcontext
def examples_command():
    _import(sorted(str(p) for p in EXAMPLES.glob("*.yaml")))


@programmes_group.command("enrol", help="Enrol an employee in a programme.")
@click.argument("programme")
@click.argument("employee_id")
@click.option("--supervisor", help="the supervisor's (veileder's) employee id")
@click.option("--leader", help="the leader's employee id (approves)")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="start date (default today)")
@with_appcontext
def enrol_command(programme, employee_id, supervisor, leader, start):
    settings = current_app.extensions["competence.settings"]
    try:
        with db.transaction(write=True) as conn:
            enrolment_id = service.enrol(conn, settings, programme, employee_id,
                                         start.date() if start else date.today(), supervisor, leader)
    except service.Refused as e:
        with force_locale("en"):  # in English, as the rest of the CLI
            raise click.ClickException(str(e))
    click.echo(enrolment_id)
