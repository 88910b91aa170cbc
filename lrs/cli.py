"""The `lrs` command: Flask's CLI with the LRS's own commands."""
import json
import os

import click
from flask.cli import FlaskGroup, with_appcontext

from lrs.store import credentials as creds
from lrs.store import db, migrate
from lrs.store.migrate import upgrade


@click.group("db", help="Database schema (Alembic migrations, SQLite and PostgreSQL alike).")
def db_group():
    pass


@db_group.command("upgrade", help="Bring the database schema up to date.")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision):
    upgrade(db.engine(), revision)
    click.echo(f"database at {revision}: {db.engine().url.render_as_string(hide_password=True)}")


@db_group.command("revision", help="Write a new migration (lrs/store/migrations/versions), numbered after the newest.")
@click.option("-m", "--message", required=True, help="What it changes, e.g. 'programmes' (also its file name).")
@click.option("--autogenerate", is_flag=True,
              help="Fill it with what the tables in the code have and the database (at head) lacks; check it by hand.")
@with_appcontext
def db_revision(message, autogenerate):
    path = migrate.revision(db.engine(), message, autogenerate)
    click.echo(f"new migration: {os.path.relpath(path)}")


@click.group("credentials", help="API credentials (HTTP Basic key and secret, with xAPI scopes).")
def credentials_group():
    pass


@credentials_group.command("create", help="Make a credential; its secret is shown once.")
@click.option("--name", required=True, help="Who or what uses it, e.g. 'Moodle bridge'.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(creds.SCOPES),
              help="xAPI scope (repeatable). Default: " + " ".join(creds.DEFAULT_SCOPES))
@click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts).")
@with_appcontext
def credentials_create(name, scopes, as_json):
    cred = creds.create(db.engine(), name, scopes or creds.DEFAULT_SCOPES)
    if as_json:
        click.echo(json.dumps({"key": cred["key"], "secret": cred["secret"], "scopes": cred["scopes"]}))
        return
    click.echo(f"key:    {cred['key']}\nsecret: {cred['secret']}   (shown once: keep it now)\n"
               f"scopes: {' '.join(cred['scopes'])}")


@credentials_group.command("list", help="Show credentials (never their secrets).")
@with_appcontext
def credentials_list():
    for c in creds.list_all(db.engine()):
        state = "revoked" if c["revoked_us"] else "active"
        click.echo(f"{c['key']}  {state:7}  {c['name']}  [{c['scopes']}]")


@credentials_group.command("revoke", help="Revoke a credential by its key.")
@click.argument("key")
@with_appcontext
def credentials_revoke(key):
    if not creds.revoke(db.engine(), key):
        raise click.ClickException(f"no active credential with key {key}")
    click.echo(f"revoked {key}")


@click.command("run", help="Serve the LRS with gunicorn (production-grade; see docs/running.md).")
@click.option("--host", envvar="LRS_HOST", default="127.0.0.1", show_default=True, show_envvar=True)
@click.option("--port", envvar="LRS_PORT", default=8080, type=int, show_default=True, show_envvar=True)
@click.option("--workers", envvar="LRS_WORKERS", default=0, type=int, show_default="2 x CPUs", show_envvar=True)
@click.option("--threads", default=4, type=int, show_default=True, help="Threads per worker.")
def run_command(host, port, workers, threads):
    from lrs.serve import serve
    serve(host, port, workers or (os.cpu_count() or 1) * 2, threads)


@click.command("export", help="Write statements (with attachments) and documents as NDJSON (backup, or moving to "
                             "another LRS). Resume with --after <last seq written>.")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--after", default=0, type=int, help="Only statements stored after this seq (resuming).")
@with_appcontext
def export_command(path, after):
    from lrs.ops import backup
    with open(path, "ab" if after else "wb") as out:
        n, d = backup.export(db.engine(), out, after,
                             progress=lambda done: click.echo(f"\rstatements: {done}", nl=False, err=True))
    click.echo(f"\nexported {n} statements and {d} documents to {path}")


@click.command("import", help="Store the statements and documents of an NDJSON export (already stored ones are "
                             "skipped, so an interrupted import can simply run again).")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_command(path):
    from lrs.ops import backup
    with open(path, "rb") as lines:
        try:
            n, d = backup.restore(db.engine(), lines,
                                  progress=lambda done: click.echo(f"\rstatements: {done}", nl=False, err=True))
        except ValueError as e:
            raise click.ClickException(str(e))
    click.echo(f"\nimported {n} statements and {d} documents from {path}")


def register(app):
    app.cli.add_command(db_group)
    app.cli.add_command(credentials_group)
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)


def main():
    from lrs import create_app

    cli = FlaskGroup(create_app=create_app, add_default_commands=False, help="kompetanse-lrs")
    cli.add_command(run_command)
    cli.add_command(__import__("flask.cli", fromlist=["shell_command"]).shell_command)
    cli.add_command(__import__("flask.cli", fromlist=["routes_command"]).routes_command)
    cli.main(prog_name="lrs")


if __name__ == "__main__":
    main()
