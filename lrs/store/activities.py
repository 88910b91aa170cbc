"""Canonical activity definitions: each activity's definitions from stored statements, merged.

Language maps are merged (a new language is added, a repeated one takes the newer text); other properties take
the newer value. Most batches repeat definitions the LRS already has, so the common path is one SELECT."""
import time
import weakref

import orjson
from sqlalchemy import select, update

from lrs.store.db import bulk_insert
from lrs.store.models import activities

_LANGUAGE_MAPS = ("name", "description")


def merge(old: dict, new: dict) -> dict:
    out = dict(old)
    for key, value in new.items():
        if key in _LANGUAGE_MAPS and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


# Per database, what this process last wrote or read per activity: a batch that adds nothing skips the database.
_seen_by_engine: "weakref.WeakKeyDictionary[object, dict[str, dict]]" = weakref.WeakKeyDictionary()
_SEEN_MAX = 50_000


def record(conn, definitions: dict[str, dict]) -> dict:
    """Merge these definitions (activity id -> definition, in statement order) into the canonical ones.
    Returns what was written, for `remember` once the transaction has committed."""
    definitions = unseen(conn.engine, definitions)
    if not definitions:
        return {}
    ids = sorted(definitions)  # one lock order for every writer: no deadlocks between batches
    known = _load(conn, ids, lock=False)
    changed = [i for i in ids if i not in known or merge(known[i], definitions[i]) != known[i]]
    remember(conn.engine, {i: known[i] for i in ids if i not in changed})
    if not changed:
        return {}
    if conn.dialect.name == "postgresql":
        # Make sure every row exists, then lock them, so two batches merging one activity lose nothing.
        conn.exec_driver_sql(
            "INSERT INTO activities (activity_id, definition, updated_us) SELECT unnest(%(ids)s::text[]), '{}', 0 "
            "ON CONFLICT DO NOTHING", {"ids": changed})
        known = _load(conn, changed, lock=True)
    # SQLite: the writer already holds the database lock (BEGIN IMMEDIATE).
    now = time.time_ns() // 1000
    fresh, written = [], {}
    for activity_id in changed:
        written[activity_id] = merge(known.get(activity_id, {}), definitions[activity_id])
        merged = orjson.dumps(written[activity_id]).decode()
        if activity_id in known:
            conn.execute(update(activities).where(activities.c.activity_id == activity_id)
                         .values(definition=merged, updated_us=now))
        else:
            fresh.append({"activity_id": activity_id, "definition": merged, "updated_us": now})
    bulk_insert(conn, (activities, fresh))
    return written


def unseen(engine, definitions: dict[str, dict]) -> dict[str, dict]:
    """Those of the definitions that would change what this process last wrote or read (record skips the rest)."""
    seen = _seen_by_engine.setdefault(engine, {})
    return {i: d for i, d in definitions.items() if i not in seen or (seen[i] != d and merge(seen[i], d) != seen[i])}


def remember(engine, definitions: dict) -> None:
    """Call after commit only: a rolled-back batch must not make the next one skip its write."""
    seen = _seen_by_engine.setdefault(engine, {})
    if len(seen) + len(definitions) > _SEEN_MAX:
        seen.clear()
    seen.update(definitions)


def _load(conn, ids, lock: bool) -> dict[str, dict]:
    query = select(activities.c.activity_id, activities.c.definition).where(activities.c.activity_id.in_(ids))
    if lock:
        # Locked in the order returned: sorted, one order for every writer (a heap-order scan can deadlock).
        query = query.order_by(activities.c.activity_id).with_for_update()
    return {row.activity_id: orjson.loads(row.definition) for row in conn.execute(query)}


def definition(conn, activity_id: str) -> dict | None:
    row = conn.execute(select(activities.c.definition).where(activities.c.activity_id == activity_id)).first()
    return orjson.loads(row.definition) if row else None
