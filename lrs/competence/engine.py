"""The engine: statements become facts (which rule parts they match, for which employee), facts become each
employee's plan, and every status change is recorded and announced (lrs.competence.changes).

Statements are read after they are stored, in order of `seq`, from a cursor kept in the database, so ingest does
no competence work at all and a crash loses nothing: reading, facts, plans, the changes and the cursor move
commit together."""
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

import orjson
from flask import current_app
from sqlalchemy import bindparam, delete, insert, or_, select, tuple_, update

from lrs import registry
from lrs.competence import changes
from lrs.competence.plan import Item, status_of
from lrs.competence.rules import Matcher, best_achievement, load_rule, parse_timestamp
from lrs.competence.tables import (competences, employee_agents, employee_roles, employees, engine_cursor, facts,
                                   manual_evidence, plan_additions, plan_items, requirements, rules, status_changes,
                                   units)
from lrs.model.agents import ifi
from lrs.store.db import bulk_insert, read_transaction, settled_prefix, write_transaction
from lrs.store.models import iri_match, statement_agent, statements
from lrs.store.types import utcnow

ATTESTATION_RULE = "attestation"  # facts from attested manual evidence (lrs.competence.evidence)
BATCH = 2000  # statements per transaction
FUTURE_TIMESTAMP = "future_timestamp"  # a fact's note: the statement's timestamp was after it was stored


class Settings:
    """What the engine needs from the app: its configuration, and the app itself, whose course-rule providers
    the engine asks and whose status_changed receivers hear the changes (lrs.registry)."""

    def __init__(self, app):
        config = app.config
        self.app = app
        self.zone = ZoneInfo(config["COMPETENCE_TIMEZONE"])
        self.gap_seconds = config["COMPETENCE_GAP_SECONDS"]
        self.identity_homepage = config["IDENTITY_HOMEPAGE"]
        self.clock_skew = timedelta(seconds=config["COMPETENCE_CLOCK_SKEW_SECONDS"])

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


def rules_in_force(conn, settings: Settings | None = None) -> list[dict]:
    """The newest version of every rule, unless that version withdrew it; and the rules the app's course-rule
    providers bring (lrs.registry: cmi5's published courses), read on this connection. The providers are those
    of the settings' app, or without settings (a page), of the current app."""
    newest = {}
    for row in conn.execute(select(rules.c.rule_id, rules.c.version, rules.c.definition, rules.c.active)
                            .order_by(rules.c.rule_id, rules.c.version)):
        newest[row.rule_id] = row
    stored = [{**orjson.loads(r.definition), "version": r.version} for r in newest.values() if r.active]
    return stored + [load_rule(definition) | {"version": 0}
                     for provider in registry.of(settings.app if settings else current_app).course_rules
                     for definition in provider(conn)]


# ------------------------------------------------------------------------------------------ statements -> facts

def process_new(engine, settings: Settings, now: datetime | None = None, limit: int = BATCH,
                plans: bool = True) -> int:
    """Read the statements stored since the last call (up to `limit`), in one transaction; how many were read.
    Several instances may call this at once: one reads, the others find the cursor taken and return 0.
    plans=False: facts only (a rebuild recomputes every plan once at the end)."""
    now = now or utcnow()
    with write_transaction(engine) as conn:
        cursor = _take_cursor(conn)
        if cursor is None:
            return 0
        heads = conn.execute(select(statements.c.seq, statements.c.stored_us).where(statements.c.seq > cursor)
                             .order_by(statements.c.seq).limit(limit)).all()
        heads = settled_prefix(heads, cursor, [r.stored_us / 1e6 for r in heads],
                               now.timestamp() - settings.gap_seconds)
        if not heads:
            return 0
        last = heads[-1].seq
        matcher = Matcher(rules_in_force(conn, settings))
        query = select(statements.c.id, statements.c.body, statements.c.voided, statements.c.is_voiding,
                       statements.c.ref_target).where(statements.c.seq > cursor, statements.c.seq <= last)
        if matcher.verbs is not None:  # most statements (launched, progressed …) can prove nothing: not read
            query = query.where(or_(statements.c.verb_id.in_(matcher.verbs), statements.c.is_voiding))
        dirty = _apply_statements(conn, conn.execute(query.order_by(statements.c.seq)).all(), matcher, settings)
        conn.execute(update(engine_cursor).where(engine_cursor.c.id == 1).values(seq=last))
        if plans:
            recompute(conn, dirty, settings, now, only=dirty)
    return len(heads)


