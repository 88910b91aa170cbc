"""The web UI: server-rendered pages for employees, leaders and admins, in Norwegian bokmål first, English second.

Sign-in is a local account (argon2) or OpenID Connect; the session carries the user id, and every request gets
`g.principal` from it (lrs/principal.py), which every page and JSON API checks."""
import os
import time

from flask import g, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

limiter = Limiter(get_remote_address, default_limits=[], storage_uri="memory://")


@limiter.request_filter
def _not_a_page() -> bool:
    """Only pages have limits (the sign-in form): other requests, xAPI above all, skip the limiter's lookups
    (a fifth of the CPU of a small xAPI request)."""
    return request.blueprint != "web"

csrf = CSRFProtect()
LANGUAGES = ("nb", "en")


def current_language() -> str:
    lang = session.get("lang")
    if lang in LANGUAGES:
        return lang
    return request.accept_languages.best_match(LANGUAGES, default="nb") if request else "nb"


def init_app(app):
    from lrs.web import accounts
    from lrs.web.cli import users_group
    from lrs.web.views import bp

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
    limiter.init_app(app)
    # Every form post needs its CSRF token. The APIs are exempt: xAPI and the pull feed take HTTP Basic
    # credentials, not cookies; the session cookie is SameSite=Lax, so other sites cannot post with it.
    csrf.init_app(app)
    for name, blueprint in app.blueprints.items():
        if name == "xapi" or name.endswith("_api"):
            csrf.exempt(blueprint)

    @app.before_request
    def _principal():
        user_id = session.get("user_id")
        if not user_id:
            return
        # Sessions expire after SESSION_HOURS without use, however the cookie was kept.
        if time.time() - session.get("seen", 0) > app.config["SESSION_HOURS"] * 3600:
            session.clear()
            return
        user = accounts.by_id(app.extensions["lrs.engine"], user_id)
        if user is None or user["disabled"]:
            session.clear()
            return
        session["seen"] = int(time.time())
        g.principal = accounts.principal_of(user)
        g.user = user

    app.register_blueprint(bp)
    app.cli.add_command(users_group)
