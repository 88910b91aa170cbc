"""The leader's unit page (people counts, the first page of the matrix, the 12-month forecast of every
competence, the attestation queue) for one unit of 2,000 employees x 30 requirements: time to render it, through
the app (Flask test client, signed in as a leader), and (--export) the Excel export of the whole unit. Target: the page
under 1 s.

    .venv/bin/python bench/leader_page.py [--db sqlite|postgresql] [--employees 2000] [--runs 10] [--export] [--profile]

Numbers only: nothing here passes or fails on time.
"""
import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402
import competence as bench_competence  # noqa: E402

from lrs import create_app  # noqa: E402
from lrs.competence import engine as eng  # noqa: E402
from lrs.competence import imports  # noqa: E402
from lrs.store import credentials as creds  # noqa: E402
from lrs.store.db import write_transaction  # noqa: E402
from lrs.store.migrate import upgrade  # noqa: E402
from lrs.web import accounts  # noqa: E402


def signed_in_leader(args):
    """A unit of args.employees employees with their plans, and a test client signed in as its leader."""
    url = c.database(args.db, "lrs_bench_web")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "IDENTITY_HOMEPAGE": c.HOME,
                      "RATELIMIT_ENABLED": False})
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    upgrade(engine)
    units = "unit_id,parent_id,name,kind\nhf,,Helseforetaket,trust\nklinikk,hf,Stor klinikk,clinic\n"
    people = "employee_id,name,email,unit_id,roles,started_on,left_on\n" + "".join(
        f"e{n:05d},Ansatt {n:05d},,klinikk,ansatt,2018-01-01,\n" for n in range(args.employees))
    with write_transaction(engine) as conn:
        imports.import_hr(conn, settings, "units.csv", units)
        imports.import_catalog(conn, settings, "catalog.yaml", bench_competence.catalog_yaml())
        imports.import_hr(conn, settings, "employees.csv", people)
    c.N_EMPLOYEES = args.employees
    with engine.begin() as conn:
        credential = creds.internal(conn, "bench")
    bench_competence.store_batches(engine, credential, random.Random(3), args.employees * 20)
    eng.process_all_new(engine, settings)
    password_hash = accounts.hash_password("bench-password-123")
    with write_transaction(engine) as conn:
        accounts.create(conn, "leder", "Leder", ["leader"], password_hash, led_units=["klinikk"])

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"username": "leder", "password": "bench-password-123", "csrf_token": token})
    return app, client


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgresql"])
    ap.add_argument("--employees", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--export", action="store_true", help="also time the Excel export of the whole unit")
    ap.add_argument("--profile", action="store_true", help="print where one render's time goes")
    args = ap.parse_args()
    app, client = signed_in_leader(args)
    engine = app.extensions["lrs.engine"]
    times, cpu = [], []
    for _ in range(args.runs):
        t, c0 = time.perf_counter(), time.process_time()
        r = client.get("/leader?unit=klinikk")
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c0)  # the app and SQLite both run in this process
        assert r.status_code == 200
    print(f"{args.db}: leader page for {args.employees:,} employees x 30 requirements ({len(r.data) / 1e6:.1f} MB of "
          f"HTML): median {statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms over "
          f"{args.runs} renders (target < 1 s); CPU median {statistics.median(cpu) * 1000:.0f} ms "
          f"(the wall time less what waiting for a busy machine adds; PostgreSQL's own CPU is not in it)")
    if args.export:
        t = time.perf_counter()
        r = client.get("/leader/export.xlsx?unit=klinikk")
        assert r.status_code == 200
        print(f"{args.db}: the whole unit as Excel ({len(r.data) / 1e6:.1f} MB): {time.perf_counter() - t:.1f} s")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(client.get, "/leader?unit=klinikk")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    engine.dispose()
    if args.db == "postgresql":
        c.pg_drop("lrs_bench_web")


if __name__ == "__main__":
    main()
