"""The web UI: server-rendered pages for employees, leaders and admins, in Norwegian bokmål first, English second.

Sign-in is a local account (argon2) or OpenID Connect. The signed session cookie carries only the id of a
server-side session (lrs/web/tables.py: web_sessions), so a session can be ended on the server; every request
gets `g.principal` from it (lrs/principal.py), which every page and JSON API checks. docs/security.md says what
else guards the pages: security headers, CSRF on forms and on the cookie-authenticated JSON APIs, rate limits."""
import os
import time
from datetime import timedelta

from flask import g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel

from lrs import personal, registry
from lrs.csrf import csrf
from lrs.store.db import transaction
from lrs.store.types import utcnow

LANGUAGES = ("nb", "en")
# Pages that show a signed-in person's data: never kept by a browser or proxy cache.
PERSONAL = ("web", "privacy", "simulation", "competence_api", "simulation_api", "lti", "lti_api")


def current_language() -> str:
    if not request:  # a text translated outside a request (the CLI, a job): bokmål
        return "nb"
    lang = session.get("lang")
    if lang in LANGUAGES:
        return lang
    return request.accept_languages.best_match(LANGUAGES, default="nb")


class SignInSessions(SecureCookieSessionInterface):
    """The signed session cookie, except on paths whose every request carries its own credential (the xAPI,
    `registry.sessionless_paths`): there Flask gets no session, so a browser's cookie (course content posting
    statements) costs no session lookup and the answer sets no cookie."""

    def open_session(self, app, request):
        if request.path.startswith(tuple(registry.of(app).sessionless_paths)):
            return None  # Flask's null session: read as empty, never saved
        return super().open_session(app, request)


def idle_limit(app) -> timedelta:
    return timedelta(hours=app.config["SESSION_HOURS"])


def init_app(app):
    from lrs.web import accounts, errors
    from lrs.web.cli import users_group
    from lrs.web.pages import bp
    from lrs.web.tables import PERSONAL_DATA

    personal.declare(app, PERSONAL_DATA)
    secure = str(app.config["WEB_SECURE_COOKIES"]).strip().lower()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["PUBLIC_URL"].startswith("https://") if not secure
        else secure in ("1", "true", "yes", "on"),
        PERMANENT_SESSION_LIFETIME=app.config["SESSION_HOURS"] * 3600,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        BABEL_DEFAULT_LOCALE="nb",
        BABEL_TRANSLATION_DIRECTORIES=os.path.join(os.path.dirname(__file__), "translations"),
        RATELIMIT_ENABLED=app.config.get("RATELIMIT_ENABLED", True),
    )
    Babel(app, locale_selector=current_language)
    app.session_interface = SignInSessions()
    # Every form post needs its CSRF token; the APIs say at their blueprint how they are guarded (lrs/csrf.py).
    csrf.init_app(app)

    @app.before_request
    def _principal():
        session_id = session.get("sid")
        if not session_id:
            return
        # Sessions expire after SESSION_HOURS without use, however the cookie was kept.
        if time.time() - session.get("seen", 0) > app.config["SESSION_HOURS"] * 3600:
            session.clear()
            return
        with transaction() as conn:
            user = accounts.session_user(conn, session_id, idle_limit(app))
        if user is None:  # signed out (here or everywhere), idle, or the account was disabled
            session.clear()
            return
        if user.pop("session_seen") < utcnow() - accounts.SEEN_EVERY:  # now and then, not a write every request
            with transaction(write=True) as conn:
                accounts.touch_session(conn, session_id)
        session["seen"] = int(time.time())
        g.principal = accounts.principal_of(user)
        g.user = user

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html" and request.endpoint != "cmi5_api.content":  # course content is the
            # author's own. A page may be framed by FRAME_ANCESTORS, or by what this request allows (g.frame_ancestors:
            # an LTI-launched session's platform, lrs/lti).
            ancestors = g.get("frame_ancestors") or app.config["FRAME_ANCESTORS"]
            headers.setdefault("Content-Security-Policy", content_security_policy(app, ancestors))
            if ancestors.strip() == "'none'":
                headers.setdefault("X-Frame-Options", "DENY")
        if g.get("principal") and request.blueprint in PERSONAL and request.endpoint != "web.static":
            headers["Cache-Control"] = "no-store"
        return response

    app.register_blueprint(bp)
    errors.init_app(app)  # after the xAPI's app-wide handler, which it asks first
    app.cli.add_command(users_group)


def content_security_policy(app, ancestors: str | None = None, form_action: str = "") -> str:
    """Scripts and styles from this site only (no inline script: the pages have none), no plugins, forms posted
    to this site (and form_action: a page that posts elsewhere, as the LTI deep-link answer to its platform), and
    framing only by FRAME_ANCESTORS (or the given ancestors)."""
    actions = " ".join(["'self'", *form_action.split()])
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
            f"base-uri 'none'; form-action {actions}; "
            f"frame-ancestors {ancestors or app.config['FRAME_ANCESTORS']}")

