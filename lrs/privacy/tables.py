"""Tables of the privacy package: the erasures and retention runs done (the access log's is in lrs.accesslog)."""
from sqlalchemy import Column, Index, String, Table, Text

from lrs.personal import KEEP, USER, Personal
from lrs.store.models import SeqType, metadata
from lrs.store.types import UTCDateTime

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

PERSONAL_DATA = [
    Personal(privacy_events, "actor", USER, KEEP, "who erased or ran retention: an admin's user id or an operator"),
]
