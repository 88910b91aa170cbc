"""Imports from files a hospital has: the catalog (YAML or CSV) and the HR export (CSV).

Every import is idempotent: run it again with the same file and nothing changes; the report says what did.
Each import runs in the caller's transaction (one write transaction), and the plans it affects are recomputed in
it."""
import csv
import io
from dataclasses import dataclass, field
from datetime import date

import orjson
import yaml
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import bindparam, delete, insert, select, update

from lrs.competence import changes, service
from lrs.competence import engine as eng
from lrs.competence.rules import load_rule
from lrs.competence.tables import (competences, employee_agents, employee_roles, employees, job_roles,
                                   requirements, rules, units)
from lrs.model.agents import ifi
from lrs.store.types import utcnow


EVERY_ROLE = "*"  # a requirement's role: it applies to every employee with a job role, whichever


class ImportProblem(ValueError):
    """The file is wrong; the message says where and how (nothing was written)."""


@dataclass
class Report:
    created: dict = field(default_factory=dict)
    updated: dict = field(default_factory=dict)
    removed: dict = field(default_factory=dict)
    recomputed: int = 0

    def count(self, what: str, kind: str, n: int = 1):
        bucket = getattr(self, what)
        bucket[kind] = bucket.get(kind, 0) + n

    def lines(self) -> list[str]:
        out = []
        for what in ("created", "updated", "removed"):
            for kind, n in sorted(getattr(self, what).items()):
                out.append(f"{what}: {n} {kind}")
        out.append(f"plans recomputed: {self.recomputed}")
        return out if len(out) > 1 else ["no changes"] + out


def _schema_error(where: str, err: ValidationError) -> ImportProblem:
    return ImportProblem(f"{where}: {err.normalized_messages()}")


class _Role(Schema):
    code = fields.String(required=True, validate=[validate.Length(min=1, max=64),
                                                  validate.NoneOf([EVERY_ROLE], error="* means every role")])
    nb = fields.String(required=True)
    en = fields.String(required=True)


class _Competence(Schema):
    class Meta:
        unknown = EXCLUDE
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    nb = fields.String(required=True, data_key="name_nb")
    en = fields.String(required=True, data_key="name_en")
    area = fields.String(required=True)
    validity_months = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    renewal_days = fields.Integer(load_default=60, validate=validate.Range(min=0))
    start_url = fields.Url(load_default=None, allow_none=True)


class _Requirement(Schema):
    class Meta:
        unknown = EXCLUDE
    role = fields.String(required=True)
    unit = fields.String(load_default=None, allow_none=True)
    competence = fields.String(required=True)
    mandatory = fields.Boolean(load_default=True)
    new_employee_days = fields.Integer(load_default=30, validate=validate.Range(min=0))
    in_force_from = fields.Date(load_default=None, allow_none=True)


class _Catalog(Schema):
    job_roles = fields.List(fields.Nested(_Role), load_default=None)
    competences = fields.List(fields.Nested(_Competence), load_default=None)
    requirements = fields.List(fields.Nested(_Requirement), load_default=None)
    rules = fields.List(fields.Dict(), load_default=None)


def _blank_to_none(row: dict) -> dict:
    return {k.strip(): (v.strip() if v and v.strip() else None) for k, v in row.items() if k}


