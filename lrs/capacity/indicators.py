"""Monthly indicators: a snapshot per month (taken once, kept as it was, never recomputed), trends over the
months per unit, trust and region, the month's change for the leaders' digest, and exports.

A snapshot row counts the employees of one unit (their own unit, not the subtree), one job role ("*": every
employee once) and one competence ("*": the plan as a whole). Every number is a count, so a trust or the region
is the sum of its units' rows; shares are computed when read."""
from collections import defaultdict
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, insert, select

from lrs.capacity import targets as targets_
from lrs.capacity.tables import indicator_snapshots, snapshot_months
from lrs.competence import aggregates
from lrs.store.types import utcnow

COUNTS = ("employees", "all_met", "required", "holders", "overdue", "expiring", "targets", "targets_met")


def month_key(day: date) -> str:
    return day.strftime("%Y-%m")


def last_day(month: str) -> date:
    year, mon = map(int, month.split("-"))
    return date(year, mon, 1) + relativedelta(months=1) - timedelta(days=1)


def previous_month(today: date) -> str:
    return month_key(today.replace(day=1) - timedelta(days=1))


def taken_months(conn) -> list[str]:
    return list(conn.execute(select(snapshot_months.c.month).order_by(snapshot_months.c.month)).scalars())


def take(conn, month: str, today: date, zone, how: str = "job", org=None) -> bool:
    """Take the snapshot of `month` (the state at the end of its last day, from the status history; a month not
    yet over is refused). False when it was already taken: a snapshot is never taken again. The caller's
    transaction holds the claim (snapshot_months) and the rows together."""
    from lrs.capacity.forecast import Org

    day = last_day(month)
    if day >= today:
        raise ValueError(f"{month} is not over yet: a month's snapshot is taken after its last day")
    if conn.execute(select(snapshot_months.c.month).where(snapshot_months.c.month == month)).first():
        return False
    conn.execute(insert(snapshot_months).values(month=month, day=day, how=how, taken=utcnow()))
    rows = {(r["unit_id"], r["role_code"], r["competence_code"]): {**r, "targets": 0, "targets_met": 0}
            for r in aggregates.indicator_counts(conn, day, today, zone)}
    org = org or Org(conn)
    # Target coverage: holders in the target unit's subtree (with the role, when given), against its headcount.
    holders = defaultdict(int)
    for (unit_id, role, code), r in rows.items():
        if code != "*":
            holders[(unit_id, role, code)] += r["holders"]
    for t in targets_.in_force(conn):
        role = t["role_code"] or "*"
        held = sum(holders.get((u, role, t["competence_code"]), 0) for u in org.subtree(t["unit_id"]))
        key = (t["unit_id"], "*", t["competence_code"])  # counted under every role, whichever the target's
        row = rows.setdefault(key, {"unit_id": key[0], "role_code": key[1], "competence_code": key[2],
                                    **{c: 0 for c in COUNTS}})
        row["targets"] += 1
        row["targets_met"] += held >= t["required"]
    tree = {}  # each row added to the unit and every unit above it
    for (unit_id, role, code), r in rows.items():
        for above in org.chain(unit_id) if unit_id in org.units else ():
            key = (above["id"], role, code)
            sums = tree.setdefault(key, {"unit_id": key[0], "role_code": role, "competence_code": code,
                                         **{c: 0 for c in COUNTS}})
            for c in COUNTS:
                sums[c] += r[c]
    out = [{"month": month, "scope": "unit", **r} for r in rows.values()]
    out += [{"month": month, "scope": "tree", **r} for r in tree.values()]
    for i in range(0, len(out), 5000):
        conn.execute(insert(indicator_snapshots), out[i:i + 5000])
    return True


def backfill_months(first: str, last: str) -> list[str]:
    out, day = [], date(*map(int, first.split("-")), 1)
    end = date(*map(int, last.split("-")), 1)
    while day <= end:
        out.append(month_key(day))
        day += relativedelta(months=1)
    return out


def _sum_query(conn, unit_ids, role: str, competence: str | None, months=None, by_unit=False):
    """Sums of the "tree" rows of these units (each already its subtree's sum; None: the top units, the region)."""
    cols = [indicator_snapshots.c.month, indicator_snapshots.c.competence_code]
    if by_unit:
        cols.append(indicator_snapshots.c.unit_id)
    query = select(*cols, *(func.sum(indicator_snapshots.c[c]).label(c) for c in COUNTS)).where(
        indicator_snapshots.c.role_code == role, indicator_snapshots.c.scope == "tree")
    if competence is not None:
        query = query.where(indicator_snapshots.c.competence_code.in_(("*", competence)))
    if unit_ids is None:
        unit_ids = [u["id"] for u in aggregates.org_units(conn) if u["parent_id"] is None]
    query = query.where(indicator_snapshots.c.unit_id.in_(list(unit_ids)))
    if months is not None:
        query = query.where(indicator_snapshots.c.month.in_(list(months)))
    return conn.execute(query.group_by(*cols)).all()


