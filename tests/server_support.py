"""Shared pieces of the tests that drive a real server (`lrs run` under gunicorn, via Server below) over HTTP.

Each test gets its own database: a SQLite file in its tmp_path, or a PostgreSQL database `lrs_srv_<worker>`
(dropped and made again for every test, dropped after it)."""
import json
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from contextlib import contextmanager

import requests

from tests.conftest import fresh_database
from tests.helpers import COMPLETED, agent

VERSION = "1.0.3"
# Every server of these tests signs its more links with this key, so a restarted server accepts the old ones and
# nothing is written to the instance folder.
SERVER_ENV = {"LRS_SECRET_KEY": "server-tests-secret"}
COURSES = [f"https://kurs.helse.example.no/kurs/{i}" for i in range(8)]


@contextmanager
def database(kind: str, tmp_path, worker_id: str, suffix: str = ""):
    """A fresh, empty database URL of this kind; Server.start migrates it."""
    with fresh_database(kind, tmp_path, f"srv_{worker_id}{suffix}") as url:
        yield url


@contextmanager
def running(url: str, workers: int = 2, threads: int = 4, port: int | None = None):
    server = Server(url, workers=workers, threads=threads, port=port, env=dict(SERVER_ENV))
    server.start(timeout=60)
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------------ the server


