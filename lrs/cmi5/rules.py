"""cmi5 rules on statements sent for a cmi5 registration (cmi5 6.3: the LMS should reject statements that break
the rules of section 9). Plugged into the xAPI statements write path by lrs.cmi5.init_app (the registry's batch checks, the
statements_stored signal); also offers the competence engine its course rules.

Only the AU session the LMS launched writes statements for a cmi5 registration, with the credential its fetch URL
gave it; the LMS writes its own statements directly. Order within a session is the order the AU sends them in."""
from decimal import Decimal, InvalidOperation

import orjson
from flask import g
from sqlalchemy import select, update

from lrs.cmi5 import lms, vocab
from lrs.cmi5.tables import cmi5_aus, cmi5_registrations, cmi5_sessions
from lrs.model.agents import ifi
from lrs.store import db
from lrs.store.db import read_once, transaction, write_transaction
from lrs.store.models import statements
from lrs.store.types import utcnow
from lrs.xapi.errors import XAPIError

_DURATION_REQUIRED = {vocab.TERMINATED, vocab.COMPLETED, vocab.PASSED, vocab.FAILED}

# Registrations of other statements found not to be cmi5 registrations. The LMS makes each cmi5 registration a new
# random UUID (lms._new_registration), so one found not to be never becomes one: remembering that saves a database
# round trip on nearly every statement an ordinary client sends (each enrolment's statements share one).
_NOT_CMI5: set[str] = set()
_NOT_CMI5_MAX = 200_000


def _registration(stmt):
    reg = stmt.get("context", {}).get("registration")
    return reg.lower() if isinstance(reg, str) else None


def check(batch: list, cred) -> None:
    """Refuse (403) a batch that breaks a cmi5 rule or is not the AU session's to send. Such a statement is well
    formed xAPI (malformed ones got 400 before this), but not allowed: xAPI's answer is 403 Forbidden, which is
    what cmi5 content and the cmi5 test suite expect."""
    g.cmi5_fresh = None
    if not cred.name.startswith(lms.SESSION_CREDENTIAL):
        regs = {r for r in map(_registration, batch) if r} - _NOT_CMI5
        if regs:
            with read_once(db.engine()) as conn:
                taken = conn.execute(select(cmi5_registrations.c.id).where(cmi5_registrations.c.id.in_(regs))).first()
            if taken:
                raise XAPIError(403, f"registration {taken[0]} is a cmi5 registration: only the LMS and the AU "
                                     "sessions it launched write statements for it (cmi5 9.6.1)")
            if len(_NOT_CMI5) > _NOT_CMI5_MAX:
                _NOT_CMI5.clear()
            _NOT_CMI5.update(regs)
        return
    with transaction() as conn:
        session = conn.execute(select(cmi5_sessions).where(cmi5_sessions.c.credential_key == cred.key)).mappings().first()
        if session is None:
            return
        reg = conn.execute(select(cmi5_registrations).where(cmi5_registrations.c.id == session["registration"])
                           ).mappings().one()
        au = conn.execute(select(cmi5_aus).where(cmi5_aus.c.id == session["au_id"])).mappings().one()
        status = lms._status(conn, reg["id"], au["id"])
        ids = [s["id"] for s in batch]
        known = set(conn.execute(select(statements.c.id).where(statements.c.id.in_(ids))).scalars())
    if session["abandoned_at"]:
        raise XAPIError(403, f"cmi5 session {session['id']} was abandoned: no statements are accepted for it (9.3.6)")
    # A statement already stored is a retry: the store accepts it unchanged, and its rules were checked then.
    fresh = [s for s in batch if s["id"] not in known]
    state = {"verbs": set(session["verbs"].split()), "count": session["statements"],
             "terminated": session["terminated_at"] is not None,
             "completed": bool(status.get("completed")), "passed": bool(status.get("passed"))}
    actor_ifi = ifi(orjson.loads(reg["actor"]))
    for stmt in fresh:
        _check_one(stmt, session, reg, au, actor_ifi, state)
    g.cmi5_fresh = (session["id"], fresh)


