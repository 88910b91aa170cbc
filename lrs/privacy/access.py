"""The access log: who read whose learning records, when, and in which role.

A view that reads a person's records calls `note(...)`; the reads noted during a request are written in one
transaction right after it, and only when it succeeded (a refused read showed nothing). xAPI reads are noted here,
from the request itself, so the xAPI resources need no hook of their own."""
from datetime import datetime

import orjson
from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, insert, or_, select

from lrs.competence.tables import employee_agents, employees, units
from lrs.privacy.tables import access_log
from lrs.store.db import write_transaction
from lrs.store.models import credentials, statement_agent, statements
from lrs.store.types import utcnow
from lrs.web.tables import users
from lrs.xapi.agents import ifi

# Everything that is logged, as the reader of the log reads it (nb, en).
RESOURCES = {
    "plan-page": ("Kompetanseplan (nettside)", "Competence plan (web page)"),
    "plan-api": ("Kompetanseplan (API)", "Competence plan (API)"),
    "certificate": ("Kursbevis", "Certificate"),
    "leader-view": ("Enhetsoversikt", "Unit overview"),
    "leader-export": ("Eksport av enhetsoversikt", "Unit overview export"),
    "matrix-api": ("Enhetsmatrise (API)", "Unit matrix (API)"),
    "forecast-api": ("Prognose for enhet (API)", "Unit forecast (API)"),
    "statement-browser": ("Læringsdata (søk)", "Learning records (search)"),
    "statement-page": ("Læringsdata (én hendelse)", "Learning records (one statement)"),
    "xapi-statements": ("xAPI-hendelser", "xAPI statements"),
    "xapi-state": ("xAPI-tilstand", "xAPI state"),
    "xapi-agent-profile": ("xAPI-agentprofil", "xAPI agent profile"),
    "xapi-agent": ("xAPI-person", "xAPI person"),
    "export": ("Innsyn: eksport av alle data", "Access request: export of all data"),
    "portal-feed": ("Kompetanseportalen henter statusendringer", "Competence portal pull feed"),
}
_XAPI_DOCUMENTS = {"xapi.state_get": "xapi-state", "xapi.agent_profile_get": "xapi-agent-profile",
                   "xapi.get_person": "xapi-agent"}


def query_text(args: dict) -> str | None:
    """A read's filter as the access log keeps it: the parameters given, in order of name."""
    return " ".join(f"{k}={v}" for k, v in sorted(args.items()) if v) or None


def note(resource: str, employee_id: str | None = None, unit_id: str | None = None, filter: str | None = None):
    """Remember a read of this request (written after the response, if the request succeeded)."""
    assert resource in RESOURCES, resource
    g.setdefault("privacy_reads", []).append(
        {"resource": resource, "employee_id": employee_id, "unit_id": unit_id, "filter": filter})


def init_app(app):
    @app.after_request
    def _write_reads(response):
        if response.status_code >= 400:
            g.pop("privacy_reads", None)
            return response
        reads = g.pop("privacy_reads", [])
        if request.blueprint == "xapi" and request.method == "GET" and response.status_code == 200:
            reads += _xapi_reads()
        if reads:
            # An xAPI request reads with its credential, whatever web session its browser also has.
            who = None if request.blueprint == "xapi" else g.get("principal")
            write(app.extensions["lrs.engine"], reads, who, g.get("credential"))
        return response


def write(engine, reads: list, who=None, credential=None) -> None:
    """Write reads done by a signed-in principal (`who`) or an xAPI credential, each with the role it read in.
    A read may be a callable that finds its rows with the connection (xAPI reads: whose agent, whose statement)."""
    now = utcnow()
    with write_transaction(engine) as conn:
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


def employees_in_statement(conn, statement_id: str) -> list[str]:
    """The employees a statement is about (actor, object, context, authority, or a statement it targets)."""
    return sorted(conn.execute(
        select(employee_agents.c.employee_id).distinct()
        .join(statement_agent, statement_agent.c.ifi == employee_agents.c.ifi)
        .join(statements, statements.c.seq == statement_agent.c.seq)
        .where(statements.c.id == statement_id.lower())).scalars())


def employee_of_person_filter(conn, person: str, identity_homepage: str) -> str | None:
    """The employee a search field names: an employee id, or an e-mail address of one."""
    key = ifi({"mbox": "mailto:" + person} if "@" in person else {"account": {"homePage": identity_homepage,
                                                                               "name": person}})
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

