"""Delivering the outbox to each push connector: oldest first, in order per employee, retried with exponential
backoff and jitter, dead-lettered after the last attempt or when the portal rejects the data (4xx).

A sender leases the rows it sends (short transactions: nothing is held open while the portal is called), so
several app instances on one database never send the same row at the same time; a crashed sender's lease runs
out and the row is sent again, with the same idempotency key."""
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import orjson
from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.orm import aliased

from lrs.portal.connectors import Outcome, configured
from lrs.portal.tables import connector_positions, deliveries, outbox
from lrs.store.db import settled_prefix, write_transaction
from lrs.store.types import utcnow

log = logging.getLogger(__name__)
CLAIM = 50  # rows leased at a time
GAP_SECONDS = 10.0  # as lrs.competence: an outbox gap older than this is a rolled-back write


def deliver_job(app) -> dict:
    return deliver(app.extensions["lrs.engine"], app.config)


def deliver(engine, config, connectors=None, now=None) -> dict[str, int]:
    """One round for every configured connector; returns how many were sent per connector."""
    sent = {}
    for connector in connectors if connectors is not None else configured(config):
        sent[connector.name] = _deliver_to(engine, config, connector, now)
    return sent


def _deliver_to(engine, config, connector, now=None) -> int:
    reach(engine, connector.name, now)
    sent = 0
    budget = config["PORTAL_BATCH"]
    while budget > 0:
        moment = now or utcnow()
        lease = timedelta(seconds=CLAIM * config["PORTAL_TIMEOUT"] + 30)
        claimed = _claim(engine, connector.name, min(CLAIM, budget), moment, lease)
        if not claimed:
            break
        budget -= len(claimed)
        # A claim holds at most one change per employee, so sending them side by side keeps each one's order.
        with ThreadPoolExecutor(config["PORTAL_CONCURRENCY"]) as pool:
            outcomes = list(pool.map(lambda row: connector.send(orjson.loads(row[1])), claimed))
        results = [(seq, outcome) for (seq, _payload), outcome in zip(claimed, outcomes)]
        _record(engine, connector.name, results, now or utcnow(), config)
        sent += sum(1 for _seq, outcome in results if outcome.ok)
    return sent


def reach(engine, connector: str, now: datetime | None = None) -> int:
    """Make this connector's delivery rows for the outbox rows it has not reached yet."""
    now = now or utcnow()
    with write_transaction(engine) as conn:
        position = _lock_position(conn, connector)
        rows = conn.execute(select(outbox.c.seq, outbox.c.employee_id, outbox.c.created)
                            .where(outbox.c.seq > position).order_by(outbox.c.seq).limit(5000)).all()
        rows = settled_prefix(rows, position, [r.created.timestamp() for r in rows], now.timestamp() - GAP_SECONDS)
        if not rows:
            return 0
        conn.execute(insert(deliveries), [
            {"seq": r.seq, "connector": connector, "employee_id": r.employee_id, "state": "pending", "attempts": 0,
             "next_attempt": now} for r in rows])
        conn.execute(update(connector_positions).where(connector_positions.c.connector == connector)
                     .values(seq=rows[-1].seq))
        if conn.dialect.name == "postgresql" and len(rows) >= 1000:
            # A burst of new rows makes the planner's statistics stale, and the claim's anti join then picks a
            # nested loop (minutes at 100,000 rows instead of milliseconds).
            conn.exec_driver_sql("ANALYZE portal_deliveries")
    return len(rows)


def _lock_position(conn, connector: str) -> int:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("INSERT INTO portal_positions (connector, seq) VALUES (%(c)s, 0) ON CONFLICT DO NOTHING",
                             {"c": connector})
        return conn.execute(select(connector_positions.c.seq).where(connector_positions.c.connector == connector)
                            .with_for_update()).scalar()
    seq = conn.execute(select(connector_positions.c.seq).where(connector_positions.c.connector == connector)).scalar()
    if seq is None:
        conn.execute(insert(connector_positions).values(connector=connector, seq=0))
        seq = 0
    return seq


def _claim(engine, connector: str, n: int, now: datetime, lease: timedelta) -> list[tuple[int, str]]:
    """Lease up to n due rows: for each employee only their oldest pending one (order per employee)."""
    earlier = aliased(deliveries)
    with write_transaction(engine) as conn:
        query = (select(deliveries.c.seq).where(
            deliveries.c.connector == connector, deliveries.c.state == "pending", deliveries.c.next_attempt <= now,
            (deliveries.c.lease_until.is_(None)) | (deliveries.c.lease_until < now),
            ~exists().where(and_(earlier.c.connector == connector, earlier.c.employee_id == deliveries.c.employee_id,
                                 earlier.c.state == "pending", earlier.c.seq < deliveries.c.seq)))
                 .order_by(deliveries.c.seq).limit(n))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=deliveries)
        seqs = conn.execute(query).scalars().all()
        if not seqs:
            return []
        conn.execute(update(deliveries).where(deliveries.c.connector == connector, deliveries.c.seq.in_(seqs))
                     .values(lease_until=now + lease))
        return [tuple(r) for r in conn.execute(select(outbox.c.seq, outbox.c.payload)
                                                 .where(outbox.c.seq.in_(seqs)).order_by(outbox.c.seq))]


def _record(engine, connector: str, results: list[tuple[int, Outcome]], now: datetime, config) -> None:
    with write_transaction(engine) as conn:
        attempts = dict(conn.execute(select(deliveries.c.seq, deliveries.c.attempts).where(
            deliveries.c.connector == connector, deliveries.c.seq.in_([seq for seq, _o in results]))).all())
        for seq, outcome in results:
            tries = attempts[seq] + 1
            values = {"attempts": tries, "lease_until": None, "last_status": outcome.status,
                      "last_error": outcome.error or None}
            if outcome.ok:
                values.update(state="sent", sent=now)
            elif not outcome.retry or tries >= config["PORTAL_MAX_ATTEMPTS"]:
                values.update(state="dead")
            else:
                values.update(next_attempt=now + backoff(tries, config["PORTAL_BACKOFF_SECONDS"]))
            conn.execute(update(deliveries).where(deliveries.c.connector == connector, deliveries.c.seq == seq)
                         .values(**values))
            log.log(logging.INFO if outcome.ok else logging.WARNING, "portal delivery",
                    extra={"connector": connector, "outbox_seq": seq, "attempt": tries, "outcome": outcome.status,
                           "state": values.get("state", "pending")})


def backoff(attempts: int, base: float) -> timedelta:
    """Exponential, capped at an hour, with full jitter (so many stalled senders do not retry in step)."""
    ceiling = min(3600.0, base * 2 ** (attempts - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))
