"""Query latency through the real HTTP server, at 100,000 and 1,000,000 stored statements.

The database is populated like a hospital region's: ~80,000 employees (account agents), ~300 courses with a
popularity skew (Zipf), 8 verbs, one registration per enrolment, programme and health-trust context activities.
Population goes through the real server (1000-statement POSTs from several client processes); each larger size
starts from a copy of the smaller one and is topped up, so 1,000,000 costs 1,000,000 statements, not 1,100,000.

Then, from one keep-alive client, --queries requests of each kind, the agents, courses and verbs drawn like the data:
  agent     GET /xapi/statements?agent={"account": {...}}
  activity  GET /xapi/statements?activity=<course>
  act+verb  GET /xapi/statements?activity=<course>&verb=<verb>
(default limit: the first page of 100). Printed: p50/p95 per kind and size, the p95 growth from the smallest to
the largest size, the same queries timed in-process (lrs.store.statements.find, no HTTP), and the query plans.

    .venv/bin/python bench/query.py [--sizes 100000,1000000] [--db sqlite,postgresql] [--keep]

Numbers only: nothing here passes or fails on time.
"""
import argparse
import json
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
from urllib.parse import quote, urlencode

import orjson

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

CHUNK = 1000  # statements per population POST (the LRS's default LRS_MAX_BATCH)
SEED = 20261124


# ------------------------------------------------------------------------------------------------ populating

def _chunk(k: int) -> bytes:
    """Population chunk k: always the same 1000 statements, so a bigger size is a smaller one topped up."""
    rng = random.Random(SEED * 1_000_003 + k)
    return orjson.dumps([c.statement(rng) for _ in range(CHUNK)])


def _populate_client(url, headers, chunks, progress, errors):
    client = c.Client(url, {**headers, "Content-Type": "application/json"})
    try:
        for k in chunks:
            body = _chunk(k)
            for attempt in range(3):
                status, data = client.request("POST", "/xapi/statements", body)
                if status == 200:
                    break
                if attempt == 2:
                    errors.put(f"chunk {k}: {status} {data[:300]!r}")
                    return
            with progress.get_lock():
                progress.value += CHUNK
    except Exception as e:  # noqa: BLE001
        errors.put(f"{type(e).__name__}: {e}")
    finally:
        client.close()


def populate(server, headers, start: int, end: int, clients: int) -> float:
    """Statements start..end (multiples of CHUNK) through HTTP; returns the seconds it took."""
    if end <= start:
        return 0.0
    ctx = mp.get_context("fork")
    progress, errors = ctx.Value("q", 0), ctx.Queue()
    chunks = list(range(start // CHUNK, end // CHUNK))
    procs = [ctx.Process(target=_populate_client, args=(server.url, headers, chunks[i::clients], progress, errors))
             for i in range(clients)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    total, shown = end - start, 0
    while any(p.is_alive() for p in procs):
        time.sleep(1)
        done = progress.value
        if done - shown >= total / 10 or (done == total and shown != total):
            el = time.monotonic() - t0
            print(f"    {start + done:>9,} stored  ({done / el:,.0f} statements/s, {el:.0f}s)", file=sys.stderr,
                  flush=True)
            shown = done
    for p in procs:
        p.join()
    if not errors.empty():
        raise RuntimeError("population failed: " + errors.get())
    return time.monotonic() - t0


# ------------------------------------------------------------------------------------------------ querying

def agent_param(emp: int) -> str:
    return json.dumps({"account": {"homePage": c.HOME, "name": f"e{emp:05d}"}}, separators=(",", ":"))


def agent_ifi(emp: int) -> str:
    return f"account:{c.HOME} e{emp:05d}"


# The query kinds: an agent's statements, an activity's (a course), an activity's with one verb.
KINDS = ("agent", "course", "activity")
LABELS = {"agent": "agent", "course": "activity", "activity": "act+verb"}


def draws(kind: str, n: int, seed: int):
    """n query arguments drawn like the data: (emp,) for agent queries, (course,) for an activity, (course, verb)
    for an activity and verb."""
    rng = random.Random(seed)
    if kind == "agent":
        return [(c.pick_employee(rng),) for _ in range(n)]
    if kind == "course":
        return [(c.pick_course(rng),) for _ in range(n)]
    return [(c.pick_course(rng), c.pick_verb(rng)) for _ in range(n)]


def path_for(kind: str, draw) -> str:
    if kind == "agent":
        return "/xapi/statements?agent=" + quote(agent_param(draw[0]), safe="")
    return "/xapi/statements?" + urlencode({"activity": c.course_id(draw[0]), **_verb(draw)})


def _verb(draw) -> dict:
    return {"verb": draw[1]} if len(draw) > 1 else {}


def time_http(server, headers, kind, n, warmup, seed):
    client = c.Client(server.url, headers)
    try:
        for d in draws(kind, warmup, seed + 1):
            client.request("GET", path_for(kind, d))
        lat, rows, nbytes = [], 0, 0
        for d in draws(kind, n, seed):
            path = path_for(kind, d)
            t0 = time.perf_counter()
            status, data = client.request("GET", path)
            lat.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"GET {path}: {status} {data[:300]!r}")
            rows += len(orjson.loads(data)["statements"])
            nbytes += len(data)
        return {"p50": c.percentile(lat, 50) * 1000, "p95": c.percentile(lat, 95) * 1000,
                "max": max(lat) * 1000, "rows": rows / n, "kb": nbytes / n / 1024}
    finally:
        client.close()


def _query(kind, draw):
    from lrs.store.statements import Query
    if kind == "agent":
        return Query(agent=agent_ifi(draw[0]))
    return Query(activity=c.course_id(draw[0]), **_verb(draw))


def time_in_process(url, kind, n, seed):
    """The same queries through lrs.store.statements.find in this process: the database's share, no HTTP/Flask."""
    from lrs.store import statements as store
    from lrs.store.db import make_engine
    engine = make_engine(url)
    try:
        for d in draws(kind, 20, seed + 1):
            store.find(engine, _query(kind, d))
        lat = []
        for d in draws(kind, n, seed):
            t0 = time.perf_counter()
            store.find(engine, _query(kind, d))
            lat.append(time.perf_counter() - t0)
        return {"p50": c.percentile(lat, 50) * 1000, "p95": c.percentile(lat, 95) * 1000}
    finally:
        engine.dispose()


def explain(url, kind, draw) -> str:
    """The plan of the query `find` sends first (the page of seqs; the bodies are then fetched by primary key)."""
    from sqlalchemy import event

    from lrs.store import statements as store
    from lrs.store.db import make_engine
    engine = make_engine(url)
    seen = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cur, sql, params, ctx, many: seen.append((sql, params)))
    try:
        store.find(engine, _query(kind, draw))
        sql, params = next((s, p) for s, p in seen if "DISTINCT" in s or "ORDER BY" in s)
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params).all()
                plan = "\n".join(r[0] for r in rows)
            else:
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
                plan = "\n".join(f"{r[0]:>3} {r[1]:>3}  {r[3]}" for r in rows)
        return f"{' '.join(sql.split())}\n  params: {params}\n{plan}"
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------------ databases

