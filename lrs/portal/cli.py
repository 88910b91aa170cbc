"""`lrs portal status|requeue`."""
import click
from flask.cli import with_appcontext

from lrs.portal import service
from lrs.store import db


@click.group("portal", help="Pushing status changes to the competence portal.")
def portal_group():
    pass


@portal_group.command("status", help="Queue depth, oldest pending change, dead letters, last success per connector.")
@with_appcontext
def status_command():
    with db.transaction() as conn:
        rows, dead_letters = service.status(conn), service.dead_letters(conn, 20)
    for row in rows:
        if row["connector"] == "outbox":
            click.echo(f"outbox: {row['changes']} changes")
            continue
        click.echo(f"{row['connector']}: pending {row['pending']}, sent {row['sent']}, dead {row['dead']}, "
                   f"oldest pending {row['oldest_pending'] or '-'}, last success {row['last_success'] or '-'}"
                   + (f", last failure {row['last_failure']}" if row["last_failure"] else ""))
    for dead in dead_letters:
        click.echo(f"  dead {dead['connector']} {dead['event_id']} employee {dead['employee_id']}: "
                   f"{dead['last_status']} after {dead['attempts']} attempts")


@portal_group.command("requeue", help="Send dead letters again: all, or the given event ids.")
@click.argument("event_ids", nargs=-1)
@click.option("--connector", help="Only this connector (webhook or xapi).")
@with_appcontext
def requeue_command(event_ids, connector):
    with db.transaction(write=True) as conn:
        n = service.requeue(conn, event_ids or None, connector)
    click.echo(f"requeued {n}")
