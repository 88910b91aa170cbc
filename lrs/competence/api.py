"""The competence JSON API, /api/competence/…: plans, unit matrices, expiry counts, forecasts, manual evidence.

Who may read what: an employee their own plan; a leader the subtrees of the units they lead; an admin all.
Errors have one shape: {"error": {"code": 403, "message": "…"}}. The OpenAPI document is /api/competence/openapi.json,
built from the marshmallow schemas below."""
import io
from datetime import date

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app, jsonify, request, send_file
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.exceptions import HTTPException

from lrs import accesslog, principal
from lrs.competence import directory_api, evidence, service
from lrs.competence.changes import STATUSES
from lrs.csrf import cookie_api
from lrs.store.db import transaction
from lrs.xapi.errors import error_response

bp = cookie_api(Blueprint("competence_api", __name__, url_prefix="/api/competence"))


class ApiError(Exception):
    """A refusal in words, answered {"error": {"code", "message"}} (the capacity API raises it too)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@bp.errorhandler(ApiError)
def _api_error(e):
    return error_response(e.status, e.message)


@bp.errorhandler(evidence.EvidenceError)
def _evidence_error(e):
    return error_response(e.status, str(e))


@bp.errorhandler(ValidationError)
def _invalid(e):
    return error_response(400, f"invalid request: {e.normalized_messages()}")


@bp.errorhandler(HTTPException)
def _http(e):
    messages = {401: "sign in first", 403: "you may not see this"}
    return error_response(e.code, messages.get(e.code, e.description))


# ------------------------------------------------------------------------------------------------ schemas

class ErrorSchema(Schema):
    error = fields.Dict(metadata={"example": {"code": 403, "message": "you may not see this"}})


class CompetenceSchema(Schema):
    code = fields.String()
    name_nb = fields.String()
    name_en = fields.String()
    area = fields.String()
    validity_months = fields.Integer(allow_none=True)
    start_url = fields.String(allow_none=True)


class EvidenceNoteSchema(Schema):
    statement_id = fields.String()
    reason = fields.String(metadata={"description": "future_timestamp: the statement's timestamp was later than "
                                                    "when it was stored (beyond the clock skew allowed); its "
                                                    "validity counts from when it was stored"})


class PlanItemSchema(Schema):
    competence = fields.Nested(CompetenceSchema)
    mandatory = fields.Boolean()
    due_on = fields.Date(allow_none=True)
    status = fields.String(validate=validate.OneOf(STATUSES))
    fulfilled_on = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    evidence = fields.List(fields.String(), metadata={"description": "ids of the statements that prove it"})
    evidence_notes = fields.List(fields.Nested(EvidenceNoteSchema),
                                 metadata={"description": "evidence that does not count from its timestamp, and why"})


class HistorySchema(Schema):
    competence = fields.String()
    status = fields.String()
    previous_status = fields.String(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    changed = fields.DateTime()


class ManualEvidenceSchema(Schema):
    id = fields.String()
    competence = fields.String()
    title = fields.String()
    completed_on = fields.Date()
    state = fields.String()
    reason = fields.String(allow_none=True)  # why a leader rejected it


class EmployeeSchema(Schema):
    id = fields.String()
    name = fields.String()
    unit_id = fields.String()
    roles = fields.List(fields.String())
    started_on = fields.Date()
    left_on = fields.Date(allow_none=True)


class DirectoryQuerySchema(Schema):
    id = fields.List(fields.String(), required=True,
                     metadata={"description": "an employee id; repeat it for more (at most 500)"})


class DirectoryEntrySchema(Schema):
    id = fields.String()
    known = fields.Boolean(metadata={"description": "an employee of the trust"})
    agent = fields.Dict(metadata={"description": "the xAPI Agent that is them"})


class DirectorySchema(Schema):
    employees = fields.List(fields.Nested(DirectoryEntrySchema))


class PlanSchema(Schema):
    employee = fields.Nested(EmployeeSchema)
    items = fields.List(fields.Nested(PlanItemSchema))
    history = fields.List(fields.Nested(HistorySchema))
    manual_evidence = fields.List(fields.Nested(ManualEvidenceSchema))


class CellSchema(Schema):
    status = fields.String()
    mandatory = fields.Boolean()
    valid_until = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)


class MatrixRowSchema(Schema):
    employee_id = fields.String()
    name = fields.String()
    unit_id = fields.String()
    cells = fields.Dict(keys=fields.String(), values=fields.Nested(CellSchema))


class MatrixSchema(Schema):
    unit_id = fields.String()
    as_of = fields.Date(allow_none=True)
    competences = fields.List(fields.Nested(CompetenceSchema))
    employees = fields.List(fields.Nested(MatrixRowSchema))
    compliant = fields.Boolean(metadata={"description": "no mandatory requirement is expired, missing or awaiting "
                                                        "attestation"})


class AsOfQuerySchema(Schema):
    as_of = fields.Date(load_default=None, metadata={
        "description": "YYYY-MM-DD, today or earlier: as it stood at the end of that day, from the status history"})


class MatrixQuerySchema(AsOfQuerySchema):
    role = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class ExpiringSchema(Schema):
    unit_id = fields.String()
    today = fields.Date()
    within_days = fields.Dict(keys=fields.String(), values=fields.Integer())
    expired = fields.Integer()


class ForecastMonthSchema(Schema):
    month = fields.String()
    covered = fields.Integer()
    required = fields.Integer()
    coverage = fields.Float()
    dropping_out = fields.List(fields.String())


class ForecastEntrySchema(Schema):
    competence = fields.Nested(CompetenceSchema)
    months = fields.List(fields.Nested(ForecastMonthSchema))


class ForecastSchema(Schema):
    unit_id = fields.String()
    today = fields.Date()
    forecast = fields.List(fields.Nested(ForecastEntrySchema))


class RegisterEvidenceSchema(Schema):
    competence = fields.String(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    completed_on = fields.Date(required=True)


class DecisionSchema(Schema):
    attest = fields.Boolean(required=True)
    reason = fields.String(load_default=None, validate=validate.Length(max=1000))  # required to reject


class DecisionResultSchema(Schema):
    id = fields.String()
    state = fields.String()
    statement_id = fields.String(allow_none=True)


class QueueEntrySchema(Schema):
    id = fields.String()
    employee_id = fields.String()
    name = fields.String()
    competence_code = fields.String()
    title = fields.String()
    completed_on = fields.Date()
    certificate_name = fields.String(allow_none=True)


# ------------------------------------------------------------------------------------------------ helpers


def _settings():
    return current_app.extensions["competence.settings"]


def today() -> date:
    """The engine's today (its time zone); the capacity API's too."""
    from lrs.store.types import utcnow
    return _settings().day(utcnow())


def _out(schema: Schema, data) -> Response:
    return jsonify(schema.dump(data))


def _as_of() -> service.AsOf | None:
    """?as_of=YYYY-MM-DD: a past day (or today) to read the plans as they stood at its end."""
    day = AsOfQuerySchema().load({"as_of": request.args["as_of"]} if "as_of" in request.args else {})["as_of"]
    if day is None:
        return None
    if day > today():
        raise ApiError(400, f"as_of {day.isoformat()} is in the future; plans are known up to today")
    return service.AsOf(day, _settings().zone)


def _employee_visible(conn, employee_id: str):
    who = principal.require()
    if not service.can_see_employee(conn, who, employee_id):
        raise ApiError(403, f"you may not see the plan of employee {employee_id}")
    return who


def _unit_visible(conn, unit_id: str):
    who = principal.require()
    if not service.can_see_unit(conn, who, unit_id):
        raise ApiError(403, f"you may not see unit {unit_id}")


# ------------------------------------------------------------------------------------------------ views

@bp.get("/me/plan")
def my_plan():
    """The signed-in employee's own plan."""
    who = principal.require()
    if not who.employee_id:
        raise ApiError(404, "your sign-in is not linked to an employee")
    return employee_plan(who.employee_id)


