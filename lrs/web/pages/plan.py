"""An employee's competence plan: their own (with evidence to register and modules to open) or one a leader or
admin may see, and the certificates of registered evidence."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lrs import principal
from lrs.cmi5.lms import launch_for_employee, list_courses
from lrs.competence import evidence, service
from lrs.competence.api import certificate_download
from lrs import accesslog
from lrs.store.db import engine, read_transaction, transaction
from lrs.web.guard import audit, login_required
from lrs.web.pages.base import bp, own_employee_id, settings
from lrs.web.pages.forms import EvidenceForm, PlainForm, problems


def _render_plan(employee_id: str, own: bool):
    with read_transaction(engine()) as conn:
        plan = service.plan(conn, employee_id)
        if plan is None:
            abort(404)
        names = service.evidence_names(conn, plan)
        published = list_courses(conn)
    accesslog.note("plan-page", employee_id)
    courses = {}  # competence code -> the cmi5 modules that give evidence for it (newest version each)
    for course in published:
        for code in course["competences"]:
            courses.setdefault(code, {})[course["publisher_id"]] = course
    form = EvidenceForm()
    form.competence.choices = [(i["competence"]["code"], i["competence"]["name_nb"]) for i in plan["items"]
                               if i["status"] != "not_required"]
    return render_template("plan.html", plan=plan, names=names, form=form, own=own, launch_form=PlainForm(),
                           courses={code: list(c.values()) for code, c in courses.items()})


@bp.post("/plan/launch")
@login_required()
def launch_module():
    """Open a published module from the plan: resume the employee's registration, or start one (cmi5)."""
    who = principal.current()
    if not who.employee_id or not PlainForm().validate_on_submit():
        abort(400)
    try:
        launched = launch_for_employee(current_app._get_current_object(), who.employee_id,
                                       request.form.get("course", ""), request.url_root,
                                       return_url=url_for("web.my_plan", _external=True))
    except LookupError:
        abort(404)
    audit("module-launched", request.form.get("course", ""))
    return redirect(launched["url"])


@bp.get("/plan")
@login_required()
def my_plan():
    return _render_plan(own_employee_id(), own=True)


@bp.post("/plan/evidence")
@login_required()
def register_evidence():
    employee_id = own_employee_id()
    with read_transaction(engine()) as conn:
        plan = service.plan(conn, employee_id)
    form = EvidenceForm()
    form.competence.choices = [(i["competence"]["code"], i["competence"]["code"]) for i in plan["items"]]
    if not form.validate_on_submit():
        flash(_("Skjemaet er ikke riktig utfylt: ") + problems(form), "error")
        return redirect(url_for("web.my_plan"))
    upload = form.certificate.data
    cert = (upload.filename, upload.mimetype, upload.read()) if upload else None
    try:
        with transaction(write=True) as conn:
            evidence.register(conn, settings(), employee_id, form.competence.data, form.title.data,
                              form.completed_on.data, cert)
    except evidence.EvidenceError as e:
        flash(str(e), "error")
        return redirect(url_for("web.my_plan"))
    flash(_("Registrert. Lederen din får den til attestering."), "ok")
    return redirect(url_for("web.my_plan"))


@bp.get("/employees/<employee_id>")
@login_required()
def employee_plan(employee_id):
    who = principal.current()
    with read_transaction(engine()) as conn:
        if not service.can_see_employee(conn, who, employee_id):
            abort(403)
    return _render_plan(employee_id, own=employee_id == who.employee_id)


@bp.get("/evidence/<evidence_id>/certificate")
@login_required()
def certificate(evidence_id):
    who = principal.current()
    with read_transaction(engine()) as conn:
        row = evidence.certificate(conn, evidence_id)
        if row is None or row.certificate is None:
            abort(404)
        if not service.can_see_employee(conn, who, row.employee_id):
            abort(403)
    accesslog.note("certificate", row.employee_id)
    return certificate_download(row)
