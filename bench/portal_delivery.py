"""Portal push: how fast 100,000 queued status changes reach a local receiver.

The outbox is filled through the engine's own announcement path (lrs.competence.changes.emit), 10 changes per
employee, then the delivery job's function runs until the queue is empty, against a webhook receiver in another
process (a threaded HTTP server that checks nothing and answers 200).

    .venv/bin/python bench/portal_delivery.py [--db sqlite|postgresql] [--changes 100000] [--concurrency 4]

Numbers only: nothing here passes or fails on time.
"""
import argparse
import http.server
import multiprocessing as mp
import os
import socket
import sys
import time
import uuid
from datetime import date

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

from lrs import create_app  # noqa: E402
from lrs.competence.changes import StatusChange, emit  # noqa: E402
from lrs.portal import delivery  # noqa: E402
from lrs.store.db import write_transaction  # noqa: E402
from lrs.store.migrate import upgrade  # noqa: E402
from lrs.store.types import utcnow  # noqa: E402


def receive(port, counter):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            with counter.get_lock():
                counter.value += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgresql"])
    ap.add_argument("--changes", type=int, default=100_000)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    url = c.database(args.db, "lrs_bench_portal")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    counter = mp.Value("l", 0)
    receiver = mp.Process(target=receive, args=(port, counter), daemon=True)
    receiver.start()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "PORTAL_WEBHOOK_URL": f"http://127.0.0.1:{port}/",
                      "PORTAL_WEBHOOK_SECRET": "s", "PORTAL_BATCH": 10_000, "PORTAL_CONCURRENCY": args.concurrency})
    engine = app.extensions["lrs.engine"]
    upgrade(engine)
    now = utcnow()
    for start in range(0, args.changes, 5000):
        with write_transaction(engine) as conn:
            emit(app, conn, [StatusChange(str(uuid.uuid4()), f"e{i // 10:05d}", f"K{i % 30:02d}", "fulfilled",
                                          "missing", date(2026, 1, 1), date(2027, 1, 1), (str(uuid.uuid4()),), now)
                             for i in range(start, min(start + 5000, args.changes))])
    time.sleep(0.5)
    t = time.perf_counter()
    sent = 0
    while sent < args.changes:
        n = delivery.deliver(engine, app.config)["webhook"]
        if n == 0 and counter.value >= args.changes:
            break
        sent += n
    elapsed = time.perf_counter() - t
    print(f"{args.db}: {sent:,} changes delivered in {elapsed:.1f} s: {sent / elapsed:,.0f} changes/s "
          f"({args.concurrency} senders; receiver got {counter.value:,} requests)")
    receiver.terminate()
    engine.dispose()
    if args.db == "postgresql":
        c.pg_drop("lrs_bench_portal")


if __name__ == "__main__":
    main()
