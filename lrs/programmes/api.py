"""The programmes JSON API, /api/programmes/…, for other systems: a credential (HTTP Basic) with the scope
programmes/read (or all). The OpenAPI document is /api/programmes/openapi.json.

    GET /api/programmes                                    the programmes (newest version each)
    GET /api/programmes/<code>                             one programme as data (?version=N)
    GET /api/programmes/enrolments?employee_id=…           an employee's enrolments, with their pace
    GET /api/programmes/enrolments/<id>                    progress per objective, sign-offs, pace
    GET /api/programmes/enrolments/<id>/statements         the programme's records as xAPI statements to import

Errors have one shape: {"error": {"code": 404, "message": "…"}}."""
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import force_locale
from marshmallow import Schema, fields

from lrs import accesslog
from lrs.csrf import credential_api
from lrs.principal import Principal
from lrs.programmes import readers, service
from lrs.programmes.definition import ProgrammeError
from lrs.store.db import transaction
from lrs.store.types import utcnow
from lrs.xapi import auth
from lrs.xapi.errors import XAPIError, error_response, json_response

bp = credential_api(Blueprint("programmes_api", __name__, url_prefix="/api/programmes"))
SCOPE = "programmes/read"


@bp.errorhandler(XAPIError)
def _error(e):
    return error_response(e.status, e.message, e.headers)


@bp.errorhandler(service.Refused)
def _refused(e):
    with force_locale("en"):  # in English, as the API's other errors (the pages say it in the reader's language)
        return error_response(e.status, str(e))


@bp.errorhandler(ProgrammeError)
def _bad_programme(e):
    return error_response(400, str(e))


@bp.before_request
def _who_is_asking():
    if request.endpoint != "programmes_api.openapi":
        auth.authenticate(SCOPE)


def _system() -> Principal:
    """A credential reads every enrolment, as an admin would (it is given to systems, not people)."""
    return Principal(f"credential:{g.credential.key}", None, frozenset({"admin"}))


def _settings():
    return current_app.extensions["competence.settings"]


class ProgrammeSchema(Schema):
    code = fields.String()
    version = fields.Integer()
    title_nb = fields.String()
    title_en = fields.String()
    duration_months = fields.Integer()
    objectives = fields.Integer()
    supervisor_competence = fields.String(allow_none=True)


class PaceSchema(Schema):
    total = fields.Integer()
    approved = fields.Integer()
    expected = fields.Integer(metadata={"description": "objectives that should be approved by today"})
    behind = fields.Boolean()
    overdue = fields.List(fields.String())
    share_of_time = fields.Float()


class EnrolmentSchema(Schema):
    id = fields.String()
    employee_id = fields.String()
    programme_code = fields.String()
    programme_version = fields.Integer()
    unit_id = fields.String()
    supervisor_id = fields.String(allow_none=True)
    leader_id = fields.String(allow_none=True)
    started_on = fields.Date()
    planned_end = fields.Date()
    state = fields.String()
    pace = fields.Nested(PaceSchema)


class ObjectiveSchema(Schema):
    id = fields.String()
    name_nb = fields.String()
    name_en = fields.String()
    assessment = fields.String(metadata={"enum": ["supervisor", "committee", "automatic"]})
    due_on = fields.Date(allow_none=True)
    evidence_complete = fields.Boolean()
    state = fields.String(metadata={"enum": ["not_started", "in_progress", "ready", "assessed", "approved"]})
    signoffs = fields.Dict()
    activities = fields.List(fields.Dict())


class TopicSchema(Schema):
    code = fields.String()
    name_nb = fields.String()
    name_en = fields.String()
    objectives = fields.List(fields.Nested(ObjectiveSchema))


class ProgressSchema(Schema):
    enrolment = fields.Nested(EnrolmentSchema)
    programme = fields.Dict()
    topics = fields.List(fields.Nested(TopicSchema))
    pace = fields.Nested(PaceSchema)


@bp.get("")
def list_programmes():
    """The programmes, newest version of each."""
    with transaction() as conn:
        return json_response({"programmes": service.list_programmes(conn)})


@bp.get("/<code>")
def one_programme(code):
    """One programme as data: topics, objectives, activities, assessment."""
    version = request.args.get("version")
    if version is not None and not version.isdigit():
        raise XAPIError(400, "version is a whole number")
    with transaction() as conn:
        found = service.programme(conn, code, int(version) if version else None)
    if found is None:
        raise XAPIError(404, f"no programme {code}" + (f" version {version}" if version else ""))
    return json_response(found)


@bp.get("/enrolments")
def enrolments():
    """An employee's enrolments (?employee_id=…), each with its pace."""
    employee_id = request.args.get("employee_id", "")
    if not employee_id:
        raise XAPIError(400, "give the employee: ?employee_id=…")
    today = _settings().day(utcnow())
    with transaction() as conn:
        out = []
        for row in service.enrolments_of(conn, employee_id):
            p = service.progress(conn, _settings(), row, today)
            out.append({**EnrolmentSchema().dump(p["enrolment"]), "pace": p["pace"]})
    accesslog.note("programme-api", employee_id)
    return json_response({"enrolments": out})


@bp.get("/enrolments/<enrolment_id>")
def enrolment(enrolment_id):
    """One participant's progress per objective, the sign-offs and the pace."""
    with transaction() as conn:
        p = readers.participant(conn, _settings(), _system(), enrolment_id, _settings().day(utcnow()))
    accesslog.note("programme-api", p["enrolment"]["employee_id"])
    return json_response(ProgressSchema().dump(p))


@bp.get("/enrolments/<enrolment_id>/statements")
def statements(enrolment_id):
    """The programme's learning records of this participant as xAPI statements (confirmed entries, sign-offs and
    their voidings), for another LRS to import."""
    with transaction() as conn:
        row = service.enrolment(conn, enrolment_id)
        found = readers.export_statements(conn, _system(), enrolment_id)
    accesslog.note("programme-export", row.employee_id)
    return json_response(found)


_DOCUMENTED = [
    ("", list_programmes, None), ("/{code}", one_programme, None), ("/enrolments", enrolments, None),
    ("/enrolments/{enrolment_id}", enrolment, ProgressSchema), ("/enrolments/{enrolment_id}/statements",
                                                                  statements, None),
]


def openapi_spec() -> dict:
    spec = APISpec(title="kompetanse-lrs programmes API", version="1", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()])
    spec.components.security_scheme("basic", {"type": "http", "scheme": "basic",
                                              "description": f"a credential with the scope {SCOPE} (or all)"})
    spec.components.schema("Programme", schema=ProgrammeSchema)
    spec.components.schema("Enrolment", schema=EnrolmentSchema)
    error = {"description": "error: {\"error\": {\"code\", \"message\"}}"}
    for path, view, schema in _DOCUMENTED:
        operation = {"summary": (view.__doc__ or "").strip(), "security": [{"basic": []}],
                     "x-scopes": [SCOPE],
                     "responses": {"200": {"description": "OK"}, "400": error, "401": error, "403": error,
                                   "404": error}}
        if schema:
            operation["responses"]["200"]["content"] = {"application/json": {"schema": schema}}
        params = [{"in": "path", "name": p.strip("{}"), "required": True, "schema": {"type": "string"}}
                  for p in path.split("/") if p.startswith("{")]
        if path == "/enrolments":
            params.append({"in": "query", "name": "employee_id", "required": True, "schema": {"type": "string"}})
        if params:
            operation["parameters"] = params
        spec.path(path=bp.url_prefix + path, operations={"get": operation})
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_spec())
