"""xAPI-style errors: JSON with a message a person can act on."""
import logging

import flask
import orjson
import psycopg
import sqlalchemy.exc
from flask import Response, current_app, has_app_context, request
from werkzeug.exceptions import BadRequest, HTTPException

from lrs import config
from lrs.store import db

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5  # a restarting PostgreSQL is usually back by then; clients (and the Moodle plugin) retry


class XAPIError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def bad_request(message: str) -> XAPIError:
    return XAPIError(400, message)


def json_response(obj, status: int = 200, headers=None) -> Response:
    return Response(orjson.dumps(obj), status=status, mimetype="application/json", headers=headers)


def error_response(status: int, message: str, headers=None) -> Response:
    return json_response({"error": {"code": status, "message": message}}, status, headers)


def parse_json(data: bytes, what: str = "the body"):
    """JSON a client sent, or 400 saying what is wrong with it. Every JSON body is read here (documents, read by
    another parser, go through check_depth), so nothing nested deeper than LRS_JSON_MAX_DEPTH reaches code that
    walks JSON recursively (hashing, validation, encoding: orjson stops at 255 levels)."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        if str(e).startswith("depth limit exceeded"):  # orjson's own limit (1024 levels): deeper than ours too
            raise too_deep(what)
        raise bad_request(f"{what} is not valid JSON: {e}")
    check_depth(value, what)
    return value


def check_depth(value, what: str = "the body") -> None:
    """400 when objects and arrays in `value` nest deeper than LRS_JSON_MAX_DEPTH."""
    if too_deep_value(value):
        raise too_deep(what)


_CONTAINERS = (dict, list)


def too_deep_value(value) -> bool:
    """Whether objects and arrays in `value` nest deeper than LRS_JSON_MAX_DEPTH. Walked a level at a time,
    without recursion, in list comprehensions: a node-by-node walk was a tenth of a batch's CPU."""
    level = [value] if isinstance(value, _CONTAINERS) else []
    for _ in range(max_depth()):
        if not level:
            return False
        children = [v for node in level if isinstance(node, dict) for v in node.values()]
        children += [v for node in level if not isinstance(node, dict) for v in node]
        level = [v for v in children if isinstance(v, _CONTAINERS)]
    return bool(level)


def max_depth() -> int:
    return current_app.config["JSON_MAX_DEPTH"] if has_app_context() else config.DEFAULTS["JSON_MAX_DEPTH"]


def too_deep(what: str = "the body") -> XAPIError:
    return bad_request(f"{what} nests JSON objects and arrays more than {max_depth()} levels deep; this LRS accepts "
                       f"at most {max_depth()} (LRS_JSON_MAX_DEPTH)")


class Request(flask.Request):
    """request.get_json (the cookie-authenticated JSON API reads bodies so) under LRS_JSON_MAX_DEPTH: a body
    nested deeper is invalid JSON there (400, or None with silent=True)."""

    def get_json(self, force=False, silent=False, cache=True):
        try:
            value = super().get_json(force=force, silent=silent, cache=cache)
            deep = too_deep_value(value)
        except RecursionError:  # the parser's limit (about 1000 levels) is far above ours
            deep = True
        if not deep:
            return value
        if silent:
            return None
        raise BadRequest(too_deep().message)


def json_object_body() -> dict:
    """The request body as a JSON object, or 400 saying what is wrong with it."""
    data = parse_json(request.get_data() or b"")
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object")
    return data


def register(blueprint):
    """XAPIError as the xAPI's JSON error, for any API blueprint."""
    @blueprint.errorhandler(XAPIError)
    def _xapi_error(e):
        return error_response(e.status, e.message, e.headers)


def register_app_wide(blueprint):
    """The xAPI's app-wide handlers (database outages, unknown paths under its prefix): once, by the xAPI blueprint.
    A second blueprint registering them would replace them, and /xapi/ 404s would be HTML again."""
    @blueprint.app_errorhandler(sqlalchemy.exc.SQLAlchemyError)  # app-wide: every API and page reads the database
    @blueprint.app_errorhandler(psycopg.OperationalError)
    def _database_error(e):
        if not db.unavailable(e):
            raise e  # a bug, not an outage: Flask logs it with its traceback (500)
        log.warning("database unavailable, answered 503: %s: %s", type(e).__name__, (str(e).splitlines() or [""])[0])
        return error_response(503, "the database is not available at the moment; try again in a few seconds",
                              {"Retry-After": str(RETRY_AFTER_SECONDS)})

    @blueprint.app_errorhandler(HTTPException)  # app-wide: unknown paths and methods never reach the blueprint
    def _http_error(e):
        if not request.path.startswith(blueprint.url_prefix):
            return e
        messages = {413: "request body is larger than this LRS accepts (LRS_MAX_CONTENT_LENGTH)"}
        return error_response(e.code, messages.get(e.code, e.description), e.get_headers() and dict(
            (k, v) for k, v in e.get_headers() if k.lower() == "allow"))
