"""Ingest throughput through the real HTTP server (`lrs run`: gunicorn, gthread workers).

For each database (SQLite in a temporary file; PostgreSQL when it answers) and each mode (one statement per
POST, 100 statements per POST), several client processes POST pre-serialised, realistic statements over
keep-alive connections for --seconds, and the table shows statements/s, requests/s and request latency.
At the end, the statements stored are counted in the database and compared with those acknowledged.

    .venv/bin/python bench/ingest.py [--seconds 10] [--clients 4] [--workers 2] [--db sqlite,postgresql]

With --instances 2: two servers (`lrs run`, each with its workers and scheduler) on one database, the clients
spread over them, as several app instances behind a load balancer (the scale-out path on PostgreSQL).

With --lrs: the same load against any xAPI LRS already running (another product, for a like-with-like
comparison on the same machine); no server is started and no database created or counted:

    .venv/bin/python bench/ingest.py --lrs http://127.0.0.1:8100/xAPI/statements --credential KEY:SECRET \
        --lrs-pid PID --label ralph-fs

With --onto DATABASE: the same load into a PostgreSQL database already populated (e.g. bench/query.py's
lrs_bench_q1000000 or bench/query_10m.py's lrs_bench_q10000000, kept with --keep), to see whether the rate holds
as the store grows; the database is kept, and the statements it gains are compared with those acknowledged. Compare
it with an empty database made once and measured with --onto as well, in turns: --db postgresql makes its database
afresh, and dropping and creating a database makes PostgreSQL checkpoint, after which a large store's first
changes to each page write the whole page to the WAL (docs/performance.md).

--lrs-pid: the server's process (its descendants, e.g. worker processes, are counted too), for the CPU column.

Numbers only: nothing here passes or fails on time. Client, server and database share the machine's cores;
the CPU columns say who used them.
"""
import argparse
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
import zlib

import orjson

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

PG_DB = "lrs_bench_ingest"


def _client(index, url, path, headers, mode, batch, seconds, warmup, with_ids, seed, barrier, results):
    """One client process: POST for `seconds` after everyone is ready; report counts and latencies."""
    rng = random.Random(seed)
    single = mode == "single"
    size = 1 if single else batch
    pool = [c.Template([c.statement(rng, with_id=False) for _ in range(size)], single, with_ids)
            for _ in range(500 if single else 40)]
    client = c.Client(url, {**headers, "Content-Type": "application/json"})
    out = {"requests": 0, "statements": 0, "errors": 0, "first_error": None, "warm_statements": 0,
           "latencies": [], "cpu": 0.0, "start": 0.0, "end": 0.0}

    def post(template):
        t0 = time.perf_counter()
        status, data = client.request("POST", path, template.render())
        dt = time.perf_counter() - t0
        if status == 200:
            return len(orjson.loads(data)), dt
        out["errors"] += 1
        if out["first_error"] is None:
            out["first_error"] = f"{status} {data[:300]!r}"
        return 0, dt

    try:
        i = index
        warm_until = time.monotonic() + warmup
        while time.monotonic() < warm_until:  # connections open, caches filled, activity definitions known
            n, _ = post(pool[i % len(pool)])
            out["warm_statements"] += n
            i += 1
        barrier.wait()
        cpu0 = time.process_time()
        out["start"] = time.monotonic()
        deadline = out["start"] + seconds
        lat = out["latencies"]
        while time.monotonic() < deadline:
            n, dt = post(pool[i % len(pool)])
            out["statements"] += n
            out["requests"] += 1
            lat.append(dt)
            i += 1
        out["end"] = time.monotonic()
        out["cpu"] = time.process_time() - cpu0
    except Exception as e:  # noqa: BLE001  (reported by the parent)
        out["first_error"] = out["first_error"] or f"{type(e).__name__}: {e}"
        try:
            barrier.abort()
        except Exception:  # noqa: BLE001
            pass
    finally:
        client.close()
    results.put(out)


