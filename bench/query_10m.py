"""Statement query latency on PostgreSQL at 10,000,000 statements, beside the same queries at 1,000,000.

Populating 10,000,000 statements through HTTP takes hours on a small machine, so this benchmark grows the
1,000,000-statement database of bench/query.py (made through the real server, or reused with --keep) tenfold inside
PostgreSQL: nine copies of every statement with new statement ids and registrations (derived from the old ones),
stored after the original, with their index rows; the competence engine's cursor is set past them, as if it had
read them when they came in. The population keeps its shape: the same 80,000 employees and 300
courses, each now with ten times the history, which is what ten years of a region's learning records look like.

Then the query kinds of bench/query.py (agent; activity; activity+verb) through HTTP and in-process, at both sizes.

    .venv/bin/python bench/query_10m.py [--queries 500] [--keep]

Numbers only: nothing here passes or fails on time. Needs PostgreSQL and about 25 GB of disk.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402
import query as q  # noqa: E402

SOURCE, TARGET = 1_000_000, 10_000_000
COPIES = TARGET // SOURCE - 1

# One copy k of every statement and its index rows: seq shifted past the previous copies, stored later, a new id
# and registration (md5 of the old one and k, as a UUID), and the body with those two replaced (its "stored" stays
# the original's: no query reads it from the body).
COPY_SQL = """
CREATE TEMP TABLE remap AS
  SELECT seq, seq + %(k)s::bigint * %(span)s AS new_seq, id, md5(id || ':' || %(k)s::bigint)::uuid::text AS new_id,
         registration, md5(registration || ':' || %(k)s::bigint)::uuid::text AS new_reg
  FROM statements WHERE seq <= %(span)s;
INSERT INTO statements (seq, id, stored_us, verb_id, registration, ref_target, voided, is_voiding, credential_id,
                        content_hash, has_attachments, body)
  SELECT r.new_seq, r.new_id, s.stored_us + %(k)s::bigint * %(period)s, s.verb_id, r.new_reg, s.ref_target, s.voided,
         s.is_voiding, s.credential_id, s.content_hash, s.has_attachments,
         replace(replace(s.body, r.id, r.new_id), coalesce(r.registration, r.id), coalesce(r.new_reg, r.new_id))
  FROM statements s JOIN remap r USING (seq);
INSERT INTO statement_agent (seq, profile, ifi, related, is_actor, verb_id, registration)
  SELECT a.seq + %(k)s::bigint * %(span)s, a.profile + %(k)s::bigint * %(span)s, a.ifi, a.related, a.is_actor, a.verb_id, r.new_reg
  FROM statement_agent a JOIN remap r USING (seq);
INSERT INTO statement_activity (seq, profile, activity_id, related, verb_id, registration)
  SELECT a.seq + %(k)s::bigint * %(span)s, a.profile + %(k)s::bigint * %(span)s, a.activity_id, a.related, a.verb_id, r.new_reg
  FROM statement_activity a JOIN remap r USING (seq);