def process_all_new(engine, settings: Settings, now: datetime | None = None) -> int:
    total = 0
    while (n := process_new(engine, settings, now)):
        total += n
    return total


def rebuild(engine, settings: Settings, progress=None) -> tuple[int, int]:
    """Match every stored statement again and recompute every plan (after a restore, or to check the incremental
    path). Attested evidence is kept. Returns (statements read, plans recomputed)."""
    now = utcnow()
    with write_transaction(engine) as conn:
        if _take_cursor(conn) is None:
            raise RuntimeError("another instance is reading statements; try again")
        conn.execute(delete(facts).where(facts.c.rule_id != ATTESTATION_RULE))
        conn.execute(update(engine_cursor).where(engine_cursor.c.id == 1).values(seq=0))
    read = 0
    while (n := process_new(engine, settings, now, limit=10 * BATCH, plans=False)):
        read += n
        if progress:
            progress("statements", read)
    with read_transaction(engine) as conn:
        ids = conn.execute(select(employees.c.id).order_by(employees.c.id)).scalars().all()
        catalog = Catalog(conn, settings)
    for i in range(0, len(ids), 1000):
        with write_transaction(engine) as conn:
            recompute(conn, ids[i:i + 1000], settings, now, catalog)
        if progress:
            progress("plans", min(i + 1000, len(ids)))
    return read, len(ids)


def _take_cursor(conn) -> int | None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("INSERT INTO competence_cursor (id, seq) VALUES (1, 0) ON CONFLICT DO NOTHING")
        return conn.execute(select(engine_cursor.c.seq).where(engine_cursor.c.id == 1)
                            .with_for_update(skip_locked=True)).scalar()
    # SQLite: this transaction already holds the write lock.
    seq = conn.execute(select(engine_cursor.c.seq).where(engine_cursor.c.id == 1)).scalar()
    if seq is None:
        conn.execute(insert(engine_cursor).values(id=1, seq=0))
        seq = 0
    return seq


def _apply_statements(conn, rows, matcher: Matcher, settings: Settings) -> dict[str, set[str]]:
    """Facts for these statements; returns which competences of which employees changed."""
    dirty = defaultdict(set)
    voided_targets = [r.ref_target for r in rows if r.is_voiding]
    if voided_targets:
        for employee_id, code in _forget_statements(conn, voided_targets):
            dirty[employee_id].add(code)
    parsed = [(r.id, orjson.loads(r.body)) for r in rows if not r.voided and not r.is_voiding]
    for employee_id, code in _record_facts(conn, parsed, matcher, settings):
        dirty[employee_id].add(code)
    return dirty


def _forget_statements(conn, statement_ids) -> set[tuple[str, str]]:
    """Voided statements give no evidence any more."""
    gone = conn.execute(select(facts.c.employee_id, facts.c.competence_code)
                        .where(facts.c.statement_id.in_(statement_ids))).all()
    if gone:
        conn.execute(delete(facts).where(facts.c.statement_id.in_(statement_ids)))
    return {tuple(r) for r in gone}


def _record_facts(conn, parsed, matcher: Matcher, settings: Settings) -> set[tuple[str, str]]:
    """Facts for these (id, statement) pairs; returns the (employee, competence) pairs they concern."""
    found = []
    for sid, stmt in parsed:
        if stmt["object"].get("objectType", "Activity") != "Activity":
            continue
        for part in matcher.match(stmt):
            found.append((sid, stmt, part))
    if not found:
        return set()
    owners = _employees_of(conn, {ifi(stmt["actor"]) for _sid, stmt, _p in found} - {None})
    rows = []
    for sid, stmt, part in found:
        employee_id = owners.get(ifi(stmt["actor"]))
        if employee_id:
            occurred, note = _occurred(stmt, settings)
            rows.append({"statement_id": sid, "rule_id": part.rule_id, "part": part.index,
                         "employee_id": employee_id, "competence_code": part.competence,
                         "occurred": occurred, "note": note})
    bulk_insert(conn, (facts, rows))
    return {(r["employee_id"], r["competence_code"]) for r in rows}


