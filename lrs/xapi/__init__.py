"""The xAPI resources under /xapi/: version negotiation, credentials, CORS and caching rules for all of them."""
import time
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, g, request

from lrs.csrf import credential_api
from lrs.xapi import auth, errors
from lrs.xapi.versions import SUPPORTED, negotiate, parse

bp = credential_api(Blueprint("xapi", __name__, url_prefix="/xapi"))
errors.register(bp)
errors.register_app_wide(bp)

# Browser-based content on another origin must be able to use every resource.
_ALLOW_HEADERS = ("Authorization, Content-Type, X-Experience-API-Version, If-Match, If-None-Match, "
                  "X-Requested-With, Accept-Language")
_EXPOSE_HEADERS = "ETag, Last-Modified, X-Experience-API-Version, X-Experience-API-Consistent-Through, Content-Type"
_OPEN = {"xapi.about"}  # answered without credential or version header


@bp.record_once
def _check_setting(state):
    version = parse(str(state.app.config["XAPI_DEFAULT_VERSION"]))
    if version is None:
        raise ValueError(f"LRS_XAPI_DEFAULT_VERSION must be one of {', '.join(SUPPORTED)}, "
                         f"not {state.app.config['XAPI_DEFAULT_VERSION']!r}")
    state.app.config["XAPI_DEFAULT_VERSION"] = version


@bp.before_request
def _check_request():
    g.xapi_version = _answer_version()
    if request.method == "OPTIONS":
        return Response(status=204)
    if "xapi.alternate_syntax_error" in request.environ:
        raise errors.bad_request(request.environ["xapi.alternate_syntax_error"])
    if request.endpoint in _OPEN:
        return None
    auth.authenticate()
    negotiate(request.headers.get("X-Experience-API-Version"))  # 400 unless it names a version served here
    if request.environ.get("xapi.alternate_syntax") and g.xapi_version == "2.0.0":
        raise errors.bad_request("xAPI 2.0 has no alternate request syntax; send the real method and headers")
    return None


@bp.after_app_request  # app-wide, so 404 and 405 answers under /xapi/ get these headers too
def _response_headers(response):
    if not request.path.startswith(bp.url_prefix):
        return response
    h = response.headers
    if response.status_code == 204:
        h.pop("Content-Type", None)  # no content, so no type (Flask adds text/html by default)
    h["X-Experience-API-Version"] = _answer_version()
    if request.path.startswith(bp.url_prefix + "/statements") and "X-Experience-API-Consistent-Through" not in h:
        h["X-Experience-API-Consistent-Through"] = consistent_through()  # on every answer, errors included
    origin = request.headers.get("Origin")
    h["Access-Control-Allow-Origin"] = origin or "*"
    h["Vary"] = "Origin"
    h["Access-Control-Allow-Methods"] = "GET, HEAD, PUT, POST, DELETE, OPTIONS"
    h["Access-Control-Allow-Headers"] = _ALLOW_HEADERS
    h["Access-Control-Expose-Headers"] = _EXPOSE_HEADERS
    h["Access-Control-Max-Age"] = "600"
    # Answers depend on the credential and change with every write: never let a cache reuse one.
    h["Cache-Control"] = "no-store"
    return response


def _answer_version() -> str:
    """Every answer, a 401 or 404 included, says the version the request named; one that named none, the default."""
    return parse(request.headers.get("X-Experience-API-Version")) or current_app.config["XAPI_DEFAULT_VERSION"]


def consistent_through() -> str:
    """Every statement stored before this moment is visible now (writes commit within the window)."""
    t = time.time() - current_app.config["CONSISTENCY_WINDOW"]
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@bp.get("/about")
def about():
    return {"version": list(SUPPORTED), "extensions": {}}


from lrs.xapi import activities, statements  # noqa: E402,F401  (they register their routes on bp)
from lrs.xapi import documents  # noqa: E402,F401
