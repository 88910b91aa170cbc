"""Tables of the portal push: the outbox, one delivery per outbox row and connector, and each connector's
position in the outbox."""
from sqlalchemy import Column, Index, Integer, String, Table, Text

from lrs.personal import EMPLOYEE, PSEUDONYM, SCRUB, TEXT, Personal
from lrs.store.models import SeqType, metadata
from lrs.store.types import UTCDateTime

# Every status change, written in the transaction that changes the status (lrs.competence.changes).
outbox = Table(
    "portal_outbox", metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),  # the pull feed's cursor, and the order
    Column("event_id", String(36), nullable=False, unique=True),  # the idempotency key
    Column("employee_id", String(64), nullable=False),
    Column("payload", Text, nullable=False),  # the JSON document sent (docs/portal-change.schema.json)
    Column("created", UTCDateTime, nullable=False),
)

# One row per outbox row and push connector (webhook, xapi), made by the delivery job as it reaches them.
deliveries = Table(
    "portal_deliveries", metadata,
    Column("seq", SeqType, primary_key=True),  # = portal_outbox.seq
    Column("connector", String(16), primary_key=True),
    Column("employee_id", String(64), nullable=False),
    Column("state", String(8), nullable=False),  # pending | sent | dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),  # a sender holds it until then (a crashed sender's lease runs out)
    Column("last_status", String(64)),  # "HTTP 500", "timeout", "connection refused" …
    Column("last_error", Text),
    Column("sent", UTCDateTime),
    Index("ix_portal_deliveries_due", "connector", "state", "next_attempt"),
    Index("ix_portal_deliveries_employee", "connector", "employee_id", "state", "seq"),
)

# How far each connector has made deliveries from the outbox.
connector_positions = Table(
    "portal_positions", metadata,
    Column("connector", String(16), primary_key=True),
    Column("seq", SeqType, nullable=False),
)


# Personal data in these tables (lrs.personal; declared by lrs.portal.init_app).
PERSONAL_DATA = [
    Personal(outbox, "employee_id", EMPLOYEE, PSEUDONYM),
    Personal(outbox, "payload", TEXT, SCRUB),  # the document sent, with the employee id in it
    Personal(deliveries, "employee_id", EMPLOYEE, PSEUDONYM),
]
