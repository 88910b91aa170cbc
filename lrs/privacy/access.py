"""Writing and reading the access log (its table and `note` are in lrs.accesslog).

A view that reads a person's records calls `lrs.accesslog.note(...)`; the reads noted during a request are written
in one transaction right after it, with the reader's role, and only when it succeeded (a refused read showed
nothing). xAPI reads are noted here, from the request itself, so the xAPI resources need no hook of their own."""
from datetime import datetime

import orjson
from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, insert, or_, select

from lrs.accesslog import access_log, noted
from lrs.competence.directory import employees_in_statement
from lrs.competence.tables import employee_agents, employees, units
from lrs.model.agents import ifi
from lrs.store.db import write_transaction
from lrs.store.models import credentials
from lrs.store.types import utcnow
from lrs.web.tables import users

_XAPI_DOCUMENTS = {"xapi.state_get": "xapi-state", "xapi.agent_profile_get": "xapi-agent-profile",
                   "xapi.get_person": "xapi-agent"}


def init_app(app):
    @app.after_request
    def _write_reads(response):
        if response.status_code >= 400:
            noted()
            return response
        reads = noted()
        if request.blueprint == "xapi" and request.method == "GET" and response.status_code == 200:
            reads += _xapi_reads()
        if reads:
            # An xAPI request reads with its credential, whatever web session its browser also has.
            who = None if request.blueprint == "xapi" else g.get("principal")
            with write_transaction(app.extensions["lrs.engine"]) as conn:
                write(conn, reads, who, g.get("credential"))
        return response


def write(conn, reads: list, who=None, credential=None) -> None:
    """Write reads done by a signed-in principal (`who`) or an xAPI credential, each with the role it read in.
    A read may be a callable that finds its rows with the connection (xAPI reads: whose agent, whose statement)."""
    now = utcnow()
    found = [row for r in reads for row in (r(conn) if callable(r) else [r])]
    rows = [{**r, "at": now, "user_id": who.user_id if who else None,
             "credential": credential.key if credential and not who else None,
             "role": _role(conn, who, credential, r)} for r in found]
    if rows:
        conn.execute(insert(access_log), rows)


def _role(conn, who, credential, read) -> str:
    if who is None:
        return "scope:" + " ".join(sorted(credential.scopes)) if credential else "system"
    if read["employee_id"] and read["employee_id"] == who.employee_id:
        return "self"
    if who.has("admin"):
        return "admin"
    if who.has("leader") and who.led_units:
        unit = read["unit_id"] or conn.execute(
            select(employees.c.unit_id).where(employees.c.id == read["employee_id"])).scalar()
        path = conn.execute(select(units.c.path).where(units.c.id == unit)).scalar() or ""
        led = [u for u in sorted(who.led_units) if f"/{u}/" in path]
        if led:
            return "leader:" + led[0]
    return " ".join(sorted(who.roles)) or "none"


# ------------------------------------------------------------------------------------------------ xAPI reads

def _read(resource, employee_id=None, filter=None) -> dict:
    return {"resource": resource, "employee_id": employee_id, "unit_id": None, "filter": filter}


def _xapi_reads() -> list:
    """What an xAPI GET read: the person of its agent or statement id, or the query of a broad read. Resolved in
    the access log's own transaction (one connection per request for the whole log entry)."""
    if g.get("credential") is None:
        return []
    endpoint = request.endpoint
    args = request.args.to_dict()
    if endpoint in _XAPI_DOCUMENTS:
        key = _ifi_of(args.get("agent"))
        if key is None:
            return []
        return [lambda conn: [_read(_XAPI_DOCUMENTS[endpoint], p) for p in [_employee_of(conn, key)] if p]]
    if endpoint != "xapi.get_statements":
        return []
    if "more" in args:
        try:
            args = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="statements-more").loads(args["more"])
        except BadSignature:
            return []
        args.pop("_after", None)
    wanted = args.get("statementId") or args.get("voidedStatementId")
    if wanted:
        return [lambda conn: [_read("xapi-statements", p, f"statementId={wanted.lower()}")
                              for p in employees_in_statement(conn, wanted)]]
    key = _ifi_of(args.get("agent"))

    def broad_or_person(conn):
        person = _employee_of(conn, key) if key else None
        rest = {k: v for k, v in args.items() if not (person and k == "agent")}
        return [_read("xapi-statements", person, orjson.dumps(rest, option=orjson.OPT_SORT_KEYS).decode())]
    return [broad_or_person]


