"""State, Activity Profile and Agent Profile documents: stored byte for byte, written under optimistic concurrency.

Every write reads the current document and writes the new one in one transaction that holds the document's row
(SELECT ... FOR UPDATE on PostgreSQL; on SQLite the writer's BEGIN IMMEDIATE holds the whole database), so the
If-Match / If-None-Match check and the write cannot be split by another writer: of two writers that send the
same ETag exactly one wins and the other gets PreconditionFailed. Two writers creating the same document at once
meet at the primary key on PostgreSQL; the loser's transaction is retried once it can see the winner's row.
"""
import hashlib
import json
import time
from dataclasses import dataclass

import orjson
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from lrs.store.db import read_transaction, write_transaction
from lrs.store.models import documents

STATE, ACTIVITY_PROFILE, AGENT_PROFILE = "state", "activity_profile", "agent_profile"
KINDS = (STATE, ACTIVITY_PROFILE, AGENT_PROFILE)
JSON = "application/json"
_RETRIES = 3


class PreconditionFailed(Exception):
    """If-Match or If-None-Match does not hold (HTTP 412)."""


class Conflict(Exception):
    """A PUT without If-Match / If-None-Match onto a document that exists (HTTP 409)."""

    def __init__(self, message: str, etag: str):
        super().__init__(message)
        self.etag = etag


class HeadersMissing(Exception):
    """A PUT without If-Match / If-None-Match where they are required even for a new document (HTTP 400)."""


class NotMergeable(Exception):
    """A POST onto a document that is not a JSON object (HTTP 400)."""


class TooLarge(Exception):
    """The document (after a merge) is larger than the limit (HTTP 413)."""


@dataclass(frozen=True)
class Key:
    """Which document: '' for the parts a kind does not have (and for "no registration")."""
    kind: str
    doc_id: str
    activity_id: str = ""
    agent_ifi: str = ""
    registration: str = ""

    @property
    def hash(self) -> str:
        return _hash([self.kind, self.activity_id, self.agent_ifi, self.registration, self.doc_id])

    @property
    def context_hash(self) -> str:
        return context_hash(self.kind, self.activity_id, self.agent_ifi)


def context_hash(kind: str, activity_id: str, agent_ifi: str) -> str:
    return _hash([kind, activity_id, agent_ifi])


def _hash(parts: list[str]) -> str:
    return hashlib.sha256(orjson.dumps(parts)).hexdigest()


@dataclass(frozen=True)
class Conditions:
    """The request's preconditions. if_match / if_none_match: None (header absent), "*", or a frozenset of entity
    tag values (unquoted). If-Match compares strongly, so the caller leaves weak tags out of it."""
    if_match: object = None
    if_none_match: object = None
    # A PUT with neither header onto an existing document is a Conflict (xAPI's "Concurrency").
    headers_required_when_exists: bool = False
    # ... and onto no document HeadersMissing (xAPI 1.0.3 3.1: profile PUTs MUST carry one of them).
    headers_required_when_missing: bool = False

    @property
    def any(self) -> bool:
        return self.if_match is not None or self.if_none_match is not None


@dataclass(frozen=True)
class Document:
    content_type: str
    content: bytes
    etag: str  # SHA-1 hex, unquoted
    updated_us: int
    credential_id: int


def etag_of(content: bytes) -> str:
    """xAPI 1.0.3: the SHA-1 hex digest (lower case) of the contents; 2.0 leaves the algorithm to the LRS."""
    return hashlib.sha1(content).hexdigest()


def is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == JSON


def parse_json(content: bytes):
    """The document's JSON value; ValueError when it is not JSON (strict JSON: no NaN, no BOM, UTF-8), and
    RecursionError when it nests too deep for the parser. The standard library keeps integers of any size exactly,
    so a merge loses nothing it does not replace."""
    return json.loads(content.decode("utf-8"), parse_constant=_reject_constant)


def parse_json_object(content: bytes):
    """The document as a dict, or None when it is not a JSON object."""
    try:
        value = parse_json(content)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def _serialize(obj: dict) -> bytes:
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escape (\ud800) in a string: keep it escaped
        return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _now_us() -> int:
    return time.time_ns() // 1000


# ------------------------------------------------------------------------------------------------ reading

def get(engine, key: Key) -> Document | None:
    with read_transaction(engine) as conn:
        row = conn.execute(select(documents.c.content_type, documents.c.content, documents.c.etag,
                                  documents.c.updated_us, documents.c.credential_id)
                           .where(documents.c.key_hash == key.hash)).first()
    if row is None:
        return None
    return Document(row.content_type, bytes(row.content), row.etag, row.updated_us, row.credential_id)


def list_ids(engine, kind: str, activity_id: str = "", agent_ifi: str = "", registration: str | None = None,
             since_us: int | None = None) -> tuple[list[str], int | None]:
    """The ids of the documents in this context (any registration when registration is None) updated after
    since_us (exclusive), sorted, and the newest update among them (None when there are none)."""
    c = documents.c
    q = select(c.doc_id, func.max(c.updated_us)).where(c.context_hash == context_hash(kind, activity_id, agent_ifi))
    if registration is not None:
        q = q.where(c.registration == registration)
    if since_us is not None:
        q = q.where(c.updated_us > since_us)
    q = q.group_by(c.doc_id).order_by(c.doc_id)
    with read_transaction(engine) as conn:
        rows = conn.execute(q).all()
    return [r[0] for r in rows], max((r[1] for r in rows), default=None)


# ------------------------------------------------------------------------------------------------ writing

