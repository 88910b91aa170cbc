"""Erasure (GDPR art. 17): a person's identity is replaced by a pseudonym everywhere, in one transaction.

The pseudonym is an xAPI account agent on PSEUDONYM_HOMEPAGE, and also the employee id from then on, so the
statements stay valid xAPI, are found by the pseudonym, and still count in plans and unit figures. Attachments of
their statements and certificates of their registered evidence are deleted (they are documents about the person).
The erasure is recorded with who did it and the pseudonym, never the identity."""
import hashlib
import re
import secrets

import orjson
from sqlalchemy import delete, insert, or_, select, update

from lrs.accesslog import access_log
from lrs.cmi5.tables import cmi5_registrations
from lrs.competence.tables import (employee_agents, employee_roles, employees, facts, manual_evidence,
                                   plan_additions, plan_items, reminders_sent, status_changes, units)
from lrs.model.agents import ifi
from lrs.portal.tables import deliveries, outbox
from lrs.privacy.export import agents_of, statement_seqs
from lrs.privacy import events
from lrs.scheduler import job_runs
from lrs.store import documents as doc_store
from lrs.store.db import write_transaction
from lrs.store.models import attachments, documents, statement_agent, statements
from lrs.store.statements import content_hash
from lrs.web.tables import audit_log, sign_in_failures, users
from lrs.xapi.attachments import sha2s_of

_CHUNK = 500
# Tables whose employee_id column names the employee (those with a foreign key to employees are moved first).
_EMPLOYEE_COLUMNS = [employee_roles.c.employee_id, plan_additions.c.employee_id, manual_evidence.c.employee_id,
                     plan_items.c.employee_id, facts.c.employee_id, status_changes.c.employee_id,
                     outbox.c.employee_id, deliveries.c.employee_id, cmi5_registrations.c.employee_id,
                     access_log.c.employee_id]


class Identity:
    """What identifies the person: the agents (IFIs) and the words (name, e-mail, id, user names) to replace."""

    def __init__(self, conn, person, identity_homepage: str):
        self.ifis = set(agents_of(conn, person.id))
        self.ifis.add(ifi({"account": {"homePage": identity_homepage, "name": person.id}}))
        mails = [person.email] if person.email else []
        mails += [i.split(":", 2)[2] for i in self.ifis if i.startswith("mbox:mailto:")]
        for mail in mails:
            self.ifis.add("mbox:mailto:" + mail.lower())
            self.ifis.add("mbox_sha1sum:" + hashlib.sha1(("mailto:" + mail.lower()).encode()).hexdigest())
            self.ifis.add("mbox_sha1sum:" + hashlib.sha1(("mailto:" + mail).encode()).hexdigest())
        accounts = conn.execute(select(users.c.username, users.c.display_name)
                                .where(users.c.employee_id == person.id)).all()
        words = {person.id, person.name, *mails, *(a.username for a in accounts), *(a.display_name for a in accounts)}
        self.words = sorted((w for w in words if w and len(w.strip()) > 1), key=len, reverse=True)
        # Whole words only: employee id E1 must not change E10, nor a name inside a longer one.
        self.pattern = re.compile("|".join(rf"(?<![\w@.-]){re.escape(w)}(?![\w@-])" for w in self.words)
                                  or r"(?!)", re.IGNORECASE)

    def scrub(self, text: str | None, pseudonym: str) -> str | None:
        return self.pattern.sub(pseudonym, text) if text else text


def _replace(value, identity: Identity, agent: dict, pseudonym: str, key: str = ""):
    """A JSON value with every agent of the person replaced by `agent` and their words in free text by the
    pseudonym (ids, which are IRIs and UUIDs, are left as they are)."""
    if isinstance(value, dict):
        try:
            mine = ifi(value) in identity.ifis
        except (TypeError, KeyError, AttributeError):
            mine = False
        if mine:
            return {**({"objectType": value["objectType"]} if "objectType" in value else {}), **agent}
        return {k: _replace(v, identity, agent, pseudonym, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, identity, agent, pseudonym, key) for v in value]
    if isinstance(value, str) and key != "id":
        return identity.scrub(value, pseudonym)
    return value