def _ifi_of(agent_json: str | None) -> str | None:
    if not agent_json:
        return None
    try:
        return ifi(orjson.loads(agent_json))
    except (orjson.JSONDecodeError, AttributeError, TypeError, KeyError):
        return None


def _employee_of(conn, key: str) -> str | None:
    return conn.execute(select(employee_agents.c.employee_id).where(employee_agents.c.ifi == key)).scalar()


# ------------------------------------------------------------------------------------------------ reading the log

def _entries(conn, where, limit: int | None) -> list[dict]:
    query = (select(access_log, users.c.username, users.c.display_name, credentials.c.name.label("credential_name"))
             .outerjoin(users, users.c.id == access_log.c.user_id)
             .outerjoin(credentials, credentials.c.key == access_log.c.credential)
             .where(*where).order_by(access_log.c.seq.desc()))
    if limit:
        query = query.limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def about_person(conn, employee_id: str, limit: int | None = 500, others_only: bool = True) -> list[dict]:
    """Reads of this person's records: aimed at them, or at a unit they belong to (newest first)."""
    path = conn.execute(select(units.c.path).join(employees, employees.c.unit_id == units.c.id)
                        .where(employees.c.id == employee_id)).scalar() or ""
    their_units = [u for u in path.split("/") if u]
    aimed = or_(access_log.c.employee_id == employee_id,
                and_(access_log.c.employee_id.is_(None), access_log.c.unit_id.in_(their_units)))
    where = [aimed]
    if others_only:  # their own reads (of their plan, or of a unit they lead) are not news to them
        where.append(or_(access_log.c.user_id.is_(None), access_log.c.user_id.not_in(
            select(users.c.id).where(users.c.employee_id == employee_id))))
    return _entries(conn, where, limit)


def search(conn, employee_id: str = "", reader: str = "", resource: str = "", since: datetime | None = None,
           until: datetime | None = None, limit: int | None = 500) -> list[dict]:
    """The log for admins: by person read about, by reader (user name, user id or credential key), by resource,
    and by time (since inclusive, until exclusive)."""
    where = []
    if employee_id:
        where.append(access_log.c.employee_id == employee_id)
    if reader:
        ids = select(users.c.id).where(or_(users.c.username == reader, users.c.id == reader))
        where.append(or_(access_log.c.user_id.in_(ids), access_log.c.credential == reader))
    if resource:
        where.append(access_log.c.resource == resource)
    if since:
        where.append(access_log.c.at >= since)
    if until:
        where.append(access_log.c.at < until)
    return _entries(conn, where, limit)



def reader_role(role: str) -> tuple[str, str | None]:
    """A logged role as (kind, unit id): self, leader (with the unit they lead), admin, instructor, system (an API
    key or the LRS itself) or other. What a person reads, never a scope or a session."""
    if role.startswith("leader:"):
        return "leader", role.split(":", 1)[1]
    if role.startswith("scope:") or role == "system":
        return "system", None
    words = role.split()
    for kind in ("self", "admin", "leader", "instructor"):
        if kind in words:
            return kind, None
    return "other", None


def about_person_by_day(conn, employee_id: str, zone, limit: int | None = 500) -> list[dict]:
    """Reads of this person's records by others, for them to read: per day (newest first, in `zone`), who read
    what in which role, as names (the reader's name or the API key's name, the unit by its name), with how many
    times and the last time that day."""
    unit_names = dict(conn.execute(select(units.c.id, units.c.name)).all())
    days: dict = {}
    for e in about_person(conn, employee_id, limit):
        at = e["at"].astimezone(zone)
        kind, unit = reader_role(e["role"])
        unit = unit or (e["unit_id"] if not e["employee_id"] else None)
        key = (e["user_id"] or e["credential"] or "", kind, unit, e["resource"])
        reads = days.setdefault(at.date(), {})
        if key in reads:
            reads[key]["times"] += 1
            continue
        reads[key] = {"who": e["display_name"] or e["credential_name"], "kind": kind,
                      "unit": unit_names.get(unit, unit) if unit else None, "resource": e["resource"],
                      "whole_unit": not e["employee_id"], "times": 1, "last": at}
    return [{"day": day, "reads": list(reads.values())} for day, reads in days.items()]
