"""The document resources: State (/activities/state), Activity Profile (/activities/profile) and Agent Profile
(/agents/profile). Documents of any content type are kept byte for byte; JSON objects can be merged with POST.

Concurrency (xAPI 1.0.3 Communication 3.1; xAPI 2.0 / IEEE 9274.1.1 section 4.1.4), answered by the version the
request declares:
- If-Match and If-None-Match are honoured on PUT, POST and DELETE (and on GET: 412 / 304) with 412 when they fail.
- A PUT without either header onto an existing document is 409 for the two profile resources in both versions,
  and for State only under 2.0: 1.0.3 lets State be written without concurrency headers ("since state conflicts
  are unlikely"); 2.0 dropped that exception and lists State among the resources the rule covers.
- Under 1.0.3 a profile PUT without either header is refused (400) when there is no document yet, too: 1.0.3
  3.1.s3.b1 says the Client MUST send one of them; 2.0 (9274.1.1 4.1.4) has no such rule for an LRS.

Scopes: State needs `state`; both profile resources need `profile` (xAPI's `define` is about activity and agent
definitions, not documents). `all` does everything, `all/read` reads. The documents are shared by every
credential that holds the scope (an LMS writes the launch data a course then reads with its own credential);
each document records the credential that wrote it last.
"""
import uuid
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timezone
from email.utils import formatdate

import orjson
from flask import Response, current_app, g, request
from marshmallow import RAISE, Schema, ValidationError, fields
from werkzeug.http import parse_etags

from lrs.model.validation import (StatementError, validate_activity_id, validate_timestamp,
                                  validate_uuid)
from lrs.store import db
from lrs.store import documents as store
from lrs.xapi import bp
from lrs.xapi.auth import require
from lrs.xapi.errors import XAPIError, bad_request, check_depth, too_deep
from lrs.xapi.params import AgentParam, field_check

_OCTET = "application/octet-stream"


@dataclass(frozen=True)
class _Resource:
    kind: str
    path: str
    id_param: str  # stateId or profileId
    scope: str
    activity: bool  # identified by activityId
    agent: bool  # identified by agent
    registration: bool  # takes registration
    groups: bool  # an identified Group may stand for the agent
    # PUT without concurrency headers onto an existing document: 409 under these versions
    headers_required: frozenset
    # ... and onto no document: 400 under these versions
    headers_required_when_missing: frozenset = frozenset()

    @property
    def name(self) -> str:
        return {"state": "state", "activity_profile": "activity profile", "agent_profile": "agent profile"}[self.kind]


STATE = _Resource(store.STATE, "/activities/state", "stateId", "state", activity=True, agent=True,
                  registration=True, groups=True, headers_required=frozenset({"2.0.0"}))
ACTIVITY_PROFILE = _Resource(store.ACTIVITY_PROFILE, "/activities/profile", "profileId", "profile", activity=True,
                             agent=False, registration=False, groups=False,
                             headers_required=frozenset({"1.0.3", "2.0.0"}),
                             headers_required_when_missing=frozenset({"1.0.3"}))
# xAPI 1.0.3 2.6: "The agent parameter is an Agent Object and not a Group" (a Group's identifier goes in an Agent).
AGENT_PROFILE = _Resource(store.AGENT_PROFILE, "/agents/profile", "profileId", "profile", activity=False,
                          agent=True, registration=False, groups=False,
                          headers_required=frozenset({"1.0.3", "2.0.0"}),
                          headers_required_when_missing=frozenset({"1.0.3"}))


# ------------------------------------------------------------------------------------------------ parameters

