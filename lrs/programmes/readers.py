"""What each reader of the education programmes sees: a participant their progress, a supervisor their
participants and what awaits them, a leader the overview of those they lead, and the printable record and its
xAPI export. Reads only; who may see an enrolment is `service.visible`."""
from collections import defaultdict
from datetime import date

import orjson
from sqlalchemy import select

from lrs.competence import service as competence
from lrs.principal import Principal
from lrs.programmes import service
from lrs.programmes.tables import programme_enrolments, programme_entries, programme_transfers
from lrs.store.models import statements


def participant(conn, settings, who: Principal, enrolment_id: str, today: date) -> dict:
    """One enrolment's progress, for whoever may see it."""
    return service.progress(conn, settings, service.visible(conn, who, enrolment_id), today)


def _summaries(conn, settings, rows, today: date) -> tuple[list[dict], dict, dict]:
    """Each enrolment's summary; the names of everyone in them and each programme version, read once for all
    (not per enrolment). Returns (summaries, people, programmes by (code, version))."""
    people = service.names_of(conn, {i for r in rows for i in (r.employee_id, r.supervisor_id, r.leader_id)})
    progs = {}
    for r in rows:
        if (r.programme_code, r.programme_version) not in progs:
            progs[(r.programme_code, r.programme_version)] = service.programme(conn, r.programme_code, r.programme_version)
    return [_summary(conn, settings, r, today, people, progs[(r.programme_code, r.programme_version)])
            for r in rows], people, progs


def _summary(conn, settings, row, today: date, people: dict, prog: dict) -> dict:
    p = service.progress(conn, settings, row, today, people, prog)
    flat = [o for t in p["topics"] for o in t["objectives"]]
    return {**service.enrolment_dict(row, people), "title_nb": p["programme"]["title_nb"],
            "title_en": p["programme"]["title_en"], "pace": p["pace"],
            "awaiting_assessment": [o for o in flat if o["state"] == "ready" and o["assessment"] == "supervisor"],
            "awaiting_approval": [o for o in flat if o["state"] == "assessed"],
            "awaiting_committee": [o for o in flat if o["state"] == "ready" and o["assessment"] == "committee"],
            "pending_entries": [e for e in p["entries"] if e["state"] == "pending"]}


def trainees(conn, settings, who: Principal, today: date) -> list[dict]:
    """The supervisor's participants, each with what awaits the supervisor (entries to confirm, objectives to
    assess), those with the most waiting first."""
    if not who.employee_id:
        return []
    rows = conn.execute(select(programme_enrolments).where(programme_enrolments.c.supervisor_id == who.employee_id,
                                                           programme_enrolments.c.state == "active")).all()
    out, _, _ = _summaries(conn, settings, rows, today)
    return sorted(out, key=lambda s: (-(len(s["pending_entries"]) + len(s["awaiting_assessment"])),
                                      s["name"] or ""))


def overview(conn, settings, who: Principal, today: date) -> dict:
    """For a leader or the committee: the participants they lead, who is behind first, what awaits approval, and
    the supervisors who do not hold their programme's supervision competence."""
    led = service.led_unit_ids(conn, who)
    rows = [r for r in conn.execute(select(programme_enrolments)
                                    .where(programme_enrolments.c.state == "active")).all()
            if service.leads(conn, who, r, led)]
    summaries, people, progs = _summaries(conn, settings, rows, today)
    summaries.sort(key=lambda s: (not s["pace"]["behind"], s["name"] or ""))
    needed = defaultdict(set)  # competence -> supervisors
    for r in rows:
        code = progs[(r.programme_code, r.programme_version)].get("supervisor_competence")
        if code and r.supervisor_id:
            needed[code].add(r.supervisor_id)
    lacking = []
    for code, ids in sorted(needed.items()):
        statuses = competence.competence_statuses(conn, ids, code)
        lacking += [{"employee_id": i, "name": people.get(i), "competence": code, "status": statuses.get(i)}
                    for i in sorted(ids) if statuses.get(i) not in service.HELD]
    return {"participants": summaries, "behind": sum(s["pace"]["behind"] for s in summaries),
            "supervisors_without_competence": lacking}


def record(conn, settings, who: Principal, enrolment_id: str, today: date) -> dict:
    """The printable record: progress, every sign-off (voided ones too), entries and moves."""
    row = service.visible(conn, who, enrolment_id)
    p = service.progress(conn, settings, row, today)
    p["history"] = {
        "signoffs": [dict(s._mapping) for s in service.signoffs(conn, row.id, live_only=False)],
        "transfers": [dict(t._mapping) for t in conn.execute(
            select(programme_transfers).where(programme_transfers.c.enrolment_id == row.id)
            .order_by(programme_transfers.c.id)).all()]}
    return p


def export_statements(conn, who: Principal, enrolment_id: str) -> list[dict]:
    """The programme's own learning records of this participant as xAPI statements another LRS can import: the
    confirmed entries and the sign-offs (voided ones with their voiding statements), oldest first, without the
    authority (the importing LRS sets its own)."""
    row = service.visible(conn, who, enrolment_id)
    ids = [s for s in conn.execute(select(programme_entries.c.statement_id).where(
        programme_entries.c.enrolment_id == row.id, programme_entries.c.statement_id.is_not(None))).scalars()]
    for s in service.signoffs(conn, row.id, live_only=False):
        ids.append(s.statement_id)
        if s.voiding_statement_id:
            ids.append(s.voiding_statement_id)
    if not ids:
        return []
    bodies = conn.execute(select(statements.c.body).where(statements.c.id.in_(ids))
                          .order_by(statements.c.seq)).scalars()
    return [{k: v for k, v in orjson.loads(b).items() if k != "authority"} for b in bodies]
