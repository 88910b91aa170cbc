"""Scheduled jobs: a once-per-slot job runs once across instances; failures are recorded, not fatal."""
from datetime import datetime, timezone

from sqlalchemy import select

from lrs import create_app, scheduler


def test_once_job_runs_once_per_slot_across_two_apps(app):
    calls = []
    scheduler.job("test.once", seconds=3600)(lambda a: calls.append(a))
    other = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "TESTING": True, "SECRET_KEY": "t"})
    now = datetime(2026, 11, 24, 10, 15, tzinfo=timezone.utc)
    assert scheduler.run(app, "test.once", now) is True
    assert scheduler.run(other, "test.once", now.replace(minute=59)) is False  # same hour: taken
    assert scheduler.run(other, "test.once", now.replace(hour=11)) is True  # next slot
    assert len(calls) == 2
    with app.extensions["lrs.engine"].connect() as conn:
        rows = conn.execute(select(scheduler.job_runs).order_by(scheduler.job_runs.c.slot)).mappings().all()
    assert [r["slot"] for r in rows] == [datetime(2026, 11, 24, h, tzinfo=timezone.utc) for h in (10, 11)]
    assert {r["status"] for r in rows} == {"ok"}
    other.extensions["lrs.engine"].dispose()


def test_failing_job_is_recorded_and_does_not_raise(app):
    def boom(_app):
        raise RuntimeError("portal down")
    scheduler.job("test.failing", seconds=60)(boom)
    assert scheduler.run(app, "test.failing") is True
    with app.extensions["lrs.engine"].connect() as conn:
        row = conn.execute(select(scheduler.job_runs)).mappings().one()
    assert row["status"] == "failed" and "portal down" in row["error"]


def test_every_instance_job_runs_each_time(app):
    calls = []
    scheduler.job("test.each", seconds=5, once=False)(lambda a: calls.append(1))
    assert scheduler.run(app, "test.each") and scheduler.run(app, "test.each")
    assert len(calls) == 2
