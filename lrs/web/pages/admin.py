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
from lrs.web.pages.forms import CredentialForm, ImportForm, PlainForm, RolesForm, RuleForm, UserForm, problems


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


@bp.get("/admin")
@login_required("admin")
def admin():
    with read_transaction(engine()) as conn:
        names = service.competence_names(conn)
        rules = rules_in_force(conn)
        portal, dead = portal_service.status(conn), portal_service.dead_letters(conn, 20)
    return render_template("admin.html", users=accounts.all_users(engine()), credentials=creds.list_all(engine()),
                           portal=portal, dead=dead,
                           competences=names.values(), audit=accounts.audit_entries(engine(), 30),
                           rules=rules, user_form=UserForm(), credential_form=CredentialForm(), plain=PlainForm(),
                           rule_form=RuleForm(), import_form=ImportForm(), roles_form=RolesForm())


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
        made = imports.change_rule(engine(), settings(), raw, dry_run=not save)
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
        if name.endswith(".csv") and ("unit_id" in header or "employee_id" in header):
            report = imports.import_hr(engine(), settings(), name, text)
        else:
            report = imports.import_catalog(engine(), settings(), name, text)
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
        accounts.set_roles(engine(), user_id, form.roles.data, (form.led_units.data or "").split())
    except accounts.AccountError as e:
        flash(str(e), "error")
    else:
        audit("roles-changed", f"{user_id}: {' '.join(form.roles.data)}")
        flash(_("Rollene er endret."), "ok")
    return redirect(url_for("web.admin") + "#users")


@bp.post("/admin/users/<user_id>/sign-out")
@login_required("admin")
def admin_sign_out_everywhere(user_id):
    if not PlainForm().validate_on_submit():
        abort(400)
    ended = accounts.end_sessions(engine(), user_id)
    audit("signed-out-everywhere", f"{user_id}: {ended}")
    flash(_("Logget ut overalt (%(n)s økter).", n=ended), "ok")
    return redirect(url_for("web.admin") + "#users")


@bp.post("/admin/users")
@login_required("admin")
def admin_create_user():
    form = UserForm()
    if form.validate_on_submit():
        try:
            accounts.create(engine(), form.username.data, form.display_name.data, form.roles.data,
                            form.password.data or None, form.employee_id.data or None,
                            (form.led_units.data or "").split())
        except accounts.AccountError as e:
            flash(str(e), "error")
        else:
            audit("user-created", form.username.data)
            flash(_("Bruker opprettet."), "ok")
    else:
        flash(problems(form), "error")
    return redirect(url_for("web.admin"))


@bp.post("/admin/credentials")
@login_required("admin")
@_submitted(CredentialForm)
def admin_create_credential(form):
    made = creds.create(engine(), form.name.data, form.scopes.data)
    audit("credential-created", f"{made['key']} {form.name.data}")
    return render_template("credential_made.html", credential=made)


@bp.post("/admin/credentials/<key>/revoke")
@login_required("admin")
def admin_revoke_credential(key):
    if not PlainForm().validate_on_submit():
        abort(400)
    if creds.revoke(engine(), key):
        audit("credential-revoked", key)
        flash(_("Nøkkelen er trukket tilbake."), "ok")
    return redirect(url_for("web.admin"))


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

