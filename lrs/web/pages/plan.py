"""An employee's competence plan: their own (with evidence to register and modules to open) or one a leader or
admin may see, and the certificates of registered evidence."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lrs import principal
from lrs.cmi5.lms import launch_for_employee, list_courses, started_courses
from lrs.competence import evidence, service
from lrs.competence.api import certificate_download
from lrs import accesslog
from lrs.store.db import engine, read_transaction, transaction
from lrs.web.guard import audit, login_required
from lrs.web.pages.base import bp, name_of, own_employee_id, settings, today
from lrs.web.pages.forms import EvidenceForm, PlainForm


def _render_plan(employee_id: str, own: bool, form: EvidenceForm | None = None, status: int = 200):
    """The plan page: a summary in words and the next thing to do at the top, then the requirements, most urgent
    first. `form`: the evidence form as posted, with its errors, to show again with what was typed."""
    with read_transaction(engine()) as conn:
        plan = service.plan(conn, employee_id)
        if plan is None:
            abort(404)
        evidence = service.evidence_described(conn, plan)
        published = list_courses(conn)
        started = started_courses(conn, employee_id) if own else set()
    accesslog.note("plan-page", employee_id)
    plan["items"] = service.by_urgency(plan["items"])
    pending = {e["competence"] for e in plan["manual_evidence"] if e["state"] == "pending"}
    courses = {}  # competence code -> the cmi5 modules that give evidence for it (newest version each)
    for course in published:
        for code in course["competences"]:
            courses.setdefault(code, {})[course["publisher_id"]] = course
    if form is None:
        form = EvidenceForm()
    form.competence.choices = [(i["competence"]["code"], name_of(i["competence"])) for i in plan["items"]
                               if i["status"] != "not_required"]
    if not form.is_submitted() and request.args.get("competence") in dict(form.competence.choices):
        form.competence.data = request.args["competence"]  # the next action "register it" chose the competence
    return render_template("plan.html", plan=plan, evidence=evidence, form=form, own=own, launch_form=PlainForm(),
                           summary=service.summary(plan["items"], today(), pending), today=today(), started=started,
                           courses={code: list(c.values()) for code, c in courses.items()}), status


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
    """Register learning done elsewhere. A form with errors comes back with them next to their fields and with
    what was typed (400); a valid one goes to the leader for attestation."""
    employee_id = own_employee_id()
    with read_transaction(engine()) as conn:
        plan = service.plan(conn, employee_id)
    form = EvidenceForm()
    form.competence.choices = [(i["competence"]["code"], name_of(i["competence"])) for i in plan["items"]]
    valid = form.validate_on_submit()
    if valid and form.completed_on.data > today():
        form.completed_on.errors.append(_("Datoen kan ikke være fram i tid."))
        valid = False
    if not valid:
        return _render_plan(employee_id, True, form, 400)
    upload = form.certificate.data
    cert = (upload.filename, upload.mimetype, upload.read()) if upload else None
    try:
        with transaction(write=True) as conn:
            evidence.register(conn, settings(), employee_id, form.competence.data, form.title.data,
                              form.completed_on.data, cert)
    except evidence.EvidenceError as e:
        field = form.certificate if str(e).startswith("certificate") else form.competence
        field.errors = [*field.errors, _("Kursbeviset må være en PDF-, PNG- eller JPEG-fil på høyst 10 MB.")
                        if field is form.certificate else _("Velg en kompetanse fra planen din.")]
        return _render_plan(employee_id, True, form, 400)
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