def preview(conn, employee_id: str) -> dict | None:
    """What an erasure would change: counts, for the operator to confirm."""
    person = conn.execute(select(employees).where(employees.c.id == employee_id)).first()
    if person is None:
        return None
    ifis = agents_of(conn, employee_id)
    accounts = conn.execute(select(users.c.id).where(users.c.employee_id == employee_id)).all()
    return {"statements": len(statement_seqs(conn, ifis)), "agents": len(ifis), "user_accounts": len(accounts)}


def erase(engine, config, employee_id: str, actor: str) -> str:
    """Replace the employee's identity by a new pseudonym everywhere; returns the pseudonym. LookupError: no such
    employee."""
    pseudonym = "anon-" + secrets.token_hex(8)
    agent = {"account": {"homePage": config["PSEUDONYM_HOMEPAGE"], "name": pseudonym}}
    new_ifi = ifi(agent)
    with write_transaction(engine) as conn:
        person = conn.execute(select(employees).where(employees.c.id == employee_id)).first()
        if person is None:
            raise LookupError(f"no employee {employee_id}")
        identity = Identity(conn, person, config["IDENTITY_HOMEPAGE"])
        removed = _statements(conn, identity, agent, new_ifi, pseudonym)
        delete_orphan_attachments(conn, removed)
        _documents(conn, identity, agent, new_ifi, pseudonym)
        _employee(conn, person, identity, new_ifi, pseudonym, agent)
        _free_text(conn, identity, pseudonym)
        events.record(conn, "erasure", actor, f"pseudonym {pseudonym}")
    return pseudonym


def _statements(conn, identity: Identity, agent: dict, new_ifi: str, pseudonym: str) -> set[str]:
    """Rewrite the person's statements; the sha2s of the attachments they no longer carry."""
    dropped = set()
    seqs = statement_seqs(conn, identity.ifis)
    for i in range(0, len(seqs), _CHUNK):
        for row in conn.execute(select(statements.c.seq, statements.c.body)
                                .where(statements.c.seq.in_(seqs[i:i + _CHUNK]))).all():
            stmt = orjson.loads(row.body)
            dropped.update(sha2s_of(stmt))
            stmt.pop("attachments", None)
            if stmt["object"].get("objectType") == "SubStatement":
                stmt["object"].pop("attachments", None)
            stmt = _replace(stmt, identity, agent, pseudonym)
            conn.execute(update(statements).where(statements.c.seq == row.seq).values(
                body=orjson.dumps(stmt).decode(), content_hash=content_hash(stmt), has_attachments=False))
    ifis = list(identity.ifis)
    conn.execute(update(statement_agent).where(statement_agent.c.ifi.in_(ifis)).values(ifi=new_ifi))
    return dropped


def delete_orphan_attachments(conn, dropped: set[str]) -> None:
    """Delete these attachments unless a statement still carries them."""
    if not dropped:
        return
    kept = set()
    for (body,) in conn.execute(select(statements.c.body).where(statements.c.has_attachments)):
        kept.update(sha2s_of(orjson.loads(body)))
    gone = sorted(dropped - kept)
    for i in range(0, len(gone), _CHUNK):
        conn.execute(delete(attachments).where(attachments.c.sha2.in_(gone[i:i + _CHUNK])))


