"""Engines and transactions for SQLite (embedded default) and PostgreSQL (production, several app instances).

The rule for transactions: whoever answers the outside world owns the transaction (a view, a job, a command) and
opens it with `transaction()` (or `write_transaction`/`read_transaction` on an engine); the service functions
of competence, portal, cmi5 and the web's accounts it calls take that connection and never open one of their own."""
import fcntl
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from operator import itemgetter

import psycopg
from flask import current_app
from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from lrs.store.models import iri_key

_WAL_LIMIT = 64 * 1024 * 1024  # bytes of SQLite write-ahead log before a writer truncates it
_CHECKPOINT_PAGES = 10_000  # SQLite pages (4 kB) written to the WAL between automatic checkpoints
_PING_AFTER_IDLE = 5.0  # seconds; a connection back in the pool sooner than that is used without a ping
_BUSY_SECONDS = 30  # how long an SQLite writer waits for the database before the request fails (503)


def make_engine(url: str):
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if url.drivername == "postgresql":  # psycopg 3 is the driver we ship
        url = url.set(drivername="postgresql+psycopg")
    # A database that does not answer (down, or a network that drops packets) fails a request within seconds.
    connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": 5}
    engine = create_engine(url, pool_size=10, max_overflow=10, pool_timeout=10, connect_args=connect_args)
    _ping_idle_connections(engine)
    return engine


def unavailable(e: BaseException) -> bool:
    """The database could not be reached or went away mid-request (restart, failover, network, no free
    connection): nothing of the request was committed by us, and the client may retry. Not for errors in what was
    asked (integrity, syntax, a missing table). SQLAlchemy invalidates the pool on a lost connection, so the next
    requests connect afresh by themselves."""
    if isinstance(e, (exc.DisconnectionError, exc.TimeoutError)):
        return True
    if isinstance(e, exc.DBAPIError):
        if e.connection_invalidated:
            return True
        e = e.orig
    # psycopg's OperationalError: connection refused or lost, server shutting down, too many clients (also raised
    # as is by bulk_insert, which talks to the driver); SQLite's: the database stayed locked past busy_timeout.
    return isinstance(e, psycopg.OperationalError) or (isinstance(e, sqlite3.OperationalError) and "locked" in str(e))


def _ping_idle_connections(engine):
    """Like pool_pre_ping (a dead connection, e.g. after a database restart, is replaced before use), but only for
    connections that sat idle: a busy server then pays no extra round trip per request."""
    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, record, _proxy):
        if time.monotonic() - record.info.get("idle_since", 0.0) < _PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as e:
            raise exc.DisconnectionError(f"stale connection: {e}") from e  # the pool retries with a new one


