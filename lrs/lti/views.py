"""The tool's LTI endpoints (OIDC login, launch, deep-linking answer, key sets, dynamic registration) and the
admin page of platform registrations."""
import json
import logging
from urllib.parse import urlsplit

import requests
from flask import (Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.dynamic_registration import DynamicRegistration
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.lineitem import LineItem

from lrs import principal
from lrs.cmi5 import launch_for_employee
from lrs.cmi5.lms import list_courses
from lrs.csrf import csrf
from lrs.lti import FRAMED, service, tool
from lrs.store.db import transaction
from lrs.web import content_security_policy
from lrs.web.guard import audit, login_required
from lrs.web.pages.auth import landing, start_session
from lrs.web.pages.forms import PlainForm

log = logging.getLogger(__name__)
bp = Blueprint("lti", __name__, url_prefix="/lti", template_folder="templates", static_folder="static")

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
              "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
              "https://purl.imsglobal.org/spec/lti-ags/scope/score"]
INSTRUCTOR_ROLES = ("membership#Instructor", "membership#ContentDeveloper", "institution/person#Administrator",
                    "system/person#Administrator", "membership/Instructor#TeachingAssistant")


def _grace() -> float:
    return float(current_app.config["LTI_KEY_GRACE_HOURS"])


def _public(endpoint: str, **values) -> str:
    """This tool's address of an endpoint, on PUBLIC_URL (what platforms are given)."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(endpoint, **values)


@bp.before_request
def _registered_platforms_may_frame():
    """The LTI endpoints answer inside a platform's iframe: any registered platform may frame them."""
    with transaction() as conn:
        origins = sorted({o for p in service.platforms(conn) for o in service.origins(conn, p["id"])})
    g.frame_ancestors = " ".join(["'self'", *origins])


def _message(title: str, text: str, status: int):
    return render_template("lti/message.html", title=title, text=text), status


# ---------------------------------------------------------------------------------------------- launch

@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt  # the platform's third-party login initiation (OIDC), no session of ours
def login():
    try:
        with transaction(write=True) as conn:
            oidc = tool.oidc_login(conn, _grace())
            target = request.values.get("target_link_uri") or _public("lti.launch")
            if urlsplit(target).netloc != urlsplit(current_app.config["PUBLIC_URL"]).netloc:
                raise tool.LaunchRefused("target_link_uri is not on this tool")
            return oidc.redirect(_public("lti.launch"))
    except (LtiException, OIDCException) as e:
        audit("lti-login-refused", str(e)[:300], user_id=None)
        return _message(_("Innloggingen fra Moodle ble avvist"), _(
            "Moodle sendte en innlogging som ikke passer med noen registrert plattform: %(why)s", why=str(e)), 400)


@bp.post("/launch")
@csrf.exempt  # the platform's form post: the signed id_token and the one-time state are its proof
def launch():
    try:
        with transaction(write=True) as conn:
            message = tool.message_launch(conn, _grace())
            message.validate()
            claims = message.get_launch_data()
            p = message.registration.platform
            if message.is_deep_link_launch():
                launch_id = message.keep()
                courses = _catalog(conn)
                deep = claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings", {})
                return render_template("lti/deep_link.html", launch_id=launch_id, courses=courses,
                                       platform=p, multiple=bool(deep.get("accept_multiple")))
            value, user = service.match_user(conn, p, claims)
            roles = claims.get(CLAIM + "roles") or []
            instructor = any(r.endswith(INSTRUCTOR_ROLES) for r in roles)
            course = (claims.get(CLAIM + "custom") or {}).get("course", "")
            if user and instructor and (ctx := claims.get(CLAIM + "context")) and claims.get(NRPS_CLAIM):
                service.remember_context(conn, p["id"], ctx.get("id", ""), ctx.get("title") or ctx.get("label", ""),
                                         claims[NRPS_CLAIM].get("context_memberships_url"), user["id"])
            origins = " ".join(service.origins(conn, p["id"]))
    except LtiException as e:
        log.warning("LTI launch refused: %s", e)
        audit("lti-launch-refused", str(e)[:300], user_id=None)
        return _message(_("Oppstarten fra Moodle ble avvist"), _(
            "Oppstarten kunne ikke bekreftes (%(why)s). Start på nytt fra Moodle; hjelper ikke det, be "
            "Moodle-administratoren se på registreringen av verktøyet.", why=str(e)), 403)
    if user is None:
        what = value or _("(tom)")
        audit("lti-launch-unmatched", f"{p['name']}: {p['match_claim']}={value!r} sub={claims.get('sub')}",
              user_id=None)
        log.warning("LTI launch matched nobody: platform %s, %s=%r", p["id"], p["match_claim"], value)
        return _message(_("Vi fant deg ikke her"), _(
            "Moodle-brukeren din (%(value)s) er ikke knyttet til noen ansatt eller bruker i kompetansesystemet. "
            "Be lederen din eller administratoren om å legge inn riktig ansattnummer for deg. Det er notert at du "
            "prøvde.", value=what), 403)
    start_session(user, f"lti {p['name']}", **{FRAMED: origins})
    who = _principal_of(user)
    if course:
        return _launch_module(p, claims, user, course)
    page = (claims.get(CLAIM + "custom") or {}).get("page", "")
    if page == "leader" and who.roles.intersection(("leader", "admin")):
        return redirect(url_for("web.leader"))
    if who.employee_id:  # the Moodle link is "Min kompetanseplan": an employee lands on it, whatever else they are
        return redirect(url_for("web.my_plan"))
    # Nobody's plan: where signing in would take them (the one LANDING map); the start page says when nowhere.
    return redirect(url_for(landing(who) or "web.home"))