def _check_one(stmt, session, reg, au, actor_ifi, state) -> None:
    verb = stmt["verb"]["id"]
    where = f"statement {stmt['id']} ({vocab.name(verb)})"

    def refuse(message):
        raise XAPIError(403, f"{where}: {message}")

    if verb == vocab.VOIDED:
        refuse("an AU may not void statements (cmi5 6.3)")
    if ifi(stmt["actor"]) != actor_ifi or stmt["actor"].get("objectType", "Agent") != "Agent":
        refuse("the actor must be the learner's Agent from the launch URL (cmi5 9.2)")
    ctx = stmt.get("context", {})
    if _registration(stmt) != reg["id"]:
        refuse(f"context.registration must be the launch registration {reg['id']} (cmi5 9.6.1)")
    if ctx.get("extensions", {}).get(vocab.SESSION_ID) != session["id"]:
        refuse(f"context.extensions must carry the session id {session['id']} under {vocab.SESSION_ID} (cmi5 9.6.3.1)")
    if state["terminated"]:
        refuse("the session has terminated; no statements are accepted after terminated (cmi5 9.3.8)")
    if state["count"] == 0 and verb != vocab.INITIALIZED:
        refuse("the first statement of a session must be initialized (cmi5 9.3.2)")
    categories = {a.get("id") for a in ctx.get("contextActivities", {}).get("category", [])}
    result = stmt.get("result", {})
    if vocab.CATEGORY in categories:  # a cmi5 defined statement
        if verb in vocab.LMS_VERBS:
            refuse(f"only the LMS issues {vocab.name(verb)} statements (cmi5 9.3)")
        if verb not in vocab.AU_VERBS:
            refuse(f"a statement with the cmi5 category must use a cmi5 verb ({', '.join(sorted(vocab.AU_VERBS))})")
        if stmt["object"].get("id") != au["activity_id"]:
            refuse(f"the object must be the AU's activityId {au['activity_id']} (cmi5 9.4)")
        groupings = {a.get("id") for a in ctx.get("contextActivities", {}).get("grouping", [])}
        if au["publisher_id"] not in groupings:
            refuse(f"context.contextActivities.grouping must hold the AU's publisher id {au['publisher_id']} from "
                   "the context template (cmi5 9.6.2.3)")
        if verb in state["verbs"]:
            refuse("a cmi5 verb may be used only once per session (cmi5 9.3)")
        if verb in (vocab.PASSED, vocab.FAILED) and state["verbs"] & {vocab.PASSED, vocab.FAILED}:
            refuse("only one of passed and failed per session (cmi5 9.3)")
        if session["launch_mode"] != "Normal" and verb not in (vocab.INITIALIZED, vocab.TERMINATED):
            refuse(f"in launchMode {session['launch_mode']} only initialized and terminated are sent (cmi5 10.2.2)")
        if verb == vocab.COMPLETED and state["completed"]:
            refuse("the AU is already completed in this registration (cmi5 9.3.3)")
        if verb == vocab.PASSED and state["passed"]:
            refuse("the AU is already passed in this registration (cmi5 9.3.4)")
        if verb == vocab.FAILED and state["passed"]:
            refuse("failed may not follow passed in a registration (cmi5 9.3)")
        _check_result(verb, result, categories, au, ctx, refuse)
        state["verbs"].add(verb)
        state["completed"] |= verb == vocab.COMPLETED
        state["passed"] |= verb == vocab.PASSED
    state["count"] += 1
    state["terminated"] = verb == vocab.TERMINATED and vocab.CATEGORY in categories


