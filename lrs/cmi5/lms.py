"""The LMS side of cmi5: courses, registrations, launches, sessions, and the statements only the LMS makes
(launched, satisfied, abandoned, waived). Everything here takes the engine and plain values; HTTP is in api.py."""
import base64
import hashlib
import secrets
import uuid
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit, urlunsplit

import orjson
from sqlalchemy import func, insert, select, update

from lrs.cmi5 import package, vocab
from lrs.cmi5.tables import (cmi5_au_status, cmi5_aus, cmi5_courses, cmi5_files, cmi5_registrations,
                             cmi5_satisfied, cmi5_sessions)
from lrs.model.agents import ifi
from lrs.store import credentials as creds
from lrs.store import documents
from lrs.store import statements as store
from lrs.store.db import read_transaction, write_transaction
from lrs.store.types import utcnow

LMS_CREDENTIAL = "cmi5 LMS"
SESSION_CREDENTIAL = "cmi5 session "  # + session id
# What an AU session may do with its credential (cmi5 6.3: never voiding, which rules.py refuses).
SESSION_SCOPES = ("statements/write", "statements/read/mine", "state", "profile")


class NotFound(LookupError):
    pass


class Refused(ValueError):
    """The request conflicts with the cmi5 state (HTTP 409); the message says why."""


def _dumps(obj) -> str:
    return orjson.dumps(obj).decode()


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _duration(seconds: float) -> str:
    return f"PT{max(seconds, 0):.2f}S"


# ------------------------------------------------------------------------------------------------ courses

def import_package(engine, data: bytes, imported_by: str, id_base: str, competences: list | None = None) -> dict:
    """Import a cmi5 package (zip or cmi5.xml) as a new version of its course. Raises package.PackageError."""
    course = package.read(data)
    digest = hashlib.sha256(data).hexdigest()
    codes = competences if competences is not None else course.competences
    with write_transaction(engine) as conn:
        same = conn.execute(select(cmi5_courses.c.id).where(cmi5_courses.c.publisher_id == course.publisher_id,
                                                            cmi5_courses.c.package_sha256 == digest)).scalar()
        if same is not None:  # the same package again (a retried upload): nothing new
            return {"id": same, "created": False}
        version = (conn.execute(select(func.max(cmi5_courses.c.version))
                                .where(cmi5_courses.c.publisher_id == course.publisher_id)).scalar() or 0) + 1
        key = uuid.uuid4().hex
        block_ids = {}  # publisher block id -> LMS block id (cmi5 9.4: LMS ids differ from the publisher's)

        def lms_tree(node):
            out = []
            for child in node["children"]:
                if "block" in child:
                    b = child["block"]
                    block_ids[b["id"]] = f"{id_base}/course/{key}/block/{len(block_ids) + 1}"
                    out.append({"block": {"id": block_ids[b["id"]], "publisher_id": b["id"], "title": b["title"],
                                          "children": lms_tree(b)}})
                else:
                    out.append(child)
            return out

        tree = {"children": lms_tree(course.tree)}
        course_id = conn.execute(insert(cmi5_courses).returning(cmi5_courses.c.id), {
            "publisher_id": course.publisher_id, "version": version, "lms_id": f"{id_base}/course/{key}",
            "title": _dumps(course.title), "structure": _dumps(tree), "competences": _dumps(codes),
            "package_sha256": digest, "imported_by": imported_by, "imported_at": utcnow()}).scalar_one()
        for i, au in enumerate(course.aus):
            conn.execute(insert(cmi5_aus), {
                "course_id": course_id, "idx": i, "publisher_id": au.publisher_id,
                "activity_id": f"{id_base}/course/{key}/au/{i}", "title": _dumps(au.title), "url": au.url,
                "move_on": au.move_on, "mastery_score": au.mastery_score, "launch_method": au.launch_method,
                "launch_parameters": au.launch_parameters, "entitlement_key": au.entitlement_key,
                "blocks": _dumps([block_ids[b] for b in au.blocks])})
        for path, content in course.files.items():
            conn.execute(insert(cmi5_files), {"course_id": course_id, "path": path,
                                              "content_type": package.content_type(path), "content": content})
    return {"id": course_id, "created": True}


