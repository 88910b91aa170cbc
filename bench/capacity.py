"""Capacity and indicators at a region's size: the 36-month forecast of one trust, the monthly snapshot, the
region's trend page.

Population (written straight into the tables, in bulk, so the setup takes a minute rather than the engine's full
recompute): --employees (80,000) in 4 trusts x 10 clinics x 5 departments; 30 competences (validity 12, 24 or
36 months); each employee required to hold 10 of them (by job role); each plan item fulfilled or expiring (70 %,
valid until a day in the next validity period), expired, missing, not yet due or awaiting attestation; 3 % with a
planned leaving day and 1 % with a known last day within 36 months; each plan item's status in the status history
40 days ago. 200 staffing targets (160 on departments, 40 on clinics; 10 % by job role, 10 % per shift).

Printed, beside the targets:
  forecast     the 36-month forecast of the biggest trust (its 50 targets), as /capacity?unit=… computes it
               (target: under 2 s)
  target page  the forecast of one clinic's target with its renewers, as /capacity/targets/<id> computes it
               (only that target), beside the whole clinic's with renewers (what the page computed before)
  snapshot     last month's indicator snapshot, from the status history (target: under 2 minutes)
  backfill     the two months before it, from the status history (everyone's plan changed since: the history
               is read for all, and the plans as they are serve nobody)
  trend page   GET /indicators for the region with 36 months of snapshots, signed in as the regional role
               (target: under 1 s)

    .venv/bin/python bench/capacity.py [--db sqlite|postgresql] [--employees 80000]

Numbers only: nothing here passes or fails on time.
"""
import argparse
import os
import random
import re
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

from dateutil.relativedelta import relativedelta  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from lrs import create_app  # noqa: E402
from lrs.capacity import forecast, indicators, targets  # noqa: E402
from lrs.capacity.tables import indicator_snapshots, snapshot_months  # noqa: E402
from lrs.competence.tables import (competences, employee_roles, employees, job_roles, plan_items,  # noqa: E402
                                   status_changes, units)
from lrs.store.db import read_transaction, write_transaction  # noqa: E402
from lrs.store.migrate import upgrade  # noqa: E402

TRUSTS, CLINICS, DEPARTMENTS = 4, 10, 5
N_COMPETENCES, PER_ROLE, N_ROLES = 30, 10, 6
N_TARGETS = 200


