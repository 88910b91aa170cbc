"""What bounds SQLite's batches: the writers' turn, timed in one process with nothing else running.

    .venv/bin/python bench/sqlite_turn.py [--batches 600] [--batch 100]

SQLite lets one writer in at a time (`lrs.store.db._WritersTurn`), so however many workers and cores there are, a
store takes at most one turn's worth of statements at a time. This posts batches through the Flask test client in
one thread into a fresh SQLite database, times each write's turn (taking it, the work inside, the commit with its
share of the checkpoints) and prints its parts per statement, the bytes written, and the rate one writer could reach
if a statement cost nothing but its turn. With a client and the other requests' parsing on the same cores, the real
rate (`bench/ingest.py`) is below that ceiling. Prints numbers, asserts nothing.
"""
import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402


def _written() -> dict:
    """This process's bytes handed to write() and those sent to the disk (Linux; empty elsewhere)."""
    try:
        with open("/proc/self/io") as f:
            return {k: int(v) for k, v in (line.split(": ") for line in f) if k in ("wchar", "write_bytes")}
    except OSError:
        return {}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, default=600, help="batches measured, after 50 unmeasured (default 600)")
    ap.add_argument("--batch", type=int, default=100, help="statements per batch (default 100)")
    args = ap.parse_args(argv)
    c.wait_for_app()
    from lrs import create_app
    from lrs.store import credentials, statements
    from lrs.store.db import make_engine
    from lrs.store.migrate import upgrade

    tmp = tempfile.mkdtemp(prefix="lrs-bench-turn-")
    url = f"sqlite:///{tmp}/lrs.db"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    app.instance_path = tmp
    cred = credentials.create(app.extensions["lrs.engine"], "bench", ("all",))
    headers = {**c.auth_headers(cred["key"], cred["secret"]), "Content-Type": "application/json"}
    client = app.test_client()
    rng = random.Random(1)
    templates = [c.Template([c.statement(rng, with_id=False) for _ in range(args.batch)], False, True)
                 for _ in range(50)]

    parts = {"wait": 0.0, "inserts": 0.0, "rest inside": 0.0, "commit": 0.0, "cpu": 0.0}
    write_transaction, bulk_insert = statements.write_transaction, statements.bulk_insert

    @contextmanager
    def timed_turn(engine):
        t0, cpu0 = time.perf_counter(), time.thread_time()
        with write_transaction(engine) as conn:
            t_in = time.perf_counter()
            inserts0 = parts["inserts"]
            yield conn
            t_body = time.perf_counter()
        t_end = time.perf_counter()
        parts["wait"] += t_in - t0
        parts["rest inside"] += (t_body - t_in) - (parts["inserts"] - inserts0)
        parts["commit"] += t_end - t_body
        parts["cpu"] += time.thread_time() - cpu0

    def timed_inserts(*a, **kw):
        t0 = time.perf_counter()
        bulk_insert(*a, **kw)
        parts["inserts"] += time.perf_counter() - t0

    def post(i):
        r = client.post("/xapi/statements", data=templates[i % 50].render(), headers=headers)
        assert r.status_code == 200, r.get_data(as_text=True)

    for i in range(50):  # unmeasured: connections, caches, the first pages of each index
        post(i)
    statements.write_transaction, statements.bulk_insert = timed_turn, timed_inserts
    t0, cpu0, written0 = time.perf_counter(), time.process_time(), _written()
    for i in range(50, 50 + args.batches):
        post(i)
    wall, cpu, written = time.perf_counter() - t0, time.process_time() - cpu0, _written()
    statements.write_transaction, statements.bulk_insert = write_transaction, bulk_insert

    n = args.batches * args.batch
    turn = parts["inserts"] + parts["rest inside"] + parts["commit"]
    print(f"SQLite, {n:,} statements in batches of {args.batch} after {50 * args.batch:,} (one thread, in-process)")
    print(f"  whole request: {wall / n * 1e6:7.1f} us wall, {cpu / n * 1e6:7.1f} us CPU a statement")
    print(f"  the turn:      {turn / n * 1e6:7.1f} us wall, {parts['cpu'] / n * 1e6:7.1f} us CPU a statement, of which")
    for name in ("inserts", "rest inside", "commit"):
        print(f"    {name:<12} {parts[name] / n * 1e6:7.1f} us")
    if written:
        print(f"  written: {(written['wchar'] - written0['wchar']) / n / 1024:.1f} kB a statement to files (the WAL, and "
              f"the database at checkpoints), {(written['write_bytes'] - written0['write_bytes']) / n / 1024:.1f} kB "
              f"of it to the disk meanwhile")
    print(f"  one writer's ceiling: {n / turn:,.0f} statements/s (the turn alone, back to back)")
    app.extensions["lrs.engine"].dispose()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