def _course_row(conn, course_id: int):
    row = conn.execute(select(cmi5_courses).where(cmi5_courses.c.id == course_id)).mappings().first()
    if row is None:
        raise NotFound(f"no cmi5 course with id {course_id}")
    return row


def _course_json(row, aus=None) -> dict:
    out = {"id": row["id"], "publisher_id": row["publisher_id"], "version": row["version"],
           "activity_id": row["lms_id"], "title": orjson.loads(row["title"]),
           "competences": orjson.loads(row["competences"]), "imported_by": row["imported_by"],
           "imported_at": _iso(row["imported_at"])}
    if aus is not None:
        out["structure"] = orjson.loads(row["structure"])
        out["aus"] = [_au_json(a) for a in aus]
    return out


def _au_json(a) -> dict:
    return {"index": a["idx"], "publisher_id": a["publisher_id"], "activity_id": a["activity_id"],
            "title": orjson.loads(a["title"]), "url": a["url"], "move_on": a["move_on"],
            "mastery_score": float(a["mastery_score"]) if a["mastery_score"] is not None else None,
            "launch_method": a["launch_method"]}


def list_courses(conn) -> list[dict]:
    rows = conn.execute(select(cmi5_courses).order_by(cmi5_courses.c.publisher_id, cmi5_courses.c.version))
    return [_course_json(r) for r in rows.mappings()]


def get_course(conn, course_id: int) -> dict:
    row = _course_row(conn, course_id)
    aus = conn.execute(select(cmi5_aus).where(cmi5_aus.c.course_id == course_id).order_by(cmi5_aus.c.idx))
    return _course_json(row, aus.mappings().all())


def set_competences(conn, course_id: int, codes: list) -> dict:
    _course_row(conn, course_id)
    conn.execute(update(cmi5_courses).where(cmi5_courses.c.id == course_id).values(competences=_dumps(codes)))
    return get_course(conn, course_id)


def file(conn, course_id: int, path: str):
    return conn.execute(select(cmi5_files.c.content_type, cmi5_files.c.content)
                        .where(cmi5_files.c.course_id == course_id, cmi5_files.c.path == path)).first()


def competence_map(conn) -> dict[str, list[str]]:
    """Activity id -> competence codes, for every imported course version that has codes.

    Keys are the ids that appear as statement objects: the course's LMS id (object of the course's "satisfied"),
    each AU's LMS activity id (object of "passed"/"completed"), and the publisher ids of the course and its AUs
    (in the grouping of every cmi5 statement, so a rule may also match on those)."""
    out: dict[str, list[str]] = {}
    courses = conn.execute(select(cmi5_courses.c.id, cmi5_courses.c.lms_id, cmi5_courses.c.publisher_id,
                                  cmi5_courses.c.competences)).all()
    by_course = {c.id: orjson.loads(c.competences) for c in courses}
    for c in courses:
        if by_course[c.id]:
            for key in (c.lms_id, c.publisher_id):
                out[key] = sorted(set(out.get(key, [])) | set(by_course[c.id]))
    for a in conn.execute(select(cmi5_aus.c.course_id, cmi5_aus.c.activity_id, cmi5_aus.c.publisher_id)):
        if by_course.get(a.course_id):
            for key in (a.activity_id, a.publisher_id):
                out[key] = sorted(set(out.get(key, [])) | set(by_course[a.course_id]))
    return out


# ------------------------------------------------------------------------------------------------ LMS statements

def _lms_credential(engine) -> creds.Credential:
    """The credential the LMS's own statements carry as authority (made once)."""
    rows = [r for r in creds.list_all(engine) if r["name"] == LMS_CREDENTIAL and r["revoked_us"] is None]
    if rows:
        return creds.Credential(rows[0])
    made = creds.create(engine, LMS_CREDENTIAL, ("statements/write",))
    return creds.Credential({**made, "scopes": " ".join(made["scopes"]), "authority": _dumps(made["authority"])})


