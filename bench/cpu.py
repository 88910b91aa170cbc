"""CPU per request of the real HTTP server (`lrs run`), which a shared machine does not blur as it does wall time.

One keep-alive client POSTs N requests one after another (single statements, then 100-statement batches); the
server's CPU (master + workers, from /proc) and PostgreSQL's backends' CPU are read before and after.

    .venv/bin/python bench/cpu.py [--requests 400] [--db sqlite,postgresql] [--py-spy out.svg]

Numbers only: nothing here passes or fails.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

PG_DB = "lrs_bench_cpu"


def measure(server, headers, size, n, pg_database, spy=None):
    rng = random.Random(size)
    pool = [c.Template([c.statement(rng, with_id=False) for _ in range(size)], size == 1, True)
            for _ in range(50)]
    client = c.Client(server.url, {**headers, "Content-Type": "application/json"})
    for i in range(20):  # warm: connections, caches, activity definitions
        client.request("POST", "/xapi/statements", pool[i % len(pool)].render())
    bodies = [pool[i % len(pool)].render() for i in range(n)]
    profiler = None
    if spy:
        # Every process of the server (workers and the scheduler's), only threads holding the GIL: Python's CPU.
        profiler = subprocess.Popen(["py-spy", "record", "-f", "raw", "-o", spy, "--nonblocking", "-r", "500",
                                     "--gil", "--subprocesses", "-p", str(server.process.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    meter = c.CpuMeter(server.process.pid, pg_database).start()
    errors = 0
    for body in bodies:
        status, _ = client.request("POST", "/xapi/statements", body)
        errors += status != 200
    cpu = meter.stop()
    client.close()
    if profiler:
        profiler.send_signal(2)
        profiler.wait()
    return cpu, errors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=400, help="requests per case (batches: a tenth)")
    ap.add_argument("--db", default="sqlite,postgresql")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--py-spy", help="record a profile (py-spy raw, collapsed stacks) of the server's processes to PREFIX-<db>-<size>.txt")
    args = ap.parse_args(argv)
    from tests.server_support import Server
    tmp = tempfile.mkdtemp(prefix="lrs-bench-cpu-")
    print(f"{'database':<11} {'mode':<9} {'server CPU ms/request':>22} {'µs/statement':>13} {'postgres ms/request':>20}")
    for db in [d.strip() for d in args.db.split(",") if d.strip()]:
        pg = None
        if db == "sqlite":
            path = os.path.join(tmp, "lrs.db")
            url = f"sqlite:///{path}"
        else:
            if c.pg_available():
                continue
            url, pg = c.pg_recreate(PG_DB), PG_DB
        with Server(url, workers=args.workers, threads=args.threads) as server:
            headers = c.auth_headers(*server.credential("statements/write"))
            for size, n in ((1, args.requests), (100, max(10, args.requests // 10))):
                spy = f"{args.py_spy}-{db}-{size}.txt" if args.py_spy else None
                cpu, errors = measure(server, headers, size, n, pg, spy)
                print(f"{db:<11} {'single' if size == 1 else f'batch{size}':<9} {cpu['server'] / n * 1000:>22.2f} "
                      f"{cpu['server'] / n / size * 1e6:>13.0f} {cpu['postgres'] / n * 1000:>20.2f}"
                      + (f"   ({errors} errors)" if errors else ""), flush=True)
        if db == "sqlite":
            c.sqlite_remove(path)
        else:
            c.pg_drop(PG_DB)
    os.rmdir(tmp) if not os.listdir(tmp) else None


if __name__ == "__main__":
    main()