def read_catalog(name: str, text: str) -> dict:
    """A catalog file as data: YAML (all sections), or CSV of one section told by its header."""
    if name.endswith((".yaml", ".yml")):
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            raise ImportProblem(f"{name}: not valid YAML: {e}")
        if not isinstance(raw, dict):
            raise ImportProblem(f"{name}: expected sections job_roles, competences, requirements, rules")
    elif name.endswith(".csv"):
        rows = [_blank_to_none(r) for r in csv.DictReader(io.StringIO(text))]
        header = set(rows[0]) if rows else set()
        if {"code", "name_nb", "name_en", "area"} <= header:
            raw = {"competences": rows}
        elif {"role", "competence"} <= header:
            raw = {"requirements": rows}
        elif {"code", "nb", "en"} <= header:
            raw = {"job_roles": rows}
        else:
            raise ImportProblem(f"{name}: unknown CSV columns {sorted(header)}; see docs/competence.md")
    else:
        raise ImportProblem(f"{name}: catalog files are .yaml, .yml or .csv")
    try:
        catalog = _Catalog().load(raw)
    except ValidationError as e:
        raise _schema_error(name, e)
    loaded_rules = []
    for i, rule in enumerate(catalog["rules"] or []):
        try:
            loaded_rules.append(load_rule(rule))
        except ValidationError as e:
            raise _schema_error(f"{name}: rules[{i}] ({rule.get('id', '?')})", e)
    catalog["rules"] = loaded_rules if catalog["rules"] is not None else None
    return catalog


def import_catalog(conn, settings, name: str, text: str, progress=None) -> Report:
    catalog = read_catalog(name, text)
    report = Report()
    now = utcnow()
    changed_rules = set()
    if catalog["job_roles"] is not None:
        _upsert(conn, job_roles, "code", [{"code": r["code"], "name_nb": r["nb"], "name_en": r["en"]}
                                          for r in catalog["job_roles"]], report, "job roles")
    if catalog["competences"] is not None:
        _upsert(conn, competences, "code", [
            {"code": c["code"], "name_nb": c["nb"], "name_en": c["en"], "area": c["area"],
             "validity_months": c["validity_months"], "renewal_days": c["renewal_days"],
             "start_url": c["start_url"]} for c in catalog["competences"]], report, "competences")
    known_competences = set(conn.execute(select(competences.c.code)).scalars())
    if catalog["requirements"] is not None:
        _replace_requirements(conn, catalog["requirements"], known_competences, report)
    if catalog["rules"] is not None:
        for rule in catalog["rules"]:
            if rule["competence"] not in known_competences:
                raise ImportProblem(f"{name}: rule {rule['id']}: unknown competence {rule['competence']}")
            if _save_rule(conn, rule, now):
                changed_rules.add(rule["id"])
                report.count("updated", "rules")
    if changed_rules:
        eng.rescan(conn, settings, rule_ids=changed_rules)
    if report.created or report.updated or report.removed:
        report.recomputed = _recompute_everyone(conn, settings, now, progress)
    return report


def save_rule(conn, settings, raw: dict, dry_run: bool = False):
    """Add or change one rule (a new version); its facts and the plans it touches are recomputed. Returns the status
    changes it makes (dry_run: what it would make, and nothing is kept), or None when the rule is unchanged."""
    if dry_run:
        # The preview runs the very code that saves, in a savepoint it then rolls back: the caller's transaction
        # keeps nothing of it (and stays usable), and no second transaction is opened.
        with conn.begin_nested() as preview:
            made = save_rule(conn, settings, raw)
            preview.rollback()
        return made
    rule = load_rule(raw)
    now = utcnow()
    if conn.execute(select(competences.c.code).where(competences.c.code == rule["competence"])).first() is None:
        raise ImportProblem(f"rule {rule['id']}: unknown competence {rule['competence']}")
    if not _save_rule(conn, rule, now):
        return None
    made: list[changes.StatusChange] = []  # this call's own changes only (never another thread's)
    dirty = eng.rescan(conn, settings, rule_ids={rule["id"]})
    holders = conn.execute(select(employees.c.id)).scalars().all()  # a rule can affect anyone's plan
    eng.recompute(conn, dirty | set(holders), settings, now, collect=made.extend)
    return made


def change_rule(conn, settings, raw: dict, dry_run: bool = False) -> list[dict] | None:
    """save_rule, with its status changes as a person reads them (who, which requirement, from what to what): what
    the admin page's preview and the rules API show. None: the rule is unchanged."""
    made = save_rule(conn, settings, raw, dry_run)
    return None if made is None else service.changes_shown(conn, made)


