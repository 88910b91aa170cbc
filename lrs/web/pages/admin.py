"""Admins: users and their roles and sessions, xAPI credentials, evidence rules (preview, save), catalog and HR
imports, the portal outbox, and the audit log. Every change is written to the audit log."""
import functools

import yaml
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from lrs.competence import imports, service
from lrs.competence.engine import rules_in_force
from lrs.portal import service as portal_service
from lrs.store import credentials as creds
from lrs.store.db import engine, read_transaction, transaction
from lrs.web import accounts
from lrs.web.guard import audit, login_required
from lrs.web.pages.base import bp, settings, status_labels
from lrs.web.pages.forms import (ROLE_NAMES, CredentialForm, ImportForm, PlainForm, RolesForm, RuleForm, UserForm,
                                 problems)


def _submitted(form_class, anchor=""):
    """The view is given its form, submitted and valid; an invalid one goes back to the admin page (at anchor) with
    its problems. Under login_required, so who may post is checked first."""
    def wrap(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            form = form_class()
            if not form.validate_on_submit():
                flash(problems(form), "error")
                return redirect(url_for("web.admin") + anchor)
            return view(form, *args, **kwargs)
        return checked
    return wrap


def _unit_tree(conn) -> list[dict]:
    """The units as a tree to pick from: id, name and depth (0: the trust)."""
    return [{"id": u["id"], "name": u["name"], "depth": min(len([p for p in u["path"].split("/") if p]) - 1, 5)}
            for u in service.unit_tree(conn)]


def _ticked_units(form) -> list[str]:
    """The units ticked in the form (a value may also hold several ids, space-separated)."""
    return [u for value in form.led_units.data or () for u in value.split()]


def _checked_units(form, tree=None) -> list[str]:
    """The ticked units, each one of the unit tree, else an AccountError naming those that are not: the one check
    of the three forms that give a person units (new user, the user's page, the roles on the admin page), before
    their write transaction."""
    if tree is None:
        with read_transaction(engine()) as conn:
            tree = _unit_tree(conn)
    picked, known = _ticked_units(form), {u["id"] for u in tree}
    unknown = [u for u in picked if u not in known]
    if unknown:
        raise accounts.AccountError(_("Ukjent enhet: %(units)s. Velg enhetene fra enhetstreet.",
                                      units=", ".join(unknown)))
    return picked


@bp.get("/admin")
@login_required("admin")
def admin():
    return _admin_page()


def _admin_page(user_form=None, status=200):
    """The admin page; with the new-user form as it was sent (and open) when it had a problem."""
    with read_transaction(engine()) as conn:
        names = service.competence_names(conn)
        rules = rules_in_force(conn)
        portal, dead = portal_service.status(conn), portal_service.dead_letters(conn, 20)
        tree = _unit_tree(conn)
        users, audit_entries = accounts.all_users(conn), accounts.audit_entries(conn, 30)
    return render_template("admin.html", users=users, credentials=creds.list_all(engine()),
                           portal=portal, dead=dead, units=tree, unit_names={u["id"]: u["name"] for u in tree},
                           role_names=ROLE_NAMES, new_user_open=user_form is not None,
                           competences=names.values(), audit=audit_entries,
                           rules=rules, user_form=user_form or UserForm(), credential_form=CredentialForm(),
                           plain=PlainForm(), rule_form=RuleForm(), import_form=ImportForm(),
                           roles_form=RolesForm()), status


@bp.route("/admin/users/<user_id>", methods=["GET", "POST"])
@login_required("admin")
def admin_user(user_id):
    """One user's roles and units, as checkboxes: the roles by name, the units from the unit tree."""
    with read_transaction(engine()) as conn:
        user = accounts.by_id(conn, user_id)
        tree = _unit_tree(conn)
    if user is None:
        abort(404, _("Det finnes ingen slik bruker."))
    form = RolesForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400, _("Skjemaet var utløpt. Last siden på nytt og prøv igjen."))
        try:
            picked = _checked_units(form, tree)
            with transaction(write=True) as conn:
                accounts.set_roles(conn, user_id, form.roles.data, picked)
        except accounts.AccountError as e:
            flash(str(e), "error")
            status = 400
        else:
            audit("roles-changed", f"{user['username']}: {' '.join(form.roles.data)}; {' '.join(picked)}")
            flash(_("Rollene til %(name)s er endret.", name=user["display_name"]), "ok")
            return redirect(url_for("web.admin") + "#users")
        chosen_roles, chosen_units = form.roles.data or [], _ticked_units(form)
    else:
        chosen_roles, chosen_units = user["roles"].split(), user["led_units"].split()
    return render_template("admin_user.html", user=user, form=form, units=tree, role_names=ROLE_NAMES,
                           chosen_roles=chosen_roles, chosen_units=chosen_units), status


