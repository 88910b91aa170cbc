"""Scale-out on PostgreSQL: several app instances on one database, each with its own scheduler."""
import json
import time
from collections import Counter

from sqlalchemy import select

from lrs.scheduler import job_runs
from lrs.store.db import make_engine
from tests.conftest import fresh_database
from tests.server_support import Server

ONCE_JOBS = ("competence.expiry", "competence.reminders")


def log_entries(paths, message):
    out = []
    for path in paths:
        for line in path.read_text().splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("message") == message and entry.get("job") in ONCE_JOBS:
                    out.append(entry)
    return out


def test_two_instances_with_schedulers_on_one_postgresql_run_each_job_once_per_slot(tmp_path, worker_id):
    # Daily jobs every 2 seconds, so a few slots pass during the test; four schedulers (2 instances x 2 workers) race.
    env = {"LRS_JOB_SECONDS": ",".join(f"{j}=2" for j in ONCE_JOBS), "LRS_LOG_LEVEL": "DEBUG",
           "LRS_SECRET_KEY": "t"}
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    with fresh_database("postgresql", tmp_path, f"scaleout_{worker_id}") as url:
        servers = [Server(url, workers=2, threads=2, env=env, log=str(path)) for path in logs]
        for server in servers:
            server.start(timeout=60)
        try:
            # A server answers once one worker is up; under load its second worker's scheduler starts later,
            # so wait for all four workers to have raced as well as for the slots.
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                time.sleep(1)
                ran = log_entries(logs, "job ran")
                raced = {e["instance"] for e in ran + log_entries(logs, "job skipped: slot taken")}
                if len(raced) == 4 and all(sum(e["job"] == j for e in ran) >= 4 for j in ONCE_JOBS):
                    break
        finally:
            for server in servers:
                server.stop()
        engine = make_engine(url)
        with engine.connect() as conn:
            recorded = {(r.job_id, r.slot.isoformat()): r for r in conn.execute(select(job_runs))}
        engine.dispose()

    ran = log_entries(logs, "job ran")
    skipped = log_entries(logs, "job skipped: slot taken")
    runs = Counter((e["job"], e["slot"]) for e in ran)
    assert runs and max(runs.values()) == 1, f"a slot ran twice: {[k for k, n in runs.items() if n > 1]}"
    for j in ONCE_JOBS:
        assert sum(e["job"] == j for e in ran) >= 4, f"{j} ran in too few slots: {runs}"
    assert set(runs) <= set(recorded) and {r.status for r in recorded.values()} <= {"ok", "running"}
    # Every one of the four workers raced for the slots; the losers skipped them.
    assert len({e["instance"] for e in ran + skipped}) == 4
    assert skipped and not {(e["job"], e["slot"]) for e in skipped} - set(runs)


def test_a_job_interval_that_names_no_job_is_refused(tmp_path):
    import pytest

    from lrs import create_app
    with pytest.raises(ValueError, match="names no job 'competence.expirry'"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SECRET_KEY": "t", "SCHEDULER": True,
                    "JOB_SECONDS": "competence.expirry=60"})