def _save_lms_statements(engine, stmts: list[dict]) -> None:
    if not stmts:
        return
    cred = _lms_credential(engine)
    prepared = []
    for s in stmts:
        s.update(id=str(uuid.uuid4()), authority=cred.authority, version="1.0.0")
        prepared.append(store.Prepared(stmt=s, id=s["id"], credential_id=cred.id, hash=store.content_hash(s),
                                       given_id=False))
    store.save(engine, prepared, {})


def _lms_statement(actor, verb, obj_id, obj_type, registration, session_id, grouping_id, at, *,
                   extensions=None, result=None, moveon=False, title=None):
    category = [{"id": vocab.CATEGORY}] + ([{"id": vocab.MOVEON_CATEGORY}] if moveon else [])
    definition = {"type": obj_type} if obj_type else {}
    if title:
        definition["name"] = title
    stmt = {"actor": actor, "verb": {"id": verb, "display": {"en-US": vocab.name(verb)}},
            "object": {"objectType": "Activity", "id": obj_id, **({"definition": definition} if definition else {})},
            "context": {"registration": registration,
                        "contextActivities": {"category": category, "grouping": [{"id": grouping_id}]},
                        "extensions": {vocab.SESSION_ID: session_id, **(extensions or {})}},
            "timestamp": _iso(at)}
    if result:
        stmt["result"] = result
    return stmt


# ------------------------------------------------------------------------------------------------ registrations

def _registration_row(conn, registration: str):
    row = conn.execute(select(cmi5_registrations).where(cmi5_registrations.c.id == registration)).mappings().first()
    if row is None:
        raise NotFound(f"no cmi5 registration {registration}")
    return row


def _status(conn, registration: str, au_id: int) -> dict:
    row = conn.execute(select(cmi5_au_status).where(cmi5_au_status.c.registration == registration,
                                                    cmi5_au_status.c.au_id == au_id)).mappings().first()
    return dict(row) if row else {}


def set_status(conn, registration: str, au_id: int, **values) -> None:
    done = conn.execute(update(cmi5_au_status).where(cmi5_au_status.c.registration == registration,
                                                     cmi5_au_status.c.au_id == au_id).values(**values))
    if done.rowcount == 0:
        row = {"completed": False, "passed": False, "failed": False, "waived": False, "satisfied": False}
        conn.execute(insert(cmi5_au_status), {**row, **values, "registration": registration, "au_id": au_id})


def _satisfied_now(conn, registration: str, session_id: str) -> list[dict]:
    """Record the blocks and course whose AUs all meet their moveOn now, and return their "satisfied" statements
    (once per object and registration, cmi5 9.3.9). Runs at registration, after AU statements, after a waiver."""
    reg = _registration_row(conn, registration)
    course = _course_row(conn, reg["course_id"])
    aus = conn.execute(select(cmi5_aus).where(cmi5_aus.c.course_id == reg["course_id"])).mappings().all()
    statuses = {r["au_id"]: dict(r) for r in conn.execute(
        select(cmi5_au_status).where(cmi5_au_status.c.registration == registration)).mappings()}
    met = {}
    for a in aus:
        met[a["idx"]] = vocab.move_on_met(a["move_on"], statuses.get(a["id"], {}))
        if met[a["idx"]] and not statuses.get(a["id"], {}).get("satisfied"):
            set_status(conn, registration, a["id"], satisfied=True)
    done = set(conn.execute(select(cmi5_satisfied.c.object_id)
                            .where(cmi5_satisfied.c.registration == registration)).scalars())
    actor, now, out = orjson.loads(reg["actor"]), utcnow(), []

    def visit(children) -> bool:  # whether every AU below is met; satisfied statements for blocks on the way
        ok = True
        for child in children:
            if "block" in child:
                b = child["block"]
                block_ok = visit(b["children"])
                if block_ok and b["id"] not in done:
                    out.append((b["id"], vocab.BLOCK_TYPE, b["publisher_id"], b["title"]))
                ok = ok and block_ok
            else:
                ok = ok and met[child["au"]]
        return ok

    if visit(orjson.loads(course["structure"])["children"]) and course["lms_id"] not in done:
        out.append((course["lms_id"], vocab.COURSE_TYPE, course["publisher_id"], orjson.loads(course["title"])))
    for obj_id, *_ in out:
        conn.execute(insert(cmi5_satisfied), {"registration": registration, "object_id": obj_id, "at": now})
    return [_lms_statement(actor, vocab.SATISFIED, obj_id, typ, registration, session_id, grouping, now, title=title)
            for obj_id, typ, grouping, title in out]


