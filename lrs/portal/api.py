"""The pull feed, for portals that prefer to ask: GET /api/portal/changes?after=<cursor>&limit=<n>.
Auth: an API credential (HTTP Basic, as for xAPI) with the scope portal/read."""
import orjson
from flask import Blueprint, Response, request, url_for
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from lrs import accesslog
from lrs.portal.delivery import GAP_SECONDS
from lrs.portal.tables import outbox
from lrs.csrf import credential_api
from lrs.store.db import settled_prefix, transaction
from lrs.store.types import utcnow
from lrs.xapi import auth
from lrs.xapi.errors import XAPIError, error_response

bp = credential_api(Blueprint("portal_api", __name__, url_prefix="/api/portal"))


class FeedQuery(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


@bp.errorhandler(XAPIError)
def _error(e):
    return error_response(e.status, e.message, e.headers)


@bp.get("/changes")
def changes():
    auth.authenticate()
    if not auth.g.credential.allows("portal/read"):
        raise XAPIError(403, "this credential lacks the scope portal/read")
    try:
        args = FeedQuery().load(request.args)
    except ValidationError as e:
        raise XAPIError(400, f"invalid query: {e.normalized_messages()}")
    with transaction() as conn:
        rows = conn.execute(select(outbox.c.seq, outbox.c.payload, outbox.c.created).where(outbox.c.seq > args["after"])
                            .order_by(outbox.c.seq).limit(args["limit"])).all()
    # Never step over a change still being written: the next page would miss it.
    rows = settled_prefix(rows, args["after"], [r.created.timestamp() for r in rows],
                          utcnow().timestamp() - GAP_SECONDS)
    if rows:  # a poll that found nothing new read nothing
        accesslog.note("portal-feed", filter=f"after={args['after']} limit={args['limit']}")
    cursor = rows[-1].seq if rows else args["after"]
    body = b'{"changes":[' + b",".join(r.payload.encode() for r in rows) + b'],"cursor":' + str(cursor).encode()
    body += b',"next":' + orjson.dumps(url_for(".changes", after=cursor, limit=args["limit"])) + b"}"
    return Response(body, mimetype="application/json")