def run_case(urls, server_pids, headers, mode, args, pg_database, path="/xapi/statements"):
    """`urls`: the servers the clients are spread over; `server_pids`: the processes whose CPU is the server's."""
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(args.clients + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=_client, args=(i, urls[i % len(urls)], path, headers, mode, args.batch, args.seconds, args.warmup,
                                               not args.no_ids, zlib.crc32(f"{mode}{i}".encode()),
                                               barrier, results))
             for i in range(args.clients)]
    for p in procs:
        p.start()
    try:
        barrier.wait(timeout=args.warmup + 120)
    except Exception:  # noqa: BLE001  (a client failed while warming up: its error comes through the queue)
        pass
    meter = c.CpuMeter(server_pids, pg_database).start()
    outs = [results.get() for _ in procs]
    cpu = meter.stop()
    for p in procs:
        p.join()
    lat = [x for o in outs for x in o["latencies"]]
    start = min(o["start"] for o in outs if o["start"]) if any(o["start"] for o in outs) else 0.0
    end = max(o["end"] for o in outs)
    wall = (end - start) if start else float("nan")
    n_stmts = sum(o["statements"] for o in outs)
    n_req = sum(o["requests"] for o in outs)
    return {
        "mode": mode if mode == "single" else f"batch{args.batch}",
        "statements": n_stmts, "requests": n_req, "wall": wall,
        "stmts_per_s": n_stmts / wall if wall else 0.0, "req_per_s": n_req / wall if wall else 0.0,
        "p50": c.percentile(lat, 50) * 1000, "p95": c.percentile(lat, 95) * 1000,
        "errors": sum(o["errors"] for o in outs),
        "first_error": next((o["first_error"] for o in outs if o["first_error"]), None),
        "acked": n_stmts + sum(o["warm_statements"] for o in outs),
        "cpu_server": cpu["server"] if server_pids else float("nan"),  # nan: an external LRS, no --lrs-pid
        "cpu_postgres": cpu["postgres"], "cpu_client": sum(o["cpu"] for o in outs),
        "cpu_machine": cpu["machine"], "cpu_wall": cpu["wall"],
    }


def bench_database(name, url, args, pg_database):
    from contextlib import ExitStack

    from tests.server_support import Server
    rows = []
    with ExitStack() as stack:
        servers = [stack.enter_context(Server(url, workers=args.workers, threads=args.threads))
                   for _ in range(args.instances)]
        headers = c.auth_headers(*servers[0].credential("statements/write"))
        for mode in args.modes:
            print(f"  {name} {mode}: {args.seconds:.0f}s with {args.clients} clients on {args.instances} "
                  f"instance(s) ...", file=sys.stderr, flush=True)
            row = run_case([s.url for s in servers], [s.process.pid for s in servers], headers, mode, args,
                           pg_database)
            row["database"] = name
            rows.append(row)
            if row["errors"]:
                print(f"  {row['errors']} failed requests; first: {row['first_error']}", file=sys.stderr)
    acked = sum(r["acked"] for r in rows)
    stored = c.count_statements(url)
    return rows, acked, stored


def bench_external(args):
    """The same load against an LRS that is already running (--lrs): nothing started, nothing counted."""
    from urllib.parse import urlsplit
    parts = urlsplit(args.lrs)
    key, _, secret = args.credential.partition(":")
    headers = c.auth_headers(key, secret)
    rows = []
    for mode in args.modes:
        print(f"  {args.label} {mode}: {args.seconds:.0f}s with {args.clients} clients against {args.lrs} ...",
              file=sys.stderr, flush=True)
        row = run_case([f"{parts.scheme}://{parts.netloc}"], args.lrs_pid, headers, mode, args, None,
                       path=parts.path or "/")
        row["database"] = args.label
        rows.append(row)
        if row["errors"]:
            print(f"  {row['errors']} failed requests; first: {row['first_error']}", file=sys.stderr)
    return rows


