"""Manual evidence: an employee registers learning done elsewhere (an external course, a certificate), a leader
attests it, and the attestation is stored as an xAPI statement, which is then the evidence (voiding it removes it)."""
import uuid
from datetime import date, datetime, time

import filetype
from sqlalchemy import func, select, update

from lrs.competence import engine as eng
from lrs.competence.directory import agent_for, subtree_unit_ids
from lrs.competence.service import can_see_employee
from lrs.competence.tables import competences, employees, facts, manual_evidence
from lrs.model import verbs
from lrs.principal import Principal
from lrs.store import credentials as creds
from lrs.store import statements as store
from lrs.store.types import utcnow

VOCABULARY = "https://kompetanse.helse.example.no/xapi"
EXT_COMPETENCE = VOCABULARY + "/extensions/competence"
EXT_ATTESTED_BY = VOCABULARY + "/extensions/attested-by"
COMPLETED = {"id": verbs.COMPLETED, "display": {"nb-NO": "fullførte", "en-US": "completed"}}
CERTIFICATE_TYPES = ("application/pdf", "image/png", "image/jpeg")
CERTIFICATE_MAX = 10 * 1024 * 1024


def certificate_type(content: bytes) -> str | None:
    """The content's type by its magic bytes, when it is one a certificate may be."""
    detected = filetype.guess_mime(content[:8192])
    return detected if detected in CERTIFICATE_TYPES else None


class EvidenceError(ValueError):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def register(conn, settings, employee_id: str, competence_code: str, title: str, completed_on: date,
             certificate: tuple[str, str, bytes] | None = None) -> str:
    """Record learning done elsewhere; it waits for a leader's attestation. Returns its id."""
    now = utcnow()
    if completed_on > settings.day(now):
        raise EvidenceError(400, "completed_on is in the future")
    if not title.strip():
        raise EvidenceError(400, "title is empty")
    if certificate:
        name, _declared, content = certificate
        if len(content) > CERTIFICATE_MAX:
            raise EvidenceError(413, "certificate is larger than 10 MB")
        detected = certificate_type(content)
        if detected is None:
            raise EvidenceError(400, f"certificate {name} is not a PDF, PNG or JPEG file (judged by its content)")
        certificate = (name, detected, content)  # the type the content has, not the one the browser declared
    evidence_id = str(uuid.uuid4())
    if conn.execute(select(employees.c.id).where(employees.c.id == employee_id)).first() is None:
        raise EvidenceError(404, f"no employee {employee_id}")
    if conn.execute(select(competences.c.code).where(competences.c.code == competence_code)).first() is None:
        raise EvidenceError(400, f"no competence {competence_code} in the catalog")
    conn.execute(manual_evidence.insert().values(
        id=evidence_id, employee_id=employee_id, competence_code=competence_code, title=title.strip(),
        completed_on=completed_on, certificate_name=certificate[0] if certificate else None,
        certificate_type=certificate[1] if certificate else None,
        certificate=certificate[2] if certificate else None, state="pending", registered=now))
    eng.recompute(conn, [employee_id], settings, now)
    return evidence_id


REASON_MAX = 1000


def decide(conn, settings, evidence_id: str, who: Principal, attest: bool, reason: str | None = None) -> dict:
    """A leader of the employee's unit attests registered evidence, or rejects it saying why (the employee reads
    the reason on their plan)."""
    now = utcnow()
    reason = (reason or "").strip() or None
    if not attest and reason is None:
        raise EvidenceError(400, "a rejection needs a reason")
    if reason is not None and len(reason) > REASON_MAX:
        raise EvidenceError(400, f"the reason is longer than {REASON_MAX} characters")
    row = conn.execute(select(manual_evidence).where(manual_evidence.c.id == evidence_id)).first()
    if row is None:
        raise EvidenceError(404, f"no registered evidence {evidence_id}")
    if not (who.has("leader") or who.has("admin")) or not can_see_employee(conn, who, row.employee_id):
        raise EvidenceError(403, "only a leader of the employee's unit can attest this")
    if who.employee_id == row.employee_id:
        raise EvidenceError(403, "nobody attests their own evidence")
    if row.state != "pending":
        raise EvidenceError(409, f"this evidence is already {row.state}")
    statement_id = None
    if attest:
        statement_id = _store_attestation(conn, settings, row, who)
    conn.execute(update(manual_evidence).where(manual_evidence.c.id == evidence_id).values(
        state="attested" if attest else "rejected", decided_by=who.user_id, decided=now,
        statement_id=statement_id, reason=None if attest else reason))
    eng.recompute(conn, [row.employee_id], settings, now)
    return {"id": evidence_id, "state": "attested" if attest else "rejected", "statement_id": statement_id}


