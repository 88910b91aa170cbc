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
from sqlalchemy import case, func, select

from lrs.competence import engine as eng
from lrs.competence.changes import StatusChange
from lrs.competence.directory import subtree_unit_ids
from lrs.competence.plan import Item, status_of
from lrs.competence.rules import Achievement
from lrs.competence.tables import competences, employee_roles, employees, facts
from lrs.competence.tables import job_roles as job_roles_table
from lrs.competence.tables import manual_evidence, plan_additions, plan_items, status_changes, units
from lrs.principal import Principal
from lrs.store.models import statements
from lrs.store.types import utcnow

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


SESSION_TYPE = "https://kompetanse.helse.example.no/xapi/activities/simulation-session"
ATTESTED_BY = "https://kompetanse.helse.example.no/xapi/extensions/attested-by"
_VERBS = {"http://adlnet.gov/expapi/verbs/passed": "passed", "http://adlnet.gov/expapi/verbs/completed": "completed",
          "https://w3id.org/xapi/adl/verbs/satisfied": "satisfied", "http://adlnet.gov/expapi/verbs/attended": "attended"}


def _day_of(timestamp: str | None) -> date | None:
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).date() if timestamp else None
    except ValueError:
        return None


def evidence_described(conn, plan: dict) -> dict[str, dict]:
    """Statement id -> the evidence as a person reads it, for a plan's evidence column: `kind` (attestation, session
    or course), `name` (the activity's name in nb and en, None when it has none: never its IRI), `verb` (passed,
    completed, satisfied, attended or None) and `on` (the day it was done). One query for the whole plan."""
    ids = {sid.lower(): sid for item in plan["items"] for sid in item["evidence"]}
    out = {}
    for chunk in _chunks(sorted(ids)):
        for sid, body in conn.execute(select(statements.c.id, statements.c.body)
                                      .where(statements.c.id.in_(chunk), ~statements.c.voided)):
            stmt = orjson.loads(body)
            obj = stmt.get("object") or {}
            definition = obj.get("definition") or {}
            names = definition.get("name") or {}
            nb = names.get("nb-NO") or names.get("nb") or names.get("no") or next(iter(names.values()), None)
            en = names.get("en-US") or names.get("en-GB") or names.get("en") or nb
            extensions = (stmt.get("context") or {}).get("extensions") or {}
            kind = ("attestation" if ATTESTED_BY in extensions
                    else "session" if definition.get("type") == SESSION_TYPE else "course")
            out[ids[sid]] = {"kind": kind, "name": {"nb": nb, "en": en} if nb else None,
                             "verb": _VERBS.get((stmt.get("verb") or {}).get("id")),
                             "on": _day_of(stmt.get("timestamp"))}
    return out


# How urgent a status is for the employee: what must be done now, then what runs out soon, then the rest.
URGENCY = {"missing": 0, "expired": 0, "expiring": 1, "not_yet_due": 2, "awaiting_attestation": 3, "fulfilled": 4,
           "not_required": 5, "closed": 5}


def deadline(item: dict) -> date | None:
    """The day that matters for a plan item, if any: when it must be done (missing, not yet due), when it runs or
    ran out (expiring, expired). A fulfilled item has no deadline that matters; neither has one waiting for its
    attestation or no longer required."""
    status = item["status"]
    if status in ("missing", "not_yet_due"):
        return item["due_on"]
    if status in ("expiring", "expired"):
        return item["valid_until"]
    return None


def by_urgency(items: list[dict]) -> list[dict]:
    """Plan items in the order an employee deals with them: missing and expired, then expiring, then not yet due,
    awaiting attestation, fulfilled, and those no longer required; mandatory before recommended, earliest deadline
    first, then by name."""
    return sorted(items, key=lambda i: (URGENCY.get(i["status"], 6), not i["mandatory"],
                                        deadline(i) or date.max, i["competence"]["name_nb"], i["competence"]["code"]))


