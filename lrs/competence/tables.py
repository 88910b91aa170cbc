"""Tables of the competence engine: the organisation, the catalog, rules, evidence and plans."""
from sqlalchemy import (BigInteger, Boolean, Column, Date, ForeignKey, Index, Integer, LargeBinary, String, Table,
                        Text, UniqueConstraint)

from lrs.personal import ACTOR, BLANK, EMPLOYEE, KEEP, PERSON, PSEUDONYM, SCRUB, TEXT, USER, Personal, columns
from lrs.store.models import SeqType, metadata
from lrs.store.types import UTCDateTime

# Units as a tree (health trust > clinic > department > section). `path` is the chain of ids from the root,
# "/trust/clinic/dept/", so a subtree is one indexed prefix match.
units = Table(
    "units", metadata,
    Column("id", String(64), primary_key=True),  # the unit's code in the HR system
    Column("parent_id", String(64), ForeignKey("units.id")),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),  # trust | clinic | department | section
    Column("path", Text, nullable=False),
    Column("leader_id", String(64)),  # the employee who leads it (gets the weekly digest of its subtree)
    Index("ix_units_path", "path"),
)


def _code_and_names():
    """The columns that name a catalog entry (a job role, a competence): its code and its names in bokmål and
    English."""
    return (Column("code", String(64), primary_key=True), Column("name_nb", Text, nullable=False),
            Column("name_en", Text, nullable=False))


job_roles = Table("job_roles", metadata, *_code_and_names())

employees = Table(
    "employees", metadata,
    Column("id", String(64), primary_key=True),  # employee id in the HR system
    Column("name", Text, nullable=False),
    Column("email", Text),
    Column("unit_id", String(64), ForeignKey("units.id"), nullable=False),
    Column("started_on", Date, nullable=False),
    Column("left_on", Date),  # set when the employee leaves the trust: the plan closes
    # Known ahead (HR): the day a leaver or retiree will be gone, and why (retirement | resignation | end_of_contract
    # | other). Only the capacity forecast reads it; the plan closes on left_on as before.
    Column("planned_leaving_on", Date),
    Column("leaving_reason", String(24)),
    Index("ix_employees_unit", "unit_id"),
)

employee_roles = Table(
    "employee_roles", metadata,
    Column("employee_id", String(64), ForeignKey("employees.id"), primary_key=True),
    Column("role_code", String(64), ForeignKey("job_roles.code"), primary_key=True),
)

# The xAPI agents that are this employee (by IFI, as lrs.model.agents.ifi writes it): the account at the trust's
# identity provider, and others (mbox, a Moodle account …). An agent belongs to at most one employee.
employee_agents = Table(
    "employee_agents", metadata,
    Column("ifi", Text, primary_key=True),
    Column("employee_id", String(64), ForeignKey("employees.id"), nullable=False),
    Index("ix_employee_agents_employee", "employee_id"),
)

# The catalog. validity_months NULL: never expires. renewal_days: "expiring soon" starts this long before expiry.
competences = Table(
    "competences", metadata,
    *_code_and_names(),
    Column("area", Text, nullable=False),
    Column("validity_months", Integer),
    Column("renewal_days", Integer, nullable=False),
    Column("start_url", Text),  # where an employee starts the learning (a course, a registration page)
)

# A job role (optionally only within a unit's subtree) requires a competence.
requirements = Table(
    "requirements", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("role_code", String(64), ForeignKey("job_roles.code")),  # NULL: every role ("*" in the catalog)
    Column("unit_id", String(64), ForeignKey("units.id")),  # NULL: everywhere
    Column("competence_code", String(64), ForeignKey("competences.code"), nullable=False),
    Column("mandatory", Boolean, nullable=False),
    Column("new_employee_days", Integer, nullable=False),  # a new employee has this long from starting
    # When the requirement came into force (for plans computed the first time); NULL: from the day it is imported.
    Column("in_force_from", Date),
    UniqueConstraint("role_code", "unit_id", "competence_code", name="uq_requirements"),
)

# Individual additions to one employee's plan.
plan_additions = Table(
    "plan_additions", metadata,
    Column("employee_id", String(64), ForeignKey("employees.id"), primary_key=True),
    Column("competence_code", String(64), ForeignKey("competences.code"), primary_key=True),
    Column("mandatory", Boolean, nullable=False),
    Column("due_on", Date, nullable=False),
)

