"""Where a request's time goes, in-process: cProfile around the Flask test client (no gunicorn, no sockets).

    .venv/bin/python bench/hotspots.py single  [--db sqlite|postgresql] [--n 2000]
    .venv/bin/python bench/hotspots.py batch   [--db ...] [--n 100]          (100 statements per POST)
    .venv/bin/python bench/hotspots.py agent    --url URL [--n 500]          (a database bench/query.py populated,
    .venv/bin/python bench/hotspots.py course   --url URL [--n 500]           e.g. with --keep; course: an
    .venv/bin/python bench/hotspots.py activity --url URL [--n 500]           activity alone, activity: with a verb)

Prints the wall time per request without and with the profiler, then the functions by cumulative and by own
time. For the real server under load, py-spy gives the same picture (pip install py-spy):
    py-spy record --gil --subprocesses -p <pid of `lrs run`> -f raw -o out.txt
"""
import argparse
import cProfile
import io
import os
import pstats
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

PG_DB = "lrs_bench_profile"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["single", "batch", "agent", "course", "activity"])
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgresql"], help="for single and batch")
    ap.add_argument("--url", help="database URL for agent and activity (a populated database)")
    ap.add_argument("--n", type=int, default=0, help="requests (default 2000 single, 100 batch, 500 queries)")
    ap.add_argument("--top", type=int, default=35)
    args = ap.parse_args(argv)
    c.wait_for_app()
    from lrs import create_app
    from lrs.store import credentials
    from lrs.store.db import make_engine
    from lrs.store.migrate import upgrade

    tmp = tempfile.mkdtemp(prefix="lrs-bench-profile-")
    if args.mode in ("single", "batch"):
        if args.db == "sqlite":
            url = f"sqlite:///{tmp}/lrs.db"
        else:
            if c.pg_available():
                sys.exit("PostgreSQL does not answer")
            url = c.pg_recreate(PG_DB)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
    else:
        if not args.url:
            ap.error("agent, course and activity need --url of a populated database (bench/query.py --keep)")
        url = args.url
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    app.instance_path = tmp
    cred = credentials.create(app.extensions["lrs.engine"], "bench", ("all",))
    headers = c.auth_headers(cred["key"], cred["secret"])
    client = app.test_client()
    rng = random.Random(1)
    n = args.n or {"single": 2000, "batch": 100}.get(args.mode, 500)

    if args.mode in ("single", "batch"):
        size = 1 if args.mode == "single" else 100
        templates = [c.Template([c.statement(rng, with_id=False) for _ in range(size)], size == 1, True)
                     for _ in range(50)]
        bodies = [templates[i % 50].render() for i in range(2 * n + 20)]
        h = {**headers, "Content-Type": "application/json"}

        def one(i):
            r = client.post("/xapi/statements", data=bodies[i], headers=h)
            assert r.status_code == 200, r.get_data(as_text=True)
    else:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import query
        draws = query.draws(args.mode, 2 * n + 20, 7)

        def one(i):
            r = client.get(query.path_for(args.mode, draws[i]), headers=headers)
            assert r.status_code == 200, r.get_data(as_text=True)

    for i in range(20):  # warm: connections, compiled-statement cache, activity definitions
        one(i)
    t0, cpu0 = time.perf_counter(), time.process_time()
    for i in range(20, 20 + n):
        one(i)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(f"{args.mode} on {url.split(':')[0]}: {wall / n * 1000:.2f} ms per request wall, {cpu / n * 1000:.2f} ms CPU "
          f"in this process (no profiler)")
    prof = cProfile.Profile(time.process_time)  # CPU: time spent waiting for the database is not ours
    prof.enable()
    for i in range(20 + n, 20 + 2 * n):
        one(i)
    prof.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(prof, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
        text = out.getvalue()
        print(text[text.index("   ncalls"):] if "   ncalls" in text else text)
    app.extensions["lrs.engine"].dispose()
    if args.mode in ("single", "batch") and args.db == "postgresql":
        c.pg_drop(PG_DB)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