@bp.get("/employees/<employee_id>/plan")
def employee_plan(employee_id):
    """An employee's plan: each requirement's status, evidence, history and registered evidence (?as_of=: at the
    end of that day)."""
    as_of = _as_of()
    with transaction() as conn:
        _employee_visible(conn, employee_id)
        data = service.plan(conn, employee_id, as_of)
    if data is None:
        raise ApiError(404, f"no employee {employee_id}")
    accesslog.note("plan-api", employee_id)
    return _out(PlanSchema(), data)


@bp.get("/units/<unit_id>/matrix")
def unit_matrix(unit_id):
    """Employees of the unit's subtree x the competences their plans require (?as_of=: at the end of that day)."""
    args = MatrixQuerySchema().load(request.args)
    as_of = _as_of()
    with transaction() as conn:
        _unit_visible(conn, unit_id)
        data = service.matrix(conn, unit_id, args["role"], args["status"], as_of)
    accesslog.note("matrix-api", unit_id=unit_id, filter=accesslog.query_text(args))
    return _out(MatrixSchema(), data)


@bp.get("/units/<unit_id>/expiring")
def unit_expiring(unit_id):
    """How many competences in the subtree run out within 30, 60 and 90 days (?as_of=: from the end of that day)."""
    as_of = _as_of()
    with transaction() as conn:
        _unit_visible(conn, unit_id)
        data = service.expiring(conn, unit_id, as_of.day if as_of else today(), as_of=as_of)
    return _out(ExpiringSchema(), data)