class _ActivityId(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        field_check(validate_activity_id, value, attr)
        return value


class _Registration(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        field_check(validate_uuid, value, attr)
        return str(uuid.UUID(value))


class _DocId(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not value:
            raise ValidationError("must not be empty")
        return value


class _Timestamp(fields.Field):
    """An ISO 8601 timestamp, checked as the version's statements check theirs; as microseconds since the epoch."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            validate_timestamp(value, attr, g.xapi_version)
            t = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except (StatementError, ValueError) as e:
            raise ValidationError(str(e) if isinstance(e, StatementError)
                                  else "must be an ISO 8601 timestamp, e.g. 2026-11-24T12:00:00Z")
        if t.tzinfo is None:
            t = t.replace(tzinfo=timezone.utc)
        delta = t - datetime(1970, 1, 1, tzinfo=timezone.utc)
        return delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds


_REQUIRED = {"required": "is required"}


@lru_cache(maxsize=None)
def _schema(res: _Resource, method: str, single: bool) -> type[Schema]:
    """The parameters `method` takes on `res` (single: the request names one document)."""
    spec = {}
    if res.activity:
        spec["activityId"] = _ActivityId(required=True, error_messages=_REQUIRED)
    if res.agent:
        spec["agent"] = AgentParam(res.groups, "an anonymous Group has no identifier to keep documents under; "
                                   "give an Agent", required=True, error_messages=_REQUIRED)
    if res.registration:
        spec["registration"] = _Registration()
    if single:
        spec[res.id_param] = _DocId(required=True, error_messages=_REQUIRED)
    elif method == "GET":
        spec["since"] = _Timestamp()
    return Schema.from_dict(spec, name=f"{res.kind}_{method}_{'one' if single else 'many'}")


def _params(res: _Resource, method: str) -> dict:
    args = request.args
    single = res.id_param in args or method in ("PUT", "POST") or (method == "DELETE" and res.kind != store.STATE)
    if method == "GET" and res.id_param in args and "since" in args:
        raise bad_request(f"since cannot be combined with {res.id_param}: a GET with {res.id_param} fetches that one "
                          f"document, a GET without it lists the ids (updated after since)")
    schema = _schema(res, method, single)(unknown=RAISE)
    allowed = set(schema.fields)
    unknown = sorted(set(args) - allowed)
    if unknown:
        hint = ""
        known = {"activityId", "agent", "registration", res.id_param, "since"}
        lower = {a.lower(): a for a in known}
        for name in unknown:
            if name.lower() in lower and name not in known:
                hint = f" (parameter names are case sensitive: {lower[name.lower()]}, not {name})"
                break
        raise bad_request(f"unknown parameter(s) {', '.join(unknown)} for {method} {bp.url_prefix}{res.path}"
                          f"{'' if single or method != 'GET' else ' without ' + res.id_param}; it takes "
                          f"{', '.join(sorted(allowed))}{hint}")
    for name in args:
        if len(args.getlist(name)) > 1:
            raise bad_request(f"{name} is given more than once")
        if "\x00" in args[name]:
            raise bad_request(f"{name} contains a NUL character")
    try:
        params = schema.load(args.to_dict())
    except ValidationError as e:
        raise bad_request("; ".join(_message(k, v) for k, v in sorted(e.messages.items())))
    params["_single"] = single
    return params


def _message(name, messages) -> str:
    text = " ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
    return text if text.startswith(name) else f"{name}: {text}"


def _key(res: _Resource, params: dict) -> store.Key:
    return store.Key(kind=res.kind, doc_id=params[res.id_param], activity_id=params.get("activityId", ""),
                     agent_ifi=params.get("agent", ""), registration=params.get("registration", ""))


# ------------------------------------------------------------------------------------------------ headers and body

def _conditions(res: _Resource, method: str) -> store.Conditions:
    if_match = if_none_match = None
    if "If-Match" in request.headers:
        tags = parse_etags(request.headers["If-Match"])
        if_match = "*" if tags.star_tag else frozenset(t.lower() for t in tags.as_set(include_weak=False))
    if "If-None-Match" in request.headers:
        tags = parse_etags(request.headers["If-None-Match"])
        if_none_match = "*" if tags.star_tag else frozenset(t.lower() for t in tags.as_set(include_weak=True))
    put = method == "PUT"
    return store.Conditions(if_match=if_match, if_none_match=if_none_match,
                            headers_required_when_exists=put and g.xapi_version in res.headers_required,
                            headers_required_when_missing=put and g.xapi_version in res.headers_required_when_missing)


def _body() -> bytes:
    limit = current_app.config["DOCUMENT_MAX_BYTES"]
    length = request.content_length
    if length is not None and length > limit:
        raise _too_large(length, limit)
    data = request.get_data(cache=False)
    if len(data) > limit:
        raise _too_large(len(data), limit)
    return data


def _json_value(content: bytes):
    """A JSON document's value (None when it is not JSON), or 400 when it nests deeper than LRS_JSON_MAX_DEPTH
    (stored deeper, it would break merging, export and erasure later)."""
    try:
        value = store.parse_json(content)
    except RecursionError:  # the parser's limit (about 1000 levels) is far above ours
        raise too_deep("the document")
    except ValueError:
        return None
    check_depth(value, "the document")
    return value


def _too_large(size, limit) -> XAPIError:
    return XAPIError(413, f"the document is {size} bytes; this LRS keeps documents of at most {limit} bytes "
                          "(LRS_DOCUMENT_MAX_BYTES)")


def _empty(status: int = 204, headers=None) -> Response:
    r = Response(status=status, headers=headers)
    del r.headers["Content-Type"]  # no body, so no type
    return r


def _etag_header(etag: str) -> str:
    return f'"{etag}"'


def _http_date(us: int) -> str:
    return formatdate(us / 1_000_000, usegmt=True)


# ------------------------------------------------------------------------------------------------ methods

def _put(res: _Resource):
    params = _params(res, "PUT")
    content = _body()
    ctype = request.headers.get("Content-Type") or _OCTET
    if store.is_json(ctype):
        _json_value(content)  # kept byte for byte, but not when it nests too deep
    try:
        etag = store.put(db.engine(), _key(res, params), ctype, content, _conditions(res, "PUT"), g.credential.id)
    except (store.PreconditionFailed, store.Conflict) as e:
        raise _concurrency_error(e)
    except store.HeadersMissing as e:
        raise bad_request(f"{e} (xAPI {g.xapi_version})")
    return _empty(headers={"ETag": _etag_header(etag)})


def _post(res: _Resource):
    params = _params(res, "POST")
    content = _body()
    ctype = request.headers.get("Content-Type") or ""
    if not store.is_json(ctype):
        raise bad_request(f"POST stores or merges JSON: the Content-Type must be application/json, not "
                          f"{ctype or 'missing'} (use PUT for documents of other types)")
    posted = _json_value(content)
    if not isinstance(posted, dict):
        raise bad_request("the body of a POST must be a JSON object (it is merged into the stored JSON object)")
    try:
        etag = store.post(db.engine(), _key(res, params), ctype, content, posted, _conditions(res, "POST"),
                          g.credential.id, current_app.config["DOCUMENT_MAX_BYTES"])
    except (store.PreconditionFailed, store.Conflict) as e:
        raise _concurrency_error(e)
    except store.NotMergeable as e:
        raise bad_request(str(e))
    except store.TooLarge as e:
        raise XAPIError(413, str(e))
    return _empty(headers={"ETag": _etag_header(etag)})


def _get(res: _Resource):
    params = _params(res, "GET")
    if params["_single"]:
        return _get_one(res, params)
    ids, newest = store.list_ids(db.engine(), res.kind, params.get("activityId", ""), params.get("agent", ""),
                                 params.get("registration"), params.get("since"))
    body = orjson.dumps(ids)
    headers = {"ETag": _etag_header(store.etag_of(body))}
    if newest is not None:
        headers["Last-Modified"] = _http_date(newest)
    return Response(body, status=200, mimetype="application/json", headers=headers)


def _get_one(res: _Resource, params: dict):
    doc = store.get(db.engine(), _key(res, params))
    if doc is None:
        raise XAPIError(404, f"no {res.name} document with {res.id_param} {params[res.id_param]!r} here")
    headers = {"ETag": _etag_header(doc.etag), "Last-Modified": _http_date(doc.updated_us)}
    cond = _conditions(res, "GET")
    if cond.if_match is not None and cond.if_match != "*" and doc.etag not in cond.if_match:
        raise XAPIError(412, "If-Match does not match the document's current ETag", headers)
    if cond.if_none_match is not None and (cond.if_none_match == "*" or doc.etag in cond.if_none_match):
        return _empty(304, headers)
    return Response(doc.content, status=200, content_type=doc.content_type, headers=headers)


def _delete(res: _Resource):
    params = _params(res, "DELETE")
    if not params["_single"]:
        if "If-Match" in request.headers or "If-None-Match" in request.headers:
            raise bad_request(f"If-Match and If-None-Match name one document: give {res.id_param} with them "
                              f"(a DELETE without {res.id_param} deletes every {res.name} document of this context)")
        store.delete_all(db.engine(), res.kind, params.get("activityId", ""), params.get("agent", ""),
                         params.get("registration"))
        return _empty()
    try:
        store.delete_one(db.engine(), _key(res, params), _conditions(res, "DELETE"))
    except store.PreconditionFailed as e:
        raise _concurrency_error(e)
    return _empty()


def _concurrency_error(e) -> XAPIError:
    if isinstance(e, store.Conflict):
        return XAPIError(409, str(e), {"ETag": _etag_header(e.etag)})
    return XAPIError(412, str(e))


def _register(res: _Resource):
    read_scopes = (res.scope, "all/read")

    def view_get():
        return _get(res)

    def view_put():
        return _put(res)

    def view_post():
        return _post(res)

    def view_delete():
        return _delete(res)

    for method, view, scopes in (("GET", view_get, read_scopes), ("PUT", view_put, (res.scope,)),
                                 ("POST", view_post, (res.scope,)), ("DELETE", view_delete, (res.scope,))):
        view.__name__ = f"{res.kind}_{method.lower()}"
        bp.add_url_rule(res.path, endpoint=view.__name__, view_func=require(*scopes)(view), methods=[method])


for _res in (STATE, ACTIVITY_PROFILE, AGENT_PROFILE):
    _register(_res)