def _save_rule(conn, rule: dict, now) -> bool:
    definition = {k: v for k, v in rule.items() if k != "active"}
    newest = conn.execute(select(rules).where(rules.c.rule_id == rule["id"])
                          .order_by(rules.c.version.desc()).limit(1)).first()
    text = orjson.dumps(definition, option=orjson.OPT_SORT_KEYS).decode()
    if newest and newest.definition == text and newest.active == rule["active"] \
            and newest.competence_code == rule["competence"]:
        return False
    conn.execute(insert(rules).values(rule_id=rule["id"], version=(newest.version + 1) if newest else 1,
                                      competence_code=rule["competence"], definition=text,
                                      active=rule["active"], created=now))
    return True


def _replace_requirements(conn, wanted, known_competences, report):
    roles = set(conn.execute(select(job_roles.c.code)).scalars())
    unit_ids = set(conn.execute(select(units.c.id)).scalars())
    by_key = {}
    for i, req in enumerate(wanted):
        role = None if req["role"] == EVERY_ROLE else req["role"]  # stored as NULL: every role, also later ones
        for what, value, known in (("role", role, roles | {None}), ("competence", req["competence"],
                                                                   known_competences)):
            if value not in known:
                raise ImportProblem(f"requirements[{i}]: unknown {what} {value}")
        if req["unit"] is not None and req["unit"] not in unit_ids:
            raise ImportProblem(f"requirements[{i}]: unknown unit {req['unit']}")
        by_key[(role, req["unit"], req["competence"])] = req
    existing = {(r.role_code, r.unit_id, r.competence_code): r for r in conn.execute(select(requirements))}
    for key, req in by_key.items():
        values = {"mandatory": req["mandatory"], "new_employee_days": req["new_employee_days"],
                  "in_force_from": req["in_force_from"]}
        old = existing.get(key)
        if old is None:
            conn.execute(insert(requirements).values(role_code=key[0], unit_id=key[1], competence_code=key[2],
                                                     **values))
            report.count("created", "requirements")
        elif (old.mandatory, old.new_employee_days, old.in_force_from) != tuple(values.values()):
            conn.execute(update(requirements).where(requirements.c.id == old.id).values(**values))
            report.count("updated", "requirements")
    for key, old in existing.items():
        if key not in by_key:
            conn.execute(delete(requirements).where(requirements.c.id == old.id))
            report.count("removed", "requirements")


def _upsert(conn, table, key: str, rows: list[dict], report: Report, kind: str) -> set:
    """Insert or update rows by their key; returns the keys created or changed."""
    existing = {r[key]: dict(r) for r in conn.execute(select(table)).mappings()}
    fresh, changed = [], []
    for row in rows:
        old = existing.get(row[key])
        if old is None:
            fresh.append(row)
        elif any(old[k] != v for k, v in row.items()):
            changed.append(row)
    if fresh:  # one executemany each (an HR export has tens of thousands of rows)
        conn.execute(insert(table), fresh)
        report.count("created", kind, len(fresh))
    if changed:
        conn.execute(update(table).where(table.c[key] == bindparam("key_")),
                     [{**row, "key_": row[key]} for row in changed])
        report.count("updated", kind, len(changed))
    return {row[key] for row in fresh + changed}


def _recompute_everyone(conn, settings, now, progress=None) -> int:
    ids = conn.execute(select(employees.c.id).order_by(employees.c.id)).scalars().all()
    catalog = eng.Catalog(conn, settings)
    for i in range(0, len(ids), 1000):
        eng.recompute(conn, ids[i:i + 1000], settings, now, catalog)
        if progress:
            progress(min(i + 1000, len(ids)), len(ids))
    return len(ids)


# ------------------------------------------------------------------------------------------------- HR export

class _UnitRow(Schema):
    class Meta:
        unknown = EXCLUDE
    unit_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    parent_id = fields.String(load_default=None, allow_none=True)
    name = fields.String(required=True)
    kind = fields.String(load_default="section")
    leader_id = fields.String(load_default=None, allow_none=True)