def _sqlite_engine(url):
    engine = create_engine(url, connect_args={"timeout": _BUSY_SECONDS, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed transaction survives a killed process (not a power cut).
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={_BUSY_SECONDS * 1000}")
        cur.execute("PRAGMA foreign_keys=ON")
        # A checkpoint copies every page the WAL holds into the database: ten times the default's WAL between
        # them writes a page changed by many batches (an index's hot pages) once, not each time: 12-19 % less CPU per
        # statement in batches (docs/performance.md). The WAL stays under _WAL_LIMIT.
        cur.execute(f"PRAGMA wal_autocheckpoint={_CHECKPOINT_PAGES}")
        cur.close()
        # The key the indexes by agent and activity hold (lrs.store.models): every connection that writes or queries
        # those tables needs it; deterministic, or SQLite refuses it in an index.
        dbapi_conn.create_function("lrs_key", 1, iri_key, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Writers take the lock up front; a deferred BEGIN that upgrades later can deadlock with another writer.
        # Straight to the driver: through SQLAlchemy's execution this was a tenth of a single POST's CPU.
        conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE" if conn.get_execution_options().get("write")
                                                 else "BEGIN")

    return engine


def engine():
    """The database engine of the app in whose context this runs (a request, a job, a command)."""
    return current_app.extensions["lrs.engine"]


def transaction(write: bool = False):
    """A transaction on the current app's database: `with transaction(write=True) as conn: service.f(conn, …)`."""
    return (write_transaction if write else read_transaction)(engine())


def is_sqlite(engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def write_transaction(engine):
    if not is_sqlite(engine):
        with engine.connect().execution_options(write=True) as conn, conn.begin():
            yield conn
        return
    with _writers_turn(engine.url.database), engine.connect().execution_options(write=True) as conn:
        with conn.begin():
            yield conn
        _keep_wal_small(conn)


def _writers_turn(database: str | None) -> "_WritersTurn":
    """The turn of the writers to this SQLite database, one per database file in a process."""
    return _TURNS.get(database) or _TURNS.setdefault(database, _WritersTurn(database))


class _WritersTurn:
    """SQLite lets one writer in at a time. A writer that finds the database locked sleeps and tries again, in
    sleeps that grow to 100 ms (SQLite's busy handler), so under load the database stood idle while its writers
    slept: the cores half busy and a batch's p95 at 490-760 ms (docs/performance.md). So writers queue here first: this
    process's threads on a lock, which wakes the next at once, and the processes on a lock file beside the database
    (flock), looked at every millisecond or two. Writers from elsewhere (an `lrs` command) still meet SQLite's
    busy handler. Re-entrant: a write inside a write in one thread waits for SQLite as it did before."""

    def __init__(self, database: str | None):
        self.path = f"{database}-writer" if database and database != ":memory:" else None
        self.lock = threading.RLock()
        self.depth = 0
        self.fd, self.pid = None, None

    def __enter__(self):
        if not self.lock.acquire(timeout=_BUSY_SECONDS):
            raise _no_turn()
        try:
            if self.depth == 0 and self.path:
                self._flock()
        except BaseException:
            self.lock.release()
            raise
        self.depth += 1

    def __exit__(self, *_exc):
        self.depth -= 1
        if self.depth == 0 and self.path:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.lock.release()

    def _flock(self):
        if self.pid != os.getpid():  # (a forked child has its own turn to take)
            self.fd, self.pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        deadline, pause = time.monotonic() + _BUSY_SECONDS, 0.0002
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise _no_turn()
                time.sleep(pause)
                pause = min(pause * 2, 0.002)


_TURNS: dict[str | None, _WritersTurn] = {}


def _no_turn() -> exc.OperationalError:
    """What SQLite says when the database stays locked past busy_timeout (`unavailable`: 503)."""
    return exc.OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError(
        f"database is locked: no turn to write within {_BUSY_SECONDS} s"))


def _keep_wal_small(conn) -> None:
    """SQLite's automatic checkpoints copy the WAL into the database but start it over only when no reader is in
    it, which never happens while several threads and workers read and write without pause: the WAL then grows
    without bound (12 GB after 400,000 statements through the HTTP server) and every page read searches its whole
    index. Past the limit, the writer that notices waits for readers of older snapshots (busy_timeout) and
    truncates it."""
    try:
        if os.path.getsize(f"{conn.engine.url.database}-wal") < _WAL_LIMIT:
            return
    except OSError:  # in-memory database, or no WAL yet
        return
    conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


@contextmanager
def read_transaction(engine):
    with engine.connect() as conn:
        with conn.begin():
            yield conn


def read_once(engine):
    """A connection for one query that needs no transaction around it: on PostgreSQL one round trip, not three
    (BEGIN, the query, COMMIT)."""
    if is_sqlite(engine):  # our own BEGIN listener would open a transaction nobody ends
        return read_transaction(engine)
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def driver_rows(conn, sql: str, params=()) -> list[tuple]:
    """The rows of one query run straight through the driver, in the connection's transaction: for the write path,
    where SQLAlchemy's statement execution (~50-100 µs a call) cost more than the query. `sql` takes `?`
    placeholders on both databases."""
    if conn.dialect.name != "sqlite":
        sql = sql.replace("?", "%s")
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []
    finally:
        cursor.close()


def bulk_insert(conn, *inserts, seqs=None) -> None:
    """Insert many rows into one or more tables fast, straight through the driver: `(table, rows)` pairs, the rows
    dicts with the same keys. PostgreSQL: one statement for all the tables, so the whole write is one round trip
    (COPY costs two per table, executemany one per row). SQLite: executemany. SQLAlchemy's per-row parameter
    processing cost more than the database did.

    seqs: `(table, column names)` when the rows hold values from reserve_seqs(conn, table, n) in those columns."""
    inserts = [(table, rows) for table, rows in inserts if rows]
    if not inserts:
        return
    try:
        if conn.dialect.name == "sqlite":
            cursor = conn.connection.driver_connection.cursor()
            for table, rows in inserts:
                names = list(rows[0])
                cursor.executemany(
                    f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                    map(itemgetter(*names), rows))  # tuples made in C: a Python loop here cost a tenth of a batch
        else:
            with conn.connection.driver_connection.cursor() as cursor:
                cursor.execute(*pg_insert(conn.dialect, inserts, seqs))
    except conn.dialect.loaded_dbapi.IntegrityError as e:  # the same error SQLAlchemy would have raised
        raise IntegrityError(f"bulk insert into {', '.join(t.name for t, _ in inserts)}", None, e) from e


# Below this many values a write sends them one by one (VALUES); above it, a column at a time (unnest of arrays).
# psycopg dumps scalars in C but arrays in Python (~50 µs each, whatever their length): one statement with its
# index rows took 2.0 ms of CPU through arrays and 0.8 ms through VALUES; a batch of 100, 7 ms and 44 ms.
_VALUES_UP_TO = 100


def pg_insert(dialect, inserts, seqs, first: tuple[str, dict] | None = None) -> tuple[str, dict]:
    """The one PostgreSQL statement (and its parameters) that bulk_insert runs.

    first: (an SQL expression, its parameters) evaluated once before any row is written: every insert reads its rows
    joined to it (a one-row CTE), so an error it raises leaves nothing written."""
    values = sum(len(rows) * len(rows[0]) for _, rows in inserts) <= _VALUES_UP_TO
    ctes, writes, params, joined = [], [], {}, ""
    if first:
        ctes.append(f"c AS (SELECT {first[0]})")
        params.update(first[1])
        joined += ", c"
    if seqs:  # the stand-ins -1..-n become the n sequence values taken here, in order (see reserve_seqs)
        seq_table, seq_columns = seqs
        params["seq_n"] = next(len(rows) for table, rows in inserts if table is seq_table)
        ctes.append(f"s AS (SELECT array_agg(nextval('{seq_table.name}_seq_seq') ORDER BY o) AS seqs "
                    f"FROM generate_series(1, %(seq_n)s) AS o)")
        joined += ", s"
    for i, (table, rows) in enumerate(inserts):
        names = list(rows[0])
        if values:
            for j, row in enumerate(rows):
                params.update((f"{n}{i}_{j}", row[n]) for n in names)
            source = "VALUES " + ", ".join("(" + ", ".join(f"%({n}{i}_{j})s" for n in names) + ")"
                                           for j in range(len(rows)))
        else:
            arrays = []
            for n in names:
                params[f"{n}{i}"] = list(map(itemgetter(n), rows))
                # Binary: text arrays in text format would escape every quote of every JSON body, in Python.
                arrays.append(f"%({n}{i})b::{table.c[n].type.compile(dialect=dialect)}[]")
            source = f"SELECT * FROM unnest({', '.join(arrays)})"
        columns = ", ".join(names)
        if joined:  # (the stand-ins' columns are typed by their values: text for unknown ones, fine for these tables)
            picked = ", ".join(f"CASE WHEN v.{n} < 0 THEN s.seqs[-v.{n}] ELSE v.{n} END"
                               if seqs and n in seqs[1] else f"v.{n}" for n in names)
            source = f"SELECT {picked} FROM ({source}) AS v({columns}){joined}"
        writes.append(f"INSERT INTO {table.name} ({columns}) {source}")
    # Data-modifying WITH parts all run, in the one statement.
    *first_writes, last = writes
    ctes += [f"w{i} AS ({q})" for i, q in enumerate(first_writes)]
    return (f"WITH {', '.join(ctes)} " if ctes else "") + last, params


def at_once(engine, sql: str, params: dict) -> None:
    """PostgreSQL: run one query as a transaction of its own, in one round trip: on a connection in autocommit, where
    psycopg sends neither BEGIN nor COMMIT (in a transaction opened by BEGIN the same took three round trips more)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        with conn.connection.driver_connection.cursor() as cursor:
            cursor.execute(sql, params)


def reserve_seqs(conn, table, n: int) -> list[int]:
    """n values for the table's autoincrement `seq`, for its new rows and the rows that refer to them, all written by
    one bulk_insert(..., seqs=(table, columns)). SQLite: the numbers themselves (the writer holds the database
    lock, BEGIN IMMEDIATE, so nobody else can take them). PostgreSQL: the stand-ins -1..-n, which that insert
    replaces with the sequence's next n values itself, a round trip less than asking for them first (which cost
    ~65 µs of a POST's CPU)."""
    if conn.dialect.name == "postgresql":
        return seq_stand_ins(n)
    top = driver_rows(conn, f"SELECT COALESCE(MAX(seq), 0) FROM {table.name}")[0][0]
    return list(range(top + 1, top + 1 + n))


def seq_stand_ins(n: int) -> list[int]:
    """-1..-n: what reserve_seqs gives on PostgreSQL, for pg_insert(..., seqs) to replace."""
    return list(range(-1, -n - 1, -1))


def settled_prefix(rows, after: int, times: list[float], settled_before: float) -> list:
    """The rows (ordered by `.seq`, read after seq `after`) up to the first gap that may still fill.

    On PostgreSQL a writer takes its sequence numbers before it commits, so a missing number is a write still in
    flight, or one rolled back. A reader that pages by seq must not step over it while it may still land: a gap is
    waited for until the row after it is older than `settled_before` (epoch seconds, from `times`), and then taken
    as rolled back. SQLite writers take turns, so there are no such gaps."""
    expected = after + 1
    for i, row in enumerate(rows):
        if row.seq != expected and times[i] > settled_before:
            return rows[:i]
        expected = row.seq + 1
    return rows
