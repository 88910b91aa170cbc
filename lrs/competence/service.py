"""What the API and the web pages read: plans, a unit's matrix, what runs out soon, and the coverage forecast.
Every function takes a connection and returns plain data; who may see what is decided by `can_see_*`."""
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import orjson
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from lrs.competence.changes import StatusChange
from lrs.competence.directory import subtree_unit_ids
from lrs.competence.plan import Item, status_of
from lrs.competence.rules import Achievement
from lrs.competence.tables import competences, employee_roles, employees, facts
from lrs.competence.tables import job_roles as job_roles_table
from lrs.competence.tables import manual_evidence, plan_items, status_changes, units
from lrs.principal import Principal
from lrs.store.models import statements

ACTIVE = ("fulfilled", "expiring", "expired", "missing", "awaiting_attestation", "not_yet_due")


@dataclass(frozen=True)
class AsOf:
    """A past day to read plans as they stood at its end (the engine's day, in its time zone)."""
    day: date
    zone: ZoneInfo

    @property
    def end(self) -> datetime:
        return datetime.combine(self.day + timedelta(days=1), time(0), tzinfo=self.zone)


def _chunks(ids, size=1000):
    ids = list(ids)
    return (ids[i:i + size] for i in range(0, len(ids), size))


def _items(conn, ids, as_of: AsOf | None = None, statuses=None) -> list:
    """The plan items of these employees: as they are, or (as_of) as the status history had them at the end of
    that day. A status valid then is moved on by the days passed since its change, as the expiry job would have:
    past `valid_until` it had expired, within the renewal window it was expiring, past `due_on` it was missing."""
    if as_of is None:
        query = select(plan_items)
        if statuses is not None:
            query = query.where(plan_items.c.status.in_(statuses))
        return [r for chunk in _chunks(ids) for r in conn.execute(query.where(plan_items.c.employee_id.in_(chunk)))]
    renewal = dict(conn.execute(select(competences.c.code, competences.c.renewal_days)).all())
    out = []
    for chunk in _chunks(ids):
        newest = (select(func.max(status_changes.c.seq))
                  .where(status_changes.c.employee_id.in_(chunk), status_changes.c.changed < as_of.end)
                  .group_by(status_changes.c.employee_id, status_changes.c.competence_code))
        now = {(r.employee_id, r.competence_code): r for r in conn.execute(
            select(plan_items.c.employee_id, plan_items.c.competence_code, plan_items.c.mandatory,
                   plan_items.c.due_on).where(plan_items.c.employee_id.in_(chunk)))}
        for r in conn.execute(select(status_changes).where(status_changes.c.seq.in_(newest))):
            current = now.get((r.employee_id, r.competence_code))  # mandatory and due_on are not in the history
            mandatory, due_on = (current.mandatory, current.due_on) if current else (False, None)
            status = r.status
            if status in ("fulfilled", "expiring", "not_yet_due"):
                best = Achievement(r.fulfilled_on, r.valid_until, ()) if status != "not_yet_due" else None
                status = status_of(Item(r.competence_code, mandatory, due_on), best,
                                   renewal.get(r.competence_code, 0), False, as_of.day, False).status
            if statuses is None or status in statuses:
                out.append(SimpleNamespace(employee_id=r.employee_id, competence_code=r.competence_code,
                                           mandatory=mandatory, due_on=due_on, status=status,
                                           fulfilled_on=r.fulfilled_on, valid_until=r.valid_until,
                                           evidence=r.evidence))
    return out


def items_of(conn, employee_ids, as_of: AsOf | None = None, statuses=None) -> list:
    """The plan items of these employees, now or (as_of) at the end of a past day (for lrs.competence.aggregates)."""
    return _items(conn, employee_ids, as_of, statuses)


def evidence_notes(conn, employee_id: str) -> dict[str, str]:
    """statement id -> why the day its evidence counts from is not its timestamp (lrs.competence.engine._occurred)."""
    return dict(conn.execute(select(facts.c.statement_id, facts.c.note)
                             .where(facts.c.employee_id == employee_id, facts.c.note.is_not(None))).all())


def evidence_names(conn, plan: dict) -> dict[str, str]:
    """Statement id -> what it was (the activity's name, else its id), for a plan's evidence column: one query
    for the whole plan (ids of manual evidence find no statement and are left out)."""
    ids = {sid.lower(): sid for item in plan["items"] for sid in item["evidence"]}
    names = {}
    for chunk in _chunks(sorted(ids)):
        for sid, body in conn.execute(select(statements.c.id, statements.c.body)
                                      .where(statements.c.id.in_(chunk), ~statements.c.voided)):
            obj = orjson.loads(body)["object"]
            name = (obj.get("definition") or {}).get("name") or {}
            names[ids[sid]] = name.get("nb-NO") or next(iter(name.values()), obj.get("id", ids[sid]))
    return names


