"""Erasures and retention runs on record: who, when, what (a pseudonym or counts, never an erased identity)."""
from sqlalchemy import insert, select

from lrs.privacy.tables import privacy_events
from lrs.store.types import utcnow


def record(conn, kind: str, actor: str, detail: str) -> None:
    conn.execute(insert(privacy_events).values(at=utcnow(), kind=kind, actor=actor, detail=detail))


def recent(conn, limit: int = 50) -> list[dict]:
    return [dict(r) for r in conn.execute(select(privacy_events).order_by(privacy_events.c.seq.desc()).limit(limit))
            .mappings()]