def _waiting_for(who: Principal, conn, *columns):
    """Pending evidence `who` may decide: an admin all, a leader that of the units they lead and below; never
    their own. None when they may decide none."""
    query = (select(*columns).join(employees, employees.c.id == manual_evidence.c.employee_id)
             .where(manual_evidence.c.state == "pending"))
    if who.employee_id:
        query = query.where(manual_evidence.c.employee_id != who.employee_id)
    if who.has("admin"):
        return query
    if not (who.has("leader") and who.led_units):
        return None
    return query.where(employees.c.unit_id.in_(subtree_unit_ids(conn, who.led_units)))


def attestation_queue(conn, who: Principal) -> list[dict]:
    """Registered evidence waiting for `who`'s attestation, oldest first, with the employee's and the competence's
    names (one query)."""
    query = _waiting_for(who, conn, manual_evidence.c.id, manual_evidence.c.employee_id,
                         manual_evidence.c.competence_code, manual_evidence.c.title, manual_evidence.c.completed_on,
                         manual_evidence.c.certificate_name, employees.c.name,
                         competences.c.name_nb.label("competence_name_nb"),
                         competences.c.name_en.label("competence_name_en"))
    if query is None:
        return []
    query = query.join(competences, competences.c.code == manual_evidence.c.competence_code)
    return [dict(r._mapping) for r in conn.execute(query.order_by(manual_evidence.c.registered))]


def waiting_count(conn, who: Principal) -> int:
    """How many entries `attestation_queue` has for `who` (for the menu of every page: one count query)."""
    query = _waiting_for(who, conn, func.count())
    return conn.execute(query).scalar() if query is not None else 0


def certificate(conn, evidence_id: str):
    return conn.execute(select(manual_evidence.c.employee_id, manual_evidence.c.certificate_name,
                               manual_evidence.c.certificate_type, manual_evidence.c.certificate)
                        .where(manual_evidence.c.id == evidence_id)).first()


def _store_attestation(conn, settings, row, who: Principal) -> str:
    credential = creds.internal(conn, "kompetanse-lrs: attestations")
    learned = datetime.combine(row.completed_on, time(12), tzinfo=settings.zone)
    statement_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{VOCABULARY}/attestation/{row.id}"))
    stmt = {
        "id": statement_id,
        "actor": agent_for(row.employee_id, settings.identity_homepage),
        "verb": COMPLETED,
        "object": {"objectType": "Activity", "id": f"{VOCABULARY}/activities/external/{row.id}",
                   "definition": {"name": {"nb-NO": row.title}, "type": "http://adlnet.gov/expapi/activities/course"}},
        "result": {"completion": True},
        "context": {"extensions": {EXT_COMPETENCE: row.competence_code, EXT_ATTESTED_BY: who.user_id}},
        "timestamp": learned.astimezone().isoformat(),
        "authority": credential.authority,
        "version": "1.0.0",
    }
    if who.employee_id:
        stmt["context"]["instructor"] = agent_for(who.employee_id, settings.identity_homepage)
    store.save_in(conn, [store.Prepared(stmt=stmt, id=statement_id, credential_id=credential.id,
                                        hash=store.content_hash(stmt))])
    conn.execute(facts.insert().values(statement_id=statement_id, rule_id=eng.ATTESTATION_RULE, part=0,
                                       employee_id=row.employee_id, competence_code=row.competence_code,
                                       occurred=learned))
    return statement_id