def _principal_of(user):
    from lrs.web import accounts
    return accounts.principal_of(user)


def _launch_module(p: dict, claims: dict, user: dict, publisher_id: str):
    """A deep-linked module: start (or resume) the learner's cmi5 session, and follow its result for the
    gradebook when the link has a line item."""
    if not user["employee_id"]:
        return _message(_("Modulen kan ikke startes"), _(
            "Moduler tas av ansatte, og brukeren din er ikke knyttet til en ansatt."), 403)
    try:
        launched = launch_for_employee(current_app._get_current_object(), user["employee_id"], publisher_id,
                                       current_app.config["PUBLIC_URL"].rstrip("/") + "/",
                                       return_url=_public("web.my_plan"))
    except LookupError:
        return _message(_("Modulen finnes ikke lenger"), _(
            "Modulen %(course)s er ikke publisert her. Be kursforfatteren i Moodle velge modulen på nytt.",
            course=publisher_id), 404)
    ags = claims.get(AGS_CLAIM) or {}
    if ags.get("lineitem"):
        with transaction(write=True) as conn:
            service.record_grade(conn, p["id"], ags["lineitem"], " ".join(ags.get("scope") or []), claims["sub"],
                                 user["employee_id"], publisher_id, launched["registration"])
    audit("module-launched", f"{publisher_id} (lti {p['name']})")
    return redirect(launched["url"])


def _catalog(conn) -> list[dict]:
    """The published modules, newest version of each."""
    newest = {}
    for c in list_courses(conn):
        newest[c["publisher_id"]] = c
    return sorted(newest.values(), key=lambda c: _title(c).lower())


def _title(course: dict) -> str:
    titles = course["title"] or {}
    return titles.get("nb-NO") or titles.get("nb") or next(iter(titles.values()), course["publisher_id"])


# ---------------------------------------------------------------------------------------------- deep linking

