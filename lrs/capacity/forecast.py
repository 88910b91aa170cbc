"""The capacity forecast: for each staffing target, holders now and at the end of each of the next 36 months,
counting expiries (nobody renews), known leavers and retirements, new employees who meet their deadlines and
evidence awaiting attestation; whether and when it falls short, and what closes the gap. docs/capacity.md has
the formulas.

The holders of a competence are read once per competence as an SQL aggregate (lrs.competence.aggregates
.holder_buckets: counts by unit, expiry month, leaving month), and each target's month series is a running sum
over the buckets of its units: no per-person, per-month work in Python."""
from bisect import bisect_left
from collections import defaultdict
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from lrs.capacity import targets as targets_
from lrs.competence import aggregates
from lrs.competence.aggregates import month_of

HORIZONS = (3, 12, 36)
MONTHS = 36


def month_ends(today: date, months: int = MONTHS) -> list[date]:
    """The last day of each of the next `months` months (not the current one)."""
    first = today.replace(day=1)
    return [first + relativedelta(months=i + 1) - timedelta(days=1) for i in range(1, months + 1)]


class Org:
    """The unit tree, with each unit's subtree as a set (from the materialised paths)."""

    def __init__(self, conn):
        self.units = {u["id"]: u for u in aggregates.org_units(conn)}
        self.children = defaultdict(list)
        for u in self.units.values():
            self.children[u["parent_id"]].append(u["id"])
        self._subtrees = {}

    def subtree(self, unit_id: str) -> set[str]:
        if unit_id not in self._subtrees:
            path = self.units[unit_id]["path"]
            self._subtrees[unit_id] = {u for u, v in self.units.items() if v["path"].startswith(path)}
        return self._subtrees[unit_id]

    def chain(self, unit_id: str) -> list[dict]:
        """The unit and its ancestors, root first (for breadcrumbs)."""
        ids = [i for i in self.units[unit_id]["path"].strip("/").split("/") if i in self.units]
        return [self.units[i] for i in ids]


def level_of(now: int, required: int, first_short: int | None) -> str:
    """short: too few holders today; critical: falls short within 3 months; warning: within 12; watch: within
    36; ok: holds for 36 months even if nobody renews."""
    if now < required:
        return "short"
    if first_short is None:
        return "ok"
    if first_short < 3:
        return "critical"
    return "warning" if first_short < 12 else "watch"


def _series(buckets, months: list[str]) -> tuple[list[int], list[int], list[int]]:
    """Per month end: expected holders; present holders and expected holders if all renewed; holders whose
    validity has run out by then while still employed (those who must renew)."""
    n = len(months)
    expected, present, lapsed = [0] * (n + 1), [0] * (n + 1), [0] * (n + 1)

    def add(arr, start, stop, k):
        if start < stop:
            arr[start] += k
            arr[stop] -= k

    for b in buckets:
        gone = bisect_left(months, b.leave_month)  # month indexes < gone: still employed
        if b.kind == "held":
            valid = bisect_left(months, b.valid_month)  # indexes < valid: still valid
            add(expected, 0, min(valid, gone), b.n)
            add(present, 0, gone, b.n)
            add(lapsed, valid, gone, b.n)
        else:
            add(expected, bisect_left(months, b.from_month), gone, b.n)
            add(present, 0, gone, b.n)

    def running(arr):
        out, total = [], 0
        for k in arr[:n]:
            total += k
            out.append(total)
        return out
    return running(expected), running(present), running(lapsed)