def _new_registration(engine, course_id: int, employee_id: str, actor: dict) -> str:
    registration = str(uuid.uuid4())
    with write_transaction(engine) as conn:
        _course_row(conn, course_id)
        conn.execute(insert(cmi5_registrations), {"id": registration, "course_id": course_id,
                                                  "employee_id": employee_id, "actor": _dumps(actor),
                                                  "created_at": utcnow()})
        # cmi5 9.6.1: moveOn is evaluated at registration (NotApplicable AUs are satisfied at once).
        satisfied = _satisfied_now(conn, registration, str(uuid.uuid4()))
    _save_lms_statements(engine, satisfied)
    return registration


# ------------------------------------------------------------------------------------------------ launching

def _find_au(conn, course_id: int, au_ref):
    c = cmi5_aus.c
    q = select(cmi5_aus).where(c.course_id == course_id)
    if isinstance(au_ref, int) or (isinstance(au_ref, str) and au_ref.isdigit()):
        q = q.where(c.idx == int(au_ref))
    else:
        q = q.where((c.publisher_id == au_ref) | (c.activity_id == au_ref))
    row = conn.execute(q).mappings().first()
    if row is None:
        raise NotFound(f"course {course_id} has no AU {au_ref!r} (give its index, publisher id or activity id)")
    return row


def _abandon(conn, session, at) -> dict:
    """Mark an open session abandoned; returns its "abandoned" statement (cmi5 9.3.6)."""
    conn.execute(update(cmi5_sessions).where(cmi5_sessions.c.id == session["id"]).values(abandoned_at=at))
    reg = _registration_row(conn, session["registration"])
    au = conn.execute(select(cmi5_aus).where(cmi5_aus.c.id == session["au_id"])).mappings().one()
    seconds = (session["last_at"] - session["launched_at"]).total_seconds()
    return _lms_statement(orjson.loads(reg["actor"]), vocab.ABANDONED, au["activity_id"], None, reg["id"],
                          session["id"], au["publisher_id"], at, result={"duration": _duration(seconds)})


def _open_sessions(conn, registration: str):
    s = cmi5_sessions.c
    return conn.execute(select(cmi5_sessions).where(s.registration == registration, s.terminated_at.is_(None),
                                                    s.abandoned_at.is_(None))).mappings().all()