LEAVING_REASONS = ("retirement", "resignation", "end_of_contract", "other")


class _EmployeeRow(Schema):
    class Meta:
        unknown = EXCLUDE
    employee_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True)
    email = fields.Email(load_default=None, allow_none=True)
    unit_id = fields.String(required=True)
    roles = fields.String(required=True)  # role codes separated by ";"
    started_on = fields.Date(required=True)
    left_on = fields.Date(load_default=None, allow_none=True)
    # Known leavers and retirements (optional columns): the day they will be gone, and why.
    planned_leaving_on = fields.Date(load_default=None, allow_none=True)
    leaving_reason = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(LEAVING_REASONS))


def import_hr(conn, settings, name: str, text: str, full: bool = False, today: date | None = None,
              progress=None) -> Report:
    """Units (columns unit_id, parent_id, name, kind) or employees (employee_id, name, email, unit_id, roles,
    started_on, left_on; optionally planned_leaving_on and leaving_reason, kept as they are when the file has no such
    column) from an HR export. `full`: the file lists every current employee, so anyone missing from it has left
    (left_on = today)."""
    rows = [_blank_to_none(r) for r in csv.DictReader(io.StringIO(text))]
    header = set(rows[0]) if rows else set()
    now = utcnow()
    today = today or settings.day(now)
    report = Report()
    if {"unit_id", "name"} <= header and "employee_id" not in header:
        _import_units(conn, name, rows, report)
        touched = set(conn.execute(select(employees.c.id)).scalars()) if report.updated.get("units") else set()
    elif {"employee_id", "unit_id", "roles"} <= header:
        touched = _import_employees(conn, settings, name, rows, full, today, report)
    else:
        raise ImportProblem(f"{name}: unknown CSV columns {sorted(header)}; see docs/competence.md")
    ids = sorted(touched)
    catalog = eng.Catalog(conn, settings)
    for i in range(0, len(ids), 1000):
        eng.recompute(conn, ids[i:i + 1000], settings, now, catalog)
        if progress:
            progress(min(i + 1000, len(ids)), len(ids))
    report.recomputed = len(ids)
    return report


def _import_units(conn, name, rows, report):
    loaded = {}
    for line, row in enumerate(rows, start=2):
        try:
            unit = _UnitRow().load(row)
        except ValidationError as e:
            raise _schema_error(f"{name}:{line}", e)
        loaded[unit["unit_id"]] = unit
    existing = dict(conn.execute(select(units.c.id, units.c.parent_id)).all())
    parents = {**existing, **{u: v["parent_id"] for u, v in loaded.items()}}

    def path_of(unit_id, seen=()):
        if unit_id in seen:
            raise ImportProblem(f"{name}: units form a cycle through {unit_id}")
        parent = parents.get(unit_id)
        if parent is not None and parent not in parents:
            raise ImportProblem(f"{name}: unit {unit_id} has unknown parent {parent}")
        return (path_of(parent, (*seen, unit_id)) if parent else "/") + unit_id + "/"

    # Parents first, so the foreign key holds within the one transaction.
    ordered = sorted(loaded.values(), key=lambda u: path_of(u["unit_id"]).count("/"))
    changed = _upsert(conn, units, "id", [{"id": u["unit_id"], "parent_id": u["parent_id"], "name": u["name"],
                                           "kind": u["kind"], "path": path_of(u["unit_id"]),
                                           "leader_id": u["leader_id"]} for u in ordered],
                      report, "units")
    # A moved unit moves its subtree: every path below it changes too.
    if changed:
        for unit_id in sorted(existing):
            conn.execute(update(units).where(units.c.id == unit_id).values(path=path_of(unit_id)))


