"""The monthly snapshot job and the digest hook."""
import logging

from sqlalchemy.exc import IntegrityError

from lrs.capacity import indicators
from lrs.store.db import write_transaction
from lrs.store.types import utcnow

log = logging.getLogger(__name__)


def monthly_snapshot(app, now=None) -> str | None:
    """Take last month's snapshot if nobody has. It runs daily (once per day across instances, lrs.scheduler), and
    the month's row in snapshot_months is the claim: a second instance, or a second run, finds it and stops; two
    racing transactions cannot both insert it (primary key), and the loser's rows roll back with its claim."""
    settings = app.extensions["competence.settings"]
    today = settings.day(now or utcnow())
    month = indicators.previous_month(today)
    try:
        with write_transaction(app.extensions["lrs.engine"]) as conn:
            taken = indicators.take(conn, month, today, settings.zone, "job")
    except IntegrityError:
        taken = False
    if taken:
        log.info("indicator snapshot taken", extra={"month": month})
    return month if taken else None

