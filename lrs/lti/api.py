"""The instructors' JSON API for Names and Role Provisioning: the Moodle courses they launched the tool from, and
a course's members as employees (a simulation session's participant list). Signed in by the session cookie."""
from flask import Blueprint, current_app, jsonify
from pylti1p3.exception import LtiException
from pylti1p3.names_roles import NamesRolesProvisioningService
from requests import RequestException

from lrs import principal
from lrs.csrf import cookie_api
from lrs.lti import service, tool
from lrs.store.db import transaction
from lrs.xapi.errors import error_response

bp = cookie_api(Blueprint("lti_api", __name__, url_prefix="/api/lti"))
ROLES = ("instructor", "admin")

# Where an NRPS member carries what a launch's matching claim carries.
_MEMBER_FIELD = {"sub": "user_id", "person_sourcedid": "lis_person_sourcedid", "email": "email",
                 "preferred_username": "ext_user_username", "name": "name"}


class MembersUnavailable(RuntimeError):
    pass



def member_value(member: dict, match_claim: str) -> str:
    name, _, key = match_claim.partition("#")
    field = _MEMBER_FIELD.get(key or name.rsplit("/", 1)[-1])
    value = member.get(field) if field else None
    return str(value).strip() if value else ""


def members(context_seq: int, user_id: str) -> dict | None:
    """The course's members (NRPS), each with the employee id it matches here (or None); None for a course this
    person did not launch from. Raises MembersUnavailable when the platform does not answer."""
    grace = float(current_app.config["LTI_KEY_GRACE_HOURS"])
    with transaction() as conn:
        ctx = service.context(conn, context_seq, user_id)
        if ctx is None:
            return None
        p = service.platform(conn, ctx["platform_id"])
        if not ctx["memberships_url"]:
            raise MembersUnavailable("Moodle offered no member list for this course (Names and Role Provisioning)")
        connector = tool.connector(conn, p, grace)
    nrps = NamesRolesProvisioningService(connector, {"context_memberships_url": ctx["memberships_url"]})
    try:
        listed = nrps.get_members()
    except (LtiException, RequestException, ValueError) as e:
        raise MembersUnavailable(f"Moodle did not give the member list: {e}") from e
    values = {m.get("user_id"): member_value(m, p["match_claim"]) for m in listed}
    with transaction() as conn:
        found = service.employees_by(conn, p["match_field"], [v for v in values.values() if v])
    out = [{"name": m.get("name", ""), "roles": m.get("roles", []), "status": m.get("status", "Active"),
            "employee_id": found.get(values.get(m.get("user_id")))} for m in listed]
    return {"context": {"id": ctx["seq"], "title": ctx["title"], "platform": p["name"]}, "members": out,
            "employee_ids": sorted({m["employee_id"] for m in out if m["employee_id"] and m["status"] == "Active"}),
            "unmatched": sum(1 for m in out if not m["employee_id"])}


@bp.get("/contexts")
def contexts():
    who = principal.require(*ROLES)
    with transaction() as conn:
        rows = service.contexts_of(conn, who.user_id)
    return jsonify({"contexts": [{"id": r["seq"], "title": r["title"], "platform": r["platform_name"],
                                  "members": bool(r["memberships_url"])} for r in rows]})


@bp.get("/contexts/<int:seq>/members")
def context_members(seq):
    who = principal.require(*ROLES)
    try:
        found = members(seq, who.user_id)
    except MembersUnavailable as e:
        return error_response(502, str(e))
    if found is None:
        return error_response(404, f"no Moodle course {seq} launched by you")
    return jsonify(found)
