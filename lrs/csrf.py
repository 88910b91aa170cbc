"""CSRF protection, and the two ways a blueprint says it needs no form token (docs/security.md).

Every form post needs its CSRF token (flask-wtf, turned on by lrs.web). A blueprint that authenticates by
credential (HTTP Basic, never a cookie) says so with `credential_api`; a JSON API that takes the session cookie
says so with `cookie_api`, which guards its writes instead: JSON or the X-CSRFToken header, and an Origin of this
site. Nothing is exempt by its name.

It imports nothing of the LRS: the xAPI blueprint and the blueprints of clients loaded into the app
(simulation) use it too."""
from urllib.parse import urlsplit

import orjson
from flask import Blueprint, Response, current_app, request
from flask_wtf.csrf import CSRFProtect, validate_csrf
from wtforms.validators import ValidationError

csrf = CSRFProtect()
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def credential_api(bp: Blueprint) -> Blueprint:
    """A blueprint whose every request carries a credential: a browser never sends one by itself."""
    csrf.exempt(bp)
    return bp


def cookie_api(bp: Blueprint) -> Blueprint:
    """A JSON API signed in by the session cookie: its writes must show they come from a page of this site."""
    csrf.exempt(bp)
    bp.before_request(_cookie_api_writes)
    return bp


def _cookie_api_writes():
    if request.method in SAFE_METHODS:
        return None
    origin = request.headers.get("Origin")
    if origin and origin not in allowed_origins(current_app):
        return _refused(403, f"requests from {origin} are not allowed (LRS_ALLOWED_ORIGINS)")
    # POST is the one write another site can send without the browser asking first (CORS preflight), and
    # then only as form fields or text, never as JSON nor with a header of its own: either proves the request
    # came from a page of this site.
    if request.method != "POST" or request.is_json:
        return None
    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except ValidationError:
        return _refused(400, "a form post here needs the X-CSRFToken header (the csrf-token meta tag "
                                   "of any page); or send JSON")
    return None


def _refused(status: int, message: str) -> Response:
    """The APIs' error shape (lrs.xapi.errors.error_response), written out so that this module stays standalone."""
    return Response(orjson.dumps({"error": {"code": status, "message": message}}), status=status,
                    mimetype="application/json")


def allowed_origins(app) -> set[str]:
    """This site (as the request reached it, and as PUBLIC_URL names it) and ALLOWED_ORIGINS."""
    public = urlsplit(app.config["PUBLIC_URL"])
    return {request.host_url.rstrip("/"), f"{public.scheme}://{public.netloc}",
            *app.config["ALLOWED_ORIGINS"].replace(",", " ").split()}
