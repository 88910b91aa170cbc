"""What an admin sees of the portal push, and what they can do about it (CLI and web alike)."""
from sqlalchemy import func, select, update

from lrs.portal.tables import deliveries, outbox
from lrs.store.types import utcnow


def status(conn) -> list[dict]:
    """Per connector: queue depth, oldest pending change, dead letters, last success, last failure."""
    connectors = conn.execute(select(deliveries.c.connector).distinct()).scalars().all()
    out = []
    for name in sorted(connectors):
        mine = deliveries.c.connector == name
        counts = dict(conn.execute(select(deliveries.c.state, func.count()).where(mine)
                                   .group_by(deliveries.c.state)).all())
        oldest = conn.execute(select(func.min(outbox.c.created)).join(deliveries, deliveries.c.seq == outbox.c.seq)
                              .where(mine, deliveries.c.state == "pending")).scalar()
        last_sent = conn.execute(select(func.max(deliveries.c.sent)).where(mine)).scalar()
        failing = conn.execute(select(deliveries.c.last_status, deliveries.c.last_error).where(
            mine, deliveries.c.state != "sent", deliveries.c.attempts > 0).order_by(deliveries.c.seq.desc())
            .limit(1)).first()
        out.append({"connector": name, "pending": counts.get("pending", 0), "sent": counts.get("sent", 0),
                    "dead": counts.get("dead", 0), "oldest_pending": oldest, "last_success": last_sent,
                    "last_failure": f"{failing.last_status}: {failing.last_error or ''}".strip(": ")
                    if failing else None})
    out.append({"connector": "outbox", "changes": conn.execute(select(func.count()).select_from(outbox)).scalar()})
    return out


def dead_letters(conn, limit: int = 100) -> list[dict]:
    rows = conn.execute(select(deliveries.c.connector, deliveries.c.seq, deliveries.c.employee_id,
                               deliveries.c.attempts, deliveries.c.last_status, deliveries.c.last_error,
                               outbox.c.event_id)
                        .join(outbox, outbox.c.seq == deliveries.c.seq)
                        .where(deliveries.c.state == "dead").order_by(deliveries.c.seq).limit(limit)).all()
    return [dict(r._mapping) for r in rows]


def requeue(conn, event_ids=None, connector: str | None = None) -> int:
    """Send dead letters again (all of them, or these events), from a fresh count of attempts."""
    query = update(deliveries).where(deliveries.c.state == "dead")
    if event_ids:
        query = query.where(deliveries.c.seq.in_(select(outbox.c.seq).where(outbox.c.event_id.in_(list(event_ids)))))
    if connector:
        query = query.where(deliveries.c.connector == connector)
    return conn.execute(query.values(state="pending", attempts=0, next_attempt=utcnow(), lease_until=None)).rowcount
