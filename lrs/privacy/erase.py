"""Erasure (GDPR art. 17): a person's identity is replaced by a pseudonym everywhere, in one transaction.

The pseudonym is an xAPI account agent on PSEUDONYM_HOMEPAGE, and also the employee id from then on, so the
statements stay valid xAPI, are found by the pseudonym, and still count in plans and unit figures. Attachments of
their statements and certificates of their registered evidence are deleted (they are documents about the person).
The erasure is recorded with who did it and the pseudonym, never the identity.

What else holds the person is what each package declares (lrs.personal): their rows, found by the declared employee
id columns, get the pseudonym (or lose what is declared BLANK, …), and declared free text is scrubbed of their
words. The erasure's own steps are the person (employees, employee_agents), statements and documents."""
import hashlib
import re
import secrets

import orjson
from sqlalchemy import delete, insert, or_, select, update

from lrs.competence.tables import employee_agents, employees
from lrs.model.agents import ifi
from lrs.personal import AGENT, BLANK, CLOSE, DELETE, PSEUDONYM, SCRUB, USER, Personal, keyed
from lrs.privacy import events
from lrs.privacy.export import agents_of, statement_seqs
from lrs.store import documents as doc_store
from lrs.store.models import attachments, documents, iri_match, statement_agent, statements
from lrs.store.statements import content_hash
from lrs.xapi.attachments import sha2s_of

_CHUNK = 500


def _accounts(conn, declared, employee_id: str) -> list[dict]:
    """The person's user accounts (rows with USER columns to pseudonymise, by their employee id): their names."""
    found = []
    for table, (keys, items) in keyed(declared).items():
        names = [table.c[p.column] for p in items if p.kind == USER and p.erase == PSEUDONYM]
        for key in keys if names else ():
            found += [dict(r) for r in conn.execute(select(*names).where(table.c[key.column] == employee_id))
                      .mappings()]
    return found


class Identity:
    """What identifies the person: the agents (IFIs) and the words (name, e-mail, id, user names) to replace."""

    def __init__(self, conn, person, identity_homepage: str, declared: list[Personal]):
        self.ifis = set(agents_of(conn, person.id))
        self.ifis.add(ifi({"account": {"homePage": identity_homepage, "name": person.id}}))
        mails = [person.email] if person.email else []
        mails += [i.split(":", 2)[2] for i in self.ifis if i.startswith("mbox:mailto:")]
        for mail in mails:
            self.ifis.add("mbox:mailto:" + mail.lower())
            self.ifis.add("mbox_sha1sum:" + hashlib.sha1(("mailto:" + mail.lower()).encode()).hexdigest())
            self.ifis.add("mbox_sha1sum:" + hashlib.sha1(("mailto:" + mail).encode()).hexdigest())
        names = [name for account in _accounts(conn, declared, person.id) for name in account.values()]
        words = {person.id, person.name, *mails, *names}
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


def preview(conn, employee_id: str, declared: list[Personal]) -> dict | None:
    """What an erasure would change: counts, for the operator to confirm."""
    person = conn.execute(select(employees).where(employees.c.id == employee_id)).first()
    if person is None:
        return None
    ifis = agents_of(conn, employee_id)
    return {"statements": len(statement_seqs(conn, ifis)), "agents": len(ifis),
            "user_accounts": len(_accounts(conn, declared, employee_id))}


def erase(conn, config, employee_id: str, actor: str, declared: list[Personal]) -> str:
    """Replace the employee's identity by a new pseudonym everywhere; returns the pseudonym. LookupError: no such
    employee. `declared`: the app's personal data (lrs.personal.declared(app))."""
    pseudonym = "anon-" + secrets.token_hex(8)
    agent = {"account": {"homePage": config["PSEUDONYM_HOMEPAGE"], "name": pseudonym}}
    new_ifi = ifi(agent)
    person = conn.execute(select(employees).where(employees.c.id == employee_id)).first()
    if person is None:
        raise LookupError(f"no employee {employee_id}")
    identity = Identity(conn, person, config["IDENTITY_HOMEPAGE"], declared)
    removed = _statements(conn, identity, agent, new_ifi, pseudonym)
    delete_orphan_attachments(conn, removed)
    _documents(conn, identity, agent, new_ifi, pseudonym)
    _employee(conn, person, new_ifi, pseudonym, agent, declared)
    _free_text(conn, identity, pseudonym, declared)
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
    conn.execute(update(statement_agent).where(iri_match(conn.dialect.name, statement_agent.c.ifi, ifis))
                 .values(ifi=new_ifi))
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


def _employee(conn, person, new_ifi: str, pseudonym: str, agent: dict, declared: list[Personal]) -> None:
    """The employee row and every row declared as theirs move to the pseudonym."""
    old = person.id
    conn.execute(insert(employees).values(id=pseudonym, name=pseudonym, email=None, unit_id=person.unit_id,
                                          started_on=person.started_on, left_on=person.left_on))
    becomes = {PSEUDONYM: pseudonym, BLANK: None, CLOSE: True,
               AGENT: orjson.dumps({"objectType": "Agent", **agent}).decode()}
    for table, (keys, items) in keyed(declared).items():
        gone = any(p.erase == DELETE for p in items)
        rest = {p.column: becomes[p.erase] for p in items if p.erase in becomes and p not in keys}
        for key in keys:
            mine = table.c[key.column] == old
            if gone:
                conn.execute(delete(table).where(mine))
            else:
                conn.execute(update(table).where(mine).values({key.column: pseudonym, **rest}))
    conn.execute(delete(employee_agents).where(employee_agents.c.employee_id == old))
    conn.execute(delete(employee_agents).where(employee_agents.c.ifi == new_ifi))
    conn.execute(insert(employee_agents).values(ifi=new_ifi, employee_id=pseudonym))
    conn.execute(delete(employees).where(employees.c.id == old))


def _free_text(conn, identity: Identity, pseudonym: str, declared: list[Personal]) -> None:
    """Text declared SCRUB: logs and keys that may name the person in passing (a searched e-mail, a reminder's
    key, an error)."""
    if not identity.words:
        return
    for p in declared:
        if p.erase != SCRUB:
            continue
        table, column = p.table, p.table.c[p.column]
        mentions = or_(*(column.icontains(w, autoescape=True) for w in identity.words))
        for row in conn.execute(select(table).where(mentions)).mappings().all():
            text = row[column.name]
            new = identity.scrub(text, pseudonym)
            if new != text:
                where = [c == row[c.name] for c in table.primary_key.columns]
                conn.execute(update(table).where(*where).values({column.name: new}))
