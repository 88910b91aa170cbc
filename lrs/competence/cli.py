"""`lrs competence import|recompute|status`."""
import os

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from lrs.competence import engine as eng
from lrs.competence import imports, service
from lrs.competence.tables import employees, units
from lrs.store import db
from lrs.store.db import read_transaction
from lrs.store.types import utcnow


@click.group("competence", help="The competence engine: catalog and HR imports, recomputing plans.")
def competence_group():
    pass


def _context():
    return db.engine(), current_app.extensions["competence.settings"]


def _progress(label):
    bar = {}

    def update(done, total):
        if "bar" not in bar:
            bar["bar"] = click.progressbar(length=total, label=label, show_pos=True)
            bar["bar"].__enter__()
        bar["bar"].update(done - bar["bar"].pos)
        if done >= total:
            bar["bar"].__exit__(None, None, None)
    return update


@competence_group.command("import", help="Import catalog files (YAML, or CSV of competences / requirements / job "
                                         "roles) and HR exports (CSV of units or employees). Idempotent.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--full", is_flag=True, help="The employees file lists everyone: whoever is missing has left.")
@with_appcontext
def import_command(files, full):
    _, settings = _context()
    for path in files:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
        name = os.path.basename(path)
        try:
            with db.transaction(write=True) as conn:  # one file, one transaction
                if name.endswith((".yaml", ".yml")) or _is_catalog_csv(text):
                    report = imports.import_catalog(conn, settings, name, text, _progress("recomputing plans"))
                else:
                    report = imports.import_hr(conn, settings, name, text, full=full,
                                               progress=_progress("recomputing plans"))
        except imports.ImportProblem as e:
            raise click.ClickException(str(e))
        click.echo(f"{name}:")
        for line in report.lines():
            click.echo(f"  {line}")


def _is_catalog_csv(text: str) -> bool:
    header = set(h.strip() for h in text.splitlines()[0].split(",")) if text else set()
    return "employee_id" not in header and "unit_id" not in header


@competence_group.command("recompute", help="Match every stored statement against the rules again and recompute "
                                            "every plan (attested evidence is kept).")
@with_appcontext
def recompute_command():
    engine, settings = _context()
    bars = {}

    def progress(stage, done):
        if stage == "plans" and "plans" not in bars:
            click.echo()
            with read_transaction(engine) as conn:
                total = conn.execute(select(func.count()).select_from(employees)).scalar()
            bars["plans"] = click.progressbar(length=total, label="plans", show_pos=True)
        if stage == "plans":
            bars["plans"].update(done - bars["plans"].pos)
        else:
            click.echo(f"\rstatements read: {done}", nl=False)

    read, plans = eng.rebuild(engine, settings, progress)
    if "plans" in bars:
        bars["plans"].render_finish()
    click.echo(f"\nstatements read: {read}, plans recomputed: {plans}")


@competence_group.command("status", help="The statuses of a unit's subtree (--unit) or one employee's plan "
                                         "(--employee), now or as they stood at the end of a past day (--as-of).")
@click.option("--unit", "unit_id", help="A unit id: everyone in its subtree.")
@click.option("--employee", "employee_id", help="An employee id.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD, today or earlier.")
@with_appcontext
def status_command(unit_id, employee_id, as_of):
    engine, settings = _context()
    if (unit_id is None) == (employee_id is None):
        raise click.UsageError("give one of --unit or --employee")
    day = as_of.date() if as_of else None
    if day is not None and day > settings.day(utcnow()):
        raise click.BadParameter(f"{day.isoformat()} is in the future; statuses are known up to today",
                                 param_hint="--as-of")
    when = service.AsOf(day, settings.zone) if day else None
    with read_transaction(engine) as conn:
        if unit_id is not None:
            if conn.execute(select(units.c.id).where(units.c.id == unit_id)).first() is None:
                raise click.ClickException(f"no unit {unit_id}")
            data = service.matrix(conn, unit_id, as_of=when)
            rows = [(e["employee_id"], e["name"], code, cell) for e in data["employees"]
                    for code, cell in sorted(e["cells"].items())]
            ok = data["compliant"]
        else:
            data = service.plan(conn, employee_id, when)
            if data is None:
                raise click.ClickException(f"no employee {employee_id}")
            rows = [(employee_id, data["employee"]["name"], i["competence"]["code"], i) for i in data["items"]]
            ok = service.compliant([{i["competence"]["code"]: i for i in data["items"]}])
    for who, name, code, cell in rows:
        optional = "" if cell["mandatory"] else "\t(optional)"
        click.echo(f"{who}\t{name}\t{code}\t{cell['status']}\t{cell['valid_until'] or '-'}{optional}")
    when_text = f"at the end of {day.isoformat()}" if day else "now"
    click.echo(f"{unit_id or employee_id} {when_text}: {'compliant' if ok else 'not compliant'} "
               f"({len(rows)} requirements)")
