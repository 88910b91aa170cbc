"""The capacity and indicator JSON APIs, for the pages' people (session cookie) and for the region's reporting
(a credential with the scope capacity/read, HTTP Basic):

    GET /api/capacity/forecast?unit=ICU&months=36     targets in force with holders now and month by month
    GET /api/capacity/targets?unit=ICU                targets in force
    GET /api/capacity/targets/<id>/versions           every version of a target
    GET /api/indicators/trend?unit=&role=&competence=&months=
    GET /api/indicators/units?unit=&month=            the drill-down: each child unit's totals
    GET /api/indicators/export.csv?unit=              every snapshot row, for the region's reporting

No unit: the region (every unit), for those who see it all. The OpenAPI document is /api/capacity/openapi.json."""
import csv
import io

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, request
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.exceptions import HTTPException

from lrs import principal
from lrs.capacity import access, forecast, indicators, targets
from lrs.competence.api import ApiError, today
from lrs.csrf import cookie_api
from lrs.store.db import transaction
from lrs.xapi import auth
from lrs.xapi.errors import XAPIError, error_response, json_response

SCOPE = "capacity/read"
bp = cookie_api(Blueprint("capacity_api", __name__, url_prefix="/api/capacity"))
indicators_bp = cookie_api(Blueprint("indicators_api", __name__, url_prefix="/api/indicators"))


for _bp in (bp, indicators_bp):
    _bp.register_error_handler(ApiError, lambda e: error_response(e.status, e.message))
    _bp.register_error_handler(XAPIError, lambda e: error_response(e.status, e.message, e.headers))
    _bp.register_error_handler(ValidationError, lambda e: error_response(
        400, f"invalid request: {e.normalized_messages()}"))
    _bp.register_error_handler(HTTPException, lambda e: error_response(
        e.code, {401: "sign in first, or send a credential with the scope capacity/read",
                 403: "you may not see this"}.get(e.code, e.description)))


def who_asks():
    """The signed-in person (region, admin, trust_admin or leader), or None for a credential with capacity/read."""
    if request.authorization is not None:
        auth.authenticate(SCOPE)
        return None
    return principal.require(*access.READERS)


def scope_units(conn, org, who, unit_id: str | None):
    """The unit ids a request covers (None: the region), or 403/404."""
    if unit_id is not None and unit_id not in org.units:
        raise ApiError(404, f"no unit {unit_id}")
    if not access.sees(org, who, unit_id):
        raise ApiError(403, "you may not see the whole region; ask for one of your units (?unit=…)"
                       if unit_id is None else f"you may not see unit {unit_id}")
    return org.subtree(unit_id) if unit_id else None


# ------------------------------------------------------------------------------------------------ schemas

class ForecastQuery(Schema):
    unit = fields.String(load_default=None, metadata={"description": "a unit id; none: the region"})
    months = fields.Integer(load_default=36, validate=validate.Range(min=1, max=36))


class TrendQuery(Schema):
    unit = fields.String(load_default=None)
    role = fields.String(load_default="*", metadata={"description": "a job role code; *: every role"})
    competence = fields.String(load_default=None, metadata={"description": "one competence's coverage too"})
    months = fields.Integer(load_default=36, validate=validate.Range(min=1, max=120))


class UnitsQuery(Schema):
    unit = fields.String(load_default=None)
    month = fields.String(load_default=None, validate=validate.Regexp(r"^\d{4}-\d{2}$"))


class UnitQuery(Schema):
    unit = fields.String(load_default=None)


class MonthSchema(Schema):
    month = fields.String(metadata={"example": "2027-03"})
    end = fields.Date()
    holders = fields.Integer(metadata={"description": "expected holders at the month's end, if nobody renews"})
    short_by = fields.Integer()


class GapSchema(Schema):
    renew = fields.Integer(metadata={"description": "holders who must renew before their expiry"})
    renew_by = fields.Date(allow_none=True)
    train = fields.Integer(metadata={"description": "new holders to train even if everyone renews"})
    train_by = fields.Date(allow_none=True)


class TargetForecastSchema(Schema):
    target_id = fields.String()
    version = fields.Integer()
    unit = fields.Dict()
    competence = fields.Dict()
    role_code = fields.String(allow_none=True)
    per = fields.String()
    minimum = fields.Integer()
    groups = fields.Integer()
    required = fields.Integer(metadata={"description": "minimum x groups: the headcount the target needs"})
    now = fields.Integer()
    coming = fields.Integer()
    level = fields.String(validate=validate.OneOf(forecast.LEVELS))
    critical = fields.Boolean()
    short_from = fields.Date(allow_none=True)
    horizons = fields.Dict()
    gap = fields.Nested(GapSchema)
    series = fields.List(fields.Nested(MonthSchema))


class ForecastSchema(Schema):
    unit_id = fields.String(allow_none=True)
    today = fields.Date()
    months = fields.List(fields.String())
    summary = fields.Dict()
    targets = fields.List(fields.Nested(TargetForecastSchema))


class TargetSchema(Schema):
    target_id = fields.String()
    version = fields.Integer()
    unit_id = fields.String()
    competence_code = fields.String()
    role_code = fields.String(allow_none=True)
    per = fields.String()
    minimum = fields.Integer()
    groups = fields.Integer()
    required = fields.Integer()
    note = fields.String(allow_none=True)
    active = fields.Boolean()
    created = fields.DateTime()


class TotalsSchema(Schema):
    employees = fields.Integer()
    all_met = fields.Integer()
    all_met_share = fields.Float(allow_none=True)
    required = fields.Integer()
    holders = fields.Integer()
    coverage = fields.Float(allow_none=True)
    overdue = fields.Integer()
    expiring = fields.Integer()
    targets = fields.Integer()
    targets_met = fields.Integer()
    target_coverage = fields.Float(allow_none=True)


