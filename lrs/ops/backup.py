"""Backup and restore, and moving between LRSs: statements (with their attachments) and documents as NDJSON.

One JSON object per line:
    {"statement": {...as stored...}, "seq": 17, "stored_us": ..., "hash": "...", "attachments": [{"sha2", "contentType",
     "content": base64}]}
    {"document": {"kind", "activity_id", "agent_ifi", "registration", "doc_id", "content_type", "content": base64}}

Statements come in storing order, so a restore stores (and voids) them in the same order, through the store's own
save path (index tables, voiding, attachments), keeping each one's `stored` and `authority`. Export is resumable
(--after the last seq written); import is resumable by nature: a statement already stored is skipped."""
import base64
from types import SimpleNamespace

import orjson
from sqlalchemy import select

from lrs.store import credentials as creds
from lrs.store import documents as docs
from lrs.store import statements as store
from lrs.store.db import read_transaction, write_transaction
from lrs.store.models import attachments, documents, statements
from lrs.xapi.attachments import sha2s_of

CHUNK = 1000


def export(engine, out, after: int = 0, with_documents: bool = True, progress=None) -> tuple[int, int]:
    """Write NDJSON to the binary file `out`; returns (statements, documents) written."""
    n_statements = n_documents = 0
    last = after
    while True:
        with read_transaction(engine) as conn:
            rows = conn.execute(select(statements.c.seq, statements.c.body, statements.c.stored_us,
                                       statements.c.content_hash, statements.c.has_attachments)
                                .where(statements.c.seq > last).order_by(statements.c.seq).limit(CHUNK)).all()
            wanted = {sha2 for r in rows if r.has_attachments for sha2 in sha2s_of(orjson.loads(r.body))}
            files = {a.sha2: a for a in conn.execute(select(attachments).where(attachments.c.sha2.in_(wanted)))} \
                if wanted else {}
        if not rows:
            break
        for r in rows:
            stmt = orjson.loads(r.body)
            line = {"statement": stmt, "seq": r.seq, "stored_us": r.stored_us, "hash": r.content_hash}
            if r.has_attachments:
                line["attachments"] = [{"sha2": s, "contentType": files[s].content_type,
                                        "content": base64.b64encode(files[s].content).decode()}
                                       for s in sha2s_of(stmt) if s in files]
            out.write(orjson.dumps(line) + b"\n")
        n_statements += len(rows)
        last = rows[-1].seq
        if progress:
            progress(n_statements)
    if with_documents:
        with read_transaction(engine) as conn:
            for d in conn.execute(select(documents).order_by(documents.c.key_hash)):
                out.write(orjson.dumps({"document": {
                    "kind": d.kind, "activity_id": d.activity_id, "agent_ifi": d.agent_ifi,
                    "registration": d.registration, "doc_id": d.doc_id, "content_type": d.content_type,
                    "content": base64.b64encode(d.content).decode()}}) + b"\n")
                n_documents += 1
    return n_statements, n_documents


def restore(engine, lines, progress=None) -> tuple[int, int]:
    """Read NDJSON lines (bytes) and store them; returns (statements, documents) read."""
    with write_transaction(engine) as conn:
        credential = creds.internal(conn, "restored from an export")
    batch, parts = [], {}
    n_statements = n_documents = 0

    def flush():
        if batch:
            store.save(engine, batch, dict(parts))
            batch.clear()
            parts.clear()

    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise ValueError(f"line {number}: not JSON ({e})")
        if "statement" in line:
            stmt = line["statement"]
            for a in line.get("attachments", ()):
                parts[a["sha2"]] = SimpleNamespace(content_type=a["contentType"],
                                                   content=base64.b64decode(a["content"]))
            batch.append(store.Prepared(stmt=stmt, id=stmt["id"], credential_id=credential.id, hash=line["hash"],
                                        attachment_sha2s=[a["sha2"] for a in line.get("attachments", ())],
                                        stored_us=line["stored_us"]))
            n_statements += 1
            if len(batch) >= CHUNK:
                flush()
                if progress:
                    progress(n_statements)
        elif "document" in line:
            flush()  # documents after the statements they may refer to
            d = line["document"]
            key = docs.Key(d["kind"], d["doc_id"], d["activity_id"], d["agent_ifi"], d["registration"])
            docs.put(engine, key, d["content_type"], base64.b64decode(d["content"]), docs.Conditions(), credential.id)
            n_documents += 1
        else:
            raise ValueError(f"line {number}: neither a statement nor a document")
    flush()
    return n_statements, n_documents
