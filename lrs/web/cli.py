"""`lrs users create|list`."""
import click
from flask.cli import with_appcontext

from lrs.principal import ROLES
from lrs.store.db import transaction
from lrs.web import accounts


@click.group("users", help="Who can sign in to the web UI, and with which roles.")
def users_group():
    pass


@users_group.command("create", help="Make a local account (the password is asked for unless given).")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True, help="Shown in the UI.")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), required=True, help="Repeatable.")
@click.option("--employee", "employee_id", help="The employee id this person is (their own plan).")
@click.option("--leads", "led_units", multiple=True, help="A unit id this leader leads (repeatable).")
@click.option("--password", help="At least 12 characters; omit to be asked, or with --oidc-only.")
@click.option("--oidc-only", is_flag=True, help="No password: signs in through OpenID Connect only.")
@with_appcontext
def create_command(username, display_name, roles, employee_id, led_units, password, oidc_only):
    if not oidc_only and not password:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        password_hash = None if oidc_only else accounts.hash_password(password)
        with transaction(write=True) as conn:
            accounts.create(conn, username, display_name, roles, password_hash, employee_id, led_units)
            accounts.audit(conn, None, "user-created", f"{username} (cli)")
    except accounts.AccountError as e:
        raise click.ClickException(str(e))
    click.echo(f"created {username}: {' '.join(sorted(roles))}")


@users_group.command("list")
@with_appcontext
def list_command():
    with transaction() as conn:
        users = accounts.all_users(conn)
    for user in users:
        click.echo(f"{user['username']:20} {user['roles']:30} employee={user['employee_id'] or '-'} "
                   f"leads={user['led_units'] or '-'}")


@users_group.command("password", help="Set a new password (asked for unless given); every session of the account "
                                      "ends.")
@click.argument("username")
@click.option("--password", help="At least 12 characters; omit to be asked.")
@with_appcontext
def password_command(username, password):
    if not password:
        password = click.prompt("new password", hide_input=True, confirmation_prompt=True)
    try:
        password_hash = accounts.hash_password(password)
        with transaction(write=True) as conn:
            accounts.set_password(conn, username, password_hash)
            accounts.audit(conn, None, "password-changed", f"{username} (cli)")
    except accounts.AccountError as e:
        raise click.ClickException(str(e))
    click.echo(f"new password for {username}; signed out everywhere")
