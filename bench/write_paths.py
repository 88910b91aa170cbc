"""A PostgreSQL write through the one-round-trip path (`_save_at_once`) and through the full path, measured in turns
in one process, so that the machine's drift from minute to minute hits both alike.

    .venv/bin/python bench/write_paths.py [--size 1] [--blocks 20] [--block 200]

Each block POSTs `--block` requests of `--size` statements (with ids, as most clients send them) through the Flask
test client, first with the one-round-trip write off, then on. Prints CPU of this process and of PostgreSQL's
backends, and wall time, per request for each.
"""
import argparse
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

PG_DB = "lrs_bench_write_paths"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=1, help="statements per POST (default 1)")
    ap.add_argument("--blocks", type=int, default=20, help="turns of each path (default 20)")
    ap.add_argument("--block", type=int, default=200, help="requests per turn (default 200)")
    args = ap.parse_args(argv)
    if c.pg_available():
        sys.exit("PostgreSQL does not answer")
    c.wait_for_app()
    from lrs import create_app
    from lrs.store import credentials
    from lrs.store import statements as store
    from lrs.store.db import make_engine
    from lrs.store.migrate import upgrade

    url = c.pg_recreate(PG_DB)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    app.instance_path = tempfile.mkdtemp(prefix="lrs-bench-write-paths-")
    cred = credentials.create(app.extensions["lrs.engine"], "bench", ("all",))
    headers = {**c.auth_headers(cred["key"], cred["secret"]), "Content-Type": "application/json"}
    client = app.test_client()
    rng = random.Random(1)
    templates = [c.Template([c.statement(rng, with_id=False) for _ in range(args.size)], args.size == 1, True)
                 for _ in range(50)]

    def post(n):
        for i in range(n):
            r = client.post("/xapi/statements", data=templates[i % len(templates)].render(), headers=headers)
            assert r.status_code == 200, r.get_data(as_text=True)

    at_once = store._save_at_once
    paths = {"full path (BEGIN, check, insert, COMMIT)": lambda *a: False, "one round trip": at_once}
    totals = {name: {"server": 0.0, "postgres": 0.0, "wall": 0.0} for name in paths}
    post(2 * len(templates))  # warm: connections, prepared statements, every activity definition seen
    try:
        for _ in range(args.blocks):
            for name, path in paths.items():
                store._save_at_once = path
                meter = c.CpuMeter(os.getpid(), PG_DB).start()
                t0 = time.process_time()
                post(args.block)
                cpu = meter.stop()
                cpu["server"] = time.process_time() - t0  # this process's threads, not its children's
                for key in totals[name]:
                    totals[name][key] += cpu[key]
    finally:
        store._save_at_once = at_once
    n = args.blocks * args.block
    print(f"{'path':<42} {'app CPU ms':>10} {'PostgreSQL CPU ms':>18} {'wall ms':>8}   per POST of {args.size}, "
          f"{n} each")
    for name, t in totals.items():
        print(f"{name:<42} {t['server'] / n * 1000:>10.3f} {t['postgres'] / n * 1000:>18.3f} {t['wall'] / n * 1000:>8.3f}")
    app.extensions["lrs.engine"].dispose()
    c.pg_drop(PG_DB)


if __name__ == "__main__":
    main()