def launch(engine, course_id: int, au_ref, employee_id: str, actor: dict, base_url: str, *,
           registration: str | None = None, launch_mode: str = "Normal", return_url: str | None = None) -> dict:
    """Launch an AU for a learner (cmi5 8.1, 10.0): registration (new unless given), LMS.LaunchData, one-time
    fetch URL, "launched" statement; an open session of the registration is abandoned first.

    base_url is the LRS's public root ("https://lrs.example.no/"); returns {url, registration, session_id}."""
    if launch_mode not in vocab.LAUNCH_MODES:
        raise ValueError(f"launch_mode must be one of {', '.join(vocab.LAUNCH_MODES)}")
    if registration is None:
        registration = _new_registration(engine, course_id, employee_id, actor)
    session_id, fetch_token, now = str(uuid.uuid4()), secrets.token_urlsafe(32), utcnow()
    with write_transaction(engine) as conn:
        reg = _registration_row(conn, registration)
        if reg["course_id"] != course_id or reg["employee_id"] != employee_id:
            raise Refused(f"registration {registration} belongs to another learner or course")
        actor = orjson.loads(reg["actor"])
        au = _find_au(conn, course_id, au_ref)
        open_sessions = _open_sessions(conn, registration)
        abandoned = [_abandon(conn, s, now) for s in open_sessions]
        revoke = [s["credential_key"] for s in open_sessions if s["credential_key"]]
        conn.execute(insert(cmi5_sessions), {
            "id": session_id, "registration": registration, "au_id": au["id"], "launch_mode": launch_mode,
            "fetch_token_hash": hashlib.sha256(fetch_token.encode()).hexdigest(), "verbs": "", "statements": 0,
            "launched_at": now, "last_at": now})
    for key in revoke:
        creds.revoke(engine, key)
    _save_lms_statements(engine, abandoned)

    au_url = au["url"]
    if not urlsplit(au_url).scheme:
        au_url = f"{base_url}cmi5/content/{course_id}/{au_url}"
    launch_data = {"contextTemplate": {"contextActivities": {"grouping": [{"id": au["publisher_id"]}]},
                                       "extensions": {vocab.SESSION_ID: session_id}},
                   "launchMode": launch_mode, "moveOn": au["move_on"],
                   "launchMethod": au["launch_method"]}
    # launchURL: the AU's URL as launched, its own query included, without the launch parameters (a secret).
    extensions = {vocab.LAUNCH_MODE: launch_mode, vocab.MOVE_ON: au["move_on"], vocab.LAUNCH_URL: au_url}
    if au["mastery_score"] is not None:
        launch_data["masteryScore"] = float(au["mastery_score"])
        extensions[vocab.MASTERY_SCORE] = float(au["mastery_score"])
    if au["launch_parameters"]:
        launch_data["launchParameters"] = extensions[vocab.LAUNCH_PARAMETERS] = au["launch_parameters"]
    if au["entitlement_key"]:
        launch_data["entitlementKey"] = {"courseStructure": au["entitlement_key"]}
    if return_url:
        launch_data["returnURL"] = return_url
    key = documents.Key(kind=documents.STATE, doc_id="LMS.LaunchData", activity_id=au["activity_id"],
                        agent_ifi=ifi(actor), registration=registration)
    documents.put(engine, key, "application/json", orjson.dumps(launch_data), documents.Conditions(),
                  _lms_credential(engine).id)
    _save_lms_statements(engine, [_lms_statement(actor, vocab.LAUNCHED, au["activity_id"], None, registration,
                                                 session_id, au["publisher_id"], now, extensions=extensions)])
    parts = urlsplit(au_url)
    # The AU's own query stays as written; the endpoint has no trailing slash, so content that appends
    # "/statements" asks for /xapi/statements (cmi5 8.1.1).
    ours = urlencode([("endpoint", f"{base_url}xapi"), ("fetch", f"{base_url}cmi5/fetch/{fetch_token}"),
                      ("actor", _dumps(actor)), ("registration", registration), ("activityId", au["activity_id"])])
    query = f"{parts.query}&{ours}" if parts.query else ours
    return {"url": urlunsplit(parts._replace(query=query)), "registration": registration,
            "session_id": session_id, "activity_id": au["activity_id"]}


_ALREADY_FETCHED = {"error-code": "1", "error-text": "Nøkkelen er allerede hentet / the authorization token has "
                                                    "already been returned."}