def populate(engine, n_employees: int, today: date, rng: random.Random):
    unit_rows = []
    for t in range(TRUSTS):
        unit_rows.append({"id": f"hf{t}", "parent_id": None, "name": f"Helseforetak {t}", "kind": "trust",
                          "path": f"/hf{t}/"})
        for k in range(CLINICS):
            cid = f"hf{t}-k{k}"
            unit_rows.append({"id": cid, "parent_id": f"hf{t}", "name": f"Klinikk {t}.{k}", "kind": "clinic",
                              "path": f"/hf{t}/{cid}/"})
            for d in range(DEPARTMENTS):
                did = f"{cid}-a{d}"
                unit_rows.append({"id": did, "parent_id": cid, "name": f"Avdeling {t}.{k}.{d}",
                                  "kind": "department", "path": f"/hf{t}/{cid}/{did}/"})
    departments = [u["id"] for u in unit_rows if u["kind"] == "department"]
    validity = {f"K{k:02d}": 12 * (1 + k % 3) for k in range(N_COMPETENCES)}
    # Role r requires competences r*5 .. r*5+9 (mod 30): 10 each, overlapping.
    required = {f"rolle{r}": [f"K{(r * 5 + i) % N_COMPETENCES:02d}" for i in range(PER_ROLE)] for r in range(N_ROLES)}
    stamp = datetime.now(timezone.utc) - timedelta(days=40)
    with write_transaction(engine) as conn:
        conn.execute(insert(units), unit_rows)
        conn.execute(insert(job_roles), [{"code": r, "name_nb": r, "name_en": r} for r in required])
        conn.execute(insert(competences), [{"code": code, "name_nb": f"Kompetanse {code}", "name_en": code,
                                            "area": "A", "validity_months": v, "renewal_days": 60}
                                           for code, v in validity.items()])
    people, roles, items, history = [], [], [], []

    def flush(final=False):
        if len(items) < 50_000 and not final:
            return
        with write_transaction(engine) as conn:
            for table, rows in ((employees, people), (employee_roles, roles), (plan_items, items),
                                (status_changes, history)):
                if rows:
                    conn.execute(insert(table), rows)
                rows.clear()

    for n in range(n_employees):
        eid = f"e{n:06d}"
        role = f"rolle{n % N_ROLES}"
        leaving = rng.random()
        people.append({"id": eid, "name": f"Ansatt {n}", "email": None, "unit_id": departments[n % len(departments)],
                       "started_on": date(2015, 1, 1) + timedelta(days=rng.randrange(3500)),
                       "left_on": today + timedelta(days=rng.randrange(1, 1000)) if leaving < 0.01 else None,
                       "planned_leaving_on": today + timedelta(days=rng.randrange(1, 1090))
                       if 0.01 <= leaving < 0.04 else None,
                       "leaving_reason": "retirement" if 0.01 <= leaving < 0.04 else None})
        roles.append({"employee_id": eid, "role_code": role})
        for code in required[role]:
            x = rng.random()
            valid_until = fulfilled = due = None
            if x < 0.70:
                valid_until = today + timedelta(days=rng.randrange(1, validity[code] * 30))
                fulfilled = valid_until - relativedelta(months=validity[code])
                status = "expiring" if valid_until <= today + timedelta(days=60) else "fulfilled"
            elif x < 0.80:
                status, fulfilled = "expired", today - timedelta(days=rng.randrange(400, 900))
                valid_until = fulfilled + relativedelta(months=validity[code])
            elif x < 0.90:
                status, due = "missing", today - timedelta(days=rng.randrange(1, 300))
            elif x < 0.95:
                status, due = "not_yet_due", today + timedelta(days=rng.randrange(1, 180))
            else:
                status = "awaiting_attestation"
            items.append({"employee_id": eid, "competence_code": code, "mandatory": True, "due_on": due,
                          "status": status, "fulfilled_on": fulfilled, "valid_until": valid_until, "evidence": "[]",
                          "updated": stamp})
            history.append({"event_id": f"{eid}-{code}", "employee_id": eid, "competence_code": code,
                            "status": status, "previous_status": None, "fulfilled_on": fulfilled,
                            "valid_until": valid_until, "evidence": "[]", "changed": stamp})
        flush()
    flush(final=True)
    clinics = [u["id"] for u in unit_rows if u["kind"] == "clinic"]
    wanted = []
    for i in range(N_TARGETS):
        unit = departments[(i * 7) % len(departments)] if i < 160 else clinics[i - 160]
        per = "shift" if i % 10 == 3 else "unit"
        code = f"K{(i * 11) % N_COMPETENCES:02d}"
        wanted.append({"id": f"T{i:03d}", "unit": unit, "competence": code,
                       "role": f"rolle{i % N_ROLES}" if i % 10 == 5 else None, "per": per,
                       "minimum": rng.randrange(2, 8) if per == "shift" else rng.randrange(5, 60 if i >= 160 else 25),
                       "groups": 3 if per == "shift" else 1, "note": None, "active": True})
    with write_transaction(engine) as conn:
        targets.save(conn, wanted)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def timed(func, repeat=3):
    """Median wall-clock seconds, median CPU seconds of this process (SQLite runs in it; on a shared machine the
    CPU time is what the work costs), and the last result."""
    times, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = func()
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(times), statistics.median(cpus), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--employees", type=int, default=80_000)
    args = parser.parse_args()
    url = c.database(args.db, "lrs_bench_capacity")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True, "WTF_CSRF_ENABLED": False})
    engine = app.extensions["lrs.engine"]
    upgrade(engine)
    settings = app.extensions["competence.settings"]
    today = settings.day(datetime.now(timezone.utc))
    start = time.perf_counter()
    populate(engine, args.employees, today, random.Random(21))
    with read_transaction(engine) as conn:
        n_items = conn.execute(select(text("count(*)")).select_from(plan_items)).scalar()
    print(f"setup: {args.employees} employees, {n_items} plan items, {N_TARGETS} targets, {TRUSTS} trusts "
          f"({time.perf_counter() - start:.0f} s, {args.db})")

    def trust_forecast():
        with read_transaction(engine) as conn:
            return forecast.forecast(conn, "hf0", today)
    seconds, cpu, result = timed(trust_forecast)
    print(f"forecast   one trust, 36 months, {len(result['targets'])} targets "
          f"({args.employees // TRUSTS} employees): {seconds:.2f} s (CPU {cpu:.2f} s)   (target < 2 s)")

    target = f"T{N_TARGETS - 40}"  # the first clinic target: hf0-k0, its departments' targets below it

    def target_page(only):
        with read_transaction(engine) as conn:
            unit = targets.history(conn, target)[0]["unit_id"]
            return forecast.forecast(conn, unit, today, detail=True, only=only)
    for only, what in ((None, "every target under its unit"), (target, "only=" + target)):
        seconds, cpu, result = timed(lambda: target_page(only))
        print(f"target     {target}'s page, {what} ({len(result['targets'])} computed): {seconds:.3f} s "
              f"(CPU {cpu:.3f} s)")

    month = indicators.previous_month(today)
    start, cpu = time.perf_counter(), time.process_time()
    with write_transaction(engine) as conn:
        indicators.take(conn, month, today, settings.zone, "job")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    with read_transaction(engine) as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(indicator_snapshots)
                                                       .where(indicator_snapshots.c.month == month))]
    print(f"snapshot   {month}: {len(rows)} rows: {seconds:.1f} s (CPU {cpu:.1f} s)   (target < 120 s)")

    first = date(*map(int, month.split("-")), 1)
    backfilled = [indicators.month_key(first - relativedelta(months=back)) for back in (2, 1)]
    start, cpu = time.perf_counter(), time.process_time()
    for m in backfilled:
        with write_transaction(engine) as conn:
            indicators.take(conn, m, today, settings.zone, "backfill")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"backfill   {' and '.join(backfilled)}: {seconds:.1f} s (CPU {cpu:.1f} s)")

    # The other earlier months up to 35, copies of this one (the trend page reads 36 months of rows).
    with write_transaction(engine) as conn:
        for back in range(len(backfilled) + 1, 36):
            m = indicators.month_key(first - relativedelta(months=back))
            conn.execute(insert(snapshot_months).values(month=m, day=indicators.last_day(m), how="backfill",
                                                        taken=datetime.now(timezone.utc)))
            conn.execute(insert(indicator_snapshots), [{**r, "month": m} for r in rows])
    from lrs.web import accounts
    password_hash = accounts.hash_password("et langt passord 123")
    with write_transaction(engine) as conn:
        accounts.create(conn, "region", "Regionen", ["region"], password_hash)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    client.post("/login", data={"username": "region", "password": "et langt passord 123",
                                **({"csrf_token": token.group(1)} if token else {})})

    def trend_page():
        r = client.get("/indicators")
        assert r.status_code == 200, r.status_code
        return r
    seconds, cpu, _r = timed(trend_page, repeat=5)
    print(f"trend page GET /indicators, region, 36 months x {len(rows)} rows: {seconds:.2f} s (CPU {cpu:.2f} s)"
          f"   (target < 1 s)")
    if args.db == "postgresql":
        engine.dispose()
        c.pg_drop("lrs_bench_capacity")


if __name__ == "__main__":
    main()
