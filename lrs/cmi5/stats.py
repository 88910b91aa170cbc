"""Numbers per course for its authors: launches, completions, pass rate, average session time, hardest questions."""
from sqlalchemy import func, select

import orjson

from lrs.cmi5.tables import cmi5_au_status, cmi5_aus, cmi5_registrations, cmi5_sessions
from lrs.store.models import statements

ANSWERED = "http://adlnet.gov/expapi/verbs/answered"


def course_numbers(conn, course_id: int, hardest: int = 5) -> dict:
    regs = select(cmi5_registrations.c.id).where(cmi5_registrations.c.course_id == course_id)
    s, st = cmi5_sessions.c, cmi5_au_status.c
    launches = conn.execute(select(func.count()).where(s.registration.in_(regs))).scalar()
    ended = conn.execute(select(s.launched_at, s.terminated_at).where(
        s.registration.in_(regs), s.terminated_at.is_not(None))).all()
    rows = conn.execute(select(st.completed, st.passed, st.failed).where(st.registration.in_(regs))).all()
    au_ids = {a.activity_id for a in conn.execute(select(cmi5_aus.c.activity_id)
                                                  .where(cmi5_aus.c.course_id == course_id))}
    bodies = conn.execute(select(statements.c.body).where(
        statements.c.registration.in_(regs), statements.c.verb_id == ANSWERED,
        statements.c.voided.is_(False))).scalars().all()
    judged = [r for r in rows if r.passed or r.failed]
    per_question: dict[str, list] = {}
    for body in bodies:
        stmt = orjson.loads(body)
        qid = stmt["object"]["id"]
        if not any(qid.startswith(a + "/") for a in au_ids) or "success" not in stmt.get("result", {}):
            continue
        name = stmt["object"].get("definition", {}).get("name", {})
        entry = per_question.setdefault(qid, [0, 0, next(iter(name.values()), qid)])
        entry[0] += 1
        entry[1] += 0 if stmt["result"]["success"] else 1
    questions = sorted(({"id": q, "text": text, "answers": n, "wrong": wrong, "wrong_rate": round(wrong / n, 3)}
                        for q, (n, wrong, text) in per_question.items()), key=lambda q: (-q["wrong_rate"], q["id"]))
    seconds = [(t - launched).total_seconds() for launched, t in ended]
    return {
        "course_id": course_id, "launches": launches, "completions": sum(1 for r in rows if r.completed),
        "passed": sum(1 for r in rows if r.passed),
        "pass_rate": round(sum(1 for r in judged if r.passed) / len(judged), 3) if judged else None,
        "average_seconds": round(sum(seconds) / len(seconds), 1) if seconds else None,
        "hardest_questions": questions[:hardest],
    }