def _check_result(verb, result, categories, au, ctx, refuse) -> None:
    success, completion, score = result.get("success"), result.get("completion"), result.get("score")
    want_success = {vocab.PASSED: True, vocab.FAILED: False}.get(verb)
    if success != want_success:
        refuse("result.success must be true in passed, false in failed, and absent otherwise (cmi5 9.5.2)")
    if completion != (True if verb == vocab.COMPLETED else None):
        refuse("result.completion must be true in completed and absent otherwise (cmi5 9.5.3)")
    if score is not None and verb not in (vocab.PASSED, vocab.FAILED):
        refuse("only passed and failed may carry a score (cmi5 9.5.1)")
    if (vocab.MOVEON_CATEGORY in categories) != (success is not None or completion is not None):
        refuse(f"statements with result.success or result.completion carry the moveOn category "
               f"{vocab.MOVEON_CATEGORY}, and no others do (cmi5 9.6.2.2)")
    if verb in _DURATION_REQUIRED and "duration" not in result:
        refuse("result.duration is required (cmi5 9.5.4.1)")
    if verb in (vocab.PASSED, vocab.FAILED) and au["mastery_score"] is not None:
        mastery = Decimal(au["mastery_score"])
        given = ctx.get("extensions", {}).get(vocab.MASTERY_SCORE)
        # 9.6.3.2: the extension is required in a verdict decided by a score; a verdict without a score (say, a
        # practical task signed off) may leave it out, but where it is given it must be the LMS's value.
        try:
            if (given is None and score is not None) or (given is not None and Decimal(str(given)) != mastery):
                raise InvalidOperation
        except InvalidOperation:
            refuse(f"context.extensions must carry the masteryScore {au['mastery_score']} under "
                   f"{vocab.MASTERY_SCORE} in a passed or failed with a score (cmi5 9.6.3.2)")
        scaled = (score or {}).get("scaled")
        if scaled is not None:
            if verb == vocab.PASSED and Decimal(str(scaled)) < mastery:
                refuse(f"a passed score.scaled {scaled} is below the masteryScore {au['mastery_score']} (cmi5 9.3.4)")
            if verb == vocab.FAILED and Decimal(str(scaled)) >= mastery:
                refuse(f"a failed score.scaled {scaled} reaches the masteryScore {au['mastery_score']} (cmi5 9.3.5)")


def stored(_app, *, batch: list, credential) -> None:
    """After an AU session's batch is stored: record the session's progress and the AU's status, and issue the
    "satisfied" statements the new status earns (with the launch session id, cmi5 9.3.9)."""
    if not g.get("cmi5_fresh"):
        return
    session_id, fresh = g.cmi5_fresh
    g.cmi5_fresh = None
    if not fresh:
        return
    engine, now = db.engine(), utcnow()
    with write_transaction(engine) as conn:
        session = conn.execute(select(cmi5_sessions).where(cmi5_sessions.c.id == session_id)).mappings().one()
        verbs = set(session["verbs"].split())
        values, au_values = {"statements": session["statements"] + len(fresh), "last_at": now}, {}
        for stmt in fresh:
            categories = {a.get("id") for a in stmt.get("context", {}).get("contextActivities", {}).get("category", [])}
            if vocab.CATEGORY not in categories:
                continue
            verb = stmt["verb"]["id"]
            verbs.add(verb)
            if verb == vocab.TERMINATED:
                values["terminated_at"] = now
            elif verb in (vocab.COMPLETED, vocab.PASSED, vocab.FAILED):
                au_values[vocab.name(verb)] = True
                scaled = stmt.get("result", {}).get("score", {}).get("scaled")
                if scaled is not None:
                    au_values["score"] = str(scaled)
        conn.execute(update(cmi5_sessions).where(cmi5_sessions.c.id == session_id)
                     .values(verbs=" ".join(sorted(verbs)), **values))
        satisfied = []
        if au_values:
            lms.set_status(conn, session["registration"], session["au_id"], **au_values)
            satisfied = lms._satisfied_now(conn, session["registration"], session_id)
    if "terminated_at" in values and session["credential_key"]:
        from lrs.store import credentials
        credentials.revoke(engine, session["credential_key"])  # the token lasts only as long as the session (8.2.1)
    lms._save_lms_statements(engine, satisfied)


def course_rules(conn) -> list[dict]:
    """The competence engine's rules from published courses (a course-rule provider, see lrs.registry): a course's
    (or its AUs') satisfied or passed statement is evidence for the course's competences. Read on the engine's
    own connection."""
    by_code: dict[str, set] = {}
    for activity_id, codes in lms.competence_map(conn).items():
        for code in codes:
            by_code.setdefault(code, set()).add(activity_id)
    return [{"id": f"cmi5:{code}", "competence": code, "kind": "any",
             "parts": [{"verbs": [vocab.SATISFIED, vocab.PASSED], "activities": sorted(ids)}]}
            for code, ids in sorted(by_code.items())]
