"""The Activities and Agents resources: what the LRS knows about one activity or one person."""
import orjson
from flask import current_app, g, request

from lrs.model.agents import ifi
from lrs.model.validation import StatementError, validate_activity_id, validate_agent
from lrs.store import activities as activity_store
from lrs.store import db
from lrs.store import statements as store
from lrs.store.db import read_transaction
from lrs.xapi import bp
from lrs.xapi.auth import require
from lrs.xapi.errors import bad_request

_READERS = ("statements/read", "statements/read/mine", "all/read", "define", "profile", "state")
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


def _only(*allowed):
    extra = set(request.args) - set(allowed)
    if extra:
        raise bad_request(f"unknown parameter(s) {', '.join(sorted(extra))}; this resource takes {', '.join(allowed)}")


def _param(name, missing):
    """The one parameter of a resource that takes only that one; missing is the 400's message without it."""
    _only(name)
    value = request.args.get(name)
    if not value:
        raise bad_request(missing)
    return value


@bp.get("/activities")
@require(*_READERS)
def get_activity():
    activity_id = _param("activityId", "activityId is required")
    try:
        validate_activity_id(activity_id, "activityId")
    except StatementError as e:
        raise bad_request(str(e))
    engine = db.engine()
    with read_transaction(engine) as conn:
        definition = activity_store.definition(conn, activity_id)
    # An activity no statement mentions yet is still an activity: the spec (2.0) wants its bare object.
    activity = {"objectType": "Activity", "id": activity_id}
    if definition:
        activity["definition"] = definition
    return current_app.response_class(orjson.dumps(activity), mimetype="application/json")


@bp.get("/agents")
@require(*_READERS)
def get_person():
    raw = _param("agent", "agent is required (a JSON Agent, e.g. {\"mbox\": \"mailto:kari@example.no\"})")
    try:
        agent = orjson.loads(raw)
        validate_agent(agent, "agent", g.xapi_version)
    except orjson.JSONDecodeError:
        raise bad_request("agent: must be a JSON Agent, e.g. {\"mbox\": \"mailto:kari@example.no\"}")
    except StatementError as e:
        raise bad_request(str(e))
    if agent.get("objectType") == "Group":
        raise bad_request("agent: must be an Agent, not a Group")
    person = {"objectType": "Person"}
    names = store.names_of(db.engine(), ifi(agent))
    if agent.get("name") and agent["name"] not in names:
        names.append(agent["name"])
    if names:
        person["name"] = names
    for key in _IFIS:
        if key in agent:
            person[key] = [agent[key]]
    return current_app.response_class(orjson.dumps(person), mimetype="application/json")
