"""`lrs competence import|recompute|process`."""
import os

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from lrs.competence import engine as eng
from lrs.competence import imports
from lrs.competence.tables import employees
from lrs.store.db import read_transaction


@click.group("competence", help="The competence engine: catalog and HR imports, recomputing plans.")
def competence_group():
    pass


def _context():
    return current_app.extensions["lrs.engine"], current_app.extensions["competence.settings"]


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
    engine, settings = _context()
    for path in files:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
        name = os.path.basename(path)
        try:
            if name.endswith((".yaml", ".yml")) or _is_catalog_csv(text):
                report = imports.import_catalog(engine, settings, name, text, _progress("recomputing plans"))
            else:
                report = imports.import_hr(engine, settings, name, text, full=full,
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