@bp.post("/deep-link")
@csrf.exempt  # authorised by the kept, validated deep-linking launch (launch_id: random, short-lived, one use)
def deep_link():
    launch_id = request.form.get("launch_id", "")
    chosen = request.form.getlist("course")
    with transaction(write=True) as conn:
        try:
            message = tool.restored_launch(conn, launch_id, _grace())
        except LtiException:
            return _message(_("Valget har gått ut"), _("Start valget av modul på nytt fra Moodle."), 400)
        if not message.is_deep_link_launch():
            abort(400)
        catalog = {c["publisher_id"]: c for c in _catalog(conn)}
        if not chosen or any(c not in catalog for c in chosen):
            return _message(_("Velg en modul"), _("Gå tilbake og velg en publisert modul."), 400)
        service.take_value(conn, launch_id)  # one answer per launch
        resources = []
        for publisher_id in chosen:
            course = catalog[publisher_id]
            item = LineItem().set_score_maximum(100).set_label(_title(course)).set_resource_id(publisher_id)
            resources.append(DeepLinkResource().set_url(_public("lti.launch")).set_title(_title(course))
                             .set_custom_params({"course": publisher_id}).set_lineitem(item))
        deep = message.get_deep_link()
        jwt_value = deep.get_response_jwt(resources)
        return_url = message.get_launch_data()[
            "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]["deep_link_return_url"]
    audit("lti-deep-link", " ".join(chosen), user_id=None)
    response = make_response(render_template("lti/deep_link_return.html", return_url=return_url, jwt=jwt_value))
    # The app's one policy, with the platform's return address allowed as the form's target (the page posts there).
    origin = "/".join(return_url.split("/", 3)[:3])
    response.headers["Content-Security-Policy"] = content_security_policy(current_app, g.frame_ancestors,
                                                                          form_action=origin)
    return response


# ---------------------------------------------------------------------------------------------- keys

@bp.get("/jwks/<platform_id>")
def jwks(platform_id):
    with transaction() as conn:
        if service.platform(conn, platform_id) is None:
            abort(404)
        keys = service.key_set(conn, platform_id, _grace())
    response = current_app.response_class(json.dumps(keys), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# ---------------------------------------------------------------------------------------------- dynamic registration

class _Registration(DynamicRegistration):
    client_name = "Kompetanse"
    description = "Min kompetanseplan, enhetsoversikten og publiserte moduler fra kompetanse-lrs"

    def __init__(self, platform_id, openid_configuration, registration_token):
        self.platform_id, self.config_url, self.platform_token = platform_id, openid_configuration, registration_token

    def get_request_session(self):
        session = requests.Session()
        session.request = _with_timeout(session.request)
        return session

    def get_openid_configuration_endpoint(self):
        return self.config_url

    def get_registration_token(self):
        return self.platform_token

    def get_initiate_login_uri(self):
        return _public("lti.login")

    def get_jwks_uri(self):
        return _public("lti.jwks", platform_id=self.platform_id)

    def get_redirect_uris(self):
        return [_public("lti.launch")]

    def get_domain(self):
        return urlsplit(current_app.config["PUBLIC_URL"]).netloc

    def get_target_link_uri(self):
        return _public("lti.launch")

    def get_logo_uri(self):
        return _public("web.static", filename="site.css").rsplit("/", 1)[0] + "/logo.svg"

    def get_scopes(self):
        return [*AGS_SCOPES, NRPS_SCOPE]

    def get_claims(self):
        return ["iss", "sub", "name", "given_name", "family_name", "email"]

    def get_messages(self):
        return [{"type": "LtiDeepLinkingRequest", "target_link_uri": _public("lti.launch"),
                 "label": "Modul fra kompetanse-lrs"},
                {"type": "LtiResourceLinkRequest", "target_link_uri": _public("lti.launch"),
                 "label": "Min kompetanseplan"}]

    def complete_registration(self, openid_configuration, openid_registration):
        return openid_configuration, openid_registration


def _with_timeout(request_func):
    def call(method, url, **kwargs):
        kwargs.setdefault("timeout", 15)
        return request_func(method, url, **kwargs)
    return call


@bp.get("/register")
def register():
    """LTI Dynamic Registration: the Moodle admin pastes this address (with our one-time token) into "Manage
    tools"; Moodle opens it with its openid_configuration and registration_token."""
    token = request.args.get("token", "")
    config_url = request.args.get("openid_configuration", "")
    with transaction() as conn:
        valid = service.registration_token_valid(conn, token)
    if not valid:
        audit("lti-register-refused", "token", user_id=None)
        return _message(_("Registreringsadressen gjelder ikke"), _(
            "Adressen er brukt før, har gått ut eller er feil. Be administratoren av kompetansesystemet om en ny "
            "registreringsadresse."), 403)
    if not config_url.startswith(("https://", "http://")):
        return _message(_("Moodle sendte ikke oppsettet sitt"), _(
            "Lim inn adressen under «Registrer verktøy» (LTI Advantage) i Moodle, ikke i nettleseren."), 400)
    import uuid
    platform_id = str(uuid.uuid4())
    registration = _Registration(platform_id, config_url, request.args.get("registration_token"))
    try:
        config, answer = registration.register()
    except (LtiException, AssertionError, requests.RequestException, ValueError, KeyError) as e:
        log.warning("LTI dynamic registration failed: %s", e)
        return _message(_("Registreringen mislyktes"), _(
            "Moodle svarte ikke som ventet (%(why)s). Prøv igjen fra Moodle.", why=str(e)[:300]), 502)
    issuer = config.get("issuer", "")
    if urlsplit(issuer).netloc != urlsplit(config_url).netloc:
        return _message(_("Registreringen mislyktes"), _(
            "Utstederen i Moodles oppsett hører ikke til adressen oppsettet kom fra."), 400)
    tool_config = answer.get("https://purl.imsglobal.org/spec/lti-tool-configuration", {})
    platform_config = config.get("https://purl.imsglobal.org/spec/lti-platform-configuration", {})
    name = f"{platform_config.get('product_family_code', 'LTI')} {urlsplit(issuer).netloc}"
    try:
        with transaction(write=True) as conn:
            if not service.registration_token_valid(conn, token, use=True):
                abort(403)
            service.create_platform(
                conn, name, platform_id=platform_id, issuer=issuer, client_id=answer["client_id"],
                auth_login_url=config["authorization_endpoint"], auth_token_url=config["token_endpoint"],
                auth_audience=config.get("authorization_server"), key_set_url=config["jwks_uri"],
                deployment_ids=tool_config.get("deployment_id", ""),
                match_claim=current_app.config["LTI_MATCH_CLAIM"], match_field=current_app.config["LTI_MATCH_FIELD"])
    except (service.PlatformError, KeyError) as e:
        return _message(_("Registreringen mislyktes"), str(e), 400)
    audit("lti-platform-registered", f"{name} {issuer} {answer['client_id']}", user_id=None)
    return render_template("lti/registered.html", name=name)


# ---------------------------------------------------------------------------------------------- admin page

@bp.route("/admin", methods=["GET", "POST"])
@login_required("admin")
def admin():
    """The platform registrations: the values a Moodle admin types in for a manual registration, the platform's
    values to enter here, and a one-time address for dynamic registration."""
    form = PlainForm()
    registration_url = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        action = request.form.get("action", "")
        done = None
        try:
            with transaction(write=True) as conn:
                if action == "registration-url":
                    token = service.registration_token(conn, principal.current().user_id)
                    registration_url = _public("lti.register", token=token)
                    done = ("lti-registration-url", "")
                elif action == "new":
                    pid = service.create_platform(conn, request.form.get("name", ""),
                                                  match_claim=current_app.config["LTI_MATCH_CLAIM"],
                                                  match_field=current_app.config["LTI_MATCH_FIELD"])
                    done = ("lti-platform-created", pid)
                    flash(_("Plattformen er lagt til. Gi verdiene under til Moodle-administratoren."), "status")
                elif action == "save":
                    pid = request.form.get("platform", "")
                    service.update_platform(conn, pid, **{k: request.form.get(k, "") for k in
                                                          service.PLATFORM_FIELDS if k in request.form})
                    done = ("lti-platform-changed", pid)
                    flash(_("Plattformen er lagret."), "status")
                else:
                    abort(400)
        except service.PlatformError as e:
            flash(str(e), "error")
        if done:
            audit(*done)
        if registration_url is None:
            return redirect(url_for("lti.admin"))
    with transaction() as conn:
        rows = service.platforms(conn)
    tool_values = {p["id"]: {"login": _public("lti.login"), "launch": _public("lti.launch"),
                             "jwks": _public("lti.jwks", platform_id=p["id"])} for p in rows}
    return render_template("lti/admin.html", platforms=rows, tool_values=tool_values, form=form,
                           registration_url=registration_url, fields=service.MATCH_FIELDS)


# ---------------------------------------------------------------------------------------------- course members

@bp.get("/members")
@login_required("instructor", "admin")
def members_page():
    """The simulation session form's "from a Moodle course" button: pick one of the Moodle courses you launched the
    tool from; its members (NRPS) go back to the form as the participant list."""
    from urllib.parse import urlencode

    from lrs.lti import api
    back = request.args.get("next", "")
    back = back if back.startswith("/") and not back.startswith("//") else url_for("web.home")
    seq = request.args.get("context", type=int)
    who = principal.current()
    if seq is None:
        with transaction() as conn:
            rows = service.contexts_of(conn, who.user_id)
        return render_template("lti/members.html", contexts=rows, back=back)
    try:
        found = api.members(seq, who.user_id)
    except api.MembersUnavailable as e:
        flash(_("Moodle ga ikke deltakerlisten: %(why)s", why=str(e)), "error")
        return redirect(url_for("lti.members_page", next=back))
    if found is None:
        abort(404)
    audit("lti-members", f"{found['context']['title']}: {len(found['employee_ids'])}")
    lines = "\n".join(f"{e}; ; " for e in found["employee_ids"])
    sep = "&" if "?" in back else "?"
    if found["unmatched"]:
        flash(_("%(n)s av deltakerne i Moodle-kurset er ikke knyttet til en ansatt her og er utelatt.",
                n=found["unmatched"]), "error")
    return redirect(back + sep + urlencode({"participants": lines}))
