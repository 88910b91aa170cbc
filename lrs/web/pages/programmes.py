"""Education programmes (lrs.programmes): the participant's progression, the supervisor's trainees with what awaits
them, the leader's or committee's overview of who is behind, the printable record and its xAPI export; and the
actions: log an entry, confirm it, assess, approve, void, transfer."""
import orjson
from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lrs import accesslog, principal
from lrs.competence import service as competence
from lrs.programmes import readers, service
from lrs.store.db import transaction
from lrs.web.guard import audit, login_required
from lrs.web.pages.base import bp, name_of, settings, today
from lrs.web.pages.forms import EntryForm, PlainForm, TransferForm, problems


def state_labels() -> dict[str, str]:
    return {"not_started": _("Ikke startet"), "in_progress": _("Påbegynt"), "ready": _("Klar til vurdering"),
            "assessed": _("Vurdert som oppnådd"), "approved": _("Godkjent")}


def assessment_labels() -> dict[str, str]:
    return {"supervisor": _("Veileder vurderer"), "committee": _("Leder eller utdanningsutvalg vurderer"),
            "automatic": _("Oppnås automatisk")}


def _signer_name() -> str:
    user = g.get("user") or {}
    return user.get("display_name") or ""


def _act(action, *args, back: str):
    """Run a service action in a write transaction; a refusal (service.Refused) is said on the page it came from.
    Returns that page's redirect if refused, else None."""
    try:
        with transaction(write=True) as conn:
            action(conn, settings(), *args)
    except service.Refused as e:
        flash(_("Det gikk ikke: %(why)s", why=str(e)), "error")
        return redirect(back)
    return None


def _participant_page(enrolment_id: str) -> str:
    """Where an action on a participant's page leads back to: the page's top, where the message of what was done is
    (an #anchor at a form further down would scroll the message out of view)."""
    return url_for("web.programme_participant", enrolment_id=enrolment_id)


def _invalid(form, back: str):
    """The page it came from, saying what is wrong, if the form is not filled in right; else None."""
    if form.validate_on_submit():
        return None
    flash(_("Skjemaet er ikke riktig utfylt: ") + problems(form), "error")
    return redirect(back)


@bp.get("/programmer")
@login_required()
def programmes_home():
    """The start of the programmes: one's own progression, or (supervisor, leader) the pages that are theirs."""
    who = principal.current()
    with transaction() as conn:
        mine = service.enrolments_of(conn, who.employee_id) if who.employee_id else []
        supervising = bool(readers.trainees(conn, settings(), who, today()))
    if len(mine) == 1 and not supervising and not (who.has("leader") or who.has("admin")):
        return redirect(url_for("web.programme_participant", enrolment_id=mine[0].id))
    return render_template("programmes/home.html", mine=mine, supervising=supervising)


@bp.get("/programmer/deltaker/<enrolment_id>")
@login_required()
def programme_participant(enrolment_id):
    who = principal.current()
    try:
        with transaction() as conn:
            p = readers.participant(conn, settings(), who, enrolment_id, today())
            row = service.enrolment(conn, enrolment_id)
            leads = service.leads(conn, who, row)
            units = competence.unit_tree(conn) if leads else []
    except service.Refused as e:
        abort(e.status)
    accesslog.note("programme-page", p["enrolment"]["employee_id"])
    own = who.employee_id == p["enrolment"]["employee_id"]
    objectives = [o for t in p["topics"] for o in t["objectives"]]
    entry_form = EntryForm()
    entry_form.objective.choices = [(o["id"], f"{o['id']} {name_of(o)}") for o in objectives
                                    if any(a["kind"] in ("procedure", "supervision") for a in o["activities"])]
    transfer_form = TransferForm(unit=row.unit_id, supervisor=row.supervisor_id or "", leader=row.leader_id or "")
    transfer_form.unit.choices = [(u["id"], u["name"]) for u in units]
    return render_template("programmes/participant.html", p=p, own=own, leads=leads,
                           supervises=who.employee_id == p["enrolment"]["supervisor_id"], entry_form=entry_form,
                           transfer_form=transfer_form, form=PlainForm(), states=state_labels(),
                           assessments=assessment_labels(), who=who)


@bp.post("/programmer/deltaker/<enrolment_id>/registrer")
@login_required()
def programme_log_entry(enrolment_id):
    back = _participant_page(enrolment_id)
    form = EntryForm()
    form.objective.choices = [(request.form.get("objective", ""), "")]
    if invalid := _invalid(form, back):
        return invalid
    if refused := _act(service.log_entry, enrolment_id, principal.current(), form.objective.data, form.kind.data,
                       form.title.data, form.done_on.data, back=back):
        return refused
    flash(_("Registrert. Veilederen din bekrefter den."), "ok")
    return redirect(back)


