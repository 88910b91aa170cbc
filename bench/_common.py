"""What the benchmarks share: realistic statements for a hospital region, keep-alive HTTP clients in several
processes, databases to benchmark on, percentiles and CPU accounting.

Nothing here asserts on time: the benchmarks print numbers."""
import base64
import http.client
import math
import os
import random
import shutil
import sys
import time
import uuid
from urllib.parse import urlsplit

import orjson

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:  # `python bench/x.py` from anywhere: the project is importable without installing
    sys.path.insert(0, ROOT)

PG_ADMIN = os.environ.get("LRS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
XAPI_VERSION = "1.0.3"

# ------------------------------------------------------------------------------------------ the population

HOME = "https://ansatt.helse-sorost.example.no"  # employee accounts of the region's identity provider
SITE = "https://kompetanse.helse-sorost.example.no"
N_EMPLOYEES = 80_000
N_COURSES = 300
N_PROGRAMMES = 30  # each course belongs to one programme (contextActivities parent)
N_TRUSTS = 11  # the region's health trusts (contextActivities grouping)

ADL = "http://adlnet.gov/expapi/verbs/"
# (verb, share of statements): launches and progress dominate, outcomes are rarer.
VERBS = [("launched", 22), ("initialized", 15), ("experienced", 18), ("progressed", 12), ("attempted", 10),
         ("completed", 12), ("passed", 8), ("failed", 3)]
VERB_IDS = [ADL + v for v, _ in VERBS]
VERB_WEIGHTS = [w for _, w in VERBS]
_VERB_CUM = [sum(VERB_WEIGHTS[:i + 1]) for i in range(len(VERBS))]

# Course popularity: Zipf (s = 1) over 300 courses — a few mandatory courses (HLR, hygiene, privacy) take most.
COURSE_WEIGHTS = [1 / (rank + 1) for rank in range(N_COURSES)]
_COURSE_CUM = [sum(COURSE_WEIGHTS[:i + 1]) for i in range(N_COURSES)]

_TOPICS_NB = ["HLR", "Smittevern", "Personvern", "Legemiddelhåndtering", "Brannvern", "Forflytning", "Sepsis",
              "Informasjonssikkerhet", "Vold og trusler", "Ernæring", "Palliasjon", "Blodtransfusjon"]
_TOPICS_EN = ["CPR", "Infection control", "Privacy", "Medication handling", "Fire safety", "Patient handling",
              "Sepsis", "Information security", "Violence and threats", "Nutrition", "Palliative care",
              "Blood transfusion"]


def employee(n: int) -> dict:
    return {"objectType": "Agent", "name": f"Ansatt {n:05d}", "account": {"homePage": HOME, "name": f"e{n:05d}"}}


def course_id(c: int) -> str:
    return f"{SITE}/kurs/{c:03d}"


def course(c: int) -> dict:
    topic = c % len(_TOPICS_NB)
    return {"objectType": "Activity", "id": course_id(c), "definition": {
        "type": "http://adlnet.gov/expapi/activities/course",
        "name": {"nb-NO": f"{_TOPICS_NB[topic]} – modul {c // len(_TOPICS_NB) + 1}",
                 "en-US": f"{_TOPICS_EN[topic]} – module {c // len(_TOPICS_NB) + 1}"}}}


def _programme(c: int) -> dict:
    p = c % N_PROGRAMMES
    return {"objectType": "Activity", "id": f"{SITE}/program/{p:02d}", "definition": {
        "type": "http://adlnet.gov/expapi/activities/program",
        "name": {"nb-NO": f"Opplæringsprogram {p + 1}", "en-US": f"Training programme {p + 1}"}}}


def _trust(n: int) -> dict:
    return {"objectType": "Activity", "id": f"{SITE}/helseforetak/{n % N_TRUSTS:02d}",
            "definition": {"type": "http://id.tincanapi.com/activitytype/organization"}}


def registration(emp: int, c: int) -> str:
    """One registration per (employee, course) enrolment: the same one on every statement of that enrolment."""
    return str(uuid.UUID(int=(emp * 1000 + c) * 0x9E3779B97F4A7C15F39CC0605CEDC835 % (1 << 128), version=4))


def pick_employee(rng: random.Random) -> int:
    return rng.randrange(N_EMPLOYEES)


def pick_course(rng: random.Random) -> int:
    return _pick(rng, _COURSE_CUM)


def pick_verb(rng: random.Random) -> str:
    return VERB_IDS[_pick(rng, _VERB_CUM)]


def _pick(rng, cum):
    from bisect import bisect_right
    return min(bisect_right(cum, rng.random() * cum[-1]), len(cum) - 1)


_BASE_TS = 1_767_225_600  # 2026-01-01T00:00:00Z: timestamps spread over the year before storing


def statement(rng: random.Random, with_id: bool = True) -> dict:
    """One realistic statement: an employee did something in a course, with result and context."""
    emp, c, verb = pick_employee(rng), pick_course(rng), pick_verb(rng)
    stmt = {}
    if with_id:
        stmt["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    stmt["actor"] = employee(emp)
    stmt["verb"] = {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[1], "nb-NO": verb.rsplit("/", 1)[1]}}
    stmt["object"] = course(c)
    if verb.endswith(("completed", "passed", "failed", "attempted")):
        raw = rng.randint(0 if verb.endswith("failed") else 40, 100)
        stmt["result"] = {"score": {"scaled": raw / 100, "raw": raw, "min": 0, "max": 100},
                          "success": not verb.endswith("failed"), "completion": not verb.endswith("attempted"),
                          "duration": f"PT{rng.randint(3, 90)}M{rng.randint(0, 59)}S"}
    stmt["context"] = {
        "registration": registration(emp, c),
        "contextActivities": {"parent": [_programme(c)], "grouping": [_trust(emp)]},
        "platform": "Kompetanseportalen", "language": "nb-NO",
    }
    ts = _BASE_TS + rng.randrange(365 * 86400)
    stmt["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{rng.randrange(1000):03d}Z"
    return stmt


# A placeholder the client swaps for a fresh id per request, so a pre-serialised body is never a repeat.
_ID_MARK = b"00000000-0000-4000-8000-00000000abcd"


class Template:
    """A pre-serialised body (one statement or a batch) with a fresh statement id per request, or none."""

    def __init__(self, stmts, single: bool, with_ids: bool):
        if with_ids:
            for s in stmts:
                s["id"] = _ID_MARK.decode()
        body = orjson.dumps(stmts[0] if single else stmts)
        self.parts = body.split(_ID_MARK) if with_ids else [body]
        self.count = len(stmts)

    def render(self) -> bytes:
        if len(self.parts) == 1:
            return self.parts[0]
        ids = _fresh_ids(len(self.parts) - 1)
        out = [self.parts[0]]
        for i, part in enumerate(self.parts[1:]):
            out.append(ids[i])
            out.append(part)
        return b"".join(out)


def _fresh_ids(n: int) -> list[bytes]:
    raw = os.urandom(16 * n).hex().encode()
    out = []
    for i in range(n):
        h = raw[32 * i:32 * i + 32]
        # version 4, RFC 4122 variant
        out.append(h[:8] + b"-" + h[8:12] + b"-4" + h[13:16] + b"-" + b"89ab"[h[16] % 4:h[16] % 4 + 1] + h[17:20]
                   + b"-" + h[20:32])
    return out


# ----------------------------------------------------------------------------------------------- HTTP

def auth_headers(key: str, secret: str) -> dict:
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": "Basic " + token, "X-Experience-API-Version": XAPI_VERSION}


class Client:
    """One keep-alive connection; reconnects if the server closed it between requests."""

    def __init__(self, url: str, headers: dict):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.headers = headers
        self.conn = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, body bytes)."""
        h = {**self.headers, **(headers or {})}
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.conn.request(method, path, body=body, headers=h)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # keep-alive timed out on the server between two requests: a new connection, once
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()


def percentile(values, p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a list of numbers."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# ----------------------------------------------------------------------------------------------- databases

def pg_available() -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        import psycopg
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
        return None
    except Exception as e:  # noqa: BLE001  (any failure means: skip PostgreSQL)
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def pg_exists(name: str) -> bool:
    import psycopg
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def pg_recreate(name: str, template: str | None = None) -> str:
    import psycopg
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return pg_url(name)


def database(db: str, name: str) -> str:
    """A fresh database to benchmark on: a SQLite file in a new temporary folder, or PostgreSQL database `name`."""
    if db == "sqlite":
        import tempfile
        return f"sqlite:///{tempfile.mkdtemp(prefix='lrs-bench-')}/lrs.db"
    why = pg_available()
    if why:
        sys.exit(f"PostgreSQL does not answer on 127.0.0.1:5432: {why}")
    return pg_recreate(name)


def pg_drop(name: str) -> None:
    import psycopg
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_remove(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-writer"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


def sqlite_copy(src: str, dst: str) -> None:
    """Copy a SQLite database whose writers have all stopped (checkpointed first, so the WAL is empty)."""
    import sqlite3
    conn = sqlite3.connect(src)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    sqlite_remove(dst)
    shutil.copyfile(src, dst)


def count_statements(url: str) -> int:
    from sqlalchemy import func, select

    from lrs.store.db import make_engine
    from lrs.store.models import statements
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(statements)).scalar_one()
    finally:
        engine.dispose()


def wait_for_app(poll: float = 30.0) -> None:
    """The app must import (modules other engineers are still writing); wait for it, saying so."""
    import subprocess
    while True:
        r = subprocess.run([sys.executable, "-c", "from lrs import create_app; create_app()"], cwd=ROOT,
                           capture_output=True, text=True)
        if r.returncode == 0:
            return
        last = (r.stderr.strip().splitlines() or ["?"])[-1]
        print(f"the app does not import yet ({last}); trying again in {poll:.0f}s", file=sys.stderr, flush=True)
        time.sleep(poll)


# ----------------------------------------------------------------------------------------------- CPU accounting

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (its own threads; not its waited-for children)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0


def _descendants(pid: int) -> list[int]:
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _postgres_pids(database: str) -> list[int]:
    """PostgreSQL's own processes (writer, checkpointer, …) and the backends serving `database`: not the
    backends of other databases (other people's tests may share the server)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() != "postgres":
                        continue
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    title = f.read().replace(b"\0", b" ").decode(errors="replace")
            except (FileNotFoundError, ProcessLookupError):
                continue
            backend = "(" in title or "[local]" in title
            if not backend or f" {database} " in title:
                out.append(int(entry))
    return out


class CpuMeter:
    """CPU seconds spent by the LRS server (master + workers) and by PostgreSQL between start() and stop().
    A PostgreSQL backend that exits in between is missed; connections stay pooled, so few do."""

    def __init__(self, server_pids: int | list[int], pg_database: str | None):
        self.server_pids = [server_pids] if isinstance(server_pids, int) else server_pids
        self.pg_database = pg_database

    def _sample(self):
        server = {p: _proc_cpu(p) for pid in self.server_pids for p in _descendants(pid)}
        pg = {p: _proc_cpu(p) for p in _postgres_pids(self.pg_database)} if self.pg_database else {}
        return server, pg, time.monotonic(), machine_cpu()

    def start(self):
        self.t0 = self._sample()
        return self

    def stop(self) -> dict:
        s, p, t, m = self._sample()

        def delta(now, before):  # per process, so one that exits in between does not count negative
            return sum(v - before.get(pid, 0.0) for pid, v in now.items())
        return {"server": delta(s, self.t0[0]), "postgres": delta(p, self.t0[1]), "wall": t - self.t0[2],
                "machine": m - self.t0[3]}


def machine_cpu() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]) / _TICK
