"""Tables of the cmi5 LMS side: imported courses and their files, AUs, registrations, sessions, AU progress."""
from sqlalchemy import Boolean, Column, ForeignKey, Integer, LargeBinary, String, Table, Text, UniqueConstraint

from lrs.personal import ACTOR, AGENT, EMPLOYEE, KEEP, PSEUDONYM, USER, Personal
from lrs.store.models import SeqType, metadata
from lrs.store.types import UTCDateTime

# One row per imported package version. `lms_id` is the course activity id the LMS made (cmi5 9.4: it must differ
# from the publisher's id); `structure` is the course tree as JSON (blocks and AU indexes, with LMS block ids).
cmi5_courses = Table(
    "cmi5_courses", metadata,
    Column("id", SeqType, primary_key=True, autoincrement=True),
    Column("publisher_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("lms_id", Text, nullable=False, unique=True),
    Column("title", Text, nullable=False),  # JSON language map
    Column("structure", Text, nullable=False),  # JSON
    Column("competences", Text, nullable=False, default="[]"),  # JSON list of competence codes
    Column("package_sha256", String(64), nullable=False),
    Column("imported_by", Text, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    UniqueConstraint("publisher_id", "version", name="uq_cmi5_courses_version"),
)

# The files of a zip package, served to browsers at /cmi5/content/<course id>/<path>.
cmi5_files = Table(
    "cmi5_files", metadata,
    Column("course_id", SeqType, ForeignKey("cmi5_courses.id", ondelete="CASCADE"), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("content_type", Text, nullable=False),
    Column("content", LargeBinary, nullable=False),
)

cmi5_aus = Table(
    "cmi5_aus", metadata,
    Column("id", SeqType, primary_key=True, autoincrement=True),
    Column("course_id", SeqType, ForeignKey("cmi5_courses.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("idx", Integer, nullable=False),  # order in the course structure
    Column("publisher_id", Text, nullable=False),
    Column("activity_id", Text, nullable=False, unique=True),  # made by the LMS (cmi5 8.1.5)
    Column("title", Text, nullable=False),  # JSON language map
    Column("url", Text, nullable=False),
    Column("move_on", String(20), nullable=False),
    Column("mastery_score", Text),  # decimal as text, exactly as in cmi5.xml
    Column("launch_method", String(10), nullable=False),
    Column("launch_parameters", Text),
    Column("entitlement_key", Text),
    Column("blocks", Text, nullable=False),  # JSON list of the LMS ids of the blocks holding this AU, outermost first
)

cmi5_registrations = Table(
    "cmi5_registrations", metadata,
    Column("id", String(36), primary_key=True),  # the xAPI registration (UUID)
    Column("course_id", SeqType, ForeignKey("cmi5_courses.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("employee_id", Text, nullable=False, index=True),
    Column("actor", Text, nullable=False),  # JSON Agent
    Column("created_at", UTCDateTime, nullable=False),
)

# Per registration and AU: what the AU (or the LMS, by waiving) has reported so far.
cmi5_au_status = Table(
    "cmi5_au_status", metadata,
    Column("registration", String(36), ForeignKey("cmi5_registrations.id", ondelete="CASCADE"), primary_key=True),
    Column("au_id", SeqType, ForeignKey("cmi5_aus.id", ondelete="CASCADE"), primary_key=True),
    Column("completed", Boolean, nullable=False, default=False),
    Column("passed", Boolean, nullable=False, default=False),
    Column("failed", Boolean, nullable=False, default=False),
    Column("waived", Boolean, nullable=False, default=False),
    Column("satisfied", Boolean, nullable=False, default=False),
    Column("score", Text),  # scaled score of the passed/failed statement
)

# Blocks and the course a registration has satisfied (cmi5 9.3.9: one "satisfied" per object and registration).
cmi5_satisfied = Table(
    "cmi5_satisfied", metadata,
    Column("registration", String(36), ForeignKey("cmi5_registrations.id", ondelete="CASCADE"), primary_key=True),
    Column("object_id", Text, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
)

cmi5_sessions = Table(
    "cmi5_sessions", metadata,
    Column("id", String(36), primary_key=True),  # the cmi5 session id
    Column("registration", String(36), ForeignKey("cmi5_registrations.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("au_id", SeqType, ForeignKey("cmi5_aus.id", ondelete="CASCADE"), nullable=False),
    Column("launch_mode", String(10), nullable=False),
    Column("fetch_token_hash", String(64), nullable=False, unique=True),  # one-time fetch URL token (SHA-256)
    Column("fetched_at", UTCDateTime),  # when the fetch URL handed out the session's credential
    Column("credential_key", Text, index=True),  # the session's own xAPI credential, made when fetched
    Column("verbs", Text, nullable=False, default=""),  # cmi5 defined verbs sent in this session, space separated
    Column("statements", Integer, nullable=False, default=0),  # statements the AU sent in this session
    Column("launched_at", UTCDateTime, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),  # the last statement's time (for the abandoned duration)
    Column("terminated_at", UTCDateTime),
    Column("abandoned_at", UTCDateTime),
)


# Personal data in these tables (lrs.personal; declared by lrs.cmi5.init_app).
PERSONAL_DATA = [
    Personal(cmi5_registrations, "employee_id", EMPLOYEE, PSEUDONYM),
    Personal(cmi5_registrations, "actor", ACTOR, AGENT),
    Personal(cmi5_courses, "imported_by", USER, KEEP, "the importing author's user id (a random id)"),
]
