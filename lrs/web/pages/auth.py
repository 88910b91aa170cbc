"""Signing in and out (a local password or OpenID Connect), the language, and the start page by role."""
import math
from datetime import timedelta

import limits
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from lrs import principal
from lrs.store.db import transaction
from lrs.store.types import utcnow
from lrs.web import LANGUAGES, accounts, idle_limit
from lrs.web.guard import audit, login_required
from lrs.web.pages.base import bp
from lrs.web.pages.forms import LoginForm, PlainForm


def _oidc_on() -> bool:
    return bool(current_app.config["OIDC_DISCOVERY_URL"])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        limit = limits.parse(current_app.config["LOGIN_RATE_LIMIT"])
        window = timedelta(seconds=limit.get_expiry())
        address = request.remote_addr or ""
        with transaction() as conn:
            wait = accounts.sign_in_wait(conn, form.username.data, address, limit.amount, window) \
                if current_app.config["RATELIMIT_ENABLED"] else 0
            user = accounts.by_username(conn, form.username.data)
        if wait:
            minutes = math.ceil(wait / 60)
            flash(_("For mange innloggingsforsøk. Prøv igjen om %(n)s minutter.", n=minutes), "error")
            return render_template("login.html", form=form, oidc=_oidc_on()), 429, {"Retry-After": str(math.ceil(wait))}
        user = accounts.check_password(user, form.password.data)  # slow on purpose: after the transaction
        if user is None:
            with transaction(write=True) as conn:
                accounts.sign_in_failed(conn, form.username.data, address, window)
            audit("sign-in-failed", form.username.data, user_id=None)
            flash(_("Feil brukernavn eller passord."), "error")
        else:
            start_session(user, "password")
            return redirect(_local(request.args.get("next", ""), url_for("web.home")))
    return render_template("login.html", form=form, oidc=_oidc_on())


def _local(target: str, otherwise: str) -> str:
    """A path on this site to go on to, never another site's address."""
    return target if target.startswith("/") and not target.startswith("//") else otherwise


def start_session(user: dict, how: str, **extra):
    """One session mechanism for every way of signing in: a server-side session, its id in the cookie. `extra`
    goes into the cookie's session too (an LTI launch marks the session framed by its platform)."""
    with transaction(write=True) as conn:
        session_id = accounts.start_session(conn, user["id"], idle_limit(current_app))
    session.clear()
    session.permanent = True
    session.update(sid=session_id, lang=user["lang"], seen=int(utcnow().timestamp()), **extra)
    audit("sign-in", how, user_id=user["id"])


@bp.post("/logout")
def logout():
    if not PlainForm().validate_on_submit():
        abort(400)
    if principal.current():
        with transaction(write=True) as conn:
            accounts.end_session(conn, session.get("sid", ""))
        audit("sign-out")
    session.clear()
    return redirect(url_for("web.login"))


@bp.get("/lang/<code>")
def language(code):
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_local(request.args.get("next", "/"), "/"))


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
    with transaction(write=True) as conn:  # the first sign-in binds the subject
        user = accounts.by_oidc(conn, claims["sub"], str(claims.get(config["OIDC_CLAIM"], "")), config["OIDC_MATCH"])
    if user is None:
        audit("sign-in-failed", f"oidc {claims['sub']}", user_id=None)
        flash(_("Denne påloggingen er ikke knyttet til en bruker her."), "error")
        return redirect(url_for("web.login"))
    start_session(user, "oidc")
    return redirect(url_for("web.home"))


def _oidc_client():
    from authlib.integrations.flask_client import OAuth  # only when OpenID Connect is configured
    config = current_app.config
    if not config["OIDC_DISCOVERY_URL"]:
        abort(404)
    oauth = current_app.extensions.get("lrs.oauth")
    if oauth is None:
        oauth = current_app.extensions["lrs.oauth"] = OAuth(current_app)
        oauth.register("idp", client_id=config["OIDC_CLIENT_ID"], client_secret=config["OIDC_CLIENT_SECRET"],
                       server_metadata_url=config["OIDC_DISCOVERY_URL"], client_kwargs={"scope": "openid profile"})
    return oauth.idp


# Where each role lands after signing in, the first that the person holds: their main page.
LANDING = (("admin", "web.admin"), ("leader", "web.leader"), ("region", "web.capacity"),
           ("trust_admin", "web.capacity"), ("instructor", "simulation.overview"), ("author", "web.author"))


def landing(who) -> str | None:
    """The endpoint this person lands on: the main page of the first LANDING role they hold, else their own plan;
    None for an account with neither. Every way in (sign-in, an LTI launch) asks here."""
    for role, endpoint in LANDING:
        if who.has(role):
            return endpoint
    return "web.my_plan" if who.employee_id else None


@bp.get("/")
@login_required()
def home():
    endpoint = landing(principal.current())
    if endpoint is None:
        abort(403, _("Kontoen din har ingen rolle her ennå. Be en administrator om tilgang."))
    return redirect(url_for(endpoint))
