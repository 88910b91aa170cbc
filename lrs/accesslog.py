"""The access log: who read whose learning records, when, and in which role. Its table, what may be logged, and
`note`, which a view calls when it shows someone's records. Any package may note a read; this module depends on
nothing above the store. The reads noted during a request are written right after it by lrs.privacy.access, which
also finds the role of the reader and reads the log."""
from flask import g
from sqlalchemy import Column, Index, String, Table, Text

from lrs.personal import EMPLOYEE, KEEP, PSEUDONYM, SCRUB, TEXT, USER, Personal
from lrs.store.models import SeqType, metadata
from lrs.store.types import UTCDateTime

# One row per read request and person read about; a read not aimed at one person (a unit's matrix, a statement
# query without an agent) is one row with its unit or filter.
access_log = Table(
    "access_log", metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("user_id", String(36)),  # the web user who read (users.id), or
    Column("credential", String(64)),  # the xAPI credential (its key)
    Column("employee_id", String(64)),  # whose records; NULL: a broad read
    Column("unit_id", String(64)),  # a read of a unit's subtree (matrix, export, forecast)
    Column("resource", String(32), nullable=False),  # what was read: plan-page, xapi-statements … (RESOURCES)
    Column("role", Text, nullable=False),  # self | leader:<unit> | admin | instructor | scope:<scopes>
    Column("filter", Text),  # the query of a broad read
    Index("ix_access_log_employee", "employee_id", "seq"),
    Index("ix_access_log_unit", "unit_id", "seq"),
    Index("ix_access_log_at", "at"),
)

# Personal data in the log (lrs.personal; declared by lrs.privacy.init_app).
PERSONAL_DATA = [
    Personal(access_log, "employee_id", EMPLOYEE, PSEUDONYM),
    Personal(access_log, "filter", TEXT, SCRUB),
    Personal(access_log, "user_id", USER, KEEP, "the reader's user id (a random id)"),
]

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
    "programme-page": ("Utdanningsløp (nettside)", "Education programme (web page)"),
    "programme-api": ("Utdanningsløp (API)", "Education programme (API)"),
    "programme-export": ("Utdanningsløp: utskrift eller xAPI-eksport", "Education programme: record or xAPI export"),
    "capacity-target": ("Bemanningskrav: hvem må fornye", "Staffing target: who must renew"),
}


def query_text(args: dict) -> str | None:
    """A read's filter as the access log keeps it: the parameters given, in order of name."""
    return " ".join(f"{k}={v}" for k, v in sorted(args.items()) if v) or None


def note(resource: str, employee_id: str | None = None, unit_id: str | None = None, filter: str | None = None):
    """Remember a read of this request (written after the response, if the request succeeded)."""
    assert resource in RESOURCES, resource
    g.setdefault("privacy_reads", []).append(
        {"resource": resource, "employee_id": employee_id, "unit_id": unit_id, "filter": filter})


def noted() -> list:
    """The reads noted during this request, taken out (the log writes each once)."""
    return g.pop("privacy_reads", [])
