"""Pages. Each view asks lrs.principal who is asking and a service what to show; no SQL here."""
import csv
import io
import math
from datetime import timedelta

import limits
import orjson
import yaml
from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from markupsafe import Markup, escape
from marshmallow import ValidationError
from wtforms import DateField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lrs import principal
from lrs.cmi5.lms import launch_for_employee, list_courses
from lrs.competence import evidence, imports, service
from lrs.competence.api import certificate_download
from lrs.competence.changes import STATUSES
from lrs.competence.directory import agent_for
from lrs.competence.engine import rules_in_force
from lrs.portal import service as portal_service
from lrs.privacy import access
from lrs.store import credentials as creds
from lrs.store import statements as store
from lrs.store.db import read_transaction
from lrs.store.types import utcnow
from lrs.web import LANGUAGES, accounts, idle_limit

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static/web")


def status_labels() -> dict[str, str]:
    """Each status as the reader reads it (made once per page: a matrix has tens of thousands of cells)."""
    return {"fulfilled": _("Oppfylt"), "expiring": _("Går snart ut"), "expired": _("Utløpt"),
            "missing": _("Mangler"), "awaiting_attestation": _("Venter på attestering"),
            "not_yet_due": _("Ikke forfalt ennå"), "not_required": _("Ikke lenger påkrevd"),
            "closed": _("Avsluttet")}


@bp.app_context_processor
def _helpers():
    lang = session.get("lang", "nb")
    return {"status_label": status_labels().__getitem__, "who": principal.current(), "lang": lang, "languages": LANGUAGES,
            "name_of": lambda comp: comp["name_en"] if lang == "en" else comp["name_nb"]}


def _engine():
    return current_app.extensions["lrs.engine"]


def _settings():
    return current_app.extensions["competence.settings"]


def _today():
    return _settings().day(utcnow())


def signed_in(*roles):
    who = principal.current()
    if who is None:
        abort(redirect(url_for("web.login", next=request.path)))
    if roles and not who.roles.intersection(roles):
        abort(403)
    return who


# ------------------------------------------------------------------------------------------------ sign-in

