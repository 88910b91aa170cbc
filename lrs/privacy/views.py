"""Pages: a person sees who read their records and downloads all their data; admins search the access log and
download any employee's data."""
import csv
import io
from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lrs import accesslog, personal, principal
from lrs.competence import service
from lrs.privacy import access, events, export
from lrs.store.db import transaction
from lrs.web.exports import as_text
from lrs.web.guard import login_required

bp = Blueprint("privacy", __name__, template_folder="templates")


@bp.get("/privacy")
@login_required()
def mine():
    """Min kompetanseplan > who has read my records."""
    who = principal.current()
    if not who.employee_id:
        abort(404)
    settings = current_app.extensions["competence.settings"]
    with transaction() as conn:
        days = access.about_person_by_day(conn, who.employee_id, settings.zone, limit=500)
    today = settings.day(datetime.now(timezone.utc))
    return render_template("privacy/mine.html", days=days, resources=accesslog.RESOURCES, today=today,
                           yesterday=today - timedelta(days=1))


@bp.get("/privacy/employees/<employee_id>/export.<any(json, html):fmt>")
@login_required()
def export_person(employee_id, fmt):
    """Everything about one employee: the person themselves, or an admin."""
    who = principal.current()
    if who.employee_id != employee_id and not who.has("admin"):
        abort(403)
    with transaction() as conn:
        record = export.collect(conn, employee_id, personal.declared(current_app))
    if record is None:
        abort(404)
    accesslog.note("export", employee_id, filter=fmt)
    if fmt == "json":
        return Response(export.as_json(record), mimetype="application/json", headers={
            "Content-Disposition": f'attachment; filename="person-{employee_id}.json"'})
    # A page to keep, styled by its own <style> and with no script: a policy of its own.
    return Response(export.as_html(record), mimetype="text/html", headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"})


def _day(name: str) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(400, description=_("Ugyldig dato i %(name)s: bruk ÅÅÅÅ-MM-DD.", name=name))


def _filters() -> dict:
    args = {k: request.args.get(k, "").strip() for k in ("employee", "reader", "resource")}
    if args["resource"] and args["resource"] not in accesslog.RESOURCES:
        abort(400, description=_("Ukjent ressurs."))
    since, until = _day("since"), _day("until")
    return {"employee_id": args["employee"], "reader": args["reader"], "resource": args["resource"],
            "since": datetime.combine(since, time(), timezone.utc) if since else None,
            # until is the last day included
            "until": datetime.combine(until + timedelta(days=1), time(), timezone.utc) if until else None}


@bp.get("/admin/privacy")
@login_required("admin")
def admin():
    filters = _filters()
    with transaction() as conn:
        entries = access.search(conn, **filters, limit=500)
        done = events.recent(conn)
    return render_template("privacy/admin.html", entries=entries, resources=accesslog.RESOURCES, args=request.args,
                           events=done)


@bp.get("/admin/privacy/access.csv")
@login_required("admin")
def admin_csv():
    filters = _filters()
    with transaction() as conn:
        entries = access.search(conn, **filters, limit=None)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "user", "credential", "employee_id", "unit_id", "resource", "role", "filter"])
    for e in entries:
        writer.writerow([as_text(v) for v in (e["at"].isoformat(), e["username"] or e["user_id"], e["credential"],
                                            e["employee_id"], e["unit_id"], e["resource"], e["role"], e["filter"])])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="access-log.csv"'})



@bp.get("/admin/privacy/export")
@login_required("admin")
def admin_export():
    """The admin page's export form: to the download of the employee named."""
    employee_id = request.args.get("employee", "").strip()
    fmt = request.args.get("format", "html")
    with transaction() as conn:
        if not employee_id or service.plan(conn, employee_id) is None:
            abort(404, description=_("Fant ingen ansatt med dette ansattnummeret."))
    return redirect(url_for("privacy.export_person", employee_id=employee_id, fmt=fmt if fmt == "json" else "html"))
