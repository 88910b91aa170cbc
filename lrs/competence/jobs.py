"""The engine's scheduled jobs (lrs/scheduler.py)."""
from datetime import timedelta

from sqlalchemy import or_, select

from lrs.competence import engine as eng
from lrs.competence.tables import competences, plan_items
from lrs.store.db import read_transaction, write_transaction
from lrs.store.types import utcnow

MAX_RENEWAL_DAYS = 3660  # no renewal window is longer; bounds what the expiry job looks at


def settings_of(app) -> eng.Settings:
    return app.extensions["competence.settings"]


def process(app):
    """New statements become evidence and plan changes within seconds (each instance tries; one at a time reads)."""
    eng.process_all_new(app.extensions["lrs.engine"], settings_of(app))


def expiry(app, now=None):
    """As days pass: fulfilled becomes expiring soon, then expired; not yet due becomes missing."""
    settings, now = settings_of(app), now or utcnow()
    today = settings.day(now)
    engine = app.extensions["lrs.engine"]
    with read_transaction(engine) as conn:
        due = conn.execute(
            select(plan_items.c.employee_id, plan_items.c.status, plan_items.c.valid_until, plan_items.c.due_on,
                   competences.c.renewal_days)
            .join(competences, competences.c.code == plan_items.c.competence_code)
            .where(or_(plan_items.c.valid_until <= today + timedelta(days=MAX_RENEWAL_DAYS),
                       plan_items.c.due_on <= today),
                   plan_items.c.status.in_(("fulfilled", "expiring", "not_yet_due")))).all()
    ids = {r.employee_id for r in due
           if (r.status == "not_yet_due" and r.due_on <= today)
           or (r.status == "fulfilled" and r.valid_until and today >= r.valid_until - timedelta(days=r.renewal_days))
           or (r.status == "expiring" and r.valid_until and today >= r.valid_until)}
    ids = sorted(ids)
    for i in range(0, len(ids), 1000):
        with write_transaction(engine) as conn:
            eng.recompute(conn, ids[i:i + 1000], settings, now)
    return len(ids)
