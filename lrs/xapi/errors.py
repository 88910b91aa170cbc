"""xAPI-style errors: JSON with a message a person can act on."""
import orjson
from flask import Response, request
from werkzeug.exceptions import HTTPException


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


def json_object_body() -> dict:
    """The request body as a JSON object, or 400 saying what is wrong with it."""
    try:
        data = orjson.loads(request.get_data() or b"")
    except orjson.JSONDecodeError as e:
        raise bad_request(f"the body is not valid JSON: {e}")
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object")
    return data


def register(blueprint):
    @blueprint.errorhandler(XAPIError)
    def _xapi_error(e):
        return error_response(e.status, e.message, e.headers)

    @blueprint.app_errorhandler(HTTPException)  # app-wide: unknown paths and methods never reach the blueprint
    def _http_error(e):
        if not request.path.startswith(blueprint.url_prefix):
            return e
        messages = {413: "request body is larger than this LRS accepts (LRS_MAX_CONTENT_LENGTH)"}
        return error_response(e.code, messages.get(e.code, e.description), e.get_headers() and dict(
            (k, v) for k, v in e.get_headers() if k.lower() == "allow"))
