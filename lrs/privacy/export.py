"""Everything the LRS holds about one employee, for an access request (GDPR art. 15): as JSON, and as a printable
HTML report."""
import base64
import os

import orjson
from flask import render_template
from sqlalchemy import select

from lrs import accesslog
from lrs.cmi5.tables import cmi5_registrations
from lrs.competence import service
from lrs.competence.directory import ifis_of as agents_of  # the IFIs linked to the employee
from lrs.competence.tables import (employee_agents, employees, facts, manual_evidence, plan_additions, plan_items,
                                   status_changes)
from lrs.personal import Personal, keyed
from lrs.portal.tables import outbox
from lrs.privacy import access
from lrs.store.models import attachments, documents, iri_match, statement_agent, statements
from lrs.web.tables import users
from lrs.xapi.attachments import sha2s_of

_CHUNK = 500
# Tables the record shows in a shape of their own (below); every other table declared as holding an employee's
# rows (lrs.personal) is in `other_records`, as its rows.
_SHAPED = {employees, employee_agents, users, plan_items, plan_additions, facts, status_changes, manual_evidence,
           outbox, cmi5_registrations, accesslog.access_log}


def statement_seqs(conn, ifis) -> list[int]:
    """Every statement a person is in (actor, object, context, authority, or a statement targeting theirs)."""
    ifis = list(ifis)
    found = set()
    for i in range(0, len(ifis), _CHUNK):
        chunk = ifis[i:i + _CHUNK]
        found.update(conn.execute(select(statement_agent.c.seq).distinct()
                                  .where(iri_match(conn.dialect.name, statement_agent.c.ifi, chunk))).scalars())
    return sorted(found)


def _rows(conn, table, column, values):
    values = list(values)
    for i in range(0, len(values), _CHUNK):
        yield from conn.execute(select(table).where(column.in_(values[i:i + _CHUNK]))).mappings()


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode() if data is not None else None


def collect(conn, employee_id: str, declared: list[Personal]) -> dict | None:
    """The whole record of one employee, or None if there is no such employee. `declared`: the app's personal data
    (lrs.personal.declared(app))."""
    plan = service.plan(conn, employee_id)
    if plan is None:
        return None
    ifis = agents_of(conn, employee_id)
    stmts = sorted(_rows(conn, statements, statements.c.seq, statement_seqs(conn, ifis)), key=lambda r: r["seq"])
    found = [{"id": r["id"], "voided": r["voided"], "statement": orjson.loads(r["body"])} for r in stmts]
    wanted = {sha2 for s in found for sha2 in sha2s_of(s["statement"])}
    files = [{"sha2": r["sha2"], "contentType": r["content_type"], "content_base64": _b64(r["content"])}
             for r in _rows(conn, attachments, attachments.c.sha2, wanted)]
    docs = [{"kind": r["kind"], "activityId": r["activity_id"] or None, "agent": r["agent_ifi"],
             "registration": r["registration"] or None, "id": r["doc_id"], "contentType": r["content_type"],
             "updated_us": r["updated_us"], "content": _document_content(r["content_type"], r["content"])}
            for r in _rows(conn, documents, documents.c.agent_ifi, ifis)]
    mine = lambda table: [dict(r) for r in conn.execute(  # noqa: E731
        select(table).where(table.c.employee_id == employee_id)).mappings()]
    evidence = [{**{k: v for k, v in r.items() if k != "certificate"}, "certificate_base64": _b64(r["certificate"])}
                for r in mine(manual_evidence)]
    accounts = [{k: r[k] for k in ("id", "username", "display_name", "roles", "led_units", "lang", "disabled",
                                   "created")} | {"signs_in_with_oidc": r["oidc_subject"] is not None}
                for r in mine(users)]
    history = [{k: v for k, v in r.items() if k != "seq"} | {"evidence": orjson.loads(r["evidence"])}
               for r in conn.execute(select(status_changes).where(status_changes.c.employee_id == employee_id)
                                     .order_by(status_changes.c.seq)).mappings()]
    sent = [orjson.loads(r.payload) for r in conn.execute(
        select(outbox.c.payload).where(outbox.c.employee_id == employee_id).order_by(outbox.c.seq))]
    registrations = [{**r, "actor": orjson.loads(r["actor"])} for r in mine(cmi5_registrations)]
    reads = [{k: r[k] for k in ("at", "username", "display_name", "credential", "credential_name", "role",
                                "resource", "unit_id", "filter")}
             for r in access.about_person(conn, employee_id, limit=None, others_only=False)]
    return {
        "employee": plan["employee"] | {"email": _email(conn, employee_id)},
        "agents": ifis,
        "user_accounts": accounts,
        "plan": plan["items"],
        "plan_additions": mine(plan_additions),
        "status_history": history,
        "evidence_facts": mine(facts),
        "manual_evidence": evidence,
        "statements": found,
        "attachments": files,
        "documents": docs,
        "cmi5_registrations": registrations,
        "sent_to_competence_portal": sent,
        "access_log": reads,
        "other_records": _other_records(conn, employee_id, declared),
    }


def _other_records(conn, employee_id: str, declared: list[Personal]) -> dict:
    """{table: its rows of the employee} for the declared tables not shown above (binary content as base64)."""
    out = {}
    for table, (keys, _) in keyed(declared).items():
        if table in _SHAPED:
            continue
        rows = [dict(r) for key in keys for r in conn.execute(
            select(table).where(table.c[key.column] == employee_id)).mappings()]
        out[table.name] = [{k: _b64(v) if isinstance(v, bytes) else v for k, v in r.items()} for r in rows]
    return out


def _email(conn, employee_id):
    return conn.execute(select(employees.c.email).where(employees.c.id == employee_id)).scalar()


def _document_content(content_type: str, content: bytes):
    """JSON documents as JSON; text as text; anything else as base64."""
    if content_type.split(";")[0].strip().lower() == "application/json":
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    if content_type.startswith("text/"):
        try:
            return content.decode()
        except UnicodeDecodeError:
            pass
    return {"base64": _b64(content)}


def as_json(record: dict) -> bytes:
    return orjson.dumps(record, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)


def as_html(record: dict) -> str:
    """The readable report (rendered in a request context: the texts follow the reader's language)."""
    return render_template("privacy/report.html", r=record, resources=accesslog.RESOURCES)


def write_files(record: dict, out_dir: str) -> list[str]:
    """person-<id>.json and person-<id>.html in out_dir (made if missing); their paths."""
    os.makedirs(out_dir, exist_ok=True)
    stem = os.path.join(out_dir, f"person-{record['employee']['id']}")
    with open(stem + ".json", "wb") as f:
        f.write(as_json(record))
    with open(stem + ".html", "w", encoding="utf-8") as f:
        f.write(as_html(record))
    return [stem + ".json", stem + ".html"]