def forecast(conn, unit_id: str | None, today: date, months: int = MONTHS, detail: bool = False,
             org: Org | None = None, only: str | None = None) -> dict:
    """Every target in force in the unit's subtree (None: the region), with its series and gap. `only`: just the
    target with this id (its own page: the others' holders and renewers are not read)."""
    org = org or Org(conn)
    scope = org.subtree(unit_id) if unit_id else None
    wanted = [t for t in targets_.in_force(conn, scope) if only is None or t["target_id"] == only]
    ends = month_ends(today, months)
    keys = [month_of(e) for e in ends]
    names = aggregates.competence_names(conn)
    by_competence = defaultdict(list)
    for t in wanted:
        by_competence[t["competence_code"]].append(t)
    units_needed = set().union(*(org.subtree(t["unit_id"]) for t in wanted)) if wanted else set()
    per_unit = defaultdict(list)  # (competence, unit) -> buckets
    for b in aggregates.holder_buckets(conn, by_competence, units_needed, today) if wanted else ():
        per_unit[(b.competence_code, b.unit_id)].append(b)
    with_roles = {t["competence_code"] for t in wanted if t["role_code"]}
    per_unit_role = defaultdict(list)  # (competence, unit, role) -> buckets
    if with_roles:
        role_units = set().union(*(org.subtree(t["unit_id"]) for t in wanted if t["role_code"]))
        for b in aggregates.holder_buckets(conn, with_roles, role_units, today, by_role=True):
            per_unit_role[(b.competence_code, b.unit_id, b.role_code)].append(b)
    out = []
    for code, ts in sorted(by_competence.items()):
        for t in ts:
            sub = org.subtree(t["unit_id"])
            if t["role_code"]:
                buckets = [b for u in sub for b in per_unit_role.get((code, u, t["role_code"]), ())]
            else:
                buckets = [b for u in sub for b in per_unit.get((code, u), ())]
            result = _target_result(conn, t, buckets, today, ends, keys, names, sub, detail)
            unit = org.units[t["unit_id"]]
            result["unit"] = {"id": unit["id"], "name": unit["name"], "path": unit["path"]}
            out.append(result)
    out.sort(key=lambda r: (LEVELS.index(r["level"]), r["unit"]["path"], r["target_id"]))
    return {"unit_id": unit_id, "today": today, "months": keys, "horizons": list(HORIZONS), "targets": out,
            "summary": summary(out)}


LEVELS = ("short", "critical", "warning", "watch", "ok")


def _target_result(conn, t, buckets, today, ends, keys, names, sub, detail) -> dict:
    required = t["required"]
    now = sum(b.n for b in buckets if b.kind == "held")
    expected, present, lapsed = _series(buckets, keys)
    coming = sum(b.n for b in buckets if b.kind == "coming")
    short = [max(0, required - e) for e in expected]
    first_short = next((i for i, s in enumerate(short) if s > 0), None)
    untrainable = [max(0, required - p) for p in present]
    first_train = next((i for i, s in enumerate(untrainable) if s > 0), None)
    renewing = [min(s, lp) for s, lp in zip(short, lapsed)]  # short, and could be closed by renewals
    renew = max(renewing, default=0)
    first_renew = next((i for i, r in enumerate(renewing) if r > 0), None)
    result = {
        "target_id": t["target_id"], "version": t["version"], "unit_id": t["unit_id"],
        "competence": names.get(t["competence_code"], {"code": t["competence_code"]}),
        "role_code": t["role_code"], "per": t["per"], "minimum": t["minimum"], "groups": t["groups"],
        "required": required, "now": now, "coming": coming,
        "series": [{"month": k, "end": e, "holders": h, "short_by": s}
                   for k, e, h, s in zip(keys, ends, expected, short)],
        "horizons": {str(h): {"lowest": min(expected[:h]), "at_end": expected[h - 1],
                              "short_from": ends[first_short] if first_short is not None and first_short < h
                              else None} for h in HORIZONS if h <= len(keys)},
        "level": level_of(now, required, first_short),
        "short_from": ends[first_short] if first_short is not None else None,
        "gap": {"renew": renew, "renew_by": ends[first_renew] if first_renew is not None else None,
                "train": max(untrainable, default=0),
                "train_by": ends[first_train] if first_train is not None else None},
    }
    result["critical"] = result["level"] in ("short", "critical")
    if now < required:  # too few today: the shortfall is now, and training is what closes it first
        result["gap"]["train"] = max(result["gap"]["train"], required - now - coming)
        result["gap"]["train_by"] = result["gap"]["train_by"] or today
    if detail and renew and first_short is not None:
        last = max(i for i, s in enumerate(short) if s > 0)
        result["must_renew"] = aggregates.renewers(conn, t["competence_code"], sub, t["role_code"], today,
                                                   ends[last], limit=max(renew, 1))
    return result


def summary(results: list[dict]) -> dict:
    counts = {level: 0 for level in LEVELS}
    for r in results:
        counts[r["level"]] += 1
    return {"targets": len(results), "levels": counts,
            "critical": sum(1 for r in results if r["critical"]),
            "renew": sum(r["gap"]["renew"] for r in results), "train": sum(r["gap"]["train"] for r in results)}


def short_by_month(result: dict) -> list[dict]:
    """For a chart: per month, how many of the targets fall short then."""
    months = result["months"]
    return [{"month": m, "short": sum(1 for t in result["targets"] if t["series"][i]["short_by"] > 0)}
            for i, m in enumerate(months)]
