"""The Statements resource: PUT, POST and GET of /xapi/statements."""
import logging
import re
import uuid
from datetime import datetime, timezone

import orjson
from flask import Response, current_app, g, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from lrs import registry
from lrs.model.formats import canonical, ids_only
from lrs.model.validation import StatementError, validate_statement
from lrs.store import db
from lrs.store import statements as store
from lrs.xapi import attachments as att
from lrs.xapi import bp, consistent_through
from lrs.xapi.auth import require
from lrs.xapi.errors import XAPIError, bad_request, parse_json
from lrs.xapi.params import AgentParam

_JSON = "application/json"
log = logging.getLogger(__name__)
_ID_PARAMS = {"statementId", "voidedStatementId"}


# ------------------------------------------------------------------------------------------------ writing

@bp.put("/statements")
@require("statements/write")
def put_statement():
    statement_id = request.args.get("statementId")
    extra = set(request.args) - {"statementId"}
    if extra:
        raise bad_request(f"PUT statements takes only statementId, not {', '.join(sorted(extra))}")
    if not statement_id:
        raise bad_request("PUT statements needs the statementId parameter (use POST to let the LRS choose ids)")
    if not _is_uuid(statement_id):
        raise bad_request(f"statementId {statement_id!r} is not a UUID")
    body, parts = _read_body()
    if not isinstance(body, dict):
        raise bad_request("PUT statements takes one statement (a JSON object), not a list")
    if "id" in body and isinstance(body["id"], str) and body["id"].lower() != statement_id.lower():
        raise bad_request(f"statement.id {body['id']} differs from the statementId parameter {statement_id}")
    body.setdefault("id", statement_id)
    _store([body], parts, single=True)
    return Response(status=204, headers={"X-Experience-API-Consistent-Through": consistent_through()})


@bp.post("/statements")
@require("statements/write")
def post_statements():
    if request.args:
        raise bad_request(f"POST statements takes no parameters, not {', '.join(sorted(request.args))}")
    body, parts = _read_body()
    single = isinstance(body, dict)
    batch = [body] if single else body
    if not isinstance(batch, list) or not batch:
        raise bad_request("POST statements takes a statement (JSON object) or a non-empty array of statements")
    ids = _store(batch, parts, single)
    return Response(orjson.dumps(ids), mimetype=_JSON,
                    headers={"X-Experience-API-Consistent-Through": consistent_through()})


def _read_body():
    """The statement JSON and attachment parts of a request."""
    ctype = request.mimetype
    data = request.get_data(cache=False)
    parts = []
    if ctype == "multipart/mixed":
        try:
            data, parts = att.parse_multipart(data, request.headers.get("Content-Type", ""))
        except att.AttachmentError as e:
            raise bad_request(str(e))
    elif ctype != _JSON:
        raise bad_request(f"Content-Type must be application/json or multipart/mixed, not {ctype or 'missing'}")
    return parse_json(data, "part 1 (the statements)" if ctype == "multipart/mixed" else "the body"), parts


def _store(batch: list, parts: list, single: bool) -> list[str]:
    limit = current_app.config["MAX_BATCH"]
    if len(batch) > limit:
        raise XAPIError(413, f"{len(batch)} statements in one request; this LRS takes at most {limit} (LRS_MAX_BATCH)")
    version, cred = g.xapi_version, g.credential
    seen = set()
    prepared = []
    for i, stmt in enumerate(batch):
        path = "statement" if single else f"statement[{i}]"
        try:
            validate_statement(stmt, version, path)
        except StatementError as e:
            raise bad_request(str(e))
        _context_activities_as_lists(stmt)
        given = "id" in stmt
        sid = stmt["id"].lower() if given else str(uuid.uuid4())
        if sid in seen:
            raise bad_request(f"{path}.id {sid} appears more than once in this batch")
        seen.add(sid)
        prepared.append(store.Prepared(stmt=stmt, id=sid, credential_id=cred.id, hash=store.content_hash(stmt),
                                       given_id=given))
    try:
        matched = att.check_attachments(batch, parts)
    except att.AttachmentError as e:
        raise bad_request(str(e))
    for p in prepared:
        stmt = p.stmt
        stmt["id"] = p.id
        stmt["authority"] = cred.authority
        stmt.setdefault("version", "1.0.0" if version.startswith("1.") else "2.0.0")
        p.attachment_sha2s = [sha2 for sha2 in att.sha2s_of(stmt) if sha2 in matched]
    # Other packages (lrs.cmi5) plug in through the app's registry: each check may refuse the validated batch
    # (XAPIError 400/403) before it is stored; the statements_stored receivers follow up after the commit.
    app = current_app._get_current_object()
    for check in registry.of(app).batch_checks:
        check(batch, cred)
    try:
        store.save(db.engine(), prepared, matched, voiding=current_app.config["VOIDING"])
    except store.Conflict as e:
        raise XAPIError(409, str(e))
    except store.Forbidden as e:
        raise XAPIError(403, str(e))
    except store.Rejected as e:
        raise bad_request(str(e))
    for receiver in registry.statements_stored.receivers_for(app):
        try:
            receiver(app, batch=batch, credential=cred)
        except Exception:  # the batch is stored and the client must hear so; the follow-up is logged, not fatal
            log.exception("statements-stored receiver %s failed", getattr(receiver, "__name__", receiver))
    return [p.id for p in prepared]