def _occurred(stmt: dict, settings: Settings) -> tuple[datetime, str | None]:
    """When the learning happened: the statement's timestamp, but never later than when the LRS stored it (learning
    cannot be in the future, and validity would run from that future day). Beyond the clock skew allowed, a note
    says why the timestamp was not used."""
    stored = parse_timestamp(stmt["stored"])
    timestamp = parse_timestamp(stmt.get("timestamp") or stmt["stored"])
    if timestamp <= stored:
        return timestamp, None
    return stored, FUTURE_TIMESTAMP if timestamp > stored + settings.clock_skew else None


def _employees_of(conn, ifis) -> dict[str, str]:
    ifis = list(ifis)
    found = {}
    for i in range(0, len(ifis), 500):
        found.update(conn.execute(select(employee_agents.c.ifi, employee_agents.c.employee_id)
                                  .where(employee_agents.c.ifi.in_(ifis[i:i + 500]))).all())
    return found


def rescan(conn, settings: Settings, rule_ids=None, agent_ifis=None) -> set[str]:
    """Match stored statements again: for changed rules (`rule_ids`), or for agents newly linked to an employee
    (`agent_ifis`). Returns the employees whose facts changed (recompute them)."""
    live = select(statements.c.id, statements.c.body).where(~statements.c.voided, ~statements.c.is_voiding)
    if rule_ids is not None:
        rule_ids = set(rule_ids)
        dirty = set(conn.execute(select(facts.c.employee_id).where(facts.c.rule_id.in_(rule_ids))).scalars())
        conn.execute(delete(facts).where(facts.c.rule_id.in_(rule_ids)))
        matcher = Matcher([r for r in rules_in_force(conn, settings) if r["id"] in rule_ids])
        return dirty | _match_again(conn, live, matcher, settings)
    dirty, matcher = set(), Matcher(rules_in_force(conn, settings))
    agent_ifis = list(agent_ifis)
    for i in range(0, len(agent_ifis), 1000):  # bounded IN lists (PostgreSQL takes at most 65,535 parameters)
        query = live.join(statement_agent, statement_agent.c.seq == statements.c.seq).where(
            iri_match(conn.dialect.name, statement_agent.c.ifi, agent_ifis[i:i + 1000]), statement_agent.c.is_actor,
            statement_agent.c.profile == statements.c.seq)
        ids = select(query.with_only_columns(statements.c.id).subquery().c.id)
        dirty |= set(conn.execute(select(facts.c.employee_id).where(facts.c.statement_id.in_(ids),
                                                                    facts.c.rule_id != ATTESTATION_RULE)).scalars())
        conn.execute(delete(facts).where(facts.c.statement_id.in_(ids), facts.c.rule_id != ATTESTATION_RULE))
        dirty |= _match_again(conn, query, matcher, settings)
    return dirty


def _match_again(conn, query, matcher: Matcher, settings: Settings) -> set[str]:
    if not matcher.by_verb and not matcher.any_verb:
        return set()
    dirty = set()
    result = conn.execute(query.order_by(statements.c.seq), execution_options={"yield_per": BATCH})
    for chunk in result.partitions(BATCH):
        parsed = [(r.id, orjson.loads(r.body)) for r in chunk]
        dirty |= {employee for employee, _code in _record_facts(conn, parsed, matcher, settings)}
    return dirty


# ---------------------------------------------------------------------------------------------- facts -> plans

