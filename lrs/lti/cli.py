"""`lrs lti platforms|add-platform|rotate-key|registration-url`: the LTI platform registrations from the shell."""
import json

import click
from flask import current_app, url_for
from flask.cli import with_appcontext

from lrs.lti import service
from lrs.store.db import transaction
from lrs.web import accounts


@click.group("lti", help="The LTI 1.3 tool: platforms (Moodle sites), their keys, dynamic registration.")
def lti_group():
    pass


def _audit(conn, action, detail):
    accounts.audit(conn, None, action, f"{detail} (cli)")


@lti_group.command("platforms", help="The registered platforms and the tool's values for each.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def platforms_command(as_json):
    with transaction() as conn:
        rows = service.platforms(conn)
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context():
        tool = {"login": base + url_for("lti.login"), "launch": base + url_for("lti.launch")}
        jwks = {p["id"]: base + url_for("lti.jwks", platform_id=p["id"]) for p in rows}
    if as_json:
        click.echo(json.dumps([{**{k: v for k, v in p.items() if k != "created"}, **tool, "jwks": jwks[p["id"]]}
                               for p in rows], indent=2))
        return
    for p in rows:
        click.echo(f"{p['id']}  {p['name']}\n  issuer={p['issuer'] or '-'} client_id={p['client_id'] or '-'} "
                   f"deployments={p['deployment_ids'] or '(any)'}\n  match {p['match_claim']} -> {p['match_field']}\n"
                   f"  tool: login={tool['login']} launch={tool['launch']} jwks={jwks[p['id']]}")


@lti_group.command("add-platform", help="Register a platform by hand (manual registration in Moodle).")
@click.option("--name", required=True)
@click.option("--issuer", required=True, help="Moodle's Platform ID (its address).")
@click.option("--client-id", required=True)
@click.option("--deployment", "deployments", multiple=True, help="A deployment id (repeatable; none: any).")
@click.option("--auth-login-url", required=True, help="Moodle: Authentication request URL.")
@click.option("--auth-token-url", required=True, help="Moodle: Access token URL.")
@click.option("--key-set-url", required=True, help="Moodle: Public keyset URL.")
@click.option("--match-claim", help="The launch claim that names the person (default LTI_MATCH_CLAIM).")
@click.option("--match-field", type=click.Choice(service.MATCH_FIELDS), help="default LTI_MATCH_FIELD")
@with_appcontext
def add_platform_command(name, issuer, client_id, deployments, auth_login_url, auth_token_url, key_set_url,
                         match_claim, match_field):
    try:
        with transaction(write=True) as conn:
            pid = service.create_platform(
                conn, name, issuer=issuer, client_id=client_id, deployment_ids=" ".join(deployments),
                auth_login_url=auth_login_url, auth_token_url=auth_token_url, key_set_url=key_set_url,
                match_claim=match_claim or current_app.config["LTI_MATCH_CLAIM"],
                match_field=match_field or current_app.config["LTI_MATCH_FIELD"])
            _audit(conn, "lti-platform-created", pid)
    except service.PlatformError as e:
        raise click.ClickException(str(e))
    click.echo(pid)


@lti_group.command("rotate-key", help="A new signing key for a platform (or --all); the old one stays in the key "
                                      "set for LTI_KEY_GRACE_HOURS.")
@click.argument("platform_id", required=False)
@click.option("--all", "every", is_flag=True)
@with_appcontext
def rotate_key_command(platform_id, every):
    if not platform_id and not every:
        raise click.UsageError("name a platform id, or --all")
    with transaction(write=True) as conn:
        ids = [p["id"] for p in service.platforms(conn)] if every else [platform_id]
        for pid in ids:
            if service.platform(conn, pid) is None:
                raise click.ClickException(f"no platform {pid} (lrs lti platforms)")
            kid = service.new_key(conn, pid)
            click.echo(f"{pid}: new key {kid}")
        _audit(conn, "lti-key-rotated", " ".join(ids))


@lti_group.command("registration-url", help="A one-time address for LTI Dynamic Registration (24 hours).")
@with_appcontext
def registration_url_command():
    with transaction(write=True) as conn:
        token = service.registration_token(conn, "cli")
        _audit(conn, "lti-registration-url", "")
    with current_app.test_request_context():
        click.echo(current_app.config["PUBLIC_URL"].rstrip("/") + url_for("lti.register", token=token))