DROP TABLE remap;
"""


TABLES = ("statements", "statement_agent", "statement_activity")


def grow(url: str) -> float:
    """Tenfold, in place (resuming after the copies already made); the seconds it took. The secondary indexes are
    dropped for the copying and built again after it: building an index is much faster than growing it row by row."""
    import psycopg
    t0 = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        span = conn.execute("SELECT max(seq) FROM statements WHERE seq <= %s", (SOURCE,)).fetchone()[0]
        lo, hi = conn.execute("SELECT min(stored_us), max(stored_us) FROM statements WHERE seq <= %s",
                              (span,)).fetchone()
        period = hi - lo + 1
        done = conn.execute("SELECT count(*) FROM statements").fetchone()[0] // SOURCE - 1
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'u' AND conrelid::regclass::text = ANY(%s)", (list(TABLES),)).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT LIKE '%%pkey' "
            "AND indexname <> ALL(%s)", (list(TABLES), [name for _t, name, _d in constraints])).fetchall()
        for table, name, _definition in constraints:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for k in range(done + 1, COPIES + 1):
            with conn.transaction():
                for sql in filter(str.strip, COPY_SQL.split(";")):
                    conn.execute(sql, {"k": k, "span": span, "period": period})
            print(f"    copy {k}/{COPIES} done ({time.monotonic() - t0:.0f}s)", file=sys.stderr, flush=True)
        conn.execute("SET maintenance_work_mem = '1GB'")
        for table, name, definition in constraints:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for name, definition in indexes:
            conn.execute(definition)
            print(f"    index {name} built ({time.monotonic() - t0:.0f}s)", file=sys.stderr, flush=True)
        conn.execute("SELECT setval(pg_get_serial_sequence('statements', 'seq'), (SELECT max(seq) FROM statements))")
        # The copies are history, which a real store's competence engine read as it came in. Left unread, the engine
        # works through them behind every measurement, a little at a time: their stored times reach up to nine
        # population periods into the future, and it reads only what is settled.
        conn.execute("UPDATE competence_cursor SET seq = (SELECT max(seq) FROM statements)")
        conn.execute("VACUUM ANALYZE")
    return time.monotonic() - t0


def measure(url: str, size: int, args) -> dict:
    from tests.server_support import Server
    with Server(url, workers=args.workers, threads=args.threads) as server:
        headers = c.auth_headers(*server.credential("all"))
        row = {"database": "postgresql", "size": size, "stored": c.count_statements(url), "populated": 0,
               "populate_s": 0, "reused": True}
        q.time_kinds(server, headers, url, row, args)
    if args.explain:
        row["plans"] = q.plans(url)
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queries", type=int, default=500, help="measured queries per kind (default 500)")
    ap.add_argument("--warmup", type=int, default=50, help="unmeasured queries per kind first (default 50)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    ap.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    ap.add_argument("--clients", type=int, default=4, help="client processes while populating 1M (default 4)")
    ap.add_argument("--keep", action="store_true", help="keep both databases, and reuse them when they hold the sizes")
    ap.add_argument("--no-explain", dest="explain", action="store_false", help="skip the query plans")
    ap.add_argument("--as-is", action="store_true",
                    help="measure both databases as they are (kept by an earlier --keep run, perhaps grown since)")
    args = ap.parse_args(argv)
    why = c.pg_available()
    if why:
        sys.exit(f"PostgreSQL does not answer ({why}): this benchmark needs it")
    db = q.Postgres()
    if args.as_is:
        q.print_results([measure(db.url(SOURCE), SOURCE, args), measure(db.url(TARGET), TARGET, args)], args)
        return
    if not (db.exists(SOURCE) and c.count_statements(db.url(SOURCE)) == SOURCE):
        print(f"  populating {SOURCE:,} statements through HTTP (bench/query.py) ...", file=sys.stderr, flush=True)
        q.bench_database(db, argparse.Namespace(sizes=[SOURCE], keep=True, queries=1, warmup=0, clients=args.clients,
                                                workers=args.workers, threads=args.threads, explain=False))
    grown = None
    have = c.count_statements(db.url(TARGET)) if db.exists(TARGET) else 0
    if not (args.keep and have == TARGET):
        resume = args.keep and have and have % SOURCE == 0  # an earlier run stopped between two copies
        print(f"  copying {have if resume else SOURCE:,} -> {TARGET:,} inside PostgreSQL ...", file=sys.stderr,
              flush=True)
        grown = grow(db.url(TARGET) if resume else db.fresh(TARGET, SOURCE))
    results = [measure(db.url(SOURCE), SOURCE, args), measure(db.url(TARGET), TARGET, args)]
    q.print_results(results, args)
    if grown is not None:
        print(f"\n(grown from {SOURCE:,} to {TARGET:,} inside PostgreSQL in {grown:.0f}s)")
    if not args.keep:
        db.drop(TARGET)


if __name__ == "__main__":
    main()