def can_see_employee(conn, who: Principal, employee_id: str) -> bool:
    if who.has("admin") or who.employee_id == employee_id:
        return True
    if who.has("leader") and who.led_units:
        return _in_led_units(conn, who, employee_id)
    return False


def _in_led_units(conn, who: Principal, employee_id: str) -> bool:
    """Whether the employee works in one of the units `who` leads or teaches, or below them."""
    unit = conn.execute(select(employees.c.unit_id).where(employees.c.id == employee_id)).scalar()
    return unit is not None and unit in subtree_unit_ids(conn, who.led_units)


def can_see_records(conn, who: Principal, employee_id: str) -> bool:
    """The learning records (statements, scores) of an employee: whoever sees the plan, and an instructor the
    employees of the units they teach (their led_units, as a leader's) and below."""
    if can_see_employee(conn, who, employee_id):
        return True
    if who.has("instructor") and who.led_units:
        return _in_led_units(conn, who, employee_id)
    return False


def can_see_unit(conn, who: Principal, unit_id: str) -> bool:
    if who.has("admin"):
        return True
    return who.has("leader") and unit_id in subtree_unit_ids(conn, who.led_units)


def competence_names(conn) -> dict[str, dict]:
    return {r.code: {"code": r.code, "name_nb": r.name_nb, "name_en": r.name_en, "area": r.area,
                     "validity_months": r.validity_months, "start_url": r.start_url}
            for r in conn.execute(select(competences).order_by(competences.c.area, competences.c.code))}


def _item(row, names, notes) -> dict:
    evidence = orjson.loads(row.evidence)
    return {"competence": names[row.competence_code], "mandatory": row.mandatory, "due_on": row.due_on,
            "status": row.status, "fulfilled_on": row.fulfilled_on, "valid_until": row.valid_until,
            "evidence": evidence,
            "evidence_notes": [{"statement_id": sid, "reason": notes[sid]} for sid in evidence if sid in notes]}


def plan(conn, employee_id: str, as_of: AsOf | None = None) -> dict | None:
    """An employee's plan, now or as it stood at the end of a past day (its history and evidence up to then)."""
    person = conn.execute(select(employees).where(employees.c.id == employee_id)).first()
    if person is None:
        return None
    names = competence_names(conn)
    notes = evidence_notes(conn, employee_id)
    items = sorted((_item(r, names, notes) for r in _items(conn, [employee_id], as_of)),
                   key=lambda i: (i["status"] == "not_required", i["competence"]["area"], i["competence"]["code"]))
    changes = select(status_changes).where(status_changes.c.employee_id == employee_id)
    registered = select(manual_evidence).where(manual_evidence.c.employee_id == employee_id)
    if as_of is not None:
        changes = changes.where(status_changes.c.changed < as_of.end)
        registered = registered.where(manual_evidence.c.registered < as_of.end)
    history = [{"competence": r.competence_code, "status": r.status, "previous_status": r.previous_status,
                "valid_until": r.valid_until, "changed": r.changed}
               for r in conn.execute(changes.order_by(status_changes.c.seq.desc()).limit(200))]
    pending = [{"id": r.id, "competence": r.competence_code, "title": r.title, "completed_on": r.completed_on,
                "state": r.state}
               for r in conn.execute(registered.order_by(manual_evidence.c.registered.desc()))]
    roles = conn.execute(select(employee_roles.c.role_code).where(employee_roles.c.employee_id == employee_id)
                         ).scalars().all()
    return {"employee": {"id": person.id, "name": person.name, "unit_id": person.unit_id, "roles": sorted(roles),
                         "started_on": person.started_on, "left_on": person.left_on},
            "items": items, "history": history, "manual_evidence": pending}


def _people_in(conn, unit_id: str, role: str | None, as_of: AsOf | None = None):
    """Who is in the unit's subtree (as_of: who of them had not left by then; HR keeps no history of moves)."""
    unit_ids = subtree_unit_ids(conn, [unit_id])
    still_here = employees.c.left_on.is_(None)
    if as_of is not None:
        still_here = still_here | (employees.c.left_on > as_of.day)
    query = select(employees.c.id, employees.c.name, employees.c.unit_id).where(
        employees.c.unit_id.in_(unit_ids), still_here).order_by(employees.c.name, employees.c.id)
    if role:
        query = query.where(employees.c.id.in_(select(employee_roles.c.employee_id)
                                               .where(employee_roles.c.role_code == role)))
    return conn.execute(query).all()


