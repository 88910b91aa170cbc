"""Tables of the education programmes: programme versions, enrolments with their moves, logged entries and
sign-offs (each sign-off is also an xAPI statement; the row says who signed and whether it was voided)."""
from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from lrs.personal import EMPLOYEE, KEEP, PSEUDONYM, SCRUB, TEXT, USER, Personal
from lrs.store.models import metadata
from lrs.store.types import UTCDateTime

# Every import of a changed programme is a new version; enrolments keep the version they started on.
programmes = Table(
    "programmes", metadata,
    Column("code", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("title_nb", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("definition", Text, nullable=False),  # JSON, as lrs.programmes.definition loads it
    Column("imported", UTCDateTime, nullable=False),
)

# A participant in a programme: where they are, who supervises (veileder) and who leads (approves).
programme_enrolments = Table(
    "programme_enrolments", metadata,
    Column("id", String(36), primary_key=True),
    Column("employee_id", String(64), ForeignKey("employees.id"), nullable=False),
    Column("programme_code", String(64), nullable=False),
    Column("programme_version", Integer, nullable=False),
    Column("unit_id", String(64), ForeignKey("units.id"), nullable=False),
    Column("supervisor_id", String(64), ForeignKey("employees.id")),
    Column("leader_id", String(64), ForeignKey("employees.id")),
    Column("started_on", Date, nullable=False),
    Column("planned_end", Date, nullable=False),
    Column("state", String(16), nullable=False),  # active | completed | ended
    Column("created", UTCDateTime, nullable=False),
    UniqueConstraint("employee_id", "programme_code", name="uq_programme_enrolments"),
    Index("ix_programme_enrolments_supervisor", "supervisor_id"),
)

# Moves between units and trusts (and changes of supervisor or leader): the record stays with the enrolment.
programme_transfers = Table(
    "programme_transfers", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("enrolment_id", String(36), ForeignKey("programme_enrolments.id"), nullable=False),
    Column("employee_id", String(64), nullable=False),
    Column("from_unit", String(64)),
    Column("to_unit", String(64), nullable=False),
    Column("from_supervisor", String(64)),
    Column("to_supervisor", String(64)),
    Column("from_leader", String(64)),
    Column("to_leader", String(64)),
    Column("moved_on", Date, nullable=False),
    Column("note", Text),
    Column("decided_by", String(64)),  # user id
    Index("ix_programme_transfers_enrolment", "enrolment_id"),
)

# What a participant logs (procedures, supervision meetings), for the supervisor to confirm.
programme_entries = Table(
    "programme_entries", metadata,
    Column("id", String(36), primary_key=True),
    Column("enrolment_id", String(36), ForeignKey("programme_enrolments.id"), nullable=False),
    Column("employee_id", String(64), nullable=False),
    Column("objective_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # procedure | supervision
    Column("activity_code", String(64)),  # which procedure
    Column("title", Text, nullable=False),
    Column("done_on", Date, nullable=False),
    Column("state", String(16), nullable=False),  # pending | confirmed | rejected
    Column("logged", UTCDateTime, nullable=False),
    Column("decided_by", String(64)),  # user id of the supervisor
    Column("decided", UTCDateTime),
    Column("statement_id", String(36)),  # the xAPI statement of the confirmed entry
    Index("ix_programme_entries_enrolment", "enrolment_id"),
)

# "vurdert som oppnådd" (assessed) and "godkjent" (approved), each an xAPI statement with its signer.
programme_signoffs = Table(
    "programme_signoffs", metadata,
    Column("id", String(36), primary_key=True),
    Column("enrolment_id", String(36), ForeignKey("programme_enrolments.id"), nullable=False),
    Column("employee_id", String(64), nullable=False),
    Column("objective_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # assessed | approved
    Column("signed_by", String(64), nullable=False),  # user id
    Column("signer_employee_id", String(64)),
    Column("signer_name", Text),
    Column("signed", UTCDateTime, nullable=False),
    Column("statement_id", String(36), nullable=False),
    Column("voided", UTCDateTime),
    Column("voided_by", String(64)),
    Column("voiding_statement_id", String(36)),
    Index("ix_programme_signoffs_enrolment", "enrolment_id", "objective_id"),
)

PERSONAL_DATA = [
    *(Personal(t, "employee_id", EMPLOYEE, PSEUDONYM) for t in
      (programme_enrolments, programme_transfers, programme_entries, programme_signoffs)),
    # the supervisor's and the leader's ids: the rows move to their pseudonym too (the enrolments' are foreign keys)
    Personal(programme_enrolments, "supervisor_id", EMPLOYEE, PSEUDONYM),
    Personal(programme_enrolments, "leader_id", EMPLOYEE, PSEUDONYM),
    *(Personal(programme_transfers, c, EMPLOYEE, PSEUDONYM) for c in
      ("from_supervisor", "to_supervisor", "from_leader", "to_leader")),
    Personal(programme_transfers, "note", TEXT, SCRUB),
    Personal(programme_transfers, "decided_by", USER, KEEP, "the deciding user's id (a random id)"),
    Personal(programme_entries, "title", TEXT, SCRUB),
    Personal(programme_entries, "decided_by", USER, KEEP, "the supervisor's user id (a random id)"),
    Personal(programme_signoffs, "signed_by", USER, KEEP, "the signer's user id (a random id)"),
    Personal(programme_signoffs, "voided_by", USER, KEEP, "the voiding user's id (a random id)"),
    Personal(programme_signoffs, "signer_employee_id", EMPLOYEE, SCRUB),
    Personal(programme_signoffs, "signer_name", TEXT, SCRUB),
]