@bp.post("/programmer/registrering/<entry_id>")
@login_required()
def programme_decide_entry(entry_id):
    back = request.form.get("back") or url_for("web.programme_trainees")
    if not back.startswith("/") or back.startswith("//"):  # only back to a page of this site
        back = url_for("web.programme_trainees")
    if not PlainForm().validate_on_submit():
        abort(400)
    if refused := _act(service.decide_entry, entry_id, principal.current(),
                       request.form.get("decision") == "confirm", back=back):
        return refused
    flash(_("Bekreftet.") if request.form.get("decision") == "confirm" else _("Avvist."), "ok")
    return redirect(back)


@bp.post("/programmer/deltaker/<enrolment_id>/signer")
@login_required()
def programme_sign(enrolment_id):
    back = _participant_page(enrolment_id)
    if not PlainForm().validate_on_submit():
        abort(400)
    objective, kind = request.form.get("objective", ""), request.form.get("kind", "")
    if refused := _act(service.sign, enrolment_id, objective, kind, principal.current(), _signer_name(), back=back):
        return refused
    audit(f"programme-{kind}", f"{enrolment_id} {objective}")
    flash(_("%(objective)s er vurdert som oppnådd.", objective=objective) if kind == "assessed"
          else _("%(objective)s er godkjent.", objective=objective), "ok")
    return redirect(back)


@bp.post("/programmer/signatur/<signoff_id>/annuller")
@login_required()
def programme_void(signoff_id):
    enrolment_id = request.form.get("enrolment", "")
    back = _participant_page(enrolment_id) if enrolment_id else url_for("web.programmes_home")
    if not PlainForm().validate_on_submit():
        abort(400)
    if refused := _act(service.void, signoff_id, principal.current(), back=back):
        return refused
    audit("programme-void", signoff_id)
    flash(_("Signaturen er annullert; læringsmålet er åpent igjen."), "ok")
    return redirect(back)


@bp.post("/programmer/deltaker/<enrolment_id>/flytt")
@login_required("leader", "admin")
def programme_transfer(enrolment_id):
    back = _participant_page(enrolment_id)
    form = TransferForm()
    form.unit.choices = [(request.form.get("unit", ""), "")]
    if invalid := _invalid(form, back):
        return invalid
    if refused := _act(service.transfer, enrolment_id, principal.current(), form.unit.data,
                       form.supervisor.data or None, form.leader.data or None, None, form.note.data or "", back=back):
        return refused
    audit("programme-transfer", f"{enrolment_id} {form.unit.data}")
    flash(_("Flyttet. Alt som er registrert og signert følger med."), "ok")
    return redirect(back)


@bp.get("/programmer/veiledning")
@login_required()
def programme_trainees():
    who = principal.current()
    with transaction() as conn:
        trainees = readers.trainees(conn, settings(), who, today())
    for t in trainees:
        accesslog.note("programme-page", t["employee_id"])
    return render_template("programmes/trainees.html", trainees=trainees, form=PlainForm())


@bp.get("/programmer/oversikt")
@login_required("leader", "admin")
def programme_overview():
    who = principal.current()
    with transaction() as conn:
        seen = readers.overview(conn, settings(), who, today())
        names = competence.competence_names(conn)  # the supervision competences by name, as the other pages
    for s in seen["participants"]:
        accesslog.note("programme-page", s["employee_id"])
    return render_template("programmes/overview.html", seen=seen, names=names)


@bp.get("/programmer/deltaker/<enrolment_id>/utskrift")
@login_required()
def programme_record(enrolment_id):
    try:
        with transaction() as conn:
            p = readers.record(conn, settings(), principal.current(), enrolment_id, today())
    except service.Refused as e:
        abort(e.status)
    accesslog.note("programme-export", p["enrolment"]["employee_id"])
    return render_template("programmes/record.html", p=p, states=state_labels(), assessments=assessment_labels(),
                           printed=today())


@bp.get("/programmer/deltaker/<enrolment_id>/xapi.json")
@login_required()
def programme_export(enrolment_id):
    try:
        with transaction() as conn:
            row = service.enrolment(conn, enrolment_id)
            found = readers.export_statements(conn, principal.current(), enrolment_id)
    except service.Refused as e:
        abort(e.status)
    accesslog.note("programme-export", row.employee_id)
    return Response(orjson.dumps(found, option=orjson.OPT_INDENT_2), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="utdanningslop-{row.employee_id}-{row.programme_code}.json"'})