class Sqlite:
    name = "sqlite"

    def __init__(self, directory):
        self.directory = directory

    def url(self, size):
        return f"sqlite:///{self.path(size)}"

    def path(self, size):
        return os.path.join(self.directory, f"q{size}.db")

    def exists(self, size):
        return os.path.exists(self.path(size))

    def fresh(self, size, template_size=None):
        if template_size is None:
            c.sqlite_remove(self.path(size))
        else:
            c.sqlite_copy(self.path(template_size), self.path(size))
        return self.url(size)

    def drop(self, size):
        c.sqlite_remove(self.path(size))

    def analyze(self, url):
        pass  # the LRS never runs ANALYZE on SQLite, so neither does the benchmark

    def pg_database(self, size):
        return None


class Postgres:
    name = "postgresql"

    def db(self, size):
        return f"lrs_bench_q{size}"

    def url(self, size):
        return c.pg_url(self.db(size))

    def exists(self, size):
        return c.pg_exists(self.db(size))

    def fresh(self, size, template_size=None):
        return c.pg_recreate(self.db(size), self.db(template_size) if template_size is not None else None)

    def drop(self, size):
        c.pg_drop(self.db(size))

    def analyze(self, url):
        # What autovacuum does by itself shortly after a bulk load; done now so the plans do not depend on timing.
        import psycopg
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")

    def pg_database(self, size):
        return self.db(size)


def time_kinds(server, headers, url, row, args):
    """Each kind through HTTP and in-process, into row[kind] and row[kind + "_inproc"]."""
    for kind in KINDS:
        print(f"  {row['size']:,}: {LABELS[kind]} queries ...", file=sys.stderr, flush=True)
        row[kind] = time_http(server, headers, kind, args.queries, args.warmup, SEED + len(kind))
        row[kind + "_inproc"] = time_in_process(url, kind, args.queries, SEED + len(kind))


def plans(url) -> dict:
    rng = random.Random(SEED)
    return {"agent": explain(url, "agent", (c.pick_employee(rng),)), "activity": explain(url, "course", (0,)),
            "act+verb": explain(url, "activity", (0, c.ADL + "completed"))}


