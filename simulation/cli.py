"""`sim`: log team-training sessions from files (YAML or JSON, or a day's CSV), correct and delete them."""
import json

import click
import yaml
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext

from simulation import csvfile, service
from simulation.lrs import Refused, Unreachable
from simulation.sessions import Invalid

LRS_APP = "lrs:create_app"


def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f) if path.endswith(".json") else yaml.safe_load(f)


@click.command("log", help="Log the session in a YAML or JSON file.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def log_command(path):
    try:
        done = service.log(current_app._get_current_object(), _load(path))
    except (Invalid, Refused, Unreachable) as e:
        raise click.ClickException(str(e))
    click.echo(f"logged session {done['id']}: {done['statements']} statements")


@click.command("import", help="Log every session of a day from a CSV file (one row per participant).")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_command(path):
    with open(path, encoding="utf-8-sig") as f:
        found = csvfile.read(f.read())
    app = current_app._get_current_object()
    failed = 0
    for raw in found:
        line = raw.pop("_line")
        try:
            done = service.log(app, raw)
            click.echo(f"line {line}: logged session {done['id']} ({done['statements']} statements)")
        except (Invalid, Refused, Unreachable) as e:
            failed += 1
            click.echo(f"line {line}: not logged: {e}", err=True)
    if failed:
        raise click.ClickException(f"{failed} of {len(found)} sessions not logged (the others are)")


@click.command("correct", help="Replace a logged session with the one in the file (voids its old statements).")
@click.argument("session_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def correct_command(session_id, path):
    try:
        done = service.correct(current_app._get_current_object(), session_id, _load(path))
    except (Invalid, Refused, Unreachable) as e:
        raise click.ClickException(str(e))
    click.echo(f"corrected session {session_id}: {done['voided']} voided, {done['statements']} sent")


@click.command("delete", help="Delete a logged session (voids all its statements).")
@click.argument("session_id")
@with_appcontext
def delete_command(session_id):
    try:
        done = service.delete(current_app._get_current_object(), session_id)
    except (Invalid, Refused, Unreachable) as e:
        raise click.ClickException(str(e))
    click.echo(f"deleted session {session_id}: {done['voided']} statements voided")


@click.command("rules", help="Print competence rules (YAML for `lrs competence import`) for the competences the "
                             "scenarios give evidence for.")
def rules_command():
    from simulation.catalog import competence_rules
    click.echo(yaml.safe_dump({"rules": competence_rules()}, allow_unicode=True, sort_keys=False))


def main():
    cli = FlaskGroup(add_default_commands=False, help="Team-training sessions (simulation).")
    for command in (log_command, import_command, correct_command, delete_command, rules_command):
        cli.add_command(command)
    # The commands run in the LRS's app (its settings; its WSGI app when no LRS_SIMULATION_LRS_URL), named as
    # Flask names an app (--app or FLASK_APP override it), not imported: simulation/ imports nothing of the LRS.
    cli.main(prog_name="sim", obj=ScriptInfo(app_import_path=LRS_APP))


if __name__ == "__main__":
    main()