def fetch(engine, token: str) -> dict:
    """The fetch URL (cmi5 8.2): the session's auth-token once; later calls and unknown tokens get the error
    object of 8.2.3 (answered with HTTP 200, as the spec says)."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    with read_transaction(engine) as conn:
        session = conn.execute(select(cmi5_sessions).where(cmi5_sessions.c.fetch_token_hash == digest)).mappings().first()
    if session is None:
        return {"error-code": "2", "error-text": "Ukjent hentenøkkel / unknown fetch token."}
    if session["abandoned_at"] or session["terminated_at"]:
        return {"error-code": "1", "error-text": "Økten er avsluttet / the session has ended."}
    if session["fetched_at"]:
        return _ALREADY_FETCHED
    cred = creds.create(engine, SESSION_CREDENTIAL + session["id"], SESSION_SCOPES)
    with write_transaction(engine) as conn:
        won = conn.execute(update(cmi5_sessions).where(cmi5_sessions.c.id == session["id"],
                                                       cmi5_sessions.c.fetched_at.is_(None))
                           .values(fetched_at=utcnow(), credential_key=cred["key"])).rowcount
    if not won:  # another call fetched it meanwhile
        creds.revoke(engine, cred["key"])
        return _ALREADY_FETCHED
    return {"auth-token": base64.b64encode(f"{cred['key']}:{cred['secret']}".encode()).decode()}


# ------------------------------------------------------------------------------------------------ waive, abandon

def waive(engine, registration: str, au_ref, reason: str) -> dict:
    """Waive an AU for a registration (cmi5 9.3.7), with its own session id; satisfied statements may follow."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("a waiver needs a reason, e.g. one of: " + ", ".join(vocab.WAIVE_REASONS))
    session_id, now = str(uuid.uuid4()), utcnow()
    with write_transaction(engine) as conn:
        reg = _registration_row(conn, registration)
        au = _find_au(conn, reg["course_id"], au_ref)
        if _status(conn, registration, au["id"]).get("waived"):
            raise Refused(f"AU {au['publisher_id']} is already waived in registration {registration}")
        set_status(conn, registration, au["id"], waived=True)
        stmts = [_lms_statement(orjson.loads(reg["actor"]), vocab.WAIVED, au["activity_id"], None, registration,
                                session_id, au["publisher_id"], now, moveon=True,
                                result={"success": True, "completion": True,
                                        "extensions": {vocab.REASON: reason.strip()}})]
        stmts += _satisfied_now(conn, registration, session_id)
    _save_lms_statements(engine, stmts)
    return {"session_id": session_id}


def abandon(engine, session_id: str) -> None:
    with write_transaction(engine) as conn:
        session = conn.execute(select(cmi5_sessions).where(cmi5_sessions.c.id == session_id)).mappings().first()
        if session is None:
            raise NotFound(f"no cmi5 session {session_id}")
        if session["terminated_at"] or session["abandoned_at"]:
            raise Refused(f"session {session_id} has already ended")
        stmt = _abandon(conn, session, utcnow())
    if session["credential_key"]:
        creds.revoke(engine, session["credential_key"])
    _save_lms_statements(engine, [stmt])


# ------------------------------------------------------------------------------------------------ progress

def progress(conn, registration: str) -> dict:
    reg = _registration_row(conn, registration)
    course = _course_row(conn, reg["course_id"])
    aus = conn.execute(select(cmi5_aus).where(cmi5_aus.c.course_id == reg["course_id"])
                       .order_by(cmi5_aus.c.idx)).mappings().all()
    statuses = {r["au_id"]: dict(r) for r in conn.execute(
        select(cmi5_au_status).where(cmi5_au_status.c.registration == registration)).mappings()}
    satisfied = set(conn.execute(select(cmi5_satisfied.c.object_id)
                                 .where(cmi5_satisfied.c.registration == registration)).scalars())
    sessions = conn.execute(select(cmi5_sessions).where(cmi5_sessions.c.registration == registration)
                            .order_by(cmi5_sessions.c.launched_at)).mappings().all()
    by_id = {a["id"]: a for a in aus}
    flags = ("completed", "passed", "failed", "waived", "satisfied")
    return {
        "registration": registration, "course_id": course["id"], "employee_id": reg["employee_id"],
        "satisfied": course["lms_id"] in satisfied,
        "blocks_satisfied": sorted(satisfied - {course["lms_id"]}),
        "aus": [{**_au_json(a), **{f: bool(statuses.get(a["id"], {}).get(f)) for f in flags},
                 "score": float(statuses[a["id"]]["score"]) if statuses.get(a["id"], {}).get("score") else None}
                for a in aus],
        "sessions": [{"id": s["id"], "au_index": by_id[s["au_id"]]["idx"], "launch_mode": s["launch_mode"],
                      "launched_at": _iso(s["launched_at"]),
                      "terminated_at": s["terminated_at"] and _iso(s["terminated_at"]),
                      "abandoned_at": s["abandoned_at"] and _iso(s["abandoned_at"])} for s in sessions],
    }


