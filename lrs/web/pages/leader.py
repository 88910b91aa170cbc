"""Leaders (and admins): a unit's competence matrix, what expires soon, the forecast, the attestation queue, and
the matrix as CSV or Excel."""
import csv
import io

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from lrs import principal
from lrs.competence import evidence, service
from lrs.competence.changes import STATUSES
from lrs import accesslog
from lrs.store.db import engine, read_transaction, transaction
from lrs.web.guard import audit, login_required
from lrs.web.pages.base import bp, settings, status_labels, today
from lrs.web.pages.forms import PlainForm


def _leader_unit(who):
    with read_transaction(engine()) as conn:
        units = service.units_seen_by(conn, who)
    if not units:
        abort(403)
    wanted = request.args.get("unit") or units[0]["id"]
    if wanted not in {u["id"] for u in units}:
        abort(403)
    return wanted, units


@bp.get("/leader")
@login_required("leader", "admin")
def leader():
    who = principal.current()
    unit, units = _leader_unit(who)
    role = request.args.get("role") or None
    status = request.args.get("status") or None
    if status and status not in STATUSES:
        abort(400)
    with read_transaction(engine()) as conn:
        matrix = service.matrix(conn, unit, role, status)
        counts = service.expiring(conn, unit, today())
        forecast = service.forecast(conn, unit, today())
        queue = evidence.attestation_queue(conn, who)
        roles = service.job_roles(conn)
    accesslog.note("leader-view", unit_id=unit, filter=accesslog.query_text({"role": role, "status": status}))
    return render_template("leader.html", matrix=matrix, matrix_rows=_matrix_rows(matrix), counts=counts,
                           forecast=forecast, queue=queue,
                           units=units, unit=unit, role=role, status=status, roles=roles, statuses=STATUSES,
                           decide_form=PlainForm())


def _matrix_rows(matrix) -> Markup:
    """The matrix body, made here rather than in the template: a big unit has tens of thousands of cells, and
    this is several times faster than Jinja's loop (escaping as the template would)."""
    labels = status_labels()
    codes = [c["code"] for c in matrix["competences"]]
    out = []
    for row in matrix["employees"]:
        cells = []
        for code in codes:
            cell = row["cells"].get(code)
            if cell is None:
                cells.append("<td></td>")
                continue
            until = f'<br><span class="muted">{cell["valid_until"]}</span>' if cell["valid_until"] else ""
            cells.append(f'<td><span class="status status-{cell["status"]}">{escape(labels[cell["status"]])}</span>{until}</td>')
        link = url_for("web.employee_plan", employee_id=row["employee_id"])
        out.append(f'<tr><th scope="row"><a href="{escape(link)}">{escape(row["name"])}</a></th>{"".join(cells)}</tr>')
    return Markup("\n".join(out))


@bp.get("/leader/export.<fmt>")
@login_required("leader", "admin")
def leader_export(fmt):
    who = principal.current()
    unit, _units = _leader_unit(who)
    with read_transaction(engine()) as conn:
        matrix = service.matrix(conn, unit, request.args.get("role") or None, request.args.get("status") or None)
    codes = [c["code"] for c in matrix["competences"]]
    header = [_("Ansattnr."), _("Navn"), _("Enhet")] + codes
    labels = status_labels()
    rows = [[r["employee_id"], r["name"], r["unit_id"]] + [
        _cell_text(r["cells"].get(code), labels) for code in codes] for r in matrix["employees"]]
    audit("export", f"{unit} {fmt}")
    accesslog.note("leader-export", unit_id=unit, filter=fmt)
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerows([header] + rows)
        return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="kompetanse-{unit}.csv"'})
    if fmt == "xlsx":
        from openpyxl import Workbook
        book = Workbook()
        sheet = book.active
        sheet.title = unit[:31]
        for row in [header] + rows:
            sheet.append(row)
        data = io.BytesIO()
        book.save(data)
        return Response(data.getvalue(),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="kompetanse-{unit}.xlsx"'})
    abort(404)


def _cell_text(cell, labels) -> str:
    if not cell:
        return ""
    text = labels[cell["status"]]
    if cell["valid_until"]:
        text += f" ({cell['valid_until'].isoformat()})"
    return text


@bp.post("/leader/evidence/<evidence_id>")
@login_required("leader", "admin")
def decide(evidence_id):
    who = principal.current()
    if not PlainForm().validate_on_submit():
        abort(400)
    try:
        with transaction(write=True) as conn:
            evidence.decide(conn, settings(), evidence_id, who, request.form.get("decision") == "attest")
    except evidence.EvidenceError as e:
        flash(str(e), "error")
    else:
        flash(_("Attestert.") if request.form.get("decision") == "attest" else _("Avvist."), "ok")
    return redirect(request.referrer or url_for("web.leader"))