def _documents(conn, identity: Identity, agent: dict, new_ifi: str, pseudonym: str) -> None:
    """Their State and Agent Profile documents move to the pseudonym (JSON content rewritten like statements)."""
    rows = conn.execute(select(documents).where(documents.c.agent_ifi.in_(list(identity.ifis)))).mappings().all()
    taken = set()
    for r in rows:
        key = doc_store.Key(kind=r["kind"], doc_id=r["doc_id"], activity_id=r["activity_id"], agent_ifi=new_ifi,
                            registration=r["registration"])
        if key.hash in taken:  # the same document under two of their agents: one is enough
            conn.execute(delete(documents).where(documents.c.key_hash == r["key_hash"]))
            continue
        taken.add(key.hash)
        content = r["content"]
        if doc_store.is_json(r["content_type"]):
            try:
                content = orjson.dumps(_replace(orjson.loads(content), identity, agent, pseudonym))
            except orjson.JSONDecodeError:
                pass
        else:
            try:
                content = identity.scrub(content.decode(), pseudonym).encode()
            except UnicodeDecodeError:
                pass
        conn.execute(update(documents).where(documents.c.key_hash == r["key_hash"]).values(
            key_hash=key.hash, context_hash=key.context_hash, agent_ifi=new_ifi, content=content,
            etag=doc_store.etag_of(content)))


def _employee(conn, person, identity: Identity, new_ifi: str, pseudonym: str, agent: dict) -> None:
    """The employee row and everything keyed by the employee id move to the pseudonym."""
    old = person.id
    conn.execute(insert(employees).values(id=pseudonym, name=pseudonym, email=None, unit_id=person.unit_id,
                                          started_on=person.started_on, left_on=person.left_on))
    for column in _EMPLOYEE_COLUMNS:
        conn.execute(update(column.table).where(column == old).values({column.name: pseudonym}))
    conn.execute(delete(employee_agents).where(employee_agents.c.employee_id == old))
    conn.execute(delete(employee_agents).where(employee_agents.c.ifi == new_ifi))
    conn.execute(insert(employee_agents).values(ifi=new_ifi, employee_id=pseudonym))
    conn.execute(update(manual_evidence).where(manual_evidence.c.employee_id == pseudonym).values(
        certificate=None, certificate_name=None, certificate_type=None))
    for r in conn.execute(select(manual_evidence.c.id, manual_evidence.c.title)
                          .where(manual_evidence.c.employee_id == pseudonym)).all():
        conn.execute(update(manual_evidence).where(manual_evidence.c.id == r.id)
                     .values(title=identity.scrub(r.title, pseudonym)))
    conn.execute(update(units).where(units.c.leader_id == old).values(leader_id=pseudonym))
    conn.execute(update(cmi5_registrations).where(cmi5_registrations.c.employee_id == pseudonym)
                 .values(actor=orjson.dumps({"objectType": "Agent", **agent}).decode()))
    for r in conn.execute(select(outbox.c.seq, outbox.c.payload).where(outbox.c.employee_id == pseudonym)).all():
        payload = orjson.loads(r.payload) | {"employee_id": pseudonym}
        conn.execute(update(outbox).where(outbox.c.seq == r.seq).values(payload=orjson.dumps(payload).decode()))
    conn.execute(update(users).where(users.c.employee_id == old).values(
        employee_id=pseudonym, username=pseudonym, display_name=pseudonym, password_hash=None, oidc_subject=None,
        disabled=True))
    conn.execute(delete(employees).where(employees.c.id == old))


def _free_text(conn, identity: Identity, pseudonym: str) -> None:
    """Logs and keys that may name the person in passing (a searched e-mail, a reminder's key, an error)."""
    for table, key, column in ((audit_log, audit_log.c.seq, audit_log.c.detail),
                               (access_log, access_log.c.seq, access_log.c.filter),
                               (reminders_sent, reminders_sent.c.key, reminders_sent.c.key),
                               (job_runs, job_runs.c.job_id, job_runs.c.error),
                               (sign_in_failures, sign_in_failures.c.seq, sign_in_failures.c.username)):
        if not identity.words:
            return
        mentions = or_(*(column.icontains(w, autoescape=True) for w in identity.words))
        for row in conn.execute(select(table).where(mentions)).mappings().all():
            text = row[column.name]
            new = identity.scrub(text, pseudonym)
            if new != text:
                where = [c == row[c.name] for c in table.primary_key.columns]
                conn.execute(update(table).where(*where).values({column.name: new}))
