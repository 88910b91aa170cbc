"""Storing and finding statements. One call of `save` is one transaction: a batch lands whole or not at all."""
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone

import orjson
import psycopg
from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from lrs.model.agents import ifi, members
from lrs.model.verbs import VOIDED
from lrs.store import activities as activity_store
from lrs.store.db import (at_once, bulk_insert, driver_rows, pg_insert, read_transaction, reserve_seqs, seq_stand_ins,
                          write_transaction)
from lrs.store.models import attachments, credentials, iri_match, statement_activity, statement_agent, statements

_CHUNK = 500  # ids per IN (...) list, well under every driver's parameter limit


class Conflict(Exception):
    """A statement id already stored with other content (409)."""


class Rejected(Exception):
    """A batch breaks a rule that needs the stored data to see (400)."""


class Forbidden(Exception):
    """A batch voids a statement its credential may not void (403)."""


# Who may void what (the xAPI path passes the LRS_VOIDING setting; the LRS's own writers keep the spec's rule):
# "permissive": anyone who may write statements (the xAPI spec); "own": a credential voids only statements it stored
# itself, unless it holds VOID_ANY (or "all").
VOID_ANY = "statements/void/any"


def content_hash(stmt: dict) -> str:
    """Hash of what the client said, without what the LRS may add, so a retried batch matches itself."""
    said = {k: v for k, v in stmt.items() if k not in ("authority", "stored", "version", "id")}
    return hashlib.sha256(orjson.dumps(said, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class Prepared:
    stmt: dict  # validated; id, authority and version already set
    id: str
    credential_id: int
    hash: str
    given_id: bool = True  # False when the LRS made the id: then nothing stored can share or target it
    attachment_sha2s: list = field(default_factory=list)
    stored_us: int | None = None  # kept from elsewhere (a restore); None: now


def format_stored(stored_us: int) -> str:
    return datetime.fromtimestamp(stored_us // 1000 / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_ms_us() -> int:
    """Now, in microseconds, rounded to the millisecond that `stored` shows (so since/until are exact)."""
    ms = datetime.now(timezone.utc).timestamp() * 1000
    return int(ms) * 1000


def save(engine, batch: list[Prepared], parts: dict, voiding: str = "permissive") -> None:
    """Store a batch (already validated). Ids already stored with the same content are accepted and skipped.
    voiding: "permissive" or "own" (see VOID_ANY); a refused voiding refuses the whole batch (Forbidden)."""
    # Made once for every attempt, before any transaction (SQLite's writers take turns, PostgreSQL's hold locks); a
    # statement without a timestamp takes the one `stored` as its timestamp.
    described = _describe(batch, now_ms_us())
    if not parts and _save_at_once(engine, batch, described):
        return
    for attempt in range(3):
        try:
            with write_transaction(engine) as conn:
                written = _save(conn, batch, parts, described, voiding)
            activity_store.remember(engine, written)
            return
        except IntegrityError:
            # Another writer stored one of these ids (or an attachment) first: look again, now that it is visible.
            if attempt == 2:
                raise


def save_in(conn, batch: list[Prepared]) -> None:
    """Store statements inside the caller's transaction, for writes that must land together with other rows."""
    _save(conn, batch, {}, _describe(batch, now_ms_us()))


def _save_at_once(engine, batch: list[Prepared], described: dict) -> bool:
    """On PostgreSQL, a write that needs nothing decided after its id check, in one query instead of four round
    trips (BEGIN, locks and check, insert, COMMIT; docs/performance.md): statements that refer to no other and whose
    activity definitions this process has stored already. The insert reads its rows through the locks and the check
    (lrs_lock_and_check_none, migration 0021), which fails when an id is stored already, or voided by a statement
    stored earlier: then nothing is written. The check's read sees what the writer it waited for committed, though
    the insert's snapshot is older: a VOLATILE function's every query takes a fresh snapshot (READ COMMITTED).
    False: the write must take the full path (`_save`)."""
    if engine.dialect.name != "postgresql" or any(_refers(p.stmt) for p in batch):
        return False
    seqs = seq_stand_ins(len(batch))
    rows, own, definitions = _numbered(batch, seqs, described)
    if activity_store.unseen(engine, definitions):
        return False
    inserts = [(table, table_rows) for table, table_rows in _inserts(batch, seqs, rows, own, {}) if table_rows]
    ids = {f"check{i}": p.id for i, p in enumerate(batch) if p.given_id}
    # (a given id is the only lock key of a statement that refers to none)
    check = (f"lrs_lock_and_check_none(ARRAY[{', '.join(f'%({k})s' for k in ids)}]::text[])", ids) if ids else None
    try:
        at_once(engine, *pg_insert(engine.dialect, inserts, (statements, {"seq", "profile"}), check))
    except psycopg.Error as e:
        if e.sqlstate == _STORED_ALREADY:
            return False
        raise
    return True


_STORED_ALREADY = "LR001"  # lrs_lock_and_check_none's error (migration 0021)


def _in_chunks(conn, query_for, values):
    """Rows of query_for(chunk) (a statement, or a statement and its parameters) for chunks of values."""
    values = list(values)
    for i in range(0, len(values), _CHUNK):
        query = query_for(values[i:i + _CHUNK])
        yield from (conn.execute(*query) if isinstance(query, tuple) else conn.execute(query)).all()


def _stored_or_voided(conn, ids: list) -> list[tuple]:
    """(id, content hash, credential) of the ids stored already, and (id, None, credential of the voiding
    statement) of those that voiding statements stored earlier target. Straight through the driver: it runs on
    every write. Its twin for PostgreSQL's first chunk is the read in lrs_lock_and_check (migration 0019): a change
    to one is a change to both (a new migration replacing the function)."""
    marks = ", ".join("?" * len(ids))
    return driver_rows(conn, f"SELECT id, content_hash, credential_id FROM statements WHERE id IN ({marks}) "
                             f"UNION ALL SELECT ref_target, NULL, credential_id FROM statements "
                             f"WHERE ref_target IN ({marks}) AND is_voiding", ids + ids)


def _lock_and_check(conn, batch, ids: list) -> list[tuple]:
    """_stored_or_voided(ids), on PostgreSQL after taking advisory locks: writers touching the same statement ids
    (as ids or as StatementRef targets) take turns, in one order for all (no deadlocks), and each sees what the one
    before it committed. Both in one round trip, through lrs_lock_and_check (migration 0019). SQLite writers take
    turns anyway."""
    if conn.dialect.name != "postgresql":
        return _stored_or_voided(conn, ids) if ids else []
    keys = {p.id for p in batch if p.given_id}
    keys |= {p.stmt["object"]["id"].lower() for p in batch if _refers(p.stmt)}
    if not keys:  # (every given id is a key)
        return []
    # The values as scalars (ARRAY[...]), which psycopg encodes in C; a list it would encode in Python.
    return driver_rows(conn, f"SELECT * FROM lrs_lock_and_check(ARRAY[{', '.join('?' * len(keys))}]::text[], "
                             f"ARRAY[{', '.join('?' * len(ids))}]::text[])", sorted(keys) + ids)


def _save(conn, batch, parts, described, voiding="permissive"):
    # One query for both: which ids are stored already, and which are targets of voiding statements stored earlier.
    stored, voided_early = {}, {}  # voided_early: id -> credentials that stored a voiding statement targeting it
    given = [p.id for p in batch if p.given_id]
    found = _lock_and_check(conn, batch, given[:_CHUNK])
    for i in range(_CHUNK, len(given), _CHUNK):
        found += _stored_or_voided(conn, given[i:i + _CHUNK])
    for sid, content_hash, credential_id in found:
        if content_hash is None:
            voided_early.setdefault(sid, set()).add(credential_id)
        else:
            stored[sid] = content_hash
    new = []
    for p in batch:
        if p.id in stored:
            if stored[p.id] != p.hash:
                raise Conflict(f"statement {p.id} is already stored with different content")
        else:
            new.append(p)
    if not new:
        return {}

    by_id = {p.id: p for p in new}
    voiders: dict[str, set] = {}  # target id -> credentials of this batch's voiding statements targeting it
    for p in new:
        if _is_voiding(p.stmt):
            voiders.setdefault(p.stmt["object"]["id"].lower(), set()).add(p.credential_id)
    voided_targets = set(voiders)
    owners = {}  # target id -> the credential that stored it
    if voided_targets:
        for target in voided_targets & by_id.keys():
            if _is_voiding(by_id[target].stmt):
                raise Rejected(f"statement {target} is a voiding statement and cannot be voided")
            owners[target] = by_id[target].credential_id
        for row in _in_chunks(conn, lambda ids: select(statements.c.id, statements.c.is_voiding,
                                                       statements.c.credential_id).where(statements.c.id.in_(ids)),
                              voided_targets - by_id.keys()):
            if row.is_voiding:
                raise Rejected(f"statement {row.id} is a voiding statement and cannot be voided")
            owners[row.id] = row.credential_id
    may_void = _voiding_rule(conn, voiding, voiders, owners, voided_early, new)
    for target, owner in owners.items():
        if not all(may_void(v, owner) for v in voiders[target]):
            raise Forbidden(f"statement {target} was stored by another credential; this credential may void only "
                            f"statements it stored itself (the scope {VOID_ANY} voids any)")

    seqs = reserve_seqs(conn, statements, len(new))
    rows, own, definitions = _numbered(new, seqs, described)
    inherited = _inherited_rows(conn, new, own)
    bulk_insert(conn, *_inserts(new, seqs, rows, own, inherited), seqs=(statements, {"seq", "profile"}))
    written = activity_store.record(conn, definitions)

    # Voiding: statements voided by this batch, and statements of this batch voided by one stored earlier.
    if voided_targets:
        for i in range(0, len(voided_targets), _CHUNK):
            chunk = list(voided_targets)[i:i + _CHUNK]
            conn.execute(update(statements).where(statements.c.id.in_(chunk), ~statements.c.is_voiding)
                         .values(voided=True))
    # A voiding statement stored before its target voids it only if its credential may void the target's.
    early = [p.id for p in new if any(may_void(v, p.credential_id) for v in voided_early.get(p.id, ()))]
    if early:
        conn.execute(update(statements).where(statements.c.id.in_(early), ~statements.c.is_voiding)
                     .values(voided=True))

    wanted = {sha2 for p in new for sha2 in p.attachment_sha2s}
    if wanted:
        have = {r.sha2 for r in _in_chunks(conn, lambda s: select(attachments.c.sha2).where(
            attachments.c.sha2.in_(s)), wanted)}
        fresh = [{"sha2": s, "content_type": parts[s].content_type, "content": parts[s].content}
                 for s in wanted - have]
        if fresh:
            conn.execute(insert(attachments), fresh)
    return written


@dataclass
class _Rows:
    """A statement's rows before it has its storing sequence number (seq, given by _numbered)."""
    statement: dict
    agents: list  # its own profile's index rows
    activities: list
    definitions: dict  # activity id -> the definition this statement gives it


def _describe(batch: list[Prepared], stored_us: int) -> dict[str, _Rows]:
    """Each statement's rows (by id), stored at stored_us unless kept from elsewhere. Made before the write's
    transaction: in it, on SQLite, every other writer waits (a tenth of a batch's time in the writers' turn)."""
    stored_text = format_stored(stored_us)
    described = {}
    for p in batch:
        stmt = p.stmt
        stmt["stored"] = stored_text if p.stored_us is None else format_stored(p.stored_us)
        stmt.setdefault("timestamp", stmt["stored"])
        ref = stmt["object"]["id"].lower() if _refers(stmt) else None
        row = {
            "id": p.id, "stored_us": stored_us if p.stored_us is None else p.stored_us,
            "verb_id": stmt["verb"]["id"], "registration": _registration(stmt), "ref_target": ref, "voided": False,
            "is_voiding": ref is not None and stmt["verb"]["id"] == VOIDED, "credential_id": p.credential_id,
            "content_hash": p.hash, "has_attachments": bool(p.attachment_sha2s),
            "body": orjson.dumps(stmt).decode(),
        }
        definitions = {}
        described[p.id] = _Rows(row, *_profile_rows(stmt, definitions), definitions)
    return described


def _numbered(new: list[Prepared], seqs: list[int], described: dict):
    """The rows of the statements `new`, numbered by seqs: their rows, their own profiles' index rows (id -> (agent
    rows, activity rows)), the activity definitions they give, merged. (The rows are numbered in place: a write
    tried again numbers them again.)"""
    rows, own, definitions = [], {}, {}
    for p, seq in zip(new, seqs):
        d = described[p.id]
        d.statement["seq"] = seq
        for r in (*d.agents, *d.activities):
            r["seq"] = r["profile"] = seq
        rows.append(d.statement)
        own[p.id] = (d.agents, d.activities)
        for activity_id, definition in d.definitions.items():
            _merge_definition(definitions, activity_id, definition)
    return rows, own, definitions


def _merge_definition(definitions: dict, activity_id: str, definition: dict) -> None:
    known = definitions.get(activity_id)  # most batches repeat one definition: merge only what differs
    if known is None:
        definitions[activity_id] = definition
    elif known != definition:
        definitions[activity_id] = activity_store.merge(known, definition)


def _inserts(new: list[Prepared], seqs: list[int], rows: list, own: dict, inherited: dict):
    """(table, rows) of a write: the statements, then their index rows, each statement's own profile and those it
    inherits from the statement it targets (_inherited_rows)."""
    agent_rows, activity_rows = [], []
    for p, seq in zip(new, seqs):
        a, b = own[p.id]
        ia, ib = inherited.get(p.id, ((), ()))
        agent_rows += a + [{**r, "seq": seq} for r in ia]
        activity_rows += b + [{**r, "seq": seq} for r in ib]
    return (statements, rows), (statement_agent, agent_rows), (statement_activity, activity_rows)


def _voiding_rule(conn, voiding, voiders, owners, voided_early, new):
    """may_void(voider credential id, owner credential id) under the `voiding` rule (anything but "permissive" is
    "own": a misspelt setting fails closed)."""
    if voiding == "permissive":
        return lambda voider, owner: True
    ids = {v for t, owner in owners.items() for v in voiders[t] if v != owner}
    ids |= {v for p in new for v in voided_early.get(p.id, ()) if v != p.credential_id}
    void_any = set()
    if ids:
        for row in _in_chunks(conn, lambda c: select(credentials.c.id, credentials.c.scopes).where(
                credentials.c.id.in_(c)), ids):
            if {"all", VOID_ANY} & set(row.scopes.split()):
                void_any.add(row.id)
    return lambda voider, owner: voider == owner or voider in void_any


def _is_voiding(stmt) -> bool:
    return stmt["verb"]["id"] == VOIDED and _refers(stmt)


def _refers(stmt) -> bool:
    """Whether the statement's object is another statement (a StatementRef)."""
    return stmt["object"].get("objectType") == "StatementRef"


def _registration(stmt):
    reg = stmt.get("context", {}).get("registration")
    return reg.lower() if reg else None


def _profile_rows(stmt, definitions: dict):
    """Index rows of a statement's own profile, without seq and profile (_numbered): the agents and activities a
    query can find it by. Activity definitions met on the way are merged into `definitions`."""
    verb, registration = stmt["verb"]["id"], _registration(stmt)
    agents: dict[str, bool] = {}  # ifi -> related (False wins)
    activities: dict[str, bool] = {}

    def agent(a, related):
        key = ifi(a)
        if key is not None:
            agents[key] = agents.get(key, True) and related
        for m in members(a):
            agent(m, True)

    def activity(a, related):
        activities[a["id"]] = activities.get(a["id"], True) and related
        if "definition" in a:
            _merge_definition(definitions, a["id"], a["definition"])

    def context(ctx):
        for name in ("instructor", "team"):
            if name in ctx:
                agent(ctx[name], True)
        for ca in ctx.get("contextAgents", ()):
            agent(ca["agent"], True)
        for cg in ctx.get("contextGroups", ()):
            agent(cg["group"], True)
        for value in ctx.get("contextActivities", {}).values():
            for a in (value if isinstance(value, list) else [value]):
                activity(a, True)

    def obj(o, related):
        kind = o.get("objectType", "Activity")
        if kind == "Activity":
            activity(o, related)
        elif kind in ("Agent", "Group"):
            agent(o, related)
        elif kind == "SubStatement":
            agent(o["actor"], True)
            obj(o["object"], True)
            context(o.get("context", {}))

    actor = stmt["actor"]
    actor_key = ifi(actor) or ""  # an anonymous Group still needs its profile's actor row
    agent(actor, False)
    agents.pop(actor_key, None)
    obj(stmt["object"], False)
    context(stmt.get("context", {}))
    if "authority" in stmt:
        agent(stmt["authority"], True)
    agents.pop(actor_key, None)

    base = {"verb_id": verb, "registration": registration}
    agent_rows = [{**base, "ifi": actor_key, "related": False, "is_actor": True}]
    agent_rows += [{**base, "ifi": k, "related": r, "is_actor": False} for k, r in agents.items()]
    activity_rows = [{**base, "activity_id": k, "related": r} for k, r in activities.items()]
    return agent_rows, activity_rows


_AGENT_COPY = ("profile", "ifi", "related", "is_actor", "verb_id", "registration")
_ACTIVITY_COPY = ("profile", "activity_id", "related", "verb_id", "registration")


def _inherited_rows(conn, new, own):
    """Rows a StatementRef statement takes from its target (whose rows already hold the target's own targets)."""
    targets = {p.id: p.stmt["object"]["id"].lower() for p in new if _refers(p.stmt)}
    if not targets:
        return {}
    outside = set(targets.values()) - own.keys()
    stored_seq = {r.id: r.seq for r in _in_chunks(
        conn, lambda ids: select(statements.c.id, statements.c.seq).where(statements.c.id.in_(ids)), outside)}
    from_db: dict[int, tuple[list, list]] = {s: ([], []) for s in stored_seq.values()}
    if from_db:
        for r in _in_chunks(conn, lambda s: select(statement_agent).where(statement_agent.c.seq.in_(s)), from_db):
            from_db[r.seq][0].append({k: getattr(r, k) for k in _AGENT_COPY})
        for r in _in_chunks(conn, lambda s: select(statement_activity).where(statement_activity.c.seq.in_(s)), from_db):
            from_db[r.seq][1].append({k: getattr(r, k) for k in _ACTIVITY_COPY})

    result, visiting = {}, set()

    def rows_of(sid):  # all rows of statement sid (own + inherited), resolving chains inside the batch
        if sid in own:
            if sid in result or sid not in targets or sid in visiting:
                extra = result.get(sid, ((), ()))
            else:
                visiting.add(sid)
                result[sid] = extra = rows_of(targets[sid])
            a, b = own[sid]
            return ([{k: r[k] for k in _AGENT_COPY} for r in a] + list(extra[0]),
                    [{k: r[k] for k in _ACTIVITY_COPY} for r in b] + list(extra[1]))
        return from_db.get(stored_seq.get(sid), ((), ()))

    for sid in targets:
        rows_of(sid)
    return result


# ----------------------------------------------------------------------------------------------- reading

@dataclass
class Query:
    agent: str | None = None  # ifi
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since_us: int | None = None
    until_us: int | None = None
    ascending: bool = False
    limit: int = 100
    after_seq: int | None = None  # paging cursor: the last seq already returned
    credential_id: int | None = None  # statements/read/mine: only what this credential stored


def find(engine, q: Query) -> tuple[list, int | None]:
    """One page of statement bodies (JSON text), voided statements left out, and the cursor for the next page."""
    s = statements.c
    filters = [~s.voided]
    if q.since_us is not None:
        filters.append(s.stored_us > q.since_us)
    if q.until_us is not None:
        filters.append(s.stored_us <= q.until_us)
    if q.credential_id is not None:
        filters.append(s.credential_id == q.credential_id)
    if q.after_seq is not None:
        filters.append(s.seq > q.after_seq if q.ascending else s.seq < q.after_seq)

    source = None
    if q.agent is not None or q.activity is not None or q.verb is not None or q.registration is not None:
        ag, ac = statement_agent.alias("ag"), statement_activity.alias("ac")
        dialect = engine.dialect.name
        parts = []
        if q.agent is not None:
            parts.append((ag, [iri_match(dialect, ag.c.ifi, q.agent)] + ([] if q.related_agents else [~ag.c.related])))
        if q.activity is not None:
            parts.append((ac, [iri_match(dialect, ac.c.activity_id, q.activity)]
                          + ([] if q.related_activities else [~ac.c.related])))
        if not parts:
            parts.append((ag, [ag.c.is_actor]))
        first = parts[0][0]
        conds = list(parts[0][1])
        if q.verb is not None:  # after an agent or activity, the verb's hash is their index's second key
            by_iri = q.agent is not None or q.activity is not None
            conds.append(iri_match(dialect, first.c.verb_id, q.verb) if by_iri else first.c.verb_id == q.verb)
        if q.registration is not None:
            conds.append(first.c.registration == q.registration)
        source = first
        for table, extra in parts[1:]:
            conds += extra
            source = source.join(table, and_(table.c.seq == first.c.seq, table.c.profile == first.c.profile))
        key = first.c.seq
        seqs = (select(key).distinct().select_from(source.join(statements, s.seq == key))
                .where(*conds, *filters))
    else:
        key = s.seq
        seqs = select(key).where(*filters)
    seqs = seqs.order_by(key.asc() if q.ascending else key.desc()).limit(q.limit + 1)
    with read_transaction(engine) as conn:
        page = conn.execute(seqs).scalars().all()
        more = None
        if len(page) > q.limit:
            page = page[:q.limit]
            more = page[-1]
        bodies = dict(conn.execute(select(s.seq, s.body).where(s.seq.in_(page))).all()) if page else {}
    return [bodies[seq] for seq in page], more


def get(engine, statement_id: str, voided: bool, credential_id: int | None = None):
    """The statement with this id, if it is (voided=True) or is not (voided=False) voided."""
    s = statements.c
    stmt = select(s.seq, s.body, s.has_attachments, s.stored_us).where(
        s.id == statement_id.lower(), s.voided == voided)
    if credential_id is not None:
        stmt = stmt.where(s.credential_id == credential_id)
    with read_transaction(engine) as conn:
        return conn.execute(stmt).first()


def attachment_parts(engine, sha2s) -> list:
    with read_transaction(engine) as conn:
        return list(_in_chunks(conn, lambda s: select(attachments).where(attachments.c.sha2.in_(s)), set(sha2s)))


def names_of(engine, agent_ifi: str, recent: int = 50) -> list[str]:
    """Names this agent went by in its most recent statements, newest first."""
    s, ag = statements.c, statement_agent.c
    query = (select(s.body).join(statement_agent, ag.seq == s.seq)
             .where(iri_match(engine.dialect.name, ag.ifi, agent_ifi)).order_by(ag.seq.desc()).limit(recent))
    names = []
    with read_transaction(engine) as conn:
        for (body,) in conn.execute(query):
            stmt = orjson.loads(body)
            ctx = stmt.get("context", {})
            for a in (stmt["actor"], stmt["object"], ctx.get("instructor"), ctx.get("team"), stmt.get("authority")):
                if a and a.get("name") and ifi(a) == agent_ifi and a["name"] not in names:
                    names.append(a["name"])
    return names