# Evidence rules, as data (lrs/competence/rules.py reads `definition`). Every change is a new version; the newest
# version of a rule is the one in force (active = false: withdrawn).
rules = Table(
    "rules", metadata,
    Column("rule_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("competence_code", String(64), ForeignKey("competences.code"), nullable=False),
    Column("definition", Text, nullable=False),  # JSON
    Column("active", Boolean, nullable=False),
    Column("created", UTCDateTime, nullable=False),
)

# Statements that matched a part of a rule in force, per employee: what evidence is computed from.
facts = Table(
    "facts", metadata,
    Column("statement_id", String(36), primary_key=True),
    Column("rule_id", String(64), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("employee_id", String(64), nullable=False),
    Column("competence_code", String(64), nullable=False),
    Column("occurred", UTCDateTime, nullable=False),  # the statement's timestamp: when the learning happened
    # Why `occurred` is not the statement's timestamp: "future_timestamp" (it was later than when it was stored).
    Column("note", String(32)),
    Index("ix_facts_employee", "employee_id", "competence_code"),
)

# Evidence an employee registered themselves (external course, certificate), waiting for or given attestation.
manual_evidence = Table(
    "manual_evidence", metadata,
    Column("id", String(36), primary_key=True),
    Column("employee_id", String(64), ForeignKey("employees.id"), nullable=False),
    Column("competence_code", String(64), ForeignKey("competences.code"), nullable=False),
    Column("title", Text, nullable=False),
    Column("completed_on", Date, nullable=False),
    Column("certificate_name", Text),
    Column("certificate_type", Text),
    Column("certificate", LargeBinary),
    Column("state", String(16), nullable=False),  # pending | attested | rejected
    Column("registered", UTCDateTime, nullable=False),
    Column("decided_by", String(64)),  # user id of the attesting leader
    Column("decided", UTCDateTime),
    Column("statement_id", String(36)),  # the xAPI statement recording the attestation
    Column("reason", Text),  # why the leader rejected it (the employee reads it on their plan)
    Index("ix_manual_evidence_employee", "employee_id"),
)

# Each requirement in each employee's plan, as last computed.
plan_items = Table(
    "plan_items", metadata,
    Column("employee_id", String(64), ForeignKey("employees.id"), primary_key=True),
    Column("competence_code", String(64), ForeignKey("competences.code"), primary_key=True),
    Column("mandatory", Boolean, nullable=False),
    Column("due_on", Date),
    Column("status", String(24), nullable=False),
    Column("fulfilled_on", Date),
    Column("valid_until", Date),
    Column("evidence", Text, nullable=False),  # JSON list of statement ids
    Column("updated", UTCDateTime, nullable=False),
    Index("ix_plan_items_competence", "competence_code", "status"),
)

# Every status change (history, and what the portal push announces).
status_changes = Table(
    "status_changes", metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("employee_id", String(64), nullable=False),
    Column("competence_code", String(64), nullable=False),
    Column("status", String(24), nullable=False),
    Column("previous_status", String(24)),
    Column("fulfilled_on", Date),
    Column("valid_until", Date),
    Column("evidence", Text, nullable=False),
    Column("changed", UTCDateTime, nullable=False),
    Index("ix_status_changes_employee", "employee_id", "seq"),
)

# Where the engine has read the statements up to (one row).
engine_cursor = Table(
    "competence_cursor", metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
)

# Reminders sent, so a job run twice never sends one twice.
reminders_sent = Table(
    "reminders_sent", metadata,
    Column("key", String(200), primary_key=True),  # e.g. "expiring:E1:HLR:2027-01-31"
    Column("sent", UTCDateTime, nullable=False),
)


# Personal data in these tables (lrs.personal; declared by lrs.competence.init_app).
PERSONAL_DATA = [
    *columns(employees, EMPLOYEE, PERSON, "id", "name", "email"),
    Personal(employee_agents, "ifi", ACTOR, PERSON),
    Personal(employee_agents, "employee_id", EMPLOYEE, PERSON),
    Personal(units, "leader_id", EMPLOYEE, PSEUDONYM),
    # the rows that are an employee's, by employee id
    *(Personal(table, "employee_id", EMPLOYEE, PSEUDONYM) for table in
      (employee_roles, plan_additions, plan_items, facts, status_changes, manual_evidence)),
    *columns(manual_evidence, TEXT, BLANK, "certificate", "certificate_name", "certificate_type"),
    Personal(manual_evidence, "title", TEXT, SCRUB),
    Personal(manual_evidence, "reason", TEXT, SCRUB),
    Personal(manual_evidence, "decided_by", USER, KEEP, "the attesting leader's user id (a random id)"),
    Personal(reminders_sent, "key", TEXT, SCRUB),
]