class Server:
    """A real LRS server in a child process (`lrs run`, lrs/serve.py): what tests and benchmarks drive over HTTP.

        with Server("sqlite:////tmp/lrs.db", workers=2) as server:
            requests.get(server.url + "/xapi/about")
    """

    def __init__(self, database_url: str, workers: int = 2, threads: int = 4, port: int | None = None,
                 env: dict | None = None, log: str | None = None):
        self.database_url, self.workers, self.threads = database_url, workers, threads
        self.log = log  # a file the server's log (stderr) goes to; None: this process's stderr
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env or {}
        self.process = None

    def start(self, timeout: float = 30.0) -> "Server":
        env = {**os.environ, "LRS_DATABASE_URL": self.database_url, **self.env}
        subprocess.run([sys.executable, "-m", "lrs.cli", "db", "upgrade"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        stderr = open(self.log, "ab") if self.log else None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lrs.cli", "run", "--port", str(self.port), "--workers", str(self.workers),
             "--threads", str(self.threads)], env=env, start_new_session=True, stderr=stderr)
        if stderr:
            stderr.close()  # the child holds its own copy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"lrs run exited with {self.process.returncode}")
            try:
                urllib.request.urlopen(self.url + "/xapi/about", timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"lrs run did not answer on {self.url} within {timeout}s")

    def credential(self, *scopes: str) -> tuple[str, str]:
        """A new (key, secret) made with `lrs credentials create`."""
        args = [sys.executable, "-m", "lrs.cli", "credentials", "create", "--name", "server-test", "--json"]
        for scope in scopes or ("all",):
            args += ["--scope", scope]
        out = subprocess.run(args, env={**os.environ, "LRS_DATABASE_URL": self.database_url, **self.env},
                             check=True, capture_output=True, text=True).stdout
        cred = json.loads(out)
        return cred["key"], cred["secret"]

    def kill(self) -> None:
        """kill -9 the whole server (master and workers), as a crash would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except Exception:
                self.kill()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------------ HTTP


def session(key: str, secret: str) -> requests.Session:
    s = requests.Session()
    s.auth = (key, secret)
    s.headers["X-Experience-API-Version"] = VERSION
    return s


def post(s: requests.Session, base: str, stmts, timeout=60) -> requests.Response:
    return s.post(base + "/xapi/statements", json=stmts, timeout=timeout)


def put(s: requests.Session, base: str, stmt: dict, timeout=60) -> requests.Response:
    return s.put(base + "/xapi/statements", params={"statementId": stmt["id"]}, json=stmt, timeout=timeout)


def stored_ids(s: requests.Session, base: str, **params) -> list[str]:
    """Every (unvoided) statement id a query finds, in the order the LRS gives them, following `more`."""
    r = s.get(base + "/xapi/statements", params={"limit": 500, "format": "ids", **params}, timeout=60)
    ids = []
    while True:
        assert r.status_code == 200, r.text
        page = r.json()
        ids += [stmt["id"] for stmt in page["statements"]]
        if not page["more"]:
            return ids
        assert page["more"].startswith("/xapi/statements?"), page["more"]  # relative, as xAPI says
        r = s.get(base + page["more"], timeout=60)


def duplicates(ids) -> dict:
    return {i: n for i, n in Counter(ids).items() if n > 1}


# ------------------------------------------------------------------------------------------------ statements


def make_statement(rng: random.Random, sid: str | None = None, who: str = "kari", note: str = "") -> dict:
    """A statement with a client-chosen id (unless sid is None), an actor and a course from a small pool, and an
    activity definition that varies by `who` (so concurrent batches merge definitions of the same activities)."""
    course = rng.choice(COURSES)
    stmt = {
        "actor": agent(f"{who}{rng.randrange(20)}"),
        "verb": {"id": COMPLETED, "display": {"en-US": "completed"}},
        "object": {"objectType": "Activity", "id": course,
                   "definition": {"name": {"nb-NO": f"Kurs {course[-1]}", "en-US": f"Course, as {who} calls it"}}},
        "result": {"score": {"scaled": round(rng.random(), 3)}, "response": note or who},
    }
    if sid is not None:
        stmt["id"] = sid
    return stmt


def new_ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


# --------------------------------------------------------------------------------------- client processes

def plan_for(client: int, ops: int, seed: int) -> list:
    """What one client sends: batches and single statements with ids it chose, some batches re-sent."""
    rng = random.Random(seed * 1000 + client)
    who = f"c{client}x"
    plan = []
    for n in range(ops):
        kind = rng.choices(["batch", "timeout-retry", "resend", "single", "put", "lrs-ids"],
                           weights=[5, 2, 2, 2, 2, 1])[0]
        if kind in ("single", "put"):
            plan.append((kind, make_statement(rng, str(uuid.uuid4()), who, f"{kind} {n}")))
        elif kind == "lrs-ids":  # the LRS chooses the ids: only sent once, so only what it acknowledged exists
            plan.append((kind, [make_statement(rng, None, who, f"{kind} {n}") for _ in range(rng.randint(5, 30))]))
        else:
            plan.append((kind, [make_statement(rng, sid, who, f"{kind} {n}")
                                for sid in new_ids(rng.randint(10, 80))]))
    return plan


def run_client(args) -> dict:
    """Runs in a child process: send the plan, each op to the next of `bases` (retries go to another one)."""
    bases, key, secret, plan = args
    s = session(key, secret)
    acked, failures, retries_timed_out = [], [], 0

    def check(r, expect, what):
        if r.status_code != expect:
            failures.append(f"{what}: {r.status_code} {r.text[:300]}")
            return False
        return True

    for n, (kind, payload) in enumerate(plan):
        base, other = bases[n % len(bases)], bases[(n + 1) % len(bases)]
        try:
            if kind == "put":
                if check(put(s, base, payload), 204, "PUT"):
                    acked.append(payload["id"])
            elif kind == "timeout-retry":
                # A client that gives up waiting (the LRS may or may not have stored the batch), then sends it
                # again, perhaps to another instance, perhaps while the first attempt is still being written.
                try:
                    r = post(s, base, payload, timeout=(5, 0.005))
                    if check(r, 200, "POST before its timeout"):
                        acked += r.json()
                except requests.Timeout:
                    retries_timed_out += 1
                    s.close()  # the timed-out connection cannot be reused
                r = post(s, other, payload)
                if check(r, 200, "POST retry") and r.json() == [st["id"] for st in payload]:
                    acked += r.json()
            elif kind == "resend":
                for b in (base, other):
                    r = post(s, b, payload)
                    if check(r, 200, "POST resent") and r.json() == [st["id"] for st in payload]:
                        acked += r.json()
            else:
                r = post(s, base, payload)
                if check(r, 200, "POST"):
                    ids = r.json()
                    if kind == "single":
                        assert ids == [payload["id"]], ids
                    acked += ids
        except requests.RequestException as e:
            failures.append(f"{kind}: {e!r}")
    return {"acked": acked, "failures": failures, "timed_out": retries_timed_out}


def run_clients(bases_per_client: list, key: str, secret: str, ops: int, seed: int) -> list[dict]:
    """One process per client (forked from a forkserver that has this module loaded: quicker than spawn, and
    safer than fork from a pytest process with threads)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    jobs = [(bases, key, secret, plan_for(i, ops, seed)) for i, bases in enumerate(bases_per_client)]
    with ctx.Pool(len(jobs)) as pool:
        return pool.map(run_client, jobs, chunksize=1)