def summary(items: list[dict], today: date, pending=frozenset()) -> dict:
    """What an employee must do and by when, counted over the mandatory items: `missing` (missing or expired),
    `expired` (of those), `expiring` and the fewest days until one of them runs out (`expiring_days`),
    `not_yet_due`, `awaiting` (attestation), `fulfilled`, `next_deadline` (the earliest deadline from today on
    among the items still to do) and `next` (the first item to act on, mandatory or not; None when nothing is to
    be done). `pending`: the competence codes with registered training waiting for attestation; an item still
    valid but running out (expiring) with such training is done by the employee: awaiting, not to do."""
    mandatory = [i for i in items if i["mandatory"]]

    def waiting(i):
        return i["status"] == "awaiting_attestation" or (i["status"] == "expiring"
                                                         and i["competence"]["code"] in pending)

    def count(*statuses):
        return sum(1 for i in mandatory if i["status"] in statuses and not waiting(i))

    expiring = [i["valid_until"] for i in mandatory if i["status"] == "expiring" and i["valid_until"]
                and not waiting(i)]
    todo = [i for i in by_urgency(items) if i["status"] in ("missing", "expired", "expiring", "not_yet_due")
            and not waiting(i)]
    ahead = [d for i in todo if (d := deadline(i)) is not None and d >= today]
    return {"missing": count("missing", "expired"), "expired": count("expired"), "expiring": len(expiring),
            "expiring_days": min((d - today).days for d in expiring) if expiring else None,
            "not_yet_due": count("not_yet_due"), "awaiting": sum(1 for i in mandatory if waiting(i)),
            "fulfilled": count("fulfilled"), "next_deadline": min(ahead) if ahead else None,
            "next": todo[0] if todo else None}


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
                "state": r.state, "reason": r.reason}
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
    and who (employee ids) drops out in that month (unless they renew)."""
    ids = [p.id for p in _people_in(conn, unit_id, None)]
    per = defaultdict(list)
    for chunk in _chunks(ids):
        for r in conn.execute(select(plan_items.c.employee_id, plan_items.c.competence_code, plan_items.c.status,
                                     plan_items.c.valid_until)
                              .where(plan_items.c.employee_id.in_(chunk), plan_items.c.status.in_(ACTIVE))):
            per[r.competence_code].append(r)
    return {"unit_id": unit_id, "today": today,
            "forecast": _forecast(per, competence_names(conn), today, months, lambda employee_id: employee_id)}


def _forecast(per: dict, names: dict, today: date, months: int, who) -> list[dict]:
    """The forecast of `per` (competence code -> its plan items with status, valid_until, employee_id), in the
    catalog's order; `who(employee_id)` is how those dropping out are named."""
    held = {code: [r for r in items if r.status in VALID] for code, items in per.items()}
    return _forecast_of({code: len(items) for code, items in per.items()}, {c: len(v) for c, v in held.items()},
                        {code: [(r.valid_until, r.employee_id) for r in items if r.valid_until is not None]
                         for code, items in held.items()}, names, today, months, who)


def _month_ends(today: date, months: int) -> list[date]:
    return [(today.replace(day=1) + relativedelta(months=m + 1)) - timedelta(days=1) for m in range(months)]


def _forecast_of(required: dict, held: dict, ends: dict, names: dict, today: date, months: int, who) -> list[dict]:
    """Per competence (code -> how many require it, how many hold it today, and (valid_until, employee_id) of
    those holding it who run out, at least within the months ahead): covered at each month end unless they renew,
    and who drops out in which month."""
    out = []
    for code in (c for c in names if c in required):
        ends_here = sorted(ends.get(code, ()))
        days = [d for d, _e in ends_here]
        series, previous = [], bisect_right(days, today)
        for end in _month_ends(today, months):
            upto = bisect_right(days, end)  # those valid until this month's end or earlier are out by then
            covered = held[code] - upto
            series.append({"month": end.strftime("%Y-%m"), "covered": covered, "required": required[code],
                           "coverage": round(covered / required[code], 4),
                           "dropping_out": sorted(who(e) for _d, e in ends_here[previous:upto])})
            previous = upto
        out.append({"competence": names[code], "required": required[code], "held": held[code],
                    "coverage": round(held[code] / required[code], 4), "months": series})
    return out


