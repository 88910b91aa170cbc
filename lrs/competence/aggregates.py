"""Counts over many plans at once, for the capacity forecast and the monthly indicators (lrs.capacity reads the
competence tables only through these). Every function takes a connection and returns plain data.

Months are "YYYY-MM" strings; a date's month compares with another's as text."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, literal, or_, select

from lrs.competence import service
from lrs.competence.plan import Item, status_of
from lrs.competence.rules import Achievement
from lrs.competence.tables import competences, employee_roles, employees, plan_items, status_changes, units

HELD = service.VALID
NEVER = "9999-99"  # the month of a date that is not there (no expiry, no leaving)
NOT_MET = service.NOT_MET


def _month(conn, column):
    """The "YYYY-MM" of a date column, in SQL (NULL: NEVER)."""
    if conn.dialect.name == "postgresql":
        text = func.to_char(column, "YYYY-MM")
    else:
        text = func.substr(column, 1, 7)  # SQLite keeps a date as its ISO text: the month is its first 7 letters
    return func.coalesce(text, literal(NEVER))


def month_of(day: date | None) -> str:
    return day.strftime("%Y-%m") if day else NEVER


def _leaving(conn):
    """The day an employee is gone: left_on or planned_leaving_on, the earlier (NULL: not leaving)."""
    left, planned = employees.c.left_on, employees.c.planned_leaving_on
    return case((left.is_(None), planned), (planned.is_(None), left), (planned < left, planned), else_=left)


@dataclass(frozen=True)
class Bucket:
    """n employees of one unit (and role, when asked by role) alike for the forecast of one competence.
    kind "held": they hold it now, valid through `valid_month` (NEVER: no expiry); kind "coming": they do not yet
    hold it but are expected to from `from_month` (a new employee's deadline; "0000-00": awaiting attestation).
    `leave_month`: the month they are gone (NEVER: not leaving)."""
    competence_code: str
    unit_id: str
    role_code: str | None
    kind: str
    valid_month: str
    from_month: str
    leave_month: str
    n: int


def holder_buckets(conn, competence_codes, unit_ids, today: date, by_role: bool = False) -> list[Bucket]:
    """The holders and the expected holders of these competences among the employees (still there today) of these
    units, grouped by competence, unit (and role), expiry month, month they are expected to hold it, and leaving
    month: one query over the units' employees (indexed by unit) and their plans, counted in SQL."""
    valid_month = _month(conn, plan_items.c.valid_until)
    due_month = _month(conn, plan_items.c.due_on)
    leave_month = _month(conn, _leaving(conn))
    held = plan_items.c.status.in_(HELD)
    kind = case((held, literal("held")), else_=literal("coming"))
    from_month = case((plan_items.c.status == "not_yet_due", due_month), else_=literal("0000-00"))
    role = employee_roles.c.role_code if by_role else literal(None)
    cols = [plan_items.c.competence_code, employees.c.unit_id, role.label("role_code"), kind.label("kind"),
            case((held, valid_month), else_=literal(NEVER)).label("valid_month"),
            from_month.label("from_month"), leave_month.label("leave_month")]
    joined = employees.join(plan_items, plan_items.c.employee_id == employees.c.id)
    if by_role:
        joined = joined.join(employee_roles, employee_roles.c.employee_id == employees.c.id)
    out = []
    wanted = set(competence_codes)
    units_list = list(unit_ids) if unit_ids is not None else [None]
    for i in range(0, len(units_list), 1000):
        # No filter on the competence in SQL: it would lead the planner to the competence index and every unit's
        # plans; the units' employees (their index) are the small side. Other competences are dropped below.
        query = (select(*cols, func.count().label("n")).select_from(joined)
                 .where(plan_items.c.status.in_((*HELD, "awaiting_attestation", "not_yet_due")),
                        or_(employees.c.left_on.is_(None), employees.c.left_on > today)))
        if unit_ids is not None:
            query = query.where(employees.c.unit_id.in_(units_list[i:i + 1000]))
        out += [Bucket(*r) for r in conn.execute(query.group_by(*cols)) if r[0] in wanted]
    return out


def renewers(conn, competence_code: str, unit_ids, role_code: str | None, today: date, until: date,
             limit: int = 50) -> list[dict]:
    """Who of these units holds the competence now and sees it expire by `until` while still employed then,
    soonest first: the people who must renew (each by their own valid_until)."""
    leaving = _leaving(conn)
    query = (select(employees.c.id, employees.c.name, employees.c.unit_id, plan_items.c.valid_until)
             .select_from(plan_items.join(employees, employees.c.id == plan_items.c.employee_id))
             .where(plan_items.c.competence_code == competence_code, plan_items.c.status.in_(HELD),
                    employees.c.unit_id.in_(list(unit_ids)), plan_items.c.valid_until.is_not(None),
                    plan_items.c.valid_until <= until,
                    or_(leaving.is_(None), leaving > plan_items.c.valid_until),
                    or_(employees.c.left_on.is_(None), employees.c.left_on > today))
             .order_by(plan_items.c.valid_until, employees.c.name, employees.c.id).limit(limit))
    if role_code:
        query = query.where(employees.c.id.in_(select(employee_roles.c.employee_id)
                                               .where(employee_roles.c.role_code == role_code)))
    return [dict(r._mapping) for r in conn.execute(query)]


def org_units(conn) -> list[dict]:
    """Every unit: id, parent_id, name, kind, path (ordered by path)."""
    return [dict(r._mapping) for r in conn.execute(
        select(units.c.id, units.c.parent_id, units.c.name, units.c.kind, units.c.path).order_by(units.c.path))]


def competence_names(conn) -> dict[str, dict]:
    return service.competence_names(conn)


def job_role_codes(conn) -> list[str]:
    return [r["code"] for r in service.job_roles(conn)]


def known_competences(conn) -> set[str]:
    return set(conn.execute(select(competences.c.code)).scalars())


def indicator_counts(conn, day: date, today: date, zone) -> list[dict]:
    """Per unit (the employee's own unit), job role ("*": every role, each employee once) and competence ("*": the
    plan as a whole), at the end of `day`: employees, employees with every mandatory requirement met or not yet due,
    and per competence how many need it, hold it, are overdue (mandatory, expired or missing) and expiring. Read
    from the status history for a past day (ended in time zone `zone`), from the plans as they are for today."""
    people = conn.execute(select(employees.c.id, employees.c.unit_id).where(_employed_on(day))).all()
    unit_of = dict(people)
    roles = defaultdict(list)
    for employee_id, role in conn.execute(select(employee_roles.c.employee_id, employee_roles.c.role_code)):
        if employee_id in unit_of:
            roles[employee_id].append(role)
    as_of = None if day >= today else service.AsOf(day, zone)
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])  # employees, all_met, required,
    short = set()                                                               # holders, overdue, expiring
    for employee_id, code, mandatory, status in _statuses_at(conn, unit_of, as_of):
        overdue = mandatory and status in ("expired", "missing")
        if mandatory and status in NOT_MET:
            short.add(employee_id)
        for role in ("*", *roles[employee_id]):
            row = counts[(unit_of[employee_id], role, code)]
            row[2] += 1
            row[3] += status in HELD
            row[4] += overdue
            row[5] += status == "expiring"
    for employee_id, unit_id in unit_of.items():
        for role in ("*", *roles[employee_id]):
            row = counts[(unit_id, role, "*")]
            row[0] += 1
            row[1] += employee_id not in short
    return [{"unit_id": u, "role_code": r, "competence_code": c, "employees": v[0], "all_met": v[1],
             "required": v[2], "holders": v[3], "overdue": v[4], "expiring": v[5]}
            for (u, r, c), v in counts.items()]