def _import_employees(conn, settings, name, rows, full, today, report) -> set[str]:
    unit_ids = set(conn.execute(select(units.c.id)).scalars())
    role_codes = set(conn.execute(select(job_roles.c.code)).scalars())
    people, their_roles = [], {}
    for line, row in enumerate(rows, start=2):
        try:
            person = _EmployeeRow().load(row)
        except ValidationError as e:
            raise _schema_error(f"{name}:{line}", e)
        if person["unit_id"] not in unit_ids:
            raise ImportProblem(f"{name}:{line}: unknown unit {person['unit_id']} (import units first)")
        roles_ = {r.strip() for r in person["roles"].split(";") if r.strip()}
        unknown = roles_ - role_codes
        if unknown:
            raise ImportProblem(f"{name}:{line}: unknown job role(s) {', '.join(sorted(unknown))}")
        people.append({"id": person["employee_id"], "name": person["name"], "email": person["email"],
                       "unit_id": person["unit_id"], "started_on": person["started_on"],
                       "left_on": person["left_on"],
                       **{k: person[k] for k in ("planned_leaving_on", "leaving_reason") if k in row}})
        their_roles[person["employee_id"]] = roles_
    touched = _upsert(conn, employees, "id", people, report, "employees")
    if full:
        gone = set(conn.execute(select(employees.c.id).where(employees.c.left_on.is_(None))).scalars()) \
            - their_roles.keys()
        for employee_id in gone:
            conn.execute(update(employees).where(employees.c.id == employee_id).values(left_on=today))
        if gone:
            report.count("updated", "employees who left", len(gone))
        touched |= gone
    existing_roles = defaultdict_set(conn.execute(select(employee_roles.c.employee_id, employee_roles.c.role_code)))
    reassigned = [e for e, wanted in their_roles.items() if existing_roles.get(e, set()) != wanted]
    for i in range(0, len(reassigned), 500):
        conn.execute(delete(employee_roles).where(employee_roles.c.employee_id.in_(reassigned[i:i + 500])))
    if reassigned:
        conn.execute(insert(employee_roles), [{"employee_id": e, "role_code": r}
                                              for e in reassigned for r in sorted(their_roles[e])])
        changed = sum(1 for e in reassigned if e in existing_roles)
        if changed:
            report.count("updated", "role assignments", changed)
        touched.update(reassigned)
    new_ifis = _link_agents(conn, settings, people)
    if new_ifis:
        touched |= eng.rescan(conn, settings, agent_ifis=new_ifis)
    return touched


def defaultdict_set(pairs) -> dict[str, set]:
    out: dict[str, set] = {}
    for key, value in pairs:
        out.setdefault(key, set()).add(value)
    return out


def agents_of(person: dict, identity_homepage: str) -> list[str]:
    """The IFIs that are this employee: the identity-provider account, and the work e-mail."""
    found = [ifi({"account": {"homePage": identity_homepage, "name": person["id"]}})]
    if person.get("email"):
        found.append(ifi({"mbox": "mailto:" + person["email"]}))
    return found


def _link_agents(conn, settings, people) -> list[str]:
    wanted = {i: p["id"] for p in people for i in agents_of(p, settings.identity_homepage)}
    return link_agents(conn, wanted)


def link_agents(conn, wanted: dict[str, str]) -> list[str]:
    """Link IFIs to employees (ifi -> employee id); returns the IFIs newly linked or moved."""
    existing = {}
    keys = list(wanted)
    for i in range(0, len(keys), 500):
        existing.update(conn.execute(select(employee_agents.c.ifi, employee_agents.c.employee_id)
                                     .where(employee_agents.c.ifi.in_(keys[i:i + 500]))).all())
    fresh = [{"ifi": k, "employee_id": v} for k, v in wanted.items() if k not in existing]
    moved = [k for k, v in wanted.items() if k in existing and existing[k] != v]
    if fresh:
        conn.execute(insert(employee_agents), fresh)
    for key in moved:
        conn.execute(update(employee_agents).where(employee_agents.c.ifi == key).values(employee_id=wanted[key]))
    return [r["ifi"] for r in fresh] + moved