def _shares(c: dict) -> dict:
    def share(a, b):
        return round(a / b, 4) if b else None
    return {**c, "all_met_share": share(c["all_met"], c["employees"]), "coverage": share(c["holders"], c["required"]),
            "target_coverage": share(c["targets_met"], c["targets"])}


def _blank():
    return {c: 0 for c in COUNTS}


def trend(conn, unit_ids: list[str] | None, role: str = "*", competence: str | None = None, months: int = 36) -> list[dict]:
    """Per month taken (the last `months`), the sums over the subtrees of these units (None: the region, the top
    units) for the plan as a whole (employees, all_met) with the targets and, per competence, coverage, overdue and
    expiring."""
    wanted = taken_months(conn)[-months:]
    per = {m: {"month": m, "total": _blank(), "competences": {}} for m in wanted}
    for r in _sum_query(conn, unit_ids, role, competence, wanted):
        values = {c: int(getattr(r, c) or 0) for c in COUNTS}
        entry = per[r.month]
        if r.competence_code == "*":
            for c in ("employees", "all_met"):
                entry["total"][c] += values[c]
        else:
            entry["competences"][r.competence_code] = _shares(values)
            for c in ("required", "holders", "overdue", "expiring", "targets", "targets_met"):
                entry["total"][c] += values[c]
    out = []
    for m in wanted:
        entry = per[m]
        entry["total"] = _shares(entry["total"])
        out.append(entry)
    return out


def children(conn, org, unit_id: str | None, role: str = "*", month: str | None = None) -> list[dict]:
    """The month's totals (default: the newest taken) for each child of the unit (None: each top unit), each
    summed over its subtree: the drill-down."""
    month = month or (taken_months(conn) or [None])[-1]
    kids = org.children[unit_id]
    if month is None or not kids:
        return []
    per_unit = defaultdict(_blank)
    for r in _sum_query(conn, kids, role, None, [month], by_unit=True):
        row = per_unit[r.unit_id]
        for c in COUNTS:
            if r.competence_code == "*" and c in ("required", "holders", "overdue", "expiring"):
                continue
            if r.competence_code != "*" and c in ("employees", "all_met"):
                continue
            row[c] += int(getattr(r, c) or 0)
    out = []
    for k in kids:
        total = per_unit[k]
        unit = org.units[k]
        out.append({"unit": {"id": k, "name": unit["name"], "kind": unit["kind"]}, "month": month, **_shares(total)})
    return out


def rows_for_export(conn, unit_ids, months: int = 36) -> list[dict]:
    """Every snapshot row of these units' own employees (scope "unit"; None: all units) for the newest `months`
    months, for the region's reporting."""
    wanted = taken_months(conn)[-months:]
    query = select(indicator_snapshots).where(indicator_snapshots.c.month.in_(wanted),
                                              indicator_snapshots.c.scope == "unit")
    if unit_ids is not None:
        query = query.where(indicator_snapshots.c.unit_id.in_(list(unit_ids)))
    query = query.order_by(indicator_snapshots.c.month, indicator_snapshots.c.unit_id,
                           indicator_snapshots.c.role_code, indicator_snapshots.c.competence_code)
    return [dict(r._mapping) for r in conn.execute(query)]


def month_change(conn, unit_ids) -> dict | None:
    """The newest month against the one before: what the leader's digest tells."""
    months = taken_months(conn)[-2:]
    if not months:
        return None
    series = {e["month"]: e["total"] for e in trend(conn, unit_ids, months=2)}
    now = series[months[-1]]
    before = series[months[0]] if len(months) == 2 else None

    def delta(key):
        if before is None or now[key] is None or before[key] is None:
            return None
        return round((now[key] - before[key]) * 100, 1)
    return {"month": months[-1], "previous": months[0] if before else None, "now": now,
            "change": {k: delta(k) for k in ("all_met_share", "coverage", "target_coverage")}}


def digest_section(conn, unit_id: str, subtree) -> str:
    """The month's change, as lines for the weekly leader digest (registry.digest_sections)."""
    change = month_change(conn, [unit_id])
    if change is None:
        return ""
    now = change["now"]

    def pct(v):
        return "–" if v is None else f"{v * 100:.0f} %"

    def pp(v):
        return "" if v is None else f" ({v:+.1f} pp)"
    return (f"\nIndikatorer {change['month']} / indicators:\n"
            f"  alle obligatoriske krav oppfylt / all mandatory met: {pct(now['all_met_share'])}"
            f"{pp(change['change']['all_met_share'])}\n"
            f"  dekning / coverage: {pct(now['coverage'])}{pp(change['change']['coverage'])}\n"
            f"  bemanningskrav oppfylt / staffing targets met: {now['targets_met']} av/of {now['targets']}"
            f"{pp(change['change']['target_coverage'])}\n"
            f"  forfalt / overdue: {now['overdue']}, går snart ut / expiring: {now['expiring']}\n")