class Catalog:
    """What every plan computation needs, read once per transaction."""

    def __init__(self, conn, settings: Settings):
        self.competences = {r.code: r for r in conn.execute(select(competences))}
        self.requirements = defaultdict(list)  # role -> its requirements (None: those of every role)
        for req in conn.execute(select(requirements)):
            self.requirements[req.role_code].append(req)
        self.unit_paths = dict(conn.execute(select(units.c.id, units.c.path)).all())
        self._by_role_and_unit: dict = {}
        self.rules = defaultdict(list)
        for rule in rules_in_force(conn, settings):
            self.rules[rule["competence"]].append(rule)

    def applicable(self, employee, roles: set[str], additions) -> dict[str, tuple]:
        """competence code -> (mandatory, days after starting, in force from) or (mandatory, a due date, None)."""
        key = (employee.unit_id, frozenset(roles))
        if key not in self._by_role_and_unit:  # most employees share their roles and unit with many others
            path = self.unit_paths.get(employee.unit_id, "")
            found: dict[str, tuple] = {}
            # A requirement of every role applies to anyone with a role, also a role added after it was imported.
            for req in (req for role in sorted(roles) + ([None] if roles else [])
                        for req in self.requirements.get(role, ())):
                if req.unit_id is None or path.startswith(self.unit_paths[req.unit_id]):
                    mandatory, days, since = found.get(req.competence_code,
                                                       (False, req.new_employee_days, req.in_force_from))
                    found[req.competence_code] = (mandatory or req.mandatory, min(days, req.new_employee_days), since)
            self._by_role_and_unit[key] = found
        found = dict(self._by_role_and_unit[key])
        for add in additions:
            mandatory = add.mandatory or found.get(add.competence_code, (False,))[0]
            found[add.competence_code] = (mandatory, add.due_on, None)
        return found


def recompute(conn, employee_ids, settings: Settings, now: datetime, catalog: Catalog | None = None,
              only: dict[str, set[str]] | None = None, collect: Callable | None = None) -> int:
    """Bring these employees' plans up to date; record and announce every status change. Returns changes made.
    `only`: just these competences of each employee (what new statements touched). `collect(changes)`: the caller's
    own collector (a preview), which hears only this call's changes."""
    employee_ids = sorted(set(employee_ids))
    if not employee_ids:
        return 0
    catalog = catalog or Catalog(conn, settings)
    made = 0
    for i in range(0, len(employee_ids), 500):
        made += _recompute_chunk(conn, employee_ids[i:i + 500], catalog, settings, now, only, collect)
    return made