def print_table(rows, args):
    print()
    if args.lrs:
        print(f"Ingest through HTTP: the LRS at {args.lrs} (server CPU: "
              f"{'pids ' + ','.join(map(str, args.lrs_pid)) + ' and descendants' if args.lrs_pid else 'not measured'}), "
              f"{args.clients} client processes, {args.seconds:.0f}s per case, {os.cpu_count()} CPUs shared by all")
    else:
        print(f"Ingest through HTTP: {args.instances} instance(s) of gunicorn {args.workers} workers x {args.threads} "
              f"threads, {args.clients} client "
              f"processes, {args.seconds:.0f}s per case, {os.cpu_count()} CPUs shared by all")
    head = (f"{'database':<11} {'mode':<9} {'statements/s':>12} {'requests/s':>10} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'errors':>6}   {'CPU ms per 1000 statements: server / postgres / client':<}")
    print(head)
    print("-" * len(head))
    for r in rows:
        per = 1000 / r["statements"] * 1000 if r["statements"] else float("nan")
        print(f"{r['database']:<11} {r['mode']:<9} {r['stmts_per_s']:>12,.0f} {r['req_per_s']:>10,.0f} "
              f"{r['p50']:>8.1f} {r['p95']:>8.1f} {r['errors']:>6}   "
              f"{r['cpu_server'] * per:7.0f} / {r['cpu_postgres'] * per:7.0f} / {r['cpu_client'] * per:5.0f}"
              f"   cores busy: {(r['cpu_server'] + r['cpu_postgres'] + r['cpu_client']) / r['wall']:.2f}"
              f" (+ {max(0.0, r['cpu_machine'] - r['cpu_server'] - r['cpu_postgres'] - r['cpu_client']) / r['cpu_wall']:.2f}"
              f" by other processes)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="measured time per case (default 10)")
    ap.add_argument("--warmup", type=float, default=1.5, help="unmeasured seconds before each case (default 1.5)")
    ap.add_argument("--clients", type=int, default=4, help="client processes (default 4)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    ap.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    ap.add_argument("--instances", type=int, default=1,
                    help="servers on the one database, clients spread over them (default 1)")
    ap.add_argument("--batch", type=int, default=100, help="statements per POST in batch mode (default 100)")
    ap.add_argument("--db", default="sqlite,postgresql", help="databases (default sqlite,postgresql)")
    ap.add_argument("--modes", default="single,batch", help="single, batch or both (default both)")
    ap.add_argument("--no-ids", action="store_true",
                    help="let the LRS choose statement ids (default: the client sends one, as most clients do)")
    ap.add_argument("--keep", action="store_true", help="keep the databases afterwards (default: removed)")
    ap.add_argument("--onto", metavar="DATABASE",
                    help="an already populated PostgreSQL database to ingest into (kept; --db unused)")
    ext = ap.add_argument_group("another LRS, already running (no server started, --db/--workers/--instances unused)")
    ext.add_argument("--lrs", metavar="URL",
                     help="full URL of its statements endpoint, e.g. http://127.0.0.1:8100/xAPI/statements")
    ext.add_argument("--credential", metavar="KEY:SECRET", help="its Basic-auth credential (required with --lrs)")
    ext.add_argument("--lrs-pid", metavar="PID", type=int, action="append", default=[],
                     help="its server process, for the CPU column (descendants counted; repeatable)")
    ext.add_argument("--label", default="external", help="the table's database column for it (default external)")
    args = ap.parse_args(argv)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if args.lrs:
        if not args.credential or ":" not in args.credential:
            ap.error("--lrs needs --credential KEY:SECRET")
        rows = bench_external(args)
        print_table(rows, args)
        print()
        print(f"{args.label}: {sum(r['acked'] for r in rows):,} statements acknowledged (not counted: an external LRS)")
        return 0
    c.wait_for_app()

    rows, checks = [], []
    tmp = tempfile.mkdtemp(prefix="lrs-bench-ingest-")
    if args.onto:
        url = c.pg_url(args.onto)
        before = c.count_statements(url)
        r, acked, stored = bench_database(f"pg {before // 1000:,}k", url, args, args.onto)
        rows += r
        checks.append((f"{args.onto} (held {before:,})", acked, stored - before))
        args.db = ""
    for db in [d.strip() for d in args.db.split(",") if d.strip()]:
        if db == "sqlite":
            path = os.path.join(tmp, "lrs.db")
            c.sqlite_remove(path)
            r, acked, stored = bench_database("sqlite", f"sqlite:///{path}", args, None)
            if not args.keep:
                c.sqlite_remove(path)
        elif db == "postgresql":
            why = c.pg_available()
            if why:
                print(f"PostgreSQL does not answer ({why}): PostgreSQL skipped", file=sys.stderr)
                continue
            url = c.pg_recreate(PG_DB)
            r, acked, stored = bench_database("postgresql", url, args, PG_DB)
            if not args.keep:
                c.pg_drop(PG_DB)
        else:
            ap.error(f"unknown database {db!r}")
        rows += r
        checks.append((db, acked, stored))
    if args.keep:
        print(f"kept: {tmp}/lrs.db and PostgreSQL database {PG_DB}", file=sys.stderr)
    else:
        os.rmdir(tmp) if not os.listdir(tmp) else None

    print_table(rows, args)
    print()
    ok = True
    for db, acked, stored in checks:
        same = acked == stored
        ok &= same
        print(f"{db}: {acked:,} statements acknowledged, {stored:,} stored: {'equal' if same else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
