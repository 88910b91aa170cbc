"""HTTP of the cmi5 LMS: the JSON API for other systems (credential scope cmi5/admin), the fetch URL, and the
files of imported packages."""
from flask import Blueprint, Response, current_app, g, request
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from werkzeug.exceptions import HTTPException

from lrs.cmi5 import lms, package, stats, vocab
from lrs.competence.directory import agent_for
from lrs.competence.service import competence_names
from lrs.csrf import credential_api
from lrs.store import db
from lrs.store.db import transaction
from lrs.xapi import auth
from lrs.xapi.errors import XAPIError, error_response, json_object_body, json_response

bp = credential_api(Blueprint("cmi5_api", __name__, url_prefix="/cmi5"))
SCOPE = "cmi5/admin"


@bp.errorhandler(XAPIError)
def _api_error(e):
    return error_response(e.status, e.message, e.headers)


@bp.errorhandler(HTTPException)
def _http_error(e):
    return error_response(e.code, e.description)


@bp.before_request
def _who_is_asking():
    if not request.path.startswith(bp.url_prefix + "/api/"):
        return None  # the fetch URL carries its own secret; package files are open (the launch URL finds them)
    auth.authenticate(SCOPE)
    return None


def _body(schema: Schema) -> dict:
    try:
        return schema.load(json_object_body())
    except ValidationError as e:
        raise XAPIError(400, "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                                       for k, v in e.messages.items()))


def _codes(value) -> list[str]:
    codes = [c.strip() for c in value.split(",")] if isinstance(value, str) else value
    if not isinstance(codes, list) or not all(isinstance(c, str) and c and len(c) <= 64 for c in codes):
        raise XAPIError(400, "competences must be a list of competence codes (strings of 1 to 64 characters)")
    return list(dict.fromkeys(codes))


# ------------------------------------------------------------------------------------------------ courses

@bp.post("/api/courses")
def import_course():
    """Body: the package (zip, or cmi5.xml alone). ?competences=A,B overrides the codes in the package."""
    data = request.get_data()
    if not data:
        raise XAPIError(400, "send the cmi5 package (a zip with cmi5.xml, or a cmi5.xml) as the request body")
    codes = _codes(request.args["competences"]) if "competences" in request.args else None
    try:
        made = lms.import_package(db.engine(), data, g.credential.name, current_app.config["CMI5_ID_BASE"], codes)
    except package.PackageError as e:
        raise XAPIError(400, str(e))
    with transaction() as conn:
        return json_response(lms.get_course(conn, made["id"]), 201 if made["created"] else 200)


@bp.get("/api/competences")
def list_competences():
    """The competence codes of the catalog, which a module's `competences` may name (a code not here reaches no
    plan), with their names: for course-builder, which warns about the others before it publishes."""
    with transaction() as conn:
        names = competence_names(conn)
    return json_response({"competences": [{"code": c["code"], "name_nb": c["name_nb"], "name_en": c["name_en"]}
                                          for c in names.values()]})


@bp.get("/api/courses")
def list_courses():
    with transaction() as conn:
        return json_response({"courses": lms.list_courses(conn)})


@bp.get("/api/courses/<int:course_id>")
def get_course(course_id):
    with transaction() as conn:
        return json_response(_call(lms.get_course, conn, course_id))


@bp.get("/api/courses/<int:course_id>/stats")
def course_stats(course_id):
    with transaction() as conn:
        _call(lms.get_course, conn, course_id)  # 404 for an unknown course
        return json_response(stats.course_numbers(conn, course_id))


class _Competences(Schema):
    class Meta:
        unknown = RAISE
    competences = fields.Raw(required=True)


@bp.put("/api/courses/<int:course_id>/competences")
def put_competences(course_id):
    body = _body(_Competences())
    codes = _codes(body["competences"])
    with transaction(write=True) as conn:
        return json_response(_call(lms.set_competences, conn, course_id, codes))


class _Launch(Schema):
    class Meta:
        unknown = RAISE
    employee_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    au = fields.Raw(load_default=0)  # index, publisher id or activity id
    registration = fields.UUID(load_default=None)
    launch_mode = fields.String(load_default="Normal", validate=validate.OneOf(vocab.LAUNCH_MODES))
    return_url = fields.Url(load_default=None, require_tld=False)


@bp.post("/api/courses/<int:course_id>/launch")
def launch(course_id):
    body = _body(_Launch())
    reg = str(body["registration"]) if body["registration"] else None
    actor = agent_for(body["employee_id"], current_app.config["IDENTITY_HOMEPAGE"])
    out = _call(lms.launch, db.engine(), course_id, body["au"], body["employee_id"], actor, request.url_root,
                registration=reg, launch_mode=body["launch_mode"], return_url=body["return_url"])
    return json_response(out, 201)


# ------------------------------------------------------------------------------------------------ registrations

@bp.get("/api/registrations")
def list_registrations():
    employee = request.args.get("employee_id")
    if not employee:
        raise XAPIError(400, "give employee_id (and optionally course_id)")
    course = request.args.get("course_id")
    if course is not None and not course.isdigit():
        raise XAPIError(400, "course_id must be a number")
    with transaction() as conn:
        regs = lms.registrations_of(conn, employee, int(course) if course else None)
        return json_response({"registrations": [lms.progress(conn, r) for r in regs]})


@bp.get("/api/registrations/<uuid:registration>")
def registration_progress(registration):
    with transaction() as conn:
        return json_response(_call(lms.progress, conn, str(registration)))


class _Waive(Schema):
    class Meta:
        unknown = RAISE
    au = fields.Raw(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


@bp.post("/api/registrations/<uuid:registration>/waive")
def waive(registration):
    body = _body(_Waive())
    out = _call(lms.waive, db.engine(), str(registration), body["au"], body["reason"])
    with transaction() as conn:
        return json_response({**out, **lms.progress(conn, str(registration))})


@bp.post("/api/sessions/<uuid:session_id>/abandon")
def abandon(session_id):
    _call(lms.abandon, db.engine(), str(session_id))
    return Response(status=204)


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except lms.NotFound as e:
        raise XAPIError(404, str(e))
    except lms.Refused as e:
        raise XAPIError(409, str(e))
    except ValueError as e:
        raise XAPIError(400, str(e))


# ------------------------------------------------------------------------------------------------ AU side

@bp.route("/fetch/<token>", methods=["POST", "OPTIONS"])
def fetch(token):
    """cmi5 8.2: POST only; always 200 with JSON (errors as error-code/error-text)."""
    if request.method == "OPTIONS":
        return _cors(Response(status=204))
    return _cors(json_response(lms.fetch(db.engine(), token)))


@bp.get("/fetch/<token>")
def fetch_get(token):
    return error_response(405, "the fetch URL takes POST only (cmi5 8.2.1)", {"Allow": "POST"})


def _cors(response):
    # An AU served from another origin (a package with absolute URLs) must be able to call the fetch URL.
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin") or "*"
    response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/content/<int:course_id>/<path:path>")
def content(course_id, path):
    with transaction() as conn:
        found = lms.file(conn, course_id, path)
    if found is None:
        raise XAPIError(404, f"course {course_id} has no file {path}")
    return Response(found.content, mimetype=found.content_type,
                    headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})
