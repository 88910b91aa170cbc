"""Staffing targets as data: read from YAML or CSV, saved as versions (the newest in force), listed.

    targets:
      - id: icu-intensive
        unit: ICU
        competence: INTENSIV
        minimum: 12
      - id: icu-als-shift
        unit: ICU
        competence: AHLR
        role: SYKEPLEIER      # optional: only people with this job role count
        per: shift            # unit (default) | shift | team
        minimum: 2            # per shift ...
        groups: 5             # ... with 5 shifts in the rota: 10 people
        active: false         # withdraws the target (a new version)

CSV: the same fields as columns (id, unit, competence, role, per, minimum, groups, note, active)."""
import csv
import io

import yaml
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import func, insert, select

from lrs.capacity.tables import staffing_targets
from lrs.competence import aggregates
from lrs.store.types import utcnow

PER = ("unit", "shift", "team")


class TargetProblem(ValueError):
    """The targets are wrong; the message says where and how (nothing was written)."""


class TargetSchema(Schema):
    class Meta:
        unknown = EXCLUDE
    id = fields.String(required=True, validate=[validate.Length(min=1, max=64),
                                                validate.Regexp(r"^[A-Za-z0-9_.:-]+$",
                                                                error="letters, digits and _ . : - only")])
    unit = fields.String(required=True, validate=validate.Length(min=1, max=64))
    competence = fields.String(required=True, validate=validate.Length(min=1, max=64))
    role = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    per = fields.String(load_default="unit", validate=validate.OneOf(PER))
    minimum = fields.Integer(required=True, validate=validate.Range(min=1, max=100000))
    groups = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    active = fields.Boolean(load_default=True)

    @validates_schema
    def _groups_need_shifts(self, data, **_kw):
        if data.get("per", "unit") == "unit" and data.get("groups", 1) != 1:
            raise ValidationError("groups is for targets per shift or team", "groups")


def _blank_to_none(row: dict) -> dict:
    return {k.strip(): (v.strip() if v and v.strip() else None) for k, v in row.items() if k}


def read(name: str, text: str) -> list[dict]:
    """Targets from a .yaml/.yml file (a list under `targets`) or a .csv file."""
    if name.endswith((".yaml", ".yml")):
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            raise TargetProblem(f"{name}: not valid YAML: {e}")
        rows = raw.get("targets") if isinstance(raw, dict) else None
        if not isinstance(rows, list):
            raise TargetProblem(f"{name}: expected a list under `targets:` (see docs/capacity.md)")
    elif name.endswith(".csv"):
        rows = [{k: v for k, v in _blank_to_none(r).items() if v is not None}
                for r in csv.DictReader(io.StringIO(text))]
    else:
        raise TargetProblem(f"{name}: targets files are .yaml, .yml or .csv")
    out, seen = [], set()
    for i, row in enumerate(rows):
        where = f"{name}: target {i + 1}" + (f" ({row.get('id')})" if isinstance(row, dict) and row.get("id") else "")
        if not isinstance(row, dict):
            raise TargetProblem(f"{where}: expected fields id, unit, competence, minimum")
        try:
            target = TargetSchema().load(row)
        except ValidationError as e:
            raise TargetProblem(f"{where}: {e.normalized_messages()}")
        if target["id"] in seen:
            raise TargetProblem(f"{where}: the id {target['id']} comes twice")
        seen.add(target["id"])
        out.append(target)
    return out


def check(conn, wanted: list[dict]) -> None:
    """Every unit, competence and role a target names must exist."""
    unit_ids = {u["id"] for u in aggregates.org_units(conn)}
    known = aggregates.known_competences(conn)
    roles = set(aggregates.job_role_codes(conn))  # employee_roles.role_code is a key of job_roles
    for t in wanted:
        if t["unit"] not in unit_ids:
            raise TargetProblem(f"target {t['id']}: unknown unit {t['unit']}")
        if t["competence"] not in known:
            raise TargetProblem(f"target {t['id']}: unknown competence {t['competence']}")
        if t["role"] and t["role"] not in roles:
            raise TargetProblem(f"target {t['id']}: unknown job role {t['role']}")


def _row(t: dict) -> dict:
    return {"unit_id": t["unit"], "competence_code": t["competence"], "role_code": t["role"], "per": t["per"],
            "minimum": t["minimum"], "groups": t["groups"], "note": t["note"], "active": t["active"]}


def save(conn, wanted: list[dict], user_id: str | None = None, allowed_units=None) -> dict:
    """Save targets: a new version of each that changed. `allowed_units`: the units this person may set targets
    for (None: any). Returns counts {"created", "changed", "unchanged"}."""
    check(conn, wanted)
    newest = {r["target_id"]: r for r in newest_versions(conn)}
    counts = {"created": 0, "changed": 0, "unchanged": 0}
    now = utcnow()
    for t in wanted:
        old = newest.get(t["id"])
        for unit in {t["unit"], *([old["unit_id"]] if old else [])}:
            if allowed_units is not None and unit not in allowed_units:
                raise TargetProblem(f"target {t['id']}: you may not set targets for unit {unit}")
        row = _row(t)
        if old and all(old[k] == v for k, v in row.items()):
            counts["unchanged"] += 1
            continue
        conn.execute(insert(staffing_targets).values(target_id=t["id"], version=(old["version"] + 1) if old else 1,
                                                     created=now, created_by=user_id, **row))
        counts["changed" if old else "created"] += 1
    return counts


def newest_versions(conn) -> list[dict]:
    newest = (select(staffing_targets.c.target_id, func.max(staffing_targets.c.version).label("version"))
              .group_by(staffing_targets.c.target_id).subquery())
    query = (select(staffing_targets).join(newest, (newest.c.target_id == staffing_targets.c.target_id)
                                           & (newest.c.version == staffing_targets.c.version))
             .order_by(staffing_targets.c.unit_id, staffing_targets.c.target_id))
    return [dict(r._mapping) for r in conn.execute(query)]


def in_force(conn, unit_ids=None) -> list[dict]:
    """The targets in force (newest version, active), in these units (None: all), with `required` (the headcount:
    minimum x groups)."""
    out = []
    for r in newest_versions(conn):
        if r["active"] and (unit_ids is None or r["unit_id"] in unit_ids):
            out.append({**r, "required": r["minimum"] * r["groups"]})
    return out


def history(conn, target_id: str) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(
        select(staffing_targets).where(staffing_targets.c.target_id == target_id)
        .order_by(staffing_targets.c.version.desc()))]


def as_yaml(rows: list[dict]) -> str:
    """The targets in force as the YAML the import reads (a round trip)."""
    out = [{k: v for k, v in {"id": r["target_id"], "unit": r["unit_id"], "competence": r["competence_code"],
                              "role": r["role_code"], "per": r["per"], "minimum": r["minimum"],
                              "groups": r["groups"], "note": r["note"]}.items() if v is not None}
           for r in rows]
    return yaml.safe_dump({"targets": out}, sort_keys=False, allow_unicode=True)
