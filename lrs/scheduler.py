"""Scheduled jobs: each app's jobs (in its lrs.registry), run by APScheduler 3 inside each app process.

    def init_app(app):
        scheduler.add(app, "competence.expiry", move_expiring, seconds=86400)

A job with once=True (the default) runs once per time slot across all app instances on one database: the
instance that records (job id, slot) in `job_runs` runs it, the others skip that slot. Slots are aligned to the
epoch, so every instance agrees on them. A job with once=False (e.g. outbox delivery, which locks its own rows)
runs in every instance, on every tick."""
import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import Column, Index, String, Table, Text
from sqlalchemy.exc import IntegrityError

from lrs import registry
from lrs.store.db import write_transaction
from lrs.store.models import metadata
from lrs.store.types import UTCDateTime, utcnow

log = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"

job_runs = Table(
    "job_runs", metadata,
    Column("job_id", String(100), primary_key=True),
    Column("slot", UTCDateTime, primary_key=True),  # start of the time slot this run covers
    Column("instance", String(200), nullable=False),
    Column("started", UTCDateTime, nullable=False),
    Column("finished", UTCDateTime),
    Column("status", String(16), nullable=False),  # running | ok | failed
    Column("error", Text),
    Index("ix_job_runs_started", "started"),
)


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable
    seconds: int
    once: bool


def add(app, job_id: str, func: Callable, *, seconds: int, once: bool = True) -> None:
    """Let this app run `func(app)` every `seconds` (called from a package's init_app)."""
    registry.of(app).jobs[job_id] = Job(job_id, func, seconds, once)


def jobs(app) -> dict[str, Job]:
    return registry.of(app).jobs


def intervals(app) -> dict[str, int]:
    """Each job's seconds: its default, or what JOB_SECONDS says ("competence.expiry=3600,portal.deliver=10")."""
    known = jobs(app)
    seconds = {j.id: j.seconds for j in known.values()}
    for item in filter(None, (part.strip() for part in app.config.get("JOB_SECONDS", "").split(","))):
        job_id, _, value = item.partition("=")
        job_id = job_id.strip()
        if job_id not in known:
            raise ValueError(f"LRS_JOB_SECONDS names no job {job_id!r}; the jobs are: {', '.join(sorted(known))}")
        if not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"LRS_JOB_SECONDS: {item!r} is not job=seconds with a whole number of seconds >= 1")
        seconds[job_id] = int(value)
    return seconds


def slot_of(now: datetime, seconds: int) -> datetime:
    elapsed = int((now - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=elapsed - elapsed % seconds)


def run(app, job_id: str, now: datetime | None = None) -> bool:
    """Run one job now (as the scheduler does); False when another instance already has this slot."""
    job_ = jobs(app)[job_id]
    engine = app.extensions["lrs.engine"]
    slot = slot_of(now or utcnow(), intervals(app)[job_id])
    if job_.once:
        try:
            with write_transaction(engine) as conn:
                conn.execute(job_runs.insert().values(job_id=job_id, slot=slot, instance=INSTANCE, started=utcnow(),
                                                      status="running"))
        except IntegrityError:
            log.debug("job skipped: slot taken", extra={"job": job_id, "slot": slot.isoformat(),
                                                        "instance": INSTANCE})
            return False
    status, error = "ok", None
    try:
        with app.app_context():
            job_.func(app)
    except Exception as exc:  # a failed run is recorded and retried at the next slot; the scheduler goes on
        log.exception("job %s failed", job_id)
        status, error = "failed", repr(exc)[:2000]
    if job_.once:
        log.info("job ran", extra={"job": job_id, "slot": slot.isoformat(), "instance": INSTANCE, "status": status})
        with write_transaction(engine) as conn:
            conn.execute(job_runs.update().where(job_runs.c.job_id == job_id, job_runs.c.slot == slot)
                         .values(finished=utcnow(), status=status, error=error))
    return True


def start(app):
    """Start this process's scheduler with every registered job (called by create_app when SCHEDULER is on)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler = BackgroundScheduler(timezone=timezone.utc, daemon=True)
    for job_id, seconds in intervals(app).items():
        scheduler.add_job(run, IntervalTrigger(seconds=seconds, start_date=EPOCH), args=(app, job_id),
                          id=job_id, coalesce=True, max_instances=1, misfire_grace_time=seconds)
    scheduler.start()
    app.extensions["lrs.scheduler"] = scheduler
    return scheduler