def _recompute_chunk(conn, ids, catalog: Catalog, settings: Settings, now: datetime, only, collect) -> int:
    today = settings.day(now)
    people = {r.id: r for r in conn.execute(select(employees).where(employees.c.id.in_(ids)))}
    roles, additions, items, pending = defaultdict(set), defaultdict(list), defaultdict(dict), defaultdict(set)
    for r in conn.execute(select(employee_roles).where(employee_roles.c.employee_id.in_(ids))):
        roles[r.employee_id].add(r.role_code)
    for r in conn.execute(select(plan_additions).where(plan_additions.c.employee_id.in_(ids))):
        additions[r.employee_id].append(r)
    pairs = [(e, code) for e in ids for code in only.get(e, ())] if only is not None else None
    wanted_items = select(plan_items).where(plan_items.c.employee_id.in_(ids))
    if pairs is not None:
        wanted_items = wanted_items.where(tuple_(plan_items.c.employee_id, plan_items.c.competence_code).in_(pairs))
    for r in conn.execute(wanted_items):
        items[r.employee_id][r.competence_code] = r
    for r in conn.execute(select(manual_evidence.c.employee_id, manual_evidence.c.competence_code)
                          .where(manual_evidence.c.employee_id.in_(ids), manual_evidence.c.state == "pending")):
        pending[r.employee_id].add(r.competence_code)
    found = defaultdict(lambda: defaultdict(list))  # employee -> competence -> rule id -> [(part, sid, day)]
    wanted_facts = select(facts).where(facts.c.employee_id.in_(ids))
    if pairs is not None:
        wanted_facts = wanted_facts.where(tuple_(facts.c.employee_id, facts.c.competence_code).in_(pairs))
    for r in conn.execute(wanted_facts):
        found[r.employee_id][r.competence_code].append((r.rule_id, r.part, r.statement_id, settings.day(r.occurred)))
    inserts, updates, history = [], [], []
    for employee_id in ids:
        person = people.get(employee_id)
        if person is None:
            continue
        wanted = catalog.applicable(person, roles[employee_id], additions[employee_id])
        left = person.left_on is not None and person.left_on <= today
        first_plan = not items[employee_id]
        for code in sorted(wanted.keys() | items[employee_id].keys()):
            if only is not None and code not in only.get(employee_id, ()):
                continue
            comp = catalog.competences.get(code)
            if comp is None:
                continue
            old = items[employee_id].get(code)
            item = None
            if code in wanted:
                mandatory, due, since = wanted[code]
                if isinstance(due, int):  # days for new employees
                    if old is not None and old.status != "not_required" and old.due_on is not None:
                        due = old.due_on  # the deadline was set when the requirement came into the plan
                    elif first_plan:  # from starting, or from when the requirement came into force
                        due = max(person.started_on, since or today) + timedelta(days=due)
                    else:  # a requirement new to a running plan (new role, new unit): from today
                        due = max(person.started_on, today) + timedelta(days=due)
                item = Item(code, mandatory, due)
            best = _best(catalog, comp, found[employee_id].get(code, []))
            new = status_of(item, best, comp.renewal_days, code in pending[employee_id], today, left)
            row = {"employee_id": employee_id, "competence_code": code,
                   "mandatory": item.mandatory if item else (old.mandatory if old else False),
                   "due_on": item.due_on if item else (old.due_on if old else None),
                   "status": new.status, "fulfilled_on": new.fulfilled_on, "valid_until": new.valid_until,
                   "evidence": orjson.dumps(list(new.evidence)).decode(), "updated": now}
            if old is None:
                inserts.append(row)
            elif (old.status, old.fulfilled_on, old.valid_until, old.evidence, old.due_on, old.mandatory) != (
                    row["status"], row["fulfilled_on"], row["valid_until"], row["evidence"], row["due_on"],
                    row["mandatory"]):
                updates.append(row)
            else:
                continue
            if old is None or old.status != new.status or old.valid_until != new.valid_until:
                history.append(changes.StatusChange(
                    event_id=str(uuid.uuid4()), employee_id=employee_id, competence_code=code, status=new.status,
                    previous_status=old.status if old else None, fulfilled_on=new.fulfilled_on,
                    valid_until=new.valid_until, evidence_statement_ids=new.evidence, changed_at=now))
    bulk_insert(conn, (plan_items, inserts))
    if updates:  # one executemany, not a statement built per row
        conn.execute(update(plan_items).where(plan_items.c.employee_id == bindparam("key_employee"),
                                              plan_items.c.competence_code == bindparam("key_competence")),
                     [{**row, "key_employee": row["employee_id"], "key_competence": row["competence_code"]}
                      for row in updates])
    if history:
        conn.execute(insert(status_changes), [
            {"event_id": c.event_id, "employee_id": c.employee_id, "competence_code": c.competence_code,
             "status": c.status, "previous_status": c.previous_status, "fulfilled_on": c.fulfilled_on,
             "valid_until": c.valid_until, "evidence": orjson.dumps(list(c.evidence_statement_ids)).decode(),
             "changed": c.changed_at} for c in history])
        changes.emit(settings.app, conn, history)
        if collect:
            collect(history)
    return len(history)


def _best(catalog: Catalog, comp, found):
    by_rule = defaultdict(list)
    for rule_id, part, sid, day in found:
        by_rule[rule_id].append((part, sid, day))
    best = None
    for rule in catalog.rules.get(comp.code, []):
        candidate = best_achievement(rule, by_rule.get(rule["id"], []), comp.validity_months)
        if candidate and candidate.outlasts(best):
            best = candidate
    if by_rule.get(ATTESTATION_RULE):
        candidate = best_achievement({"kind": "any"}, by_rule[ATTESTATION_RULE], comp.validity_months)
        if candidate.outlasts(best):
            best = candidate
    return best