VALID = ("fulfilled", "expiring")  # holds the competence today
MET = ("fulfilled", "expiring", "not_yet_due")  # in order as far as compliance goes
PEOPLE_COUNTS = ("missing", "expired", "expiring", "awaiting_attestation")  # a person counts once in each
PEOPLE_FILTERS = PEOPLE_COUNTS + ("compliant", "not_compliant")


def _listed(status: str | None, flags, ok: bool) -> bool:
    if status == "compliant":
        return ok
    if status == "not_compliant":
        return not ok
    return status is None or flags[status]


def _count_if(condition):
    return func.sum(case((condition, 1), else_=0))


def unit_overview(conn, unit_id: str, today: date, role: str | None = None, competence: str | None = None,
                  status: str | None = None, page: int = 1, per_page: int | None = 50, months: int = 12,
                  due_dates: bool = False, names: dict | None = None) -> dict:
    """What a leader asks of a unit's subtree (of one job role, of one competence), counted in people:
    how many there are, how many are fully compliant (no mandatory requirement missing, expired or awaiting
    attestation) and how many have a mandatory requirement in each of PEOPLE_COUNTS; per competence the share
    holding it; per person the share of their mandatory requirements in order; the 12-month forecast of every
    competence, naming who drops out. `status` (one of PEOPLE_FILTERS) picks the people listed, then a page of
    them (per_page None: all), whose cells are read (due_dates: with `due_on`). The counts are the database's
    (grouped per person and per competence); only the listed page's cells and the expiry dates within the
    forecast's months come back row by row. `names`: competence_names(conn), when the caller has read it already."""
    people = _people_in(conn, unit_id, role)
    active = plan_items.c.status.in_(ACTIVE)
    if competence:
        active = active & (plan_items.c.competence_code == competence)
    mandatory = plan_items.c.mandatory
    per_person = select(plan_items.c.employee_id, _count_if(mandatory).label("mandatory"),
                        _count_if(mandatory & plan_items.c.status.in_(MET)).label("met"),
                        *(_count_if(mandatory & (plan_items.c.status == s)).label(s) for s in PEOPLE_COUNTS)
                        ).where(active).group_by(plan_items.c.employee_id)
    per_competence = select(plan_items.c.competence_code, func.count().label("required"),
                            _count_if(plan_items.c.status.in_(VALID)).label("held")
                            ).where(active).group_by(plan_items.c.competence_code)
    horizon = _month_ends(today, months)[-1] if months else today
    running_out = select(plan_items.c.competence_code, plan_items.c.valid_until, plan_items.c.employee_id).where(
        active, plan_items.c.status.in_(VALID), plan_items.c.valid_until <= horizon)
    flags, required, held, ends = {}, defaultdict(int), defaultdict(int), defaultdict(list)
    for chunk in _chunks([p.id for p in people]):
        within = plan_items.c.employee_id.in_(chunk)
        flags.update((r.employee_id, r._mapping) for r in conn.execute(per_person.where(within)))
        for r in conn.execute(per_competence.where(within)):
            required[r.competence_code] += r.required
            held[r.competence_code] += r.held
        if months:
            for code, until, employee_id in conn.execute(running_out.where(within)):
                ends[code].append((until, employee_id))
    if competence:  # those whose plans lack it are not asked about
        people = [p for p in people if p.id in flags]
    names = names if names is not None else competence_names(conn)
    unit_names = dict(conn.execute(select(units.c.id, units.c.name)).all())
    counts = dict.fromkeys(PEOPLE_COUNTS, 0)
    nothing = dict.fromkeys(PEOPLE_COUNTS, 0) | {"mandatory": 0, "met": 0}
    fine = 0
    listed = []
    for p in people:
        mine = flags.get(p.id) or nothing
        for key in PEOPLE_COUNTS:
            if mine[key]:
                counts[key] += 1
        ok = not (mine["missing"] or mine["expired"] or mine["awaiting_attestation"])  # NOT_MET
        fine += ok
        if _listed(status, mine, ok):
            listed.append({"employee_id": p.id, "name": p.name, "unit_id": p.unit_id,
                           "unit_name": unit_names.get(p.unit_id, p.unit_id), "compliant": ok,
                           "share": mine["met"] / mine["mandatory"] if mine["mandatory"] else None, "cells": {}})
    columns = [names[code] | {"required": required[code], "held": held[code],
                              "coverage": held[code] / required[code]} for code in names if code in required]
    pages = max(1, -(-len(listed) // per_page)) if per_page else 1
    page = min(max(page, 1), pages)
    shown = listed[(page - 1) * per_page:page * per_page] if per_page else listed
    by_id = {row["employee_id"]: row for row in shown}
    cells = select(plan_items.c.employee_id, plan_items.c.competence_code, plan_items.c.mandatory,
                   plan_items.c.status, plan_items.c.valid_until, *([plan_items.c.due_on] if due_dates else ())
                   ).where(active)
    for chunk in _chunks(by_id):
        for r in conn.execute(cells.where(plan_items.c.employee_id.in_(chunk))):
            by_id[r.employee_id]["cells"][r.competence_code] = r
    people_names = {p.id: p.name for p in people}
    return {"unit_id": unit_id, "today": today, "people": len(people), "compliant": fine,
            "compliant_share": fine / len(people) if people else None, "counts": counts, "competences": columns,
            "listed": len(listed), "page": page, "pages": pages, "per_page": per_page,
            "first": (page - 1) * per_page + 1 if per_page and listed else 1, "employees": shown,
            "forecast": _forecast_of(required, held, ends, names, today, months, lambda e: people_names.get(e, e))
            if months else []}


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


class NotInCatalog(LookupError):
    """A competence asked for that the catalog does not have (`code`: which)."""

    def __init__(self, code: str):
        super().__init__(f"no competence {code} in the catalog")
        self.code = code


def require_competences(conn, settings, employee_id: str, wanted: dict[str, date]) -> list[str]:
    """Add these competences (code -> due day) to one employee's plan (individual additions, as a leader would),
    those their plan does not already hold; the engine then checks them like any other requirement. All are added
    before the plan is recomputed, once (not once per competence). The codes added; NotInCatalog for an unknown
    one (nothing added)."""
    codes = list(wanted)
    known = set(conn.execute(select(competences.c.code).where(competences.c.code.in_(codes))).scalars())
    for code in codes:
        if code not in known:
            raise NotInCatalog(code)
    held = dict(conn.execute(select(plan_items.c.competence_code, plan_items.c.status).where(
        plan_items.c.employee_id == employee_id, plan_items.c.competence_code.in_(codes))).all())
    added = [code for code in codes if held.get(code) in (None, "not_required")]
    if not added:
        return []
    listed = set(conn.execute(select(plan_additions.c.competence_code).where(
        plan_additions.c.employee_id == employee_id, plan_additions.c.competence_code.in_(added))).scalars())
    fresh = [{"employee_id": employee_id, "competence_code": code, "mandatory": True, "due_on": wanted[code]}
             for code in added if code not in listed]
    if fresh:
        conn.execute(plan_additions.insert(), fresh)
    eng.recompute(conn, [employee_id], settings, utcnow())
    return added


def competence_statuses(conn, employee_ids, competence_code: str) -> dict[str, str]:
    """employee id -> the status of this competence in their plan (absent: not in their plan)."""
    ids = sorted(set(employee_ids))
    if not ids:
        return {}
    return dict(conn.execute(select(plan_items.c.employee_id, plan_items.c.status)
                             .where(plan_items.c.employee_id.in_(ids),
                                    plan_items.c.competence_code == competence_code)).all())