@bp.get("/units/<unit_id>/forecast")
def unit_forecast(unit_id):
    """Coverage per competence for the next 12 months, and who drops out when."""
    with transaction() as conn:
        _unit_visible(conn, unit_id)
        data = service.forecast(conn, unit_id, today())
    accesslog.note("forecast-api", unit_id=unit_id)
    return _out(ForecastSchema(), data)


@bp.post("/me/evidence")
def register_evidence():
    """Register learning done elsewhere (JSON, or form fields with an optional file `certificate` and the
    X-CSRFToken header); a leader attests it."""
    who = principal.require()
    if not who.employee_id:
        raise ApiError(404, "your sign-in is not linked to an employee")
    body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    args = RegisterEvidenceSchema().load(body or {})
    upload = request.files.get("certificate")
    cert = (upload.filename, upload.mimetype, upload.read()) if upload else None
    with transaction(write=True) as conn:
        evidence_id = evidence.register(conn, _settings(), who.employee_id, args["competence"], args["title"],
                                        args["completed_on"], cert)
    return jsonify({"id": evidence_id, "state": "pending"}), 201


@bp.get("/attestations")
def attestation_queue():
    """Registered evidence waiting for the signed-in leader's attestation."""
    who = principal.require("leader", "admin")
    with transaction() as conn:
        queue = evidence.attestation_queue(conn, who)
    return jsonify(QueueEntrySchema(many=True).dump(queue))


@bp.post("/evidence/<evidence_id>/decision")
def decide(evidence_id):
    """Attest ({"attest": true}) or reject registered evidence ({"attest": false, "reason": "why"})."""
    who = principal.require("leader", "admin")
    args = DecisionSchema().load(request.get_json(silent=True) or {})
    with transaction(write=True) as conn:
        decision = evidence.decide(conn, _settings(), evidence_id, who, args["attest"], args["reason"])
    return _out(DecisionResultSchema(), decision)


@bp.get("/evidence/<evidence_id>/certificate")
def certificate(evidence_id):
    with transaction() as conn:
        row = evidence.certificate(conn, evidence_id)
        if row is None or row.certificate is None:
            raise ApiError(404, "no certificate")
        _employee_visible(conn, row.employee_id)
    accesslog.note("certificate", row.employee_id)
    return certificate_download(row)


def certificate_download(row) -> Response:
    """A stored certificate as a download: the type its content has (older rows kept the declared one; what is
    none of the allowed types is sent as bytes), the name quoted as RFC 6266 says, and no sniffing."""
    response = send_file(io.BytesIO(row.certificate), as_attachment=True,
                         mimetype=evidence.certificate_type(row.certificate) or "application/octet-stream",
                         download_name=row.certificate_name or "certificate")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# ------------------------------------------------------------------------------------------------ OpenAPI

_DOCUMENTED = [
    ("/me/plan", "get", my_plan, AsOfQuerySchema, PlanSchema),
    ("/employees/{employee_id}/plan", "get", employee_plan, AsOfQuerySchema, PlanSchema),
    ("/units/{unit_id}/matrix", "get", unit_matrix, MatrixQuerySchema, MatrixSchema),
    ("/units/{unit_id}/expiring", "get", unit_expiring, AsOfQuerySchema, ExpiringSchema),
    ("/units/{unit_id}/forecast", "get", unit_forecast, None, ForecastSchema),
    ("/me/evidence", "post", register_evidence, RegisterEvidenceSchema, None),
    ("/attestations", "get", attestation_queue, None, QueueEntrySchema),
    ("/evidence/{evidence_id}/decision", "post", decide, DecisionSchema, DecisionResultSchema),
    ("/directory/employees", "get", directory_api.lookup_employees, DirectoryQuerySchema, DirectorySchema),
]


def openapi_spec() -> dict:
    spec = APISpec(title="kompetanse-lrs competence API", version="1", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()])
    spec.components.schema("Error", schema=ErrorSchema)
    error = {"description": "error", "content": {"application/json": {"schema": "Error"}}}
    for path, method, view, request_schema, response_schema in _DOCUMENTED:
        operation = {"summary": (view.__doc__ or "").strip(),
                     "responses": {"200": {"description": "OK"}, "401": error, "403": error, "404": error}}
        if response_schema:
            many = response_schema is QueueEntrySchema
            operation["responses"]["200"]["content"] = {"application/json": {"schema": response_schema(many=many)}}
        params = [{"in": "path", "name": p.strip("{}"), "required": True, "schema": {"type": "string"}}
                  for p in path.split("/") if p.startswith("{")]
        if request_schema and method == "get":
            params.append({"in": "query", "schema": request_schema})
            operation["responses"]["400"] = error
        elif request_schema:
            operation["requestBody"] = {"content": {"application/json": {"schema": request_schema}}}
            operation["responses"]["400"] = error
        if params:
            operation["parameters"] = params
        spec.path(path=bp.url_prefix + path, operations={method: operation})
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_spec())
