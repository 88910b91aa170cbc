"""`lrs users create|list`."""
import click
from flask import current_app
from flask.cli import with_appcontext

from lrs.principal import ROLES
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
        accounts.create(current_app.extensions["lrs.engine"], username, display_name, roles,
                        None if oidc_only else password, employee_id, led_units)
    except accounts.AccountError as e:
        raise click.ClickException(str(e))
    accounts.audit(current_app.extensions["lrs.engine"], None, "user-created", f"{username} (cli)")
    click.echo(f"created {username}: {' '.join(sorted(roles))}")


@users_group.command("list")
@with_appcontext
def list_command():
    for user in accounts.all_users(current_app.extensions["lrs.engine"]):
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
        accounts.set_password(current_app.extensions["lrs.engine"], username, password)
    except accounts.AccountError as e:
        raise click.ClickException(str(e))
    accounts.audit(current_app.extensions["lrs.engine"], None, "password-changed", f"{username} (cli)")
    click.echo(f"new password for {username}; signed out everywhere")
