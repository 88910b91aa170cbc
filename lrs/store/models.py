"""Tables. Statements are kept as sent (JSON text) beside the columns that queries need.

Queries filter through two index tables, `statement_agent` and `statement_activity`. Each row belongs to a
"profile": the statement itself (profile = its own seq) or, for a statement whose object is a StatementRef,
each profile of the statement it targets, copied in. That is how xAPI's rule "a statement that targets a
matching statement matches too" (recursively) becomes a plain indexed lookup.

The indexes by agent and by activity hold a hash of the IRI (and of the verb), not its text: on PostgreSQL its own
64-bit hash, a third of the size, so they stay in memory as the store grows; on SQLite a CRC-32 (`lrs_key`, a
function every connection registers), which takes a third of SQLite's work off each stored statement
(docs/performance.md). A query names the text and its hash through `iri_match()`, which every filter on an agent or
activity uses.
"""
import zlib

from sqlalchemy import (BigInteger, Boolean, Column, Index, Integer, LargeBinary, MetaData, String, Table,
                        Text, and_, func, literal, literal_column, text)

metadata = MetaData()

# Integer primary keys autoincrement on SQLite only when they are INTEGER.
SeqType = BigInteger().with_variant(Integer(), "sqlite")

statements = Table(
    "statements", metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),  # order of storing: the paging key
    Column("id", String(36), nullable=False, unique=True),  # lower-case UUID
    Column("stored_us", BigInteger, nullable=False),  # microseconds since the epoch (UTC)
    Column("verb_id", Text, nullable=False),
    Column("registration", String(36)),
    Column("ref_target", String(36)),  # id of the statement targeted by a StatementRef object
    Column("voided", Boolean, nullable=False, default=False),
    Column("is_voiding", Boolean, nullable=False, default=False),
    Column("credential_id", Integer, nullable=False),  # the authority's credential (for read/mine)
    Column("content_hash", String(64), nullable=False),  # of the statement as submitted, for 409 checks
    Column("has_attachments", Boolean, nullable=False, default=False),
    Column("body", Text, nullable=False),  # the statement as stored (format=exact)
    Index("ix_statements_stored", "stored_us"),
    # Partial: most statements target nothing, and those rows need no entry.
    Index("ix_statements_ref_target", "ref_target", sqlite_where=text("ref_target IS NOT NULL"),
          postgresql_where=text("ref_target IS NOT NULL")),
)

statement_agent = Table(
    "statement_agent", metadata,
    Column("seq", SeqType, nullable=False),
    Column("profile", SeqType, nullable=False),
    Column("ifi", Text, nullable=False),  # e.g. "mbox:mailto:kari@example.no"
    Column("related", Boolean, nullable=False),  # false: actor or object; true: only for related_agents
    Column("is_actor", Boolean, nullable=False),  # the profile's actor: one row per profile
    Column("verb_id", Text, nullable=False),
    Column("registration", String(36)),
    Index("ix_statement_agent_seq", "seq"),
    # Queries by verb or registration alone go through the one actor row of each profile.
    Index("ix_statement_agent_verb", "verb_id", "seq", sqlite_where=text("is_actor = 1"), postgresql_where=text("is_actor")),
    Index("ix_statement_agent_registration", "registration", "seq",
          sqlite_where=text("is_actor = 1 AND registration IS NOT NULL"),
          postgresql_where=text("is_actor AND registration IS NOT NULL")),
)

statement_activity = Table(
    "statement_activity", metadata,
    Column("seq", SeqType, nullable=False),
    Column("profile", SeqType, nullable=False),
    Column("activity_id", Text, nullable=False),
    Column("related", Boolean, nullable=False),  # false: the object; true: context activities, substatement
    Column("verb_id", Text, nullable=False),
    Column("registration", String(36)),
    Index("ix_statement_activity_seq", "seq"),
)


def iri_key(text: str | None) -> int | None:
    """SQLite's index key for an IRI, its function `lrs_key` (lrs.store.db registers it on every connection): CRC-32,
    the same on every platform and version, as the indexes hold it. Cheap to compute, as SQLite calls it for every
    index row it writes."""
    return None if text is None else zlib.crc32(text.encode())


