"""Tables of the privacy package: who read whose records, and the erasures and retention runs done."""
from sqlalchemy import Column, Index, String, Table, Text

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
    Column("resource", String(32), nullable=False),  # what was read: plan-page, xapi-statements … (access.RESOURCES)
    Column("role", Text, nullable=False),  # self | leader:<unit> | admin | instructor | scope:<scopes>
    Column("filter", Text),  # the query of a broad read
    Index("ix_access_log_employee", "employee_id", "seq"),
    Index("ix_access_log_unit", "unit_id", "seq"),
    Index("ix_access_log_at", "at"),
)

# Erasures and retention runs: who, when, and what (a pseudonym or counts; never the erased identity).
privacy_events = Table(
    "privacy_events", metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(16), nullable=False),  # erasure | retention
    Column("actor", Text, nullable=False),  # a user id, or cli:<operating system user>, or job:<job id>
    Column("detail", Text, nullable=False),
    Index("ix_privacy_events_at", "at"),
)