class TrendMonthSchema(Schema):
    month = fields.String()
    total = fields.Nested(TotalsSchema)
    competences = fields.Dict(values=fields.Nested(TotalsSchema))


class ChildSchema(TotalsSchema):
    unit = fields.Dict()
    month = fields.String()


def _out(schema, data, many=False):
    return json_response(schema(many=many).dump(data))


# ------------------------------------------------------------------------------------------------ views

@bp.get("/forecast")
def capacity_forecast():
    """Each staffing target in force in the unit's subtree (or the region): holders now and at each month's end for
    the next months, its level (short, critical, warning, watch, ok) and what closes the gap."""
    who = who_asks()
    args = ForecastQuery().load(request.args)
    with transaction() as conn:
        org = forecast.Org(conn)
        scope_units(conn, org, who, args["unit"])
        data = forecast.forecast(conn, args["unit"], today(), args["months"], org=org)
    return _out(ForecastSchema, data)


@bp.get("/targets")
def list_targets():
    """The staffing targets in force in the unit's subtree (or the region)."""
    who = who_asks()
    args = UnitQuery().load(request.args)
    with transaction() as conn:
        org = forecast.Org(conn)
        units = scope_units(conn, org, who, args["unit"])
        data = targets.in_force(conn, units)
    return _out(TargetSchema, data, many=True)


@bp.get("/targets/<target_id>/versions")
def target_versions(target_id):
    """Every version of a target, newest first."""
    who = who_asks()
    with transaction() as conn:
        org = forecast.Org(conn)
        versions = targets.history(conn, target_id)
        if not versions:
            raise ApiError(404, f"no target {target_id}")
        scope_units(conn, org, who, versions[0]["unit_id"])
    return _out(TargetSchema, [{**v, "required": v["minimum"] * v["groups"]} for v in versions], many=True)


@indicators_bp.get("/trend")
def indicator_trend():
    """Per month taken: employees, the share with every mandatory requirement met, coverage, overdue, expiring and
    staffing targets met, summed over the unit's subtree (or the region)."""
    who = who_asks()
    args = TrendQuery().load(request.args)
    with transaction() as conn:
        org = forecast.Org(conn)
        scope_units(conn, org, who, args["unit"])
        data = indicators.trend(conn, [args["unit"]] if args["unit"] else None, args["role"], args["competence"],
                                args["months"])
    return _out(TrendMonthSchema, data, many=True)


@indicators_bp.get("/units")
def indicator_units():
    """The drill-down: for each child of the unit (or each trust), its month's totals (default: the newest)."""
    who = who_asks()
    args = UnitsQuery().load(request.args)
    with transaction() as conn:
        org = forecast.Org(conn)
        scope_units(conn, org, who, args["unit"])
        data = indicators.children(conn, org, args["unit"], month=args["month"])
    return _out(ChildSchema, data, many=True)


EXPORT_COLUMNS = ("month", "unit_id", "role_code", "competence_code", *indicators.COUNTS)


@indicators_bp.get("/export.csv")
def indicator_export():
    """Every snapshot row of the unit's subtree (or the region), for the region's reporting (CSV)."""
    who = who_asks()
    args = UnitQuery().load(request.args)
    with transaction() as conn:
        org = forecast.Org(conn)
        units = scope_units(conn, org, who, args["unit"])
        rows = indicators.rows_for_export(conn, units)
    out = io.StringIO()
    writer = csv.DictWriter(out, EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="indicators.csv"'})


# ------------------------------------------------------------------------------------------------ OpenAPI

class ErrorSchema(Schema):
    error = fields.Dict(metadata={"example": {"code": 403, "message": "you may not see this"}})


_DOCUMENTED = [
    (bp, "/forecast", capacity_forecast, ForecastQuery, ForecastSchema, False),
    (bp, "/targets", list_targets, UnitQuery, TargetSchema, True),
    (bp, "/targets/{target_id}/versions", target_versions, None, TargetSchema, True),
    (indicators_bp, "/trend", indicator_trend, TrendQuery, TrendMonthSchema, True),
    (indicators_bp, "/units", indicator_units, UnitsQuery, ChildSchema, True),
    (indicators_bp, "/export.csv", indicator_export, UnitQuery, None, False),
]


def openapi_spec() -> dict:
    spec = APISpec(title="kompetanse-lrs capacity and indicators API", version="1", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()])
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.security_scheme("basic", {"type": "http", "scheme": "basic",
                                              "description": "a credential with the scope capacity/read"})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "session"})
    error = {"description": "error", "content": {"application/json": {"schema": "Error"}}}
    for blueprint, path, view, query, response, many in _DOCUMENTED:
        operation = {"summary": (view.__doc__ or "").strip(), "security": [{"basic": []}, {"session": []}],
                     "responses": {"200": {"description": "OK"}, "400": error, "401": error, "403": error,
                                   "404": error}}
        if response:
            operation["responses"]["200"]["content"] = {"application/json": {"schema": response(many=many)}}
        else:
            operation["responses"]["200"]["content"] = {"text/csv": {"schema": {"type": "string"}}}
        params = [{"in": "path", "name": p.strip("{}"), "required": True, "schema": {"type": "string"}}
                  for p in path.split("/") if p.startswith("{")]
        if query:
            params.append({"in": "query", "schema": query})
        if params:
            operation["parameters"] = params
        spec.path(path=blueprint.url_prefix + path, operations={"get": operation})
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi():
    return json_response(openapi_spec())