def bench_database(db, args):
    from tests.server_support import Server
    results, previous = [], None
    for size in args.sizes:
        reused = args.keep and db.exists(size) and c.count_statements(db.url(size)) == size
        if reused:
            url, have = db.url(size), size
            print(f"  {db.name} {size:,}: reusing the populated database (--keep)", file=sys.stderr, flush=True)
        elif previous is not None:
            url = db.fresh(size, previous)
            have = previous
        else:
            url, have = db.fresh(size), 0
        with Server(url, workers=args.workers, threads=args.threads) as server:
            headers = c.auth_headers(*server.credential("all"))
            if not reused:
                print(f"  {db.name} {size:,}: populating {have:,} -> {size:,} ...", file=sys.stderr, flush=True)
            seconds = populate(server, headers, have, size, args.clients)
            stored = c.count_statements(url)
            if stored != size:
                print(f"  {db.name}: {stored:,} statements stored, {size:,} expected", file=sys.stderr)
            db.analyze(url)
            print(f"  {db.name} {size:,}: querying ...", file=sys.stderr, flush=True)
            row = {"database": db.name, "size": size, "stored": stored, "populated": size - have,
                   "populate_s": seconds, "reused": reused}
            time_kinds(server, headers, url, row, args)
        if args.explain:
            row["plans"] = plans(url)
        results.append(row)
        if previous is not None and not args.keep:
            db.drop(previous)
        previous = size
    if not args.keep and previous is not None:
        db.drop(previous)
    return results


def print_results(results, args):
    print()
    print(f"Query latency through HTTP (one keep-alive client, {args.queries} queries per kind, first page of 100), "
          f"gunicorn {args.workers} workers x {args.threads} threads, {os.cpu_count()} CPUs")
    head = (f"{'database':<11} {'statements':>10}  {'populated':>9} {'in':>7} {'stmts/s':>7}  "
            + "  ".join(f"{LABELS[k] + ' p50':>12} {'p95':>6} {'rows':>5}" for k in KINDS)
            + "  in-process p50/p95: " + ", ".join(LABELS[k] for k in KINDS))
    print(head)
    print("-" * len(head))
    for r in results:
        pop = ("reused" if r["reused"] else f"{r['populated']:,}")
        took = "" if r["reused"] else f"{r['populate_s']:.0f}s"
        rate = "" if r["reused"] or not r["populate_s"] else f"{r['populated'] / r['populate_s']:,.0f}"
        http = "  ".join(f"{r[k]['p50']:>12.1f} {r[k]['p95']:>6.1f} {r[k]['rows']:>5.1f}" for k in KINDS)
        inproc = ", ".join(f"{r[k + '_inproc']['p50']:.1f}/{r[k + '_inproc']['p95']:.1f}" for k in KINDS)
        print(f"{r['database']:<11} {r['stored']:>10,}  {pop:>9} {took:>7} {rate:>7}  {http}  {inproc}")
    print("(latencies in ms; rows = statements returned per query, on average)")
    by_db = {}
    for r in results:
        by_db.setdefault(r["database"], []).append(r)
    for name, rs in by_db.items():
        if len(rs) > 1:
            lo, hi = rs[0], rs[-1]
            growth = ", ".join(f"{LABELS[k]} x{hi[k]['p95'] / lo[k]['p95']:.2f}" for k in KINDS)
            print(f"{name}: p95 growth {lo['size']:,} -> {hi['size']:,}: {growth}")
    for r in results:
        for kind, plan in r.get("plans", {}).items():
            print(f"\nplan: {r['database']}, {r['size']:,} statements, {kind} query\n{plan}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000,1000000", help="statements stored (default 100000,1000000)")
    ap.add_argument("--db", default="sqlite,postgresql", help="databases (default sqlite,postgresql)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the populated databases, and reuse ones that already hold the size")
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "lrs-bench-query"),
                    help="where the SQLite databases live (default %(default)s)")
    ap.add_argument("--queries", type=int, default=500, help="measured queries per kind (default 500)")
    ap.add_argument("--warmup", type=int, default=50, help="unmeasured queries per kind first (default 50)")
    ap.add_argument("--clients", type=int, default=4, help="client processes while populating (default 4)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    ap.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    ap.add_argument("--no-explain", dest="explain", action="store_false", help="skip the query plans")
    args = ap.parse_args(argv)
    args.sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    if any(s % CHUNK for s in args.sizes):
        ap.error(f"sizes must be multiples of {CHUNK}")
    c.wait_for_app()

    for name in [d.strip() for d in args.db.split(",") if d.strip()]:
        if name == "sqlite":
            os.makedirs(args.dir, exist_ok=True)
            db = Sqlite(args.dir)
        elif name == "postgresql":
            why = c.pg_available()
            if why:
                print(f"PostgreSQL does not answer ({why}): PostgreSQL skipped", file=sys.stderr)
                continue
            db = Postgres()
        else:
            ap.error(f"unknown database {name!r}")
        results = bench_database(db, args)
        print_results(results, args)  # per database, as soon as it is done
    return 0


if __name__ == "__main__":
    sys.exit(main())
