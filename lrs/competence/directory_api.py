"""The employee directory for other systems: /api/competence/directory/…, for a credential (HTTP Basic) with the
scope competence/directory. simulation/ checks the participants of a session here and learns the xAPI agent that
is each of them, without reading the LRS's tables.

    GET /api/competence/directory/employees?id=100002&id=100003   each id asked: whether it is an employee of the
                                                                  trust (known), and the xAPI agent that is them

Names, units and e-mail addresses are not given: a client that logs statements needs no more."""
from flask import Blueprint, current_app, request
from sqlalchemy import select

from lrs.competence.directory import agent_for
from lrs.competence.tables import employees
from lrs.store.db import transaction
from lrs.xapi import auth
from lrs.xapi import errors
from lrs.xapi.errors import XAPIError, json_response

bp = Blueprint("competence_directory_api", __name__, url_prefix="/api/competence/directory")
errors.register(bp)  # refusals as {"error": {"code", "message"}}
SCOPE = "competence/directory"
MAX_IDS = 500


@bp.before_request
def _who_is_asking():
    auth.authenticate(SCOPE)


@bp.get("/employees")
def lookup_employees():
    """Whether each employee id asked (?id=…, repeated, at most 500) is an employee, and the xAPI agent that is
    them (their account at the trust's identity provider)."""
    ids = list(dict.fromkeys(i for i in request.args.getlist("id") if i))
    if not ids:
        raise XAPIError(400, "give one or more employee ids: ?id=…&id=…")
    if len(ids) > MAX_IDS:
        raise XAPIError(400, f"at most {MAX_IDS} ids at a time, not {len(ids)}")
    with transaction() as conn:
        known = set(conn.execute(select(employees.c.id).where(employees.c.id.in_(ids))).scalars())
    home = current_app.config["IDENTITY_HOMEPAGE"]
    return json_response({"employees": [{"id": i, "known": i in known, "agent": agent_for(i, home)} for i in ids]})