def _key(dialect: str, column):
    """The narrow key the indexes by agent and activity hold: PostgreSQL's own hash (stable across versions: hash
    partitioning relies on it), or SQLite's `lrs_key`."""
    if dialect == "postgresql":
        return func.hashtextextended(column, literal_column("0"))  # the seed written out, as the index has it
    return func.lrs_key(column)


def iri_match(dialect: str, column, value):
    """`column = value` (or IN, for a list) for a column of the indexes below, by the hashes its indexes hold, so
    that they serve; the text is still compared (two IRIs may share a hash)."""
    many = isinstance(value, (list, tuple, set, frozenset))
    exact = column.in_(value) if many else column == value
    if dialect == "sqlite":
        # Told nothing, SQLite's planner takes the text check for a second filter as selective as the first and walks
        # the whole store newest first instead of the index; likely(): it passes where the hash did.
        exact = func.likely(exact)
    if many:
        return and_(_key(dialect, column).in_([_key(dialect, literal(v, Text)) for v in value]), exact)
    return and_(_key(dialect, column) == _key(dialect, value if hasattr(value, "compile") else literal(value, Text)),
                exact)


def _indexes(name: str, table: Table, column: str):
    """By `column`, and by it with the verb, newest first: by their hashes (`_key`). The one with the verb holds only
    the rows a query without related_agents / related_activities reads (not `related`; in the benches' data a third
    of the activity rows and half the agent rows): 12 % less CPU a stored statement on SQLite, the two indexes a third
    of the size on PostgreSQL (migration 0023, docs/performance.md). A query with the related ones and a verb walks
    the index without the verb."""
    c = table.c
    for suffix, cols, where in (("", (c[column],), None), ("_verb", (c[column], c.verb_id), ~c.related)):
        for dialect in ("sqlite", "postgresql"):
            Index(f"{name}{suffix}_key", *(_key(dialect, col) for col in cols), c.seq,
                  **{f"{dialect}_where": where}).ddl_if(dialect=dialect)


_indexes("ix_statement_agent_ifi", statement_agent, "ifi")
_indexes("ix_statement_activity_activity", statement_activity, "activity_id")

attachments = Table(
    "attachments", metadata,
    Column("sha2", String(128), primary_key=True),
    Column("content_type", Text, nullable=False),
    Column("content", LargeBinary, nullable=False),
)

credentials = Table(
    "credentials", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),  # the Basic auth user name
    Column("secret_hash", String(64), nullable=False),  # sha256 of a 256-bit random secret
    Column("name", Text, nullable=False),
    Column("scopes", Text, nullable=False),  # space-separated xAPI scopes
    Column("authority", Text, nullable=False),  # JSON Agent used as statement authority
    Column("created_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger),
)

# The LRS's canonical definition of each activity, merged from the definitions in statements (GET /activities).
activities = Table(
    "activities", metadata,
    Column("activity_id", Text, primary_key=True),
    Column("definition", Text, nullable=False),  # JSON
    Column("updated_us", BigInteger, nullable=False),
)

# State, Activity Profile and Agent Profile documents (lrs.store.documents), stored byte for byte.
# A document is identified by (kind, activity_id, agent_ifi, registration, doc_id), with '' for a part its kind does
# not have. The identity is kept unique through `key_hash`, a SHA-256 of those five values: a unique index on the
# values themselves would fail (PostgreSQL's btree takes at most ~2.7 kB per entry) for long IRIs or ids.
# `context_hash` (kind, activity_id, agent_ifi) finds the documents a multiple-document GET or DELETE names.
documents = Table(
    "documents", metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("context_hash", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # state | activity_profile | agent_profile
    Column("activity_id", Text, nullable=False),  # '' for agent profiles
    Column("agent_ifi", Text, nullable=False),  # '' for activity profiles
    Column("registration", String(36), nullable=False),  # lower-case UUID, '' when none (and for profiles)
    Column("doc_id", Text, nullable=False),  # stateId or profileId
    Column("content_type", Text, nullable=False),  # as the writer sent it
    Column("content", LargeBinary, nullable=False),
    Column("etag", String(40), nullable=False),  # SHA-1 hex of content (unquoted)
    Column("updated_us", BigInteger, nullable=False),  # microseconds since the epoch (UTC)
    Column("credential_id", Integer, nullable=False),  # the credential that wrote it last
    Index("ix_documents_context", "context_hash", "registration"),
)