def put(engine, key: Key, content_type: str, content: bytes, cond: Conditions, credential_id: int) -> str:
    """Store the document as given (creating or replacing it); returns its ETag."""
    def write(conn, current):
        _check(cond, current)
        return _store(conn, key, current, content_type, content, credential_id)
    return _in_transaction(engine, key, write)


def post(engine, key: Key, content_type: str, content: bytes, posted: dict, cond: Conditions, credential_id: int,
         max_bytes: int) -> str:
    """Create the document as given, or merge `posted` (the request's JSON object) into the existing JSON object:
    each top-level property of `posted` replaces the existing one. Returns the ETag."""
    def write(conn, current):
        _check(cond, current)
        if current is None:
            return _store(conn, key, None, content_type, content, credential_id)
        if not is_json(current.content_type):
            raise NotMergeable(f"the existing document has Content-Type {current.content_type}, not application/json,"
                               " so a POST cannot merge into it (replace it with PUT, or DELETE it first)")
        existing = parse_json_object(current.content)
        if existing is None:
            raise NotMergeable("the existing document is not a JSON object, so a POST cannot merge into it "
                               "(replace it with PUT, or DELETE it first)")
        existing.update(posted)
        merged = _serialize(existing)
        if len(merged) > max_bytes:
            raise TooLarge(f"the merged document would be {len(merged)} bytes; this LRS keeps documents of at most "
                           f"{max_bytes} bytes (LRS_DOCUMENT_MAX_BYTES)")
        return _store(conn, key, current, JSON, merged, credential_id)
    return _in_transaction(engine, key, write)


def delete_one(engine, key: Key, cond: Conditions) -> bool:
    """Delete the document; False when there was none (and the conditions allowed that)."""
    def write(conn, current):
        _check(cond, current)
        if current is None:
            return False
        conn.execute(delete(documents).where(documents.c.key_hash == key.hash))
        return True
    return _in_transaction(engine, key, write)


def delete_all(engine, kind: str, activity_id: str = "", agent_ifi: str = "", registration: str | None = None) -> int:
    """Delete every document of this context (of one registration, or of all when registration is None)."""
    c = documents.c
    q = delete(documents).where(c.context_hash == context_hash(kind, activity_id, agent_ifi))
    if registration is not None:
        q = q.where(c.registration == registration)
    for attempt in range(_RETRIES):
        try:
            with write_transaction(engine) as conn:
                return conn.execute(q).rowcount
        except DBAPIError as e:
            if attempt == _RETRIES - 1 or not _retryable(e):
                raise


def _retryable(e: DBAPIError) -> bool:
    """A deadlock or serialization failure (PostgreSQL): the transaction did nothing and can run again."""
    return getattr(e.orig, "sqlstate", None) in ("40P01", "40001")


def _in_transaction(engine, key: Key, write):
    for attempt in range(_RETRIES):
        try:
            with write_transaction(engine) as conn:
                row = conn.execute(select(documents.c.content_type, documents.c.content, documents.c.etag,
                                          documents.c.updated_us, documents.c.credential_id)
                                   .where(documents.c.key_hash == key.hash).with_for_update()).first()
                current = None if row is None else Document(row.content_type, bytes(row.content), row.etag,
                                                            row.updated_us, row.credential_id)
                return write(conn, current)
        except IntegrityError:
            # Another writer created this document between our read and our insert (PostgreSQL): read again.
            if attempt == _RETRIES - 1:
                raise
        except DBAPIError as e:
            if attempt == _RETRIES - 1 or not _retryable(e):
                raise


def _store(conn, key: Key, current: Document | None, content_type: str, content: bytes, credential_id: int) -> str:
    etag = etag_of(content)
    now = _now_us()
    if current is not None:
        now = max(now, current.updated_us + 1)  # Last-Modified and `since` never go backwards for one document
        conn.execute(update(documents).where(documents.c.key_hash == key.hash).values(
            content_type=content_type, content=content, etag=etag, updated_us=now, credential_id=credential_id))
    else:
        conn.execute(insert(documents).values(
            key_hash=key.hash, context_hash=key.context_hash, kind=key.kind, activity_id=key.activity_id,
            agent_ifi=key.agent_ifi, registration=key.registration, doc_id=key.doc_id, content_type=content_type,
            content=content, etag=etag, updated_us=now, credential_id=credential_id))
    return etag


def _check(cond: Conditions, current: Document | None) -> None:
    """RFC 7232 section 6 order: If-Match, then If-None-Match; then xAPI's rule for PUT without either."""
    if cond.if_match is not None:
        if current is None:
            raise PreconditionFailed("If-Match was sent but there is no such document (it may have been deleted)")
        if cond.if_match != "*" and current.etag not in cond.if_match:
            raise PreconditionFailed("the document has changed since you read it: If-Match does not match its "
                                     "current ETag; GET it again and retry with the new ETag")
    if cond.if_none_match is not None and current is not None:
        if cond.if_none_match == "*":
            raise PreconditionFailed("If-None-Match: * was sent but the document already exists")
        if current.etag in cond.if_none_match:
            raise PreconditionFailed("If-None-Match lists the document's current ETag")
    if current is None and not cond.any and cond.headers_required_when_missing:
        raise HeadersMissing("a PUT here needs If-None-Match: * to create the document (or If-Match with the ETag "
                             "of the one you read to replace it); this request has neither")
    if current is not None and not cond.any and cond.headers_required_when_exists:
        raise Conflict("the document already exists and the request has neither If-Match nor If-None-Match: "
                       "GET the document to check its current state, then send If-Match with its ETag "
                       f"(currently \"{current.etag}\") to replace it", current.etag)