@bp.post("/admin/rules")
@login_required("admin")
def admin_rule():
    """Preview (who a rule change affects, nothing kept) or save a rule."""
    form = RuleForm()
    if not form.validate_on_submit():
        abort(400)
    save = request.form.get("action") == "save"
    try:
        raw = yaml.safe_load(form.rule.data)
        if not isinstance(raw, dict):
            raise imports.ImportProblem("a rule is a mapping (id, competence, kind, parts …)")
        with transaction(write=True) as conn:
            made = imports.change_rule(conn, settings(), raw, dry_run=not save)
    except (yaml.YAMLError, ValidationError, imports.ImportProblem) as e:
        message = e.normalized_messages() if isinstance(e, ValidationError) else str(e)
        flash(_("Regelen er ikke gyldig: ") + str(message), "error")
        return redirect(url_for("web.admin") + "#rules")
    if save:
        audit("rule-saved", raw.get("id", ""))
        flash(_("Regelen er lagret: %(n)s statusendringer.", n=len(made or [])), "ok")
        return redirect(url_for("web.admin") + "#rules")
    return render_template("rule_preview.html", changes=made, rule=form.rule.data, form=form,
                           labels=status_labels())


@bp.post("/admin/import")
@login_required("admin")
@_submitted(ImportForm, "#import")
def admin_import(form):
    upload = form.file.data
    name, text = upload.filename, upload.read().decode("utf-8-sig")
    try:
        header = text.split("\n", 1)[0]
        with transaction(write=True) as conn:
            if name.endswith(".csv") and ("unit_id" in header or "employee_id" in header):
                report = imports.import_hr(conn, settings(), name, text)
            else:
                report = imports.import_catalog(conn, settings(), name, text)
    except imports.ImportProblem as e:
        flash(str(e), "error")
        return redirect(url_for("web.admin") + "#import")
    audit("import", f"{name}: {'; '.join(report.lines())}")
    flash(f"{name}: " + "; ".join(report.lines()), "ok")
    return redirect(url_for("web.admin") + "#import")


@bp.post("/admin/users/<user_id>/roles")
@login_required("admin")
def admin_user_roles(user_id):
    form = RolesForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        picked = _checked_units(form)
        with transaction(write=True) as conn:
            accounts.set_roles(conn, user_id, form.roles.data, picked)
    except accounts.AccountError as e:
        flash(str(e), "error")  # refused as the other two forms refuse: the admin page again, saying why
        return _admin_page(status=400)
    else:
        audit("roles-changed", f"{user_id}: {' '.join(form.roles.data)}")
        flash(_("Rollene er endret."), "ok")
    return redirect(url_for("web.admin") + "#users")


@bp.post("/admin/users/<user_id>/sign-out")
@login_required("admin")
def admin_sign_out_everywhere(user_id):
    if not PlainForm().validate_on_submit():
        abort(400)
    with transaction(write=True) as conn:
        ended = accounts.end_sessions(conn, user_id)
    audit("signed-out-everywhere", f"{user_id}: {ended}")
    flash(_("Logget ut overalt (%(n)s økter).", n=ended), "ok")
    return redirect(url_for("web.admin") + "#users")


@bp.post("/admin/users")
@login_required("admin")
def admin_create_user():
    form = UserForm()
    if not form.validate_on_submit():
        flash(problems(form), "error")
        return _admin_page(form, 400)
    try:
        picked = _checked_units(form)
        password_hash = accounts.hash_password(form.password.data) if form.password.data else None
        with transaction(write=True) as conn:
            accounts.create(conn, form.username.data, form.display_name.data, form.roles.data, password_hash,
                            form.employee_id.data or None, picked)
    except accounts.AccountError as e:
        flash(str(e), "error")
        return _admin_page(form, 400)
    audit("user-created", form.username.data)
    flash(_("Bruker opprettet."), "ok")
    return redirect(url_for("web.admin") + "#users")


@bp.post("/admin/credentials")
@login_required("admin")
@_submitted(CredentialForm)
def admin_create_credential(form):
    made = creds.create(engine(), form.name.data, form.scopes.data)
    audit("credential-created", f"{made['key']} {form.name.data}")
    return render_template("credential_made.html", credential=made)


@bp.route("/admin/credentials/<key>/revoke", methods=["GET", "POST"])
@login_required("admin")
def admin_revoke_credential(key):
    """First a page saying what revoking the key stops (GET), then the revocation (POST from that page)."""
    credential = next((c for c in creds.list_all(engine()) if c["key"] == key), None)
    if credential is None:
        abort(404, _("Det finnes ingen slik API-nøkkel."))
    if request.method == "GET":
        return render_template("credential_revoke.html", credential=credential, plain=PlainForm())
    if not PlainForm().validate_on_submit():
        abort(400, _("Skjemaet var utløpt. Last siden på nytt og prøv igjen."))
    if creds.revoke(engine(), key):
        audit("credential-revoked", f"{key} {credential['name']}")
        flash(_("Nøkkelen %(key)s (%(name)s) er trukket tilbake.", key=key, name=credential["name"]), "ok")
    return redirect(url_for("web.admin") + "#credentials")


@bp.post("/admin/portal/requeue")
@login_required("admin")
def admin_requeue():
    if not PlainForm().validate_on_submit():
        abort(400)
    with transaction(write=True) as conn:
        n = portal_service.requeue(conn)
    audit("portal-requeue", str(n))
    flash(_("Sendes på nytt: %(n)s", n=n), "ok")
    return redirect(url_for("web.admin"))