def _employed_on(day: date):
    """Employees there at the end of `day` (started, not yet left), as an SQL condition."""
    return and_(employees.c.started_on <= day, or_(employees.c.left_on.is_(None), employees.c.left_on > day))


def _statuses_at(conn, people: dict, as_of):
    """(employee id, competence, mandatory, status) of every active plan item of these people, now or at the end of
    as_of's day. Only the people with a status change after that day are read from the history (the slow path);
    the others' plans are as they were then, moved on by the days passed as the daily expiry job would have."""
    if as_of is None:
        for r in service.items_of(conn, list(people), None, service.ACTIVE):
            yield r.employee_id, r.competence_code, r.mandatory, r.status
        return
    changed_since = select(status_changes.c.employee_id).where(status_changes.c.changed >= as_of.end)
    changed = set(conn.execute(changed_since.distinct()).scalars())
    later = [e for e in people if e in changed]
    for r in service.items_of(conn, later, as_of, service.ACTIVE) if later else ():
        yield r.employee_id, r.competence_code, r.mandatory, r.status
    renewal = dict(conn.execute(select(competences.c.code, competences.c.renewal_days)).all())
    active = set(service.ACTIVE)
    # Only the items that can count (a backfill asks once a month): of the people there then (`people`), not read
    # from the history above, in a status that is or moves on to an active one (an inactive one stays inactive).
    for r in conn.execute(select(plan_items.c.employee_id, plan_items.c.competence_code, plan_items.c.mandatory,
                                 plan_items.c.status, plan_items.c.due_on, plan_items.c.fulfilled_on,
                                 plan_items.c.valid_until)
                          .join(employees, employees.c.id == plan_items.c.employee_id)
                          .where(_employed_on(as_of.day), plan_items.c.status.in_(service.ACTIVE),
                                 plan_items.c.employee_id.not_in(changed_since))):
        status = r.status
        if status in ("fulfilled", "expiring", "not_yet_due"):
            best = Achievement(r.fulfilled_on, r.valid_until, ()) if status != "not_yet_due" else None
            status = status_of(Item(r.competence_code, r.mandatory, r.due_on), best,
                               renewal.get(r.competence_code, 0), False, as_of.day, False).status
        if status in active:
            yield r.employee_id, r.competence_code, r.mandatory, status
