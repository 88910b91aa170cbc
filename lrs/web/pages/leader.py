"""Leaders (and admins): "who in my unit is not compliant, and what happens next quarter?" The unit's people
counted (each count a filter), the matrix a page of people at a time, the 12-month forecast of every competence,
the attestation queue (reject with a reason), and the matrix as CSV or Excel."""
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup, escape

from lrs import accesslog, principal
from lrs.competence import evidence, service
from lrs.store.db import engine, read_transaction, transaction
from lrs.web import exports
from lrs.web.guard import audit, login_required
from lrs.web.pages.base import bp, name_of, settings, status_labels, today
from lrs.web.pages.forms import PlainForm

PER_PAGE = 50


def _leader_unit(conn, who):
    units = service.units_seen_by(conn, who)
    if not units:
        abort(403)
    wanted = request.args.get("unit") or units[0]["id"]
    if wanted not in {u["id"] for u in units}:
        abort(403)
    return wanted, units


def _filters(conn) -> tuple[dict, list[dict], dict]:
    """The page's filters from the query string, and the roles and competences they were checked against (the
    page's choices, so it reads them once); a value that is none of the choices is a 400 in words."""
    roles, catalog = service.job_roles(conn), service.competence_names(conn)
    role = request.args.get("role") or None
    competence = request.args.get("competence") or None
    status = request.args.get("status") or None
    if status and status not in service.PEOPLE_FILTERS:
        abort(400, _("Ukjent statusfilter: %(s)s", s=status))
    if role and role not in {r["code"] for r in roles}:
        abort(400, _("Ukjent rolle: %(s)s", s=role))
    if competence and competence not in catalog:
        abort(400, _("Ukjent kompetanse: %(s)s", s=competence))
    return {"role": role, "competence": competence, "status": status}, roles, catalog


@bp.get("/leader")
@login_required("leader", "admin")
def leader():
    who = principal.current()
    page = request.args.get("page", 1, type=int)
    with read_transaction(engine()) as conn:
        unit, units = _leader_unit(conn, who)
        filters, roles, catalog = _filters(conn)
        view = service.unit_overview(conn, unit, today(), page=page, per_page=PER_PAGE, names=catalog, **filters)
        queue = evidence.attestation_queue(conn, who)
    accesslog.note("leader-view", unit_id=unit, filter=accesslog.query_text(filters))
    unit_name = next(u["name"] for u in units if u["id"] == unit)
    months = view["forecast"][0]["months"] if view["forecast"] else []
    month_labels = {m["month"]: format_date(date(int(m["month"][:4]), int(m["month"][5:]), 1), "MMM yy")
                    for m in months}
    return render_template("leader.html", view=view, matrix_rows=_matrix_rows(view), queue=queue,
                           month_labels=month_labels,
                           units=units, unit=unit, unit_name=unit_name, filters=filters, roles=roles,
                           catalog=catalog, decide_form=PlainForm())


def _matrix_rows(view) -> Markup:
    """The matrix body, made here rather than in the template (escaping as the template would): it is the
    page's biggest part, and this is several times faster than Jinja's loop."""
    labels = status_labels()
    codes = [c["code"] for c in view["competences"]]
    out = []
    for row in view["employees"]:
        cells = []
        for code in codes:
            cell = row["cells"].get(code)
            if cell is None:
                cells.append("<td></td>")
                continue
            until = f'<br><span class="muted">{cell.valid_until:%d.%m.%Y}</span>' if cell.valid_until else ""
            cells.append(f'<td><span class="status status-{cell.status}">{escape(labels[cell.status])}</span>'
                         f'{until}</td>')
        link = url_for("web.employee_plan", employee_id=row["employee_id"])
        share = "–" if row["share"] is None else f'{round(row["share"] * 100)} %'
        out.append(f'<tr><th scope="row"><a href="{escape(link)}">{escape(row["name"])}</a></th>'
                   f'<td class="num">{share}</td>{"".join(cells)}</tr>')
    return Markup("\n".join(out))


@bp.get("/leader/export.<any(csv, xlsx):fmt>")
@login_required("leader", "admin")
def leader_export(fmt):
    """The listed people's requirements, one row per person and requirement, with the page's filters."""
    who = principal.current()
    with read_transaction(engine()) as conn:
        unit, units = _leader_unit(conn, who)
        filters, _roles, catalog = _filters(conn)
        view = service.unit_overview(conn, unit, today(), per_page=None, months=0, due_dates=True, names=catalog,
                                     **filters)
    columns = [exports.Column(_("Ansattnr."), 12), exports.Column(_("Navn"), 28), exports.Column(_("Enhet"), 24),
               exports.Column(_("Kode"), 14), exports.Column(_("Kompetanse"), 36),
               exports.Column(_("Status"), 22, "status"), exports.Column(_("Gyldig til"), 12, "date"),
               exports.Column(_("Frist"), 12, "date"), exports.Column(_("Obligatorisk"), 12)]
    yes, no = _("Ja"), _("Nei")
    names = {c["code"]: c for c in view["competences"]}
    rows = [[r["employee_id"], r["name"], r["unit_name"], code, name_of(names[code]), cell.status, cell.valid_until,
             cell.due_on, yes if cell.mandatory else no]
            for r in view["employees"] for code, cell in sorted(r["cells"].items())]
    audit("export", f"{unit} {fmt}")
    accesslog.note("leader-export", unit_id=unit, filter=fmt)
    unit_name = next(u["name"] for u in units if u["id"] == unit)
    return exports.download(fmt, f"kompetanse-{unit}", unit_name, columns, rows, labels=status_labels())


@bp.post("/leader/evidence/<evidence_id>")
@login_required("leader", "admin")
def decide(evidence_id):
    who = principal.current()
    if not PlainForm().validate_on_submit():
        abort(400)
    attest = request.form.get("decision") == "attest"
    reason = request.form.get("reason", "")
    if not attest and not reason.strip():
        flash(_("Skriv hvorfor du avviser, så den ansatte vet hva som mangler."), "error")
        return redirect(url_for("web.leader", unit=request.args.get("unit") or None) + "#attestation")
    try:
        with transaction(write=True) as conn:
            evidence.decide(conn, settings(), evidence_id, who, attest, None if attest else reason)
    except evidence.EvidenceError as e:
        flash(_decision_error(e), "error")
    else:
        audit("evidence-attested" if attest else "evidence-rejected", evidence_id)
        flash(_("Attestert.") if attest else _("Avvist. Den ansatte ser begrunnelsen i planen sin."), "ok")
    return redirect(url_for("web.leader", unit=request.args.get("unit") or None) + "#attestation")


def _decision_error(error: evidence.EvidenceError) -> str:
    """The service's refusal in the reader's words (its messages are the API's)."""
    return {400: _("Begrunnelsen kan være på høyst %(n)s tegn.", n=evidence.REASON_MAX),
            403: _("Du kan ikke avgjøre denne: bare en leder for den ansattes enhet kan det, og ingen sin egen."),
            404: _("Fant ikke den registrerte opplæringen."),
            409: _("Denne er allerede avgjort.")}.get(error.status, _("Kunne ikke lagre avgjørelsen: %(e)s", e=str(error)))