def matrix(conn, unit_id: str, role: str | None = None, status: str | None = None,
           as_of: AsOf | None = None) -> dict:
    """Employees of a unit's subtree x the competences their plans require, with each cell's status (now, or at
    the end of a past day)."""
    people = _people_in(conn, unit_id, role, as_of)
    cells = defaultdict(dict)
    used = set()
    for r in _items(conn, [p.id for p in people], as_of, ACTIVE):
        cells[r.employee_id][r.competence_code] = {"status": r.status, "valid_until": r.valid_until,
                                                   "due_on": r.due_on, "mandatory": r.mandatory}
        used.add(r.competence_code)
    names = competence_names(conn)
    columns = [names[c] for c in names if c in used]
    rows = [{"employee_id": p.id, "name": p.name, "unit_id": p.unit_id, "cells": cells[p.id]} for p in people
            if status is None or any(c["status"] == status for c in cells[p.id].values())]
    return {"unit_id": unit_id, "as_of": as_of.day if as_of else None, "competences": columns, "employees": rows,
            "compliant": compliant(cells.values())}


NOT_MET = ("expired", "missing", "awaiting_attestation")


def compliant(plans) -> bool:
    """Whether every mandatory requirement in these plans ({competence: cell}) is met or not yet due."""
    return not any(c["status"] in NOT_MET and c["mandatory"] for cells in plans for c in cells.values())


def changes_shown(conn, made: list[StatusChange]) -> list[dict]:
    """Status changes as a person reads them (a rule preview): who, which requirement, from what to what."""
    people = {}
    for chunk in _chunks({c.employee_id for c in made}):
        people.update(conn.execute(select(employees.c.id, employees.c.name).where(employees.c.id.in_(chunk))).all())
    names = competence_names(conn)
    return sorted(({"employee_id": c.employee_id, "name": people.get(c.employee_id, ""),
                    "competence": names.get(c.competence_code, {"code": c.competence_code}),
                    "previous_status": c.previous_status, "status": c.status, "valid_until": c.valid_until}
                   for c in made), key=lambda c: (c["name"], c["employee_id"], c["competence"]["code"]))


def expiring(conn, unit_id: str, today: date, within=(30, 60, 90), as_of: AsOf | None = None) -> dict:
    """How many valid competences in the subtree run out within 30, 60 and 90 days (and how many have); as_of:
    counted at the end of that day (then `today` is that day)."""
    ids = [p.id for p in _people_in(conn, unit_id, None, as_of)]
    counts = {str(days): 0 for days in within}
    expired = 0
    for r in _items(conn, ids, as_of, ("fulfilled", "expiring", "expired")):
        if r.status == "expired":
            expired += 1
            continue
        if r.valid_until is None:
            continue
        for days in within:
            if r.valid_until <= today + timedelta(days=days):
                counts[str(days)] += 1
    return {"unit_id": unit_id, "today": today, "within_days": counts, "expired": expired}


def forecast(conn, unit_id: str, today: date, months: int = 12) -> dict:
    """Per competence, for each of the next `months` month ends: how many required holders are still covered,
    and who drops out in that month (unless they renew)."""
    ids = [p.id for p in _people_in(conn, unit_id, None)]
    per = defaultdict(list)
    for i in range(0, len(ids), 1000):
        for r in conn.execute(select(plan_items.c.employee_id, plan_items.c.competence_code, plan_items.c.status,
                                     plan_items.c.valid_until)
                              .where(plan_items.c.employee_id.in_(ids[i:i + 1000]),
                                     plan_items.c.status.in_(ACTIVE))):
            per[r.competence_code].append(r)
    names = competence_names(conn)
    month_ends = [(today.replace(day=1) + relativedelta(months=m + 1)) - timedelta(days=1) for m in range(months)]
    out = []
    for code in (c for c in names if c in per):
        items = per[code]
        valid = [r for r in items if r.status in ("fulfilled", "expiring")]
        never = sum(1 for r in valid if r.valid_until is None)
        ends = sorted((r.valid_until, r.employee_id) for r in valid if r.valid_until is not None)
        days = [d for d, _e in ends]
        series, previous = [], bisect_right(days, today)
        for end in month_ends:
            upto = bisect_right(days, end)  # those valid until this month's end or earlier are out by then
            covered = never + len(days) - upto
            series.append({"month": end.strftime("%Y-%m"), "covered": covered, "required": len(items),
                           "coverage": round(covered / len(items), 4),
                           "dropping_out": sorted(e for _d, e in ends[previous:upto])})
            previous = upto
        out.append({"competence": names[code], "months": series})
    return {"unit_id": unit_id, "today": today, "forecast": out}


def job_roles(conn) -> list[dict]:
    return [dict(r) for r in conn.execute(select(job_roles_table).order_by(job_roles_table.c.code)).mappings()]


def unit_tree(conn) -> list[dict]:
    return [dict(r) for r in conn.execute(select(units).order_by(units.c.path)).mappings()]


def units_seen_by(conn, who: Principal) -> list[dict]:
    """The units of `unit_tree` this person may see (as `can_see_unit`), with the led subtrees read once."""
    tree = unit_tree(conn)
    if who.has("admin"):
        return tree
    seen = subtree_unit_ids(conn, who.led_units) if who.has("leader") else set()
    return [u for u in tree if u["id"] in seen]