def registrations_of(conn, employee_id: str, course_id: int | None = None) -> list[str]:
    c = cmi5_registrations.c
    q = select(c.id).where(c.employee_id == employee_id).order_by(c.created_at)
    if course_id is not None:
        q = q.where(c.course_id == course_id)
    return list(conn.execute(q).scalars())



# ------------------------------------------------------------------------------------------------ for the plan

def satisfied_registrations():
    """A select of the ids of the registrations whose course is satisfied (its moveOn met), for a caller's
    in_/not_in: what progress()["satisfied"] says of one registration, said in SQL for many."""
    c, s = cmi5_courses.c, cmi5_satisfied.c
    return (select(s.registration).join(cmi5_registrations, cmi5_registrations.c.id == s.registration)
            .join(cmi5_courses, c.id == cmi5_registrations.c.course_id).where(s.object_id == c.lms_id))


def started_courses(conn, employee_id: str) -> set[str]:
    """The publisher ids of the courses this employee has begun and not yet satisfied (any version): the plan
    offers to continue them rather than to start."""
    c, r = cmi5_courses.c, cmi5_registrations.c
    return set(conn.execute(select(c.publisher_id).join(cmi5_registrations, r.course_id == c.id)
                            .where(r.employee_id == employee_id, r.id.not_in(satisfied_registrations()))).scalars())


def courses_for_competence(conn, code: str) -> list[dict]:
    """The newest version of each course that gives evidence for this competence code."""
    newest = {}
    for c in list_courses(conn):  # ordered by publisher id, version
        if code in c["competences"]:
            newest[c["publisher_id"]] = c
    return list(newest.values())


def launch_for_employee(app, employee_id: str, publisher_id: str, base_url: str,
                        return_url: str | None = None) -> dict:
    """What the employee's plan calls to open a module: resume the employee's newest unsatisfied registration of
    the course (any version), else register on the newest version; launch the first AU whose moveOn is unmet
    (or the first AU). Returns launch()'s {url, registration, session_id, activity_id}."""
    from lrs.competence.directory import agent_for
    engine = app.extensions["lrs.engine"]
    c, r = cmi5_courses.c, cmi5_registrations.c
    with read_transaction(engine) as conn:
        versions = conn.execute(select(c.id).where(c.publisher_id == publisher_id).order_by(c.version.desc())).scalars().all()
        if not versions:
            raise NotFound(f"no cmi5 course {publisher_id}")
        open_regs = conn.execute(select(r.id, r.course_id).where(r.employee_id == employee_id, r.course_id.in_(versions))
                                 .order_by(r.created_at.desc())).all()
        done = set(conn.execute(select(cmi5_satisfied.c.registration).join(
            cmi5_courses, cmi5_courses.c.lms_id == cmi5_satisfied.c.object_id).where(
            cmi5_satisfied.c.registration.in_([row.id for row in open_regs]))).scalars())
    resume = next((row for row in open_regs if row.id not in done), None)
    course_id = resume.course_id if resume else versions[0]
    au_index = 0
    if resume:
        with read_transaction(engine) as conn:
            unmet = [a["index"] for a in progress(conn, resume.id)["aus"] if not a["satisfied"]]
        au_index = unmet[0] if unmet else 0
    actor = agent_for(employee_id, app.config["IDENTITY_HOMEPAGE"])
    return launch(engine, course_id, au_index, employee_id, actor, base_url,
                  registration=resume.id if resume else None, return_url=return_url)
