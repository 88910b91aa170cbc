"""Capacity and indicators, for the region, trust administrators and unit leaders: staffing targets against
holders now and 3, 12 and 36 months ahead (/capacity), one target's months and who must renew
(/capacity/targets/<id>), the targets' import and edit (/capacity/admin), and the monthly indicators' trend with
drill-down (/indicators). Read-only for the regional role; targets are set by admins and trust admins."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lrs import accesslog, principal
from lrs.capacity import access, forecast, indicators, targets
from lrs.capacity.forecast import HORIZONS
from lrs.competence import service
from lrs.store.db import transaction
from lrs.web import exports
from lrs.web.guard import audit, login_required
from lrs.web.pages import charts
from lrs.web.pages.base import bp, name_of, today


def level_labels() -> dict[str, str]:
    return {"short": _("Under minimum nå"), "critical": _("Kritisk: under innen 3 mnd."),
            "warning": _("Under innen 12 mnd."), "watch": _("Under innen 36 mnd."), "ok": _("Holder i 36 mnd.")}


def _scope(conn, who):
    """The unit asked for (?unit=; none: the region, or the person's own first unit), checked, and the tree."""
    org = forecast.Org(conn)
    unit = request.args.get("unit") or access.home_unit(org, who)
    if unit is not None and unit not in org.units:
        abort(404)
    if not access.sees(org, who, unit):
        abort(403)
    return org, unit


def _crumbs(org, unit, who):
    """The way down from the region to the unit; a step the person may not open is named, not linked."""
    chain = org.chain(unit) if unit else []
    return [{"id": None, "name": _("Regionen"), "link": access.sees(org, who, None)}] + [
        {"id": u["id"], "name": u["name"], "link": access.sees(org, who, u["id"])} for u in chain]


def _children(org, who, unit):
    seen = access.visible_units(org, who)
    kids = org.children[unit] if unit or seen is None else sorted(
        u for u in seen if org.units[u]["parent_id"] is None or org.units[u]["parent_id"] not in seen)
    return [org.units[k] for k in kids if seen is None or k in seen]


@bp.get("/capacity")
@login_required(*access.READERS)
def capacity():
    who = principal.current()
    with transaction() as conn:
        org, unit = _scope(conn, who)
        result = forecast.forecast(conn, unit, today(), org=org)
        children = _children(org, who, unit)
        crumbs = _crumbs(org, unit, who)
    short = forecast.short_by_month(result)
    labels = [m["month"] for m in short]
    chart = charts.bars(_("Bemanningskrav under minimum per måned, de neste 36 månedene"), labels,
                        [m["short"] for m in short], {h - 1: _("%(n)s mnd.", n=h) for h in HORIZONS})
    within = {str(h): sum(1 for t in result["targets"] if t["horizons"][str(h)]["lowest"] < t["required"])
              for h in HORIZONS}
    return render_template("capacity.html", result=result, unit=unit, crumbs=crumbs, children=children,
                           chart=chart, short=short, within=within, levels=level_labels(), horizons=HORIZONS,
                           can_edit=_can_edit(org, who, unit))


def _can_edit(org, who, unit) -> bool:
    editable = access.editable_units(org, who)
    return editable is None or (unit is not None and unit in editable) or bool(editable and unit is None)


@bp.get("/capacity/targets/<target_id>")
@login_required(*access.READERS)
def capacity_target(target_id):
    who = principal.current()
    with transaction() as conn:
        org = forecast.Org(conn)
        versions = targets.history(conn, target_id)
        if not versions:
            abort(404)
        if not access.sees(org, who, versions[0]["unit_id"]):
            abort(403)
        result = forecast.forecast(conn, versions[0]["unit_id"], today(), detail=True, org=org, only=target_id)
        crumbs = _crumbs(org, versions[0]["unit_id"], who)
    found = next((t for t in result["targets"] if t["target_id"] == target_id), None)
    if found and found.get("must_renew"):
        accesslog.note("capacity-target", unit_id=found["unit_id"], filter=target_id)
    chart = None
    if found:
        months = [m["month"] for m in found["series"]]
        chart = charts.lines(_("Forventede innehavere per måned mot minimum"), months,
                             [(_("Innehavere"), [m["holders"] for m in found["series"]])],
                             floor=(_("Minimum %(n)s", n=found["required"]), found["required"]))
    return render_template("capacity_target.html", target=found, versions=versions, crumbs=crumbs, chart=chart,
                           levels=level_labels(), horizons=HORIZONS)


EXPORT_HEADER = ("target_id", "unit_id", "unit", "competence", "role", "per", "minimum", "groups", "required",
                 "now", "level", "short_from", "renew", "renew_by", "train", "train_by")


@bp.get("/capacity/export.<any(csv, xlsx):fmt>")
@login_required(*access.READERS)
def capacity_export(fmt):
    who = principal.current()
    with transaction() as conn:
        org, unit = _scope(conn, who)
        result = forecast.forecast(conn, unit, today(), org=org)
    months = result["months"]
    header = list(EXPORT_HEADER) + months
    rows = [[t["target_id"], t["unit"]["id"], t["unit"]["name"], t["competence"]["code"], t["role_code"] or "",
             t["per"], t["minimum"], t["groups"], t["required"], t["now"], t["level"],
             t["short_from"].isoformat() if t["short_from"] else "", t["gap"]["renew"],
             t["gap"]["renew_by"].isoformat() if t["gap"]["renew_by"] else "", t["gap"]["train"],
             t["gap"]["train_by"].isoformat() if t["gap"]["train_by"] else ""]
            + [m["holders"] for m in t["series"]] for t in result["targets"]]
    name = f"kapasitet-{unit or 'region'}"
    return _download(name, fmt, header, rows)



def _download(name, fmt, header, rows) -> Response:
    """For Norwegian Excel like the leader's exports: CSV with ; and a BOM, XLSX with a frozen header and a filter."""
    return exports.download(fmt, name, name, [exports.Column(h) for h in header], rows)


# ------------------------------------------------------------------------------------------------ targets admin

class TargetsImportForm(FlaskForm):
    file = FileField(_l("Fil med bemanningskrav (YAML eller CSV)"), validators=[Optional(),
                                                                                FileAllowed(["yaml", "yml", "csv"])])
    text = TextAreaField(_l("… eller lim inn YAML"), validators=[Optional(), Length(max=200000)])


class TargetForm(FlaskForm):
    target_id = StringField(_l("Id"), validators=[DataRequired(), Length(max=64)])
    unit = SelectField(_l("Enhet"), validators=[DataRequired()])
    competence = SelectField(_l("Kompetanse"), validators=[DataRequired()])
    role = SelectField(_l("Rolle (tom: alle)"), validators=[Optional()])
    per = SelectField(_l("Per"), choices=[("unit", _l("enhet")), ("shift", _l("vakt")), ("team", _l("team"))])
    minimum = IntegerField(_l("Minst antall personer"), validators=[DataRequired(), NumberRange(min=1, max=100000)])
    groups = IntegerField(_l("Antall vakter eller team i turnus"), default=1,
                          validators=[DataRequired(), NumberRange(min=1, max=100)])
    note = StringField(_l("Merknad"), validators=[Optional(), Length(max=500)])
    active = BooleanField(_l("Gjelder"), default=True)


def _target_form(conn, org, editable) -> TargetForm:
    form = TargetForm()
    form.unit.choices = [(u["id"], u["name"]) for u in org.units.values() if editable is None or u["id"] in editable]
    names = service.competence_names(conn)
    form.competence.choices = [(c, f"{c} – {name_of(v)}") for c, v in names.items()]
    form.role.choices = [("", "–")] + [(r["code"], name_of(r)) for r in service.job_roles(conn)]
    return form


@bp.route("/capacity/admin", methods=["GET", "POST"])
@login_required(*access.EDITORS)
def capacity_admin():
    who = principal.current()
    with transaction() as conn:
        org = forecast.Org(conn)
        editable = access.editable_units(org, who)
        upload = TargetsImportForm(prefix="import")
        form = _target_form(conn, org, editable)
        rows = [t for t in targets.newest_versions(conn) if editable is None or t["unit_id"] in editable]
        if request.method == "GET" and request.args.get("edit"):
            t = next((t for t in rows if t["target_id"] == request.args["edit"]), None)
            if t:
                form.process(data={"target_id": t["target_id"], "unit": t["unit_id"], "competence": t["competence_code"],
                                   "role": t["role_code"] or "", "per": t["per"], "minimum": t["minimum"],
                                   "groups": t["groups"], "note": t["note"] or "", "active": t["active"]})
    if request.method == "POST":
        if request.form.get("action") == "import":
            if not upload.validate_on_submit():
                flash(_("Velg en fil (YAML eller CSV) eller lim inn YAML."), "error")
                return redirect(url_for("web.capacity_admin"))
            if upload.file.data:
                name, text = upload.file.data.filename, upload.file.data.read().decode("utf-8", "replace")
            else:
                name, text = "targets.yaml", upload.text.data or ""
            return _save(lambda: targets.read(name, text), editable, who, f"import {name}")
        if not form.validate_on_submit():
            flash(_("Sjekk feltene: %(p)s", p="; ".join(f"{form[k].label.text}: {', '.join(v)}"
                                                        for k, v in form.errors.items())), "error")
            return render_template("capacity_admin.html", rows=rows, upload=upload, form=form), 400
        wanted = {"id": form.target_id.data, "unit": form.unit.data, "competence": form.competence.data,
                  "role": form.role.data or None, "per": form.per.data, "minimum": form.minimum.data,
                  "groups": form.groups.data, "note": form.note.data or None, "active": form.active.data}
        return _save(lambda: [targets.TargetSchema().load(wanted)], editable, who, f"target {wanted['id']}")
    return render_template("capacity_admin.html", rows=rows, upload=upload, form=form)


def _save(read, editable, who, what):
    from marshmallow import ValidationError
    try:
        wanted = read()
        with transaction(write=True) as conn:
            counts = targets.save(conn, wanted, who.user_id, editable)
    except targets.TargetProblem as e:
        flash(str(e), "error")
    except ValidationError as e:
        flash(_("Sjekk feltene: %(p)s", p=e.normalized_messages()), "error")
    else:
        audit("capacity-targets", f"{what}: {counts['created']} new, {counts['changed']} changed")
        flash(_("Lagret: %(c)s nye, %(u)s endret, %(n)s uendret.", c=counts["created"], u=counts["changed"],
                n=counts["unchanged"]), "ok")
    return redirect(url_for("web.capacity_admin"))


@bp.get("/capacity/admin/targets.yaml")
@login_required(*access.EDITORS)
def capacity_targets_yaml():
    who = principal.current()
    with transaction() as conn:
        org = forecast.Org(conn)
        editable = access.editable_units(org, who)
        rows = targets.in_force(conn, editable)
    return Response(targets.as_yaml(rows), mimetype="application/yaml",
                    headers={"Content-Disposition": 'attachment; filename="bemanningskrav.yaml"'})


# ------------------------------------------------------------------------------------------------ indicators

@bp.get("/indicators")
@login_required(*access.READERS)
def indicators_page():
    who = principal.current()
    competence = request.args.get("competence") or None
    with transaction() as conn:
        org, unit = _scope(conn, who)
        trend = indicators.trend(conn, [unit] if unit else None, competence=competence)
        children = indicators.children(conn, org, unit) if unit or access.visible_units(org, who) is None else []
        crumbs = _crumbs(org, unit, who)
        names = service.competence_names(conn)
    if competence and competence not in names:
        abort(404)
    months = [m["month"] for m in trend]
    series = [(_("Alle obligatoriske krav oppfylt"), [m["total"]["all_met_share"] for m in trend]),
              (_("Dekning"), [m["total"]["coverage"] for m in trend]),
              (_("Bemanningskrav oppfylt"), [m["total"]["target_coverage"] for m in trend])]
    if competence:
        series.append((_("Dekning %(c)s", c=competence),
                       [(m["competences"].get(competence) or {}).get("coverage") for m in trend]))
    chart = charts.lines(_("Indikatorer per måned"), months, series, percent=True) if trend else None
    return render_template("indicators.html", trend=trend, chart=chart, unit=unit, crumbs=crumbs,
                           children=[c for c in children if access.sees(org, who, c["unit"]["id"])],
                           competence=competence, names=names)


@bp.get("/indicators/export.<any(csv, xlsx):fmt>")
@login_required(*access.READERS)
def indicators_export(fmt):
    who = principal.current()
    with transaction() as conn:
        org, unit = _scope(conn, who)
        rows = indicators.rows_for_export(conn, org.subtree(unit) if unit else None)
    header = ["month", "unit_id", "role_code", "competence_code", *indicators.COUNTS]
    return _download(f"indikatorer-{unit or 'region'}", fmt, header, [[r[h] for h in header] for r in rows])
