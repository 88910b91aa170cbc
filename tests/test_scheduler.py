"""Scheduled jobs: a once-per-slot job runs once across instances; failures are recorded, not fatal."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from lrs import create_app, scheduler


def test_once_job_runs_once_per_slot_across_two_apps(app):
    calls = []
    other = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "TESTING": True, "SECRET_KEY": "t"})
    for instance in (app, other):
        scheduler.add(instance, "test.once", calls.append, seconds=3600)
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
    scheduler.add(app, "test.failing", boom, seconds=60)
    assert scheduler.run(app, "test.failing") is True
    with app.extensions["lrs.engine"].connect() as conn:
        row = conn.execute(select(scheduler.job_runs)).mappings().one()
    assert row["status"] == "failed" and "portal down" in row["error"]


def test_every_instance_job_runs_each_time(app):
    calls = []
    scheduler.add(app, "test.each", lambda a: calls.append(1), seconds=5, once=False)
    assert scheduler.run(app, "test.each") and scheduler.run(app, "test.each")
    assert len(calls) == 2


def test_each_app_has_its_own_jobs(app, tmp_path):
    """Jobs belong to the app whose packages registered them: an app with the Moodle bridge configured has its sync
    job, an app in the same process without it does not, and a job added to one app is not in the other."""
    settings = tmp_path / "bridge.yaml"
    settings.write_text("source: log\n")
    bridged = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "TESTING": True, "SECRET_KEY": "t",
                          "MOODLE_BRIDGE_CONFIG": str(settings), "JOB_SECONDS": "moodle_bridge.sync=60"})
    scheduler.add(bridged, "test.only-here", lambda a: None, seconds=60)
    assert scheduler.intervals(bridged)["moodle_bridge.sync"] == 60
    assert {"moodle_bridge.sync", "test.only-here"}.isdisjoint(scheduler.jobs(app))
    assert set(scheduler.jobs(app)) < set(scheduler.jobs(bridged))  # the packages' jobs, in both
    plain = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "TESTING": True, "SECRET_KEY": "t",
                        "JOB_SECONDS": "moodle_bridge.sync=60"})
    with pytest.raises(ValueError, match="names no job 'moodle_bridge.sync'"):
        scheduler.intervals(plain)
    for instance in (bridged, plain):
        instance.extensions["lrs.engine"].dispose()