def _context_activities_as_lists(stmt: dict) -> None:
    """A single context activity may be sent as an object; it is stored (and returned) as an array of one."""
    for s in (stmt, stmt["object"] if stmt["object"].get("objectType") == "SubStatement" else {}):
        groups = s.get("context", {}).get("contextActivities", {})
        for key, value in groups.items():
            if isinstance(value, dict):
                groups[key] = [value]


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def _is_uuid(value) -> bool:
    return isinstance(value, str) and bool(_UUID.match(value))


# ------------------------------------------------------------------------------------------------ reading

class _Timestamp(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        try:
            t = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("must be an ISO 8601 timestamp, e.g. 2026-11-24T12:00:00Z")
        if t.tzinfo is None:
            t = t.replace(tzinfo=timezone.utc)
        return int(t.timestamp() * 1_000_000)


class _Iri(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:\S+\Z", value):
            raise ValidationError("must be an IRI")
        return value


def _uuid_param(value):
    if not _is_uuid(value):
        raise ValidationError("must be a UUID")


class QuerySchema(Schema):
    class Meta:
        unknown = RAISE

    statementId = fields.String(validate=_uuid_param)
    voidedStatementId = fields.String(validate=_uuid_param)
    agent = AgentParam(True, "an anonymous Group cannot be queried for; give an inverse functional identifier")
    verb = _Iri()
    activity = _Iri()
    registration = fields.String(validate=_uuid_param)
    related_activities = fields.Boolean(load_default=False)
    related_agents = fields.Boolean(load_default=False)
    since = _Timestamp()
    until = _Timestamp()
    limit = fields.Integer(validate=validate.Range(min=0), load_default=0)
    format = fields.String(validate=validate.OneOf(["ids", "exact", "canonical"]), load_default="exact")
    attachments = fields.Boolean(load_default=False)
    ascending = fields.Boolean(load_default=False)


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="statements-more")


@bp.get("/statements")
@require("statements/read", "statements/read/mine", "all/read")
def get_statements():
    args, after = request.args.to_dict(), None
    if "more" in args:
        if len(args) > 1:
            raise bad_request("a more link carries its own query; send it without other parameters")
        try:
            args = _serializer().loads(args["more"])
        except BadSignature:
            raise bad_request("the more link is not one this LRS made (or it was changed)")
        after = args.pop("_after")
    explicit = set(args)
    if len(_ID_PARAMS & explicit) > 1:
        raise bad_request("give statementId or voidedStatementId, not both")
    try:
        params = QuerySchema().load(args)
    except ValidationError as e:
        raise bad_request("; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                                    for k, v in e.messages.items()))
    if _ID_PARAMS & explicit and explicit - _ID_PARAMS - {"format", "attachments"}:
        raise bad_request("statementId and voidedStatementId can only be combined with format and attachments")
    mine = None if g.credential.allows("statements/read", "all/read") else g.credential.id
    headers = {"X-Experience-API-Consistent-Through": consistent_through()}

    for name in _ID_PARAMS & params.keys():
        row = store.get(db.engine(), params[name], voided=(name == "voidedStatementId"), credential_id=mine)
        if row is None:
            raise XAPIError(404, f"no {'voided ' if name == 'voidedStatementId' else ''}statement with id {params[name]}"
                            + ("" if name == "voidedStatementId" else " (a voided statement is fetched by voidedStatementId)"))
        headers["Last-Modified"] = _http_date(row.stored_us)
        body = _shape(row.body, params["format"])
        return _respond(body, [orjson.loads(row.body)] if params["attachments"] else None, headers)

    page_max = current_app.config["MAX_PAGE"]
    limit = params["limit"] or current_app.config["DEFAULT_PAGE"]
    q = store.Query(agent=params.get("agent"), verb=params.get("verb"), activity=params.get("activity"),
                    registration=(params.get("registration") or "").lower() or None,
                    related_activities=params["related_activities"], related_agents=params["related_agents"],
                    since_us=params.get("since"), until_us=params.get("until"), ascending=params["ascending"],
                    limit=min(limit, page_max), after_seq=after, credential_id=mine)
    bodies, cursor = store.find(db.engine(), q)
    more = ""
    if cursor is not None:
        more = url_for("xapi.get_statements", more=_serializer().dumps({**args, "_after": cursor}))
    if params["format"] == "exact":
        listed = b"[" + ",".join(bodies).encode() + b"]"
    else:
        listed = orjson.dumps([_shape_obj(orjson.loads(b), params["format"]) for b in bodies])
    body = b'{"statements":' + listed + b',"more":' + orjson.dumps(more) + b"}"
    stmts = [orjson.loads(b) for b in bodies] if params["attachments"] else None
    return _respond(body, stmts, headers)


def _shape_obj(stmt: dict, fmt: str) -> dict:
    if fmt == "ids":
        return ids_only(stmt)
    if fmt == "canonical":
        return canonical(stmt, request.accept_languages)
    return stmt


def _shape(body: str, fmt: str) -> bytes:
    return body.encode() if fmt == "exact" else orjson.dumps(_shape_obj(orjson.loads(body), fmt))


def _respond(body: bytes, stmts_for_attachments, headers) -> Response:
    if stmts_for_attachments is None:
        return Response(body, mimetype=_JSON, headers=headers)
    sha2s = {sha2 for s in stmts_for_attachments for sha2 in att.sha2s_of(s)}
    parts = [att.Part(sha2=r.sha2, content_type=r.content_type, content=r.content)
             for r in store.attachment_parts(db.engine(), sha2s)]
    payload, ctype = att.build_multipart(body, parts)
    return Response(payload, content_type=ctype, headers=headers)


def _http_date(stored_us: int) -> str:
    from email.utils import formatdate
    return formatdate(stored_us / 1_000_000, usegmt=True)
