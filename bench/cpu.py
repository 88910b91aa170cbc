"""CPU per request of the real HTTP server (`lrs run`), which a shared machine does not blur as it does wall time.

One keep-alive client POSTs N requests one after another (single statements, then 100-statement batches); the
server's CPU (master + workers, from /proc) and PostgreSQL's backends' CPU are read before and after.

    .venv/bin/python bench/cpu.py [--requests 400] [--db sqlite,postgresql] [--py-spy out.svg]

With --lrs: the same requests to another xAPI LRS already running (a like-with-like comparison on the same
machine); its CPU is that of --lrs-pid and its descendants (e.g. uvicorn's workers), nothing else is started:

    .venv/bin/python bench/cpu.py --lrs http://127.0.0.1:8100/xAPI/statements --credential KEY:SECRET \
        --lrs-pid PID --label ralph-fs

Numbers only: nothing here passes or fails.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

PG_DB = "lrs_bench_cpu"


def measure(url, path, pid, headers, size, n, pg_database, spy=None):
    """POST n bodies of `size` statements to url + path; (CPU seconds of pid and descendants and of PostgreSQL,
    failed requests)."""
    rng = random.Random(size)
    pool = [c.Template([c.statement(rng, with_id=False) for _ in range(size)], size == 1, True)
            for _ in range(50)]
    client = c.Client(url, {**headers, "Content-Type": "application/json"})
    for i in range(20):  # warm: connections, caches, activity definitions
        client.request("POST", path, pool[i % len(pool)].render())
    bodies = [pool[i % len(pool)].render() for i in range(n)]
    profiler = None
    if spy:
        # Every process of the server (workers and the scheduler's), only threads holding the GIL: Python's CPU.
        profiler = subprocess.Popen(["py-spy", "record", "-f", "raw", "-o", spy, "--nonblocking", "-r", "500",
                                     "--gil", "--subprocesses", "-p", str(pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    meter = c.CpuMeter(pid, pg_database).start()
    errors = 0
    for body in bodies:
        status, _ = client.request("POST", path, body)
        errors += status != 200
    cpu = meter.stop()
    client.close()
    if profiler:
        profiler.send_signal(2)
        profiler.wait()
    return cpu, errors


def cases(args):
    """(statements per request, requests): single statements, then 100-statement batches."""
    return (1, args.requests), (100, max(10, args.requests // 10))


def print_row(name, size, n, cpu, errors, postgres=True):
    print(f"{name:<14} {'single' if size == 1 else f'batch{size}':<9} {cpu['server'] / n * 1000:>22.2f} "
          f"{cpu['server'] / n / size * 1e6:>13.0f} "
          + (f"{cpu['postgres'] / n * 1000:>20.2f}" if postgres else f"{'-':>20}")
          + (f"   ({errors} errors)" if errors else ""), flush=True)


def bench_external(args):
    """The same requests to an LRS already running (--lrs)."""
    parts = urlsplit(args.lrs)
    headers = c.auth_headers(*args.credential.split(":", 1))
    for size, n in cases(args):
        spy = f"{args.py_spy}-{args.label}-{size}.txt" if args.py_spy else None
        cpu, errors = measure(f"{parts.scheme}://{parts.netloc}", parts.path or "/", args.lrs_pid, headers, size, n,
                              None, spy)
        print_row(args.label, size, n, cpu, errors, postgres=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=400, help="requests per case (batches: a tenth)")
    ap.add_argument("--db", default="sqlite,postgresql")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--py-spy", help="record a profile (py-spy raw, collapsed stacks) of the server's processes to PREFIX-<db>-<size>.txt")
    ext = ap.add_argument_group("another LRS, already running (no server started, --db/--workers/--threads unused)")
    ext.add_argument("--lrs", metavar="URL",
                     help="full URL of its statements endpoint, e.g. http://127.0.0.1:8100/xAPI/statements")
    ext.add_argument("--credential", metavar="KEY:SECRET", help="its Basic-auth credential (required with --lrs)")
    ext.add_argument("--lrs-pid", metavar="PID", type=int,
                     help="its server process (required with --lrs; descendants counted)")
    ext.add_argument("--label", default="external", help="the table's database column for it (default external)")
    args = ap.parse_args(argv)
    if args.lrs and (not args.credential or ":" not in args.credential or not args.lrs_pid):
        ap.error("--lrs needs --credential KEY:SECRET and --lrs-pid PID")
    print(f"{'database':<14} {'mode':<9} {'server CPU ms/request':>22} {'µs/statement':>13} {'postgres ms/request':>20}")
    if args.lrs:
        return bench_external(args)
    from tests.server_support import Server
    tmp = tempfile.mkdtemp(prefix="lrs-bench-cpu-")
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
            for size, n in cases(args):
                spy = f"{args.py_spy}-{db}-{size}.txt" if args.py_spy else None
                cpu, errors = measure(server.url, "/xapi/statements", server.process.pid, headers, size, n, pg, spy)
                print_row(db, size, n, cpu, errors)
        if db == "sqlite":
            c.sqlite_remove(path)
        else:
            c.pg_drop(PG_DB)
    os.rmdir(tmp) if not os.listdir(tmp) else None


if __name__ == "__main__":
    main()