class LoginForm(FlaskForm):
    username = StringField(_l("Brukernavn"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(_l("Passord"), validators=[DataRequired(), Length(max=200)])


def _problems(form) -> str:
    """A form's errors in one line, field by field."""
    return "; ".join(f"{field}: {', '.join(errors)}" for field, errors in form.errors.items())


class PlainForm(FlaskForm):
    """A form with nothing but its CSRF token (sign out, revoke, requeue …)."""


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        limit = limits.parse(current_app.config["LOGIN_RATE_LIMIT"])
        window = timedelta(seconds=limit.get_expiry())
        wait = accounts.sign_in_wait(_engine(), form.username.data, request.remote_addr or "", limit.amount, window) \
            if current_app.config["RATELIMIT_ENABLED"] else 0
        if wait:
            minutes = math.ceil(wait / 60)
            flash(_("For mange innloggingsforsøk. Prøv igjen om %(n)s minutter.", n=minutes), "error")
            return render_template("login.html", form=form, oidc=bool(current_app.config["OIDC_DISCOVERY_URL"])), \
                429, {"Retry-After": str(math.ceil(wait))}
        user = accounts.check_password(_engine(), form.username.data, form.password.data)
        if user is None:
            accounts.sign_in_failed(_engine(), form.username.data, request.remote_addr or "", window)
            accounts.audit(_engine(), None, "sign-in-failed", form.username.data, request.remote_addr)
            flash(_("Feil brukernavn eller passord."), "error")
        else:
            _start_session(user, "password")
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("web.home"))
    return render_template("login.html", form=form, oidc=bool(current_app.config["OIDC_DISCOVERY_URL"]))


def _start_session(user: dict, how: str):
    """One session mechanism for every way of signing in: a server-side session, its id in the cookie."""
    session.clear()
    session.permanent = True
    session.update(sid=accounts.start_session(_engine(), user["id"], idle_limit(current_app)), lang=user["lang"],
                   seen=int(utcnow().timestamp()))
    accounts.audit(_engine(), user["id"], "sign-in", how, request.remote_addr)


@bp.post("/logout")
def logout():
    if not PlainForm().validate_on_submit():
        abort(400)
    who = principal.current()
    if who:
        accounts.end_session(_engine(), session.get("sid", ""))
        accounts.audit(_engine(), who.user_id, "sign-out", "", request.remote_addr)
    session.clear()
    return redirect(url_for("web.login"))


@bp.get("/lang/<code>")
def language(code):
    if code in LANGUAGES:
        session["lang"] = code
    target = request.args.get("next", "/")
    return redirect(target if target.startswith("/") and not target.startswith("//") else "/")


@bp.get("/auth/oidc")
def oidc_login():
    client = _oidc_client()
    return client.authorize_redirect(url_for("web.oidc_callback", _external=True))


@bp.get("/auth/oidc/callback")
def oidc_callback():
    client = _oidc_client()
    token = client.authorize_access_token()
    claims = token.get("userinfo") or client.userinfo()
    config = current_app.config
    user = accounts.by_oidc(_engine(), claims["sub"], str(claims.get(config["OIDC_CLAIM"], "")), config["OIDC_MATCH"])
    if user is None:
        accounts.audit(_engine(), None, "sign-in-failed", f"oidc {claims['sub']}", request.remote_addr)
        flash(_("Denne påloggingen er ikke knyttet til en bruker her."), "error")
        return redirect(url_for("web.login"))
    _start_session(user, "oidc")
    return redirect(url_for("web.home"))


def _oidc_client():
    from authlib.integrations.flask_client import OAuth
    config = current_app.config
    if not config["OIDC_DISCOVERY_URL"]:
        abort(404)
    oauth = current_app.extensions.get("lrs.oauth")
    if oauth is None:
        oauth = current_app.extensions["lrs.oauth"] = OAuth(current_app)
        oauth.register("idp", client_id=config["OIDC_CLIENT_ID"], client_secret=config["OIDC_CLIENT_SECRET"],
                       server_metadata_url=config["OIDC_DISCOVERY_URL"], client_kwargs={"scope": "openid profile"})
    return oauth.idp


@bp.get("/")
def home():
    who = signed_in()
    if who.employee_id:
        return redirect(url_for("web.my_plan"))
    if who.has("leader"):
        return redirect(url_for("web.leader"))
    return redirect(url_for("web.admin"))


# ------------------------------------------------------------------------------------------------ plans

class EvidenceForm(FlaskForm):
    competence = SelectField(_l("Kompetanse"), validators=[DataRequired()])
    title = StringField(_l("Hva gjennomførte du?"), validators=[DataRequired(), Length(max=500)])
    completed_on = DateField(_l("Dato gjennomført"), validators=[DataRequired()])
    certificate = FileField(_l("Kursbevis (PDF, PNG eller JPEG)"), validators=[
        Optional(), FileAllowed(["pdf", "png", "jpg", "jpeg"]), FileSize(evidence.CERTIFICATE_MAX)])


def _evidence_names(plan: dict) -> dict:
    """Statement id -> what it was (the activity's name, else its id), for the evidence column."""
    names = {}
    for sid in {sid for item in plan["items"] for sid in item["evidence"]}:
        row = store.get(_engine(), sid, voided=False)
        if row:
            obj = orjson.loads(row.body)["object"]
            name = (obj.get("definition") or {}).get("name") or {}
            names[sid] = name.get("nb-NO") or next(iter(name.values()), obj.get("id", sid))
    return names


def _render_plan(employee_id: str, own: bool):
    with read_transaction(_engine()) as conn:
        plan = service.plan(conn, employee_id)
    if plan is None:
        abort(404)
    access.note("plan-page", employee_id)
    names = _evidence_names(plan)
    courses = {}  # competence code -> the cmi5 modules that give evidence for it (newest version each)
    for course in list_courses(_engine()):
        for code in course["competences"]:
            courses.setdefault(code, {})[course["publisher_id"]] = course
    form = EvidenceForm()
    form.competence.choices = [(i["competence"]["code"], i["competence"]["name_nb"]) for i in plan["items"]
                               if i["status"] != "not_required"]
    return render_template("plan.html", plan=plan, names=names, form=form, own=own, launch_form=PlainForm(),
                           courses={code: list(c.values()) for code, c in courses.items()})


@bp.post("/plan/launch")
def launch_module():
    """Open a published module from the plan: resume the employee's registration, or start one (cmi5)."""
    who = signed_in()
    if not who.employee_id or not PlainForm().validate_on_submit():
        abort(400)
    try:
        launched = launch_for_employee(current_app._get_current_object(), who.employee_id,
                                       request.form.get("course", ""), request.url_root,
                                       return_url=url_for("web.my_plan", _external=True))
    except LookupError:
        abort(404)
    accounts.audit(_engine(), who.user_id, "module-launched", request.form.get("course", ""), request.remote_addr)
    return redirect(launched["url"])


@bp.get("/plan")
def my_plan():
    who = signed_in()
    if not who.employee_id:
        abort(404)
    return _render_plan(who.employee_id, own=True)


@bp.post("/plan/evidence")
def register_evidence():
    who = signed_in()
    if not who.employee_id:
        abort(404)
    with read_transaction(_engine()) as conn:
        plan = service.plan(conn, who.employee_id)
    form = EvidenceForm()
    form.competence.choices = [(i["competence"]["code"], i["competence"]["code"]) for i in plan["items"]]
    if not form.validate_on_submit():
        flash(_("Skjemaet er ikke riktig utfylt: ") + _problems(form),
              "error")
        return redirect(url_for("web.my_plan"))
    upload = form.certificate.data
    cert = (upload.filename, upload.mimetype, upload.read()) if upload else None
    try:
        evidence.register(_engine(), _settings(), who.employee_id, form.competence.data, form.title.data,
                          form.completed_on.data, cert)
    except evidence.EvidenceError as e:
        flash(str(e), "error")
        return redirect(url_for("web.my_plan"))
    flash(_("Registrert. Lederen din får den til attestering."), "ok")
    return redirect(url_for("web.my_plan"))


@bp.get("/employees/<employee_id>")
def employee_plan(employee_id):
    who = signed_in()
    with read_transaction(_engine()) as conn:
        if not service.can_see_employee(conn, who, employee_id):
            abort(403)
    return _render_plan(employee_id, own=employee_id == who.employee_id)


# ------------------------------------------------------------------------------------------------ leaders

def _leader_unit(who):
    with read_transaction(_engine()) as conn:
        units = [u for u in service.unit_tree(conn) if service.can_see_unit(conn, who, u["id"])]
    if not units:
        abort(403)
    wanted = request.args.get("unit") or units[0]["id"]
    if wanted not in {u["id"] for u in units}:
        abort(403)
    return wanted, units


@bp.get("/leader")
def leader():
    who = signed_in("leader", "admin")
    unit, units = _leader_unit(who)
    role = request.args.get("role") or None
    status = request.args.get("status") or None
    if status and status not in STATUSES:
        abort(400)
    with read_transaction(_engine()) as conn:
        matrix = service.matrix(conn, unit, role, status)
        counts = service.expiring(conn, unit, _today())
        forecast = service.forecast(conn, unit, _today())
        queue = evidence.attestation_queue(conn, who)
        roles = service.job_roles(conn)
    access.note("leader-view", unit_id=unit, filter=access.query_text({"role": role, "status": status}))
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
def leader_export(fmt):
    who = signed_in("leader", "admin")
    unit, _units = _leader_unit(who)
    with read_transaction(_engine()) as conn:
        matrix = service.matrix(conn, unit, request.args.get("role") or None, request.args.get("status") or None)
    codes = [c["code"] for c in matrix["competences"]]
    header = [_("Ansattnr."), _("Navn"), _("Enhet")] + codes
    labels = status_labels()
    rows = [[r["employee_id"], r["name"], r["unit_id"]] + [
        _cell_text(r["cells"].get(code), labels) for code in codes] for r in matrix["employees"]]
    accounts.audit(_engine(), who.user_id, "export", f"{unit} {fmt}", request.remote_addr)
    access.note("leader-export", unit_id=unit, filter=fmt)
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
def decide(evidence_id):
    who = signed_in("leader", "admin")
    if not PlainForm().validate_on_submit():
        abort(400)
    try:
        evidence.decide(_engine(), _settings(), evidence_id, who, request.form.get("decision") == "attest")
    except evidence.EvidenceError as e:
        flash(str(e), "error")
    else:
        flash(_("Attestert.") if request.form.get("decision") == "attest" else _("Avvist."), "ok")
    return redirect(request.referrer or url_for("web.leader"))


@bp.get("/evidence/<evidence_id>/certificate")
def certificate(evidence_id):
    who = signed_in()
    with read_transaction(_engine()) as conn:
        row = evidence.certificate(conn, evidence_id)
        if row is None or row.certificate is None:
            abort(404)
        if not service.can_see_employee(conn, who, row.employee_id):
            abort(403)
    access.note("certificate", row.employee_id)
    return certificate_download(row)


# ------------------------------------------------------------------------------------------------ admin

class UserForm(FlaskForm):
    username = StringField(_l("Brukernavn"), validators=[DataRequired(), Length(max=100)])
    display_name = StringField(_l("Navn"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Passord (minst 12 tegn; tomt: bare OpenID Connect)"), validators=[Optional()])
    employee_id = StringField(_l("Ansattnr."), validators=[Optional(), Length(max=64)])
    roles = SelectMultipleField(_l("Roller"), choices=[(r, r) for r in principal.ROLES])
    led_units = StringField(_l("Leder for enheter (mellomromsdelt)"), validators=[Optional()])


class RuleForm(FlaskForm):
    rule = TextAreaField(_l("Regel (YAML eller JSON, se docs/competence.md)"), validators=[DataRequired()])


class ImportForm(FlaskForm):
    file = FileField(_l("Fil (katalog: YAML eller CSV; HR-eksport: CSV med enheter eller ansatte)"),
                     validators=[FileRequired(), FileAllowed(["yaml", "yml", "csv"])])


class RolesForm(FlaskForm):
    roles = SelectMultipleField(_l("Roller"), choices=[(r, r) for r in principal.ROLES])
    led_units = StringField(_l("Leder for enheter (mellomromsdelt)"), validators=[Optional()])


class CredentialForm(FlaskForm):
    name = StringField(_l("Hvem bruker den"), validators=[DataRequired(), Length(max=200)])
    scopes = SelectMultipleField(_l("Tilganger"), choices=[(s, s) for s in creds.SCOPES], validators=[DataRequired()])


@bp.get("/admin")
def admin():
    signed_in("admin")
    with read_transaction(_engine()) as conn:
        names = service.competence_names(conn)
        rules = rules_in_force(conn)
    return render_template("admin.html", users=accounts.all_users(_engine()), credentials=creds.list_all(_engine()),
                           portal=portal_service.status(_engine()), dead=portal_service.dead_letters(_engine(), 20),
                           competences=names.values(), audit=accounts.audit_entries(_engine(), 30),
                           rules=rules, user_form=UserForm(), credential_form=CredentialForm(), plain=PlainForm(),
                           rule_form=RuleForm(), import_form=ImportForm(), roles_form=RolesForm())


@bp.post("/admin/rules")
def admin_rule():
    """Preview (who a rule change affects, nothing kept) or save a rule."""
    who = signed_in("admin")
    form = RuleForm()
    if not form.validate_on_submit():
        abort(400)
    save = request.form.get("action") == "save"
    try:
        raw = yaml.safe_load(form.rule.data)
        if not isinstance(raw, dict):
            raise imports.ImportProblem("a rule is a mapping (id, competence, kind, parts …)")
        made = imports.change_rule(_engine(), _settings(), raw, dry_run=not save)
    except (yaml.YAMLError, ValidationError, imports.ImportProblem) as e:
        message = e.normalized_messages() if isinstance(e, ValidationError) else str(e)
        flash(_("Regelen er ikke gyldig: ") + str(message), "error")
        return redirect(url_for("web.admin") + "#rules")
    if save:
        accounts.audit(_engine(), who.user_id, "rule-saved", raw.get("id", ""), request.remote_addr)
        flash(_("Regelen er lagret: %(n)s statusendringer.", n=len(made or [])), "ok")
        return redirect(url_for("web.admin") + "#rules")
    return render_template("rule_preview.html", changes=made, rule=form.rule.data, form=form,
                           labels=status_labels())


@bp.post("/admin/import")
def admin_import():
    who = signed_in("admin")
    form = ImportForm()
    if not form.validate_on_submit():
        flash(_problems(form), "error")
        return redirect(url_for("web.admin") + "#import")
    upload = form.file.data
    name, text = upload.filename, upload.read().decode("utf-8-sig")
    try:
        header = text.split("\n", 1)[0]
        if name.endswith(".csv") and ("unit_id" in header or "employee_id" in header):
            report = imports.import_hr(_engine(), _settings(), name, text)
        else:
            report = imports.import_catalog(_engine(), _settings(), name, text)
    except imports.ImportProblem as e:
        flash(str(e), "error")
        return redirect(url_for("web.admin") + "#import")
    accounts.audit(_engine(), who.user_id, "import", f"{name}: {'; '.join(report.lines())}", request.remote_addr)
    flash(f"{name}: " + "; ".join(report.lines()), "ok")
    return redirect(url_for("web.admin") + "#import")


@bp.post("/admin/users/<user_id>/roles")
def admin_user_roles(user_id):
    who = signed_in("admin")
    form = RolesForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        accounts.set_roles(_engine(), user_id, form.roles.data, (form.led_units.data or "").split())
    except accounts.AccountError as e:
        flash(str(e), "error")
    else:
        accounts.audit(_engine(), who.user_id, "roles-changed", f"{user_id}: {' '.join(form.roles.data)}",
                       request.remote_addr)
        flash(_("Rollene er endret."), "ok")
    return redirect(url_for("web.admin") + "#users")


@bp.post("/admin/users/<user_id>/sign-out")
def admin_sign_out_everywhere(user_id):
    who = signed_in("admin")
    if not PlainForm().validate_on_submit():
        abort(400)
    ended = accounts.end_sessions(_engine(), user_id)
    accounts.audit(_engine(), who.user_id, "signed-out-everywhere", f"{user_id}: {ended}", request.remote_addr)
    flash(_("Logget ut overalt (%(n)s økter).", n=ended), "ok")
    return redirect(url_for("web.admin") + "#users")


@bp.post("/admin/users")
def admin_create_user():
    who = signed_in("admin")
    form = UserForm()
    if form.validate_on_submit():
        try:
            accounts.create(_engine(), form.username.data, form.display_name.data, form.roles.data,
                            form.password.data or None, form.employee_id.data or None,
                            (form.led_units.data or "").split())
        except accounts.AccountError as e:
            flash(str(e), "error")
        else:
            accounts.audit(_engine(), who.user_id, "user-created", form.username.data, request.remote_addr)
            flash(_("Bruker opprettet."), "ok")
    else:
        flash(_problems(form), "error")
    return redirect(url_for("web.admin"))


@bp.post("/admin/credentials")
def admin_create_credential():
    who = signed_in("admin")
    form = CredentialForm()
    if not form.validate_on_submit():
        flash(_problems(form), "error")
        return redirect(url_for("web.admin"))
    made = creds.create(_engine(), form.name.data, form.scopes.data)
    accounts.audit(_engine(), who.user_id, "credential-created", f"{made['key']} {form.name.data}", request.remote_addr)
    return render_template("credential_made.html", credential=made)


@bp.post("/admin/credentials/<key>/revoke")
def admin_revoke_credential(key):
    who = signed_in("admin")
    if not PlainForm().validate_on_submit():
        abort(400)
    if creds.revoke(_engine(), key):
        accounts.audit(_engine(), who.user_id, "credential-revoked", key, request.remote_addr)
        flash(_("Nøkkelen er trukket tilbake."), "ok")
    return redirect(url_for("web.admin"))


@bp.post("/admin/portal/requeue")
def admin_requeue():
    who = signed_in("admin")
    if not PlainForm().validate_on_submit():
        abort(400)
    n = portal_service.requeue(_engine())
    accounts.audit(_engine(), who.user_id, "portal-requeue", str(n), request.remote_addr)
    flash(_("Sendes på nytt: %(n)s", n=n), "ok")
    return redirect(url_for("web.admin"))


@bp.get("/author")
def author():
    """Course authors: the published modules, their versions and competences, and how learners fare."""
    signed_in("author", "admin")
    from lrs.cmi5.stats import course_numbers
    courses = list_courses(_engine())
    numbers = {c["id"]: course_numbers(_engine(), c["id"], hardest=3) for c in courses}
    return render_template("author.html", courses=courses, numbers=numbers)


@bp.get("/statements")
def statements_page():
    """The statement browser for admins and instructors: filter by person, activity, verb and time. An instructor
    sees the people of the units they teach, and the sessions they led (as context.instructor)."""
    who = signed_in("admin", "instructor")
    args = {k: request.args.get(k, "").strip() for k in ("person", "activity", "verb", "since", "until")}
    query = {}
    if args["person"]:
        query["agent"] = orjson.dumps(_person_agent(args["person"])).decode()
    for key in ("activity", "verb", "since", "until"):
        if args[key]:
            query[key] = args[key]
    query["limit"] = "50"
    # The access log names the person by employee id (not by the e-mail address searched for), as does the audit.
    with read_transaction(_engine()) as conn:
        person = access.employee_of_person_filter(conn, args["person"], current_app.config["IDENTITY_HOMEPAGE"]) \
            if args["person"] else None
        whole = who.has("admin") or (person is not None and service.can_see_records(conn, who, person))
    me = agent_for(who.employee_id, current_app.config["IDENTITY_HOMEPAGE"]) if who.employee_id else None
    if not whole:  # an instructor: the statements of the sessions they led, of that person if one is named
        if me is None:
            return render_template("statements.html", args=args, statements=[], error=None, scoped=True)
        query.update(agent=orjson.dumps(me).decode(), related_agents="true", limit=str(current_app.config["MAX_PAGE"]))
    logged = {k: v for k, v in args.items() if v and not (person and k == "person")}
    access.note("statement-browser", person, filter=orjson.dumps(logged).decode() if logged else None)
    accounts.audit(_engine(), who.user_id, "statements-browsed",
                   orjson.dumps({**logged, **({"employee": person} if person else {})}).decode(), request.remote_addr)
    # The xAPI resource itself answers, so the browser filters exactly as any xAPI client would.
    response = current_app.test_client().get("/xapi/statements", query_string=query,
                                             headers=_internal_auth())
    found = response.get_json()["statements"] if response.status_code == 200 else []
    error = None if response.status_code == 200 else response.get_json()["error"]["message"]
    if not whole:
        wanted = _person_agent(args["person"]) if args["person"] else None
        found = [s for s in found if _instructs(s, me) and (wanted is None or _same_agent(s["actor"], wanted))][:50]
    return render_template("statements.html", args=args, statements=found, error=error, scoped=not whole)


def _person_agent(person: str) -> dict:
    """The agent a search field names: an e-mail address, else an employee id (an account at the trust)."""
    if "@" in person:
        return {"mbox": "mailto:" + person}
    return {"account": {"homePage": current_app.config["IDENTITY_HOMEPAGE"], "name": person}}


def _same_agent(agent: dict, other: dict) -> bool:
    return any(key in agent and agent[key] == other.get(key) for key in ("mbox", "account"))


def _instructs(stmt: dict, me: dict) -> bool:
    """Whether `me` is the statement's instructor (an Agent, or a member of a Group of facilitators)."""
    instructor = (stmt.get("context") or {}).get("instructor") or {}
    return any(_same_agent(a, me) for a in [instructor, *instructor.get("member", [])])


def _internal_auth() -> dict:
    """A read-only credential of the web UI itself, for asking the xAPI resource on an admin's behalf."""
    import base64
    key = current_app.extensions.get("lrs.web.reader")
    if key is None:
        made = creds.create(_engine(), "web UI statement browser", ("statements/read",))
        key = current_app.extensions["lrs.web.reader"] = (made["key"], made["secret"])
    token = base64.b64encode(f"{key[0]}:{key[1]}".encode()).decode()
    return {"Authorization": "Basic " + token, "X-Experience-API-Version": "1.0.3"}


@bp.get("/statements/<statement_id>")
def statement_page(statement_id):
    who = signed_in("admin", "instructor")
    row = store.get(_engine(), statement_id, voided=False) or store.get(_engine(), statement_id, voided=True)
    if row is None:
        abort(404)
    with read_transaction(_engine()) as conn:
        people = access.employees_in_statement(conn, statement_id)
        if not who.has("admin"):  # an instructor: a statement of a session they led, or about people they teach
            me = agent_for(who.employee_id, current_app.config["IDENTITY_HOMEPAGE"]) if who.employee_id else None
            if not (me and _instructs(orjson.loads(row.body), me)) and not (
                    people and all(service.can_see_records(conn, who, p) for p in people)):
                abort(403)
        for person in people:
            access.note("statement-page", person, filter=f"statementId={statement_id.lower()}")
    pretty = orjson.dumps(orjson.loads(row.body), option=orjson.OPT_INDENT_2).decode()
    return render_template("statement.html", statement=pretty, statement_id=statement_id)
