"""Education programmes: import, enrolment and transfers, progress per objective from evidence and confirmed
entries, sign-off as xAPI statements, behind-plan detection, the record and its xAPI export.

Every function takes the caller's connection (the caller owns the transaction). Who may do what:
- the participant sees their own enrolment and logs entries; nobody signs off their own objectives;
- the supervisor (veileder) of an enrolment sees it, confirms its entries and assesses ("vurdert som oppnådd")
  the objectives assessed by a supervisor;
- the enrolment's leader, a leader of its unit (or above) and an admin see it, assess the objectives assessed by
  a leader or committee, approve ("godkjent") assessed objectives (not ones they assessed themselves), transfer it
  and void sign-offs. Voiding reopens the objective."""
import uuid
from datetime import date, datetime, time

import orjson
from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from lrs.competence import changes
from lrs.competence import service as competence
from lrs.competence.directory import agent_for, employee, ifis_of, subtree_unit_ids
from lrs.competence.rules import best_achievement, parse_timestamp, parts_of
from lrs.competence.tables import employees, units
from lrs.model import verbs
from lrs.principal import Principal
from lrs.programmes import definition
from lrs.programmes.tables import (programme_enrolments, programme_entries, programme_signoffs, programme_transfers,
                                   programmes)
from lrs.store import credentials as creds
from lrs.store import statements as store
from lrs.store.models import iri_match, statement_agent, statements
from lrs.store.types import utcnow

VOCABULARY = "https://kompetanse.helse.example.no/xapi"
ASSESSED = {"id": VOCABULARY + "/verbs/assessed-achieved",
            "display": {"nb-NO": "ble vurdert som oppnådd", "en-US": "was assessed as achieved"}}
APPROVED = {"id": VOCABULARY + "/verbs/approved",
            "display": {"nb-NO": "fikk godkjent", "en-US": "had approved"}}
PERFORMED = {"id": VOCABULARY + "/verbs/performed", "display": {"nb-NO": "utførte", "en-US": "performed"}}
ATTENDED = {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"nb-NO": "deltok i", "en-US": "attended"}}
EXT_SIGNED_BY = VOCABULARY + "/extensions/signed-by"
EXT_PROGRAMME_VERSION = VOCABULARY + "/extensions/programme-version"
OBJECTIVE_TYPE = "http://adlnet.gov/expapi/activities/objective"
PROGRAMME_TYPE = VOCABULARY + "/activities/programme"
CREDENTIAL = "kompetanse-lrs: programmes"
SIGNOFFS = ("assessed", "approved")
ENTRY_KINDS = ("procedure", "supervision")
HELD = competence.VALID  # a supervisor holds the supervision competence


class Refused(ValueError):
    """What a person may not do, or asked wrongly: the status to answer and why, in words. The words are bokmål
    through lazy_gettext (their English is in lrs/web/translations), put into words when read: a page says them in
    its reader's language, the API and the CLI in English (force_locale("en"))."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# ------------------------------------------------------------------------------------------------ programmes

def import_programme(conn, name: str, text: str) -> dict:
    """Import a programme file: a new version when it differs from the newest one stored (enrolments keep
    theirs). Returns {code, version, changed}."""
    programme = definition.read(name, text)
    stored = orjson.dumps(programme, option=orjson.OPT_SORT_KEYS).decode()
    newest = conn.execute(select(programmes.c.version, programmes.c.definition)
                          .where(programmes.c.code == programme["code"])
                          .order_by(programmes.c.version.desc()).limit(1)).first()
    if newest and newest.definition == stored:
        return {"code": programme["code"], "version": newest.version, "changed": False}
    version = (newest.version + 1) if newest else 1
    conn.execute(programmes.insert().values(code=programme["code"], version=version, title_nb=programme["title_nb"],
                                            title_en=programme["title_en"], definition=stored, imported=utcnow()))
    return {"code": programme["code"], "version": version, "changed": True}


def programme(conn, code: str, version: int | None = None) -> dict | None:
    query = select(programmes.c.definition, programmes.c.version).where(programmes.c.code == code)
    if version is not None:
        query = query.where(programmes.c.version == version)
    row = conn.execute(query.order_by(programmes.c.version.desc()).limit(1)).first()
    return {**orjson.loads(row.definition), "version": row.version} if row else None


def list_programmes(conn) -> list[dict]:
    """The newest version of every programme, with how many objectives it has."""
    newest = {}
    for row in conn.execute(select(programmes).order_by(programmes.c.code, programmes.c.version)):
        newest[row.code] = row
    out = []
    for row in newest.values():
        p = orjson.loads(row.definition)
        out.append({"code": row.code, "version": row.version, "title_nb": row.title_nb, "title_en": row.title_en,
                    "duration_months": p["duration_months"], "objectives": len(definition.objectives(p)),
                    "supervisor_competence": p.get("supervisor_competence")})
    return out


# ------------------------------------------------------------------------------------------------ people

def _person(conn, employee_id: str | None, role: str):
    if employee_id is None:
        return None
    if employee(conn, employee_id) is None:
        raise Refused(400, _l("Veilederen %(id)s finnes ikke blant de ansatte", id=employee_id)
                      if role == "supervisor" else _l("Lederen %(id)s finnes ikke blant de ansatte", id=employee_id))
    return employee_id


def _require_supervision(conn, settings, prog: dict, supervisor_id: str | None, today: date) -> None:
    """A supervisor must hold the programme's supervision competence: it goes into their plan, where the engine
    checks it like any other requirement (due in six months)."""
    if supervisor_id and prog.get("supervisor_competence"):
        try:
            competence.require_competences(conn, settings, supervisor_id,
                                           {prog["supervisor_competence"]: today + relativedelta(months=6)})
        except competence.NotInCatalog as e:
            raise Refused(400, _l("Veilederkompetansen %(code)s finnes ikke i katalogen: importer den først",
                                  code=e.code)) from None


def enrol(conn, settings, programme_code: str, employee_id: str, started_on: date, supervisor_id: str | None = None,
          leader_id: str | None = None, unit_id: str | None = None, planned_end: date | None = None) -> str:
    """Enrol an employee (once per programme). The unit is the employee's own unless given; the planned end the
    programme's duration after the start unless given."""
    prog = programme(conn, programme_code)
    if prog is None:
        raise Refused(404, _l("Utdanningsløpet %(code)s finnes ikke", code=programme_code))
    person = employee(conn, employee_id)
    if person is None:
        raise Refused(404, _l("Fant ingen ansatt med ansattnummer %(id)s", id=employee_id))
    _person(conn, supervisor_id, "supervisor")
    _person(conn, leader_id, "leader")
    if employee_id in (supervisor_id, leader_id):
        raise Refused(400, _l("En deltaker kan ikke være sin egen veileder eller leder"))
    unit_id = unit_id or person["unit_id"]
    if conn.execute(select(units.c.id).where(units.c.id == unit_id)).first() is None:
        raise Refused(400, _l("Enheten %(unit)s finnes ikke", unit=unit_id))
    planned_end = planned_end or started_on + relativedelta(months=prog["duration_months"])
    if planned_end <= started_on:
        raise Refused(400, _l("Planlagt sluttdato må være etter startdatoen"))
    if conn.execute(select(programme_enrolments.c.id).where(programme_enrolments.c.employee_id == employee_id,
                                                            programme_enrolments.c.programme_code == programme_code)
                    ).first():
        raise Refused(409, _l("%(id)s er allerede meldt på utdanningsløpet %(code)s", id=employee_id,
                              code=programme_code))
    enrolment_id = str(uuid.uuid4())
    conn.execute(programme_enrolments.insert().values(
        id=enrolment_id, employee_id=employee_id, programme_code=programme_code, programme_version=prog["version"],
        unit_id=unit_id, supervisor_id=supervisor_id, leader_id=leader_id, started_on=started_on,
        planned_end=planned_end, state="active", created=utcnow()))
    conn.execute(programme_transfers.insert().values(
        enrolment_id=enrolment_id, employee_id=employee_id, from_unit=None, to_unit=unit_id, to_supervisor=supervisor_id,
        to_leader=leader_id, moved_on=started_on, note="enrolled"))
    _require_supervision(conn, settings, prog, supervisor_id, settings.day(utcnow()))
    wanted, counted_in = {}, {}  # the competences that count go into the participant's plan, each due by the
    for objective in definition.objectives(prog):  # first objective that counts it
        due = started_on + relativedelta(months=objective["due_month"]) if objective["due_month"] is not None \
            else planned_end
        for a in objective["activities"]:
            if a["kind"] == "competence" and a["competence"] not in wanted:
                wanted[a["competence"]], counted_in[a["competence"]] = due, objective["id"]
    if wanted:
        try:
            competence.require_competences(conn, settings, employee_id, wanted)
        except competence.NotInCatalog as e:
            raise Refused(400, _l("Læringsmål %(objective)s krever kompetansen %(code)s, som ikke finnes i katalogen",
                                  objective=counted_in[e.code], code=e.code)) from None
    return enrolment_id


def enrolment(conn, enrolment_id: str):
    return conn.execute(select(programme_enrolments).where(programme_enrolments.c.id == enrolment_id)).first()


def led_unit_ids(conn, who: Principal) -> set[str]:
    """The units `who` leads, their subtrees included (none unless a leader)."""
    return subtree_unit_ids(conn, who.led_units) if who.has("leader") and who.led_units else set()


def leads(conn, who: Principal, row, led: set[str] | None = None) -> bool:
    """Whether `who` leads this enrolment: its leader, a leader of its unit or above, or an admin. `led`: their
    led_unit_ids, when the caller asks about many enrolments (read once, not per enrolment)."""
    if who.has("admin"):
        return True
    if who.employee_id and who.employee_id == row.leader_id:
        return True
    return row.unit_id in (led if led is not None else led_unit_ids(conn, who))


def can_see(conn, who: Principal, row) -> bool:
    return (who.employee_id is not None and who.employee_id in (row.employee_id, row.supervisor_id)) \
        or leads(conn, who, row)


def visible(conn, who: Principal, enrolment_id: str):
    row = enrolment(conn, enrolment_id)
    if row is None:
        raise Refused(404, _l("Fant ingen påmelding til utdanningsløp med id %(id)s", id=enrolment_id))
    if not can_see(conn, who, row):
        raise Refused(403, _l("Du har ikke tilgang til utdanningsløpet til denne deltakeren"))
    return row


def transfer(conn, settings, enrolment_id: str, who: Principal, unit_id: str | None = None,
             supervisor_id: str | None = None, leader_id: str | None = None, moved_on: date | None = None,
             note: str = "") -> dict:
    """Move a participant to another unit or trust, or give them another supervisor or leader: the record (entries,
    sign-offs) stays with the enrolment, and the move is kept in its history."""
    row = visible(conn, who, enrolment_id)
    if not leads(conn, who, row):
        raise Refused(403, _l("Bare deltakerens leder eller en administrator kan flytte deltakeren"))
    unit_id = unit_id or row.unit_id
    if conn.execute(select(units.c.id).where(units.c.id == unit_id)).first() is None:
        raise Refused(400, _l("Enheten %(unit)s finnes ikke", unit=unit_id))
    supervisor_id = _person(conn, supervisor_id, "supervisor") or row.supervisor_id
    leader_id = _person(conn, leader_id, "leader") or row.leader_id
    if row.employee_id in (supervisor_id, leader_id):
        raise Refused(400, _l("En deltaker kan ikke være sin egen veileder eller leder"))
    moved_on = moved_on or settings.day(utcnow())
    conn.execute(programme_transfers.insert().values(
        enrolment_id=enrolment_id, employee_id=row.employee_id, from_unit=row.unit_id, to_unit=unit_id,
        from_supervisor=row.supervisor_id, to_supervisor=supervisor_id, from_leader=row.leader_id,
        to_leader=leader_id, moved_on=moved_on, note=note.strip() or None, decided_by=who.user_id))
    conn.execute(update(programme_enrolments).where(programme_enrolments.c.id == enrolment_id).values(
        unit_id=unit_id, supervisor_id=supervisor_id, leader_id=leader_id))
    if supervisor_id != row.supervisor_id:
        _require_supervision(conn, settings, programme(conn, row.programme_code, row.programme_version),
                             supervisor_id, moved_on)
    return {"id": enrolment_id, "unit_id": unit_id, "supervisor_id": supervisor_id, "leader_id": leader_id}


# ------------------------------------------------------------------------------------------------ statements

def _objective(prog: dict, objective_id: str) -> dict:
    for o in definition.objectives(prog):
        if o["id"] == objective_id:
            return o
    raise Refused(404, _l("Utdanningsløpet %(code)s har ikke læringsmålet %(objective)s", code=prog["code"],
                          objective=objective_id))


def _objective_activity(prog: dict, objective: dict) -> dict:
    return {"objectType": "Activity", "id": f"{VOCABULARY}/programmes/{prog['code']}/objectives/{objective['id']}",
            "definition": {"name": {"nb-NO": objective["name_nb"], "en-US": objective["name_en"]},
                           "type": OBJECTIVE_TYPE}}


def _programme_activity(prog: dict) -> dict:
    return {"objectType": "Activity", "id": f"{VOCABULARY}/programmes/{prog['code']}",
            "definition": {"name": {"nb-NO": prog["title_nb"], "en-US": prog["title_en"]}, "type": PROGRAMME_TYPE}}


def _store(conn, stmt: dict) -> str:
    credential = creds.internal(conn, CREDENTIAL)
    stmt = {**stmt, "authority": credential.authority, "version": "1.0.0"}
    store.save_in(conn, [store.Prepared(stmt=stmt, id=stmt["id"], credential_id=credential.id,
                                        hash=store.content_hash(stmt))])
    return stmt["id"]


def _context(settings, prog: dict, row, signer: Principal | None) -> dict:
    context = {"contextActivities": {"parent": [_programme_activity(prog)]},
               "extensions": {EXT_PROGRAMME_VERSION: row.programme_version}}
    if signer is not None:
        context["extensions"][EXT_SIGNED_BY] = signer.user_id
        if signer.employee_id:
            context["instructor"] = agent_for(signer.employee_id, settings.identity_homepage)
    return context


# ------------------------------------------------------------------------------------------------ entries

def log_entry(conn, settings, enrolment_id: str, who: Principal, objective_id: str, kind: str, title: str,
              done_on: date, activity_code: str | None = None) -> str:
    """The participant logs a procedure or a supervision meeting; it counts once the supervisor confirms it."""
    row = visible(conn, who, enrolment_id)
    if who.employee_id != row.employee_id:
        raise Refused(403, _l("Bare deltakeren selv kan registrere prosedyrer og veiledningssamtaler"))
    if kind not in ENTRY_KINDS:
        raise Refused(400, _l("Typen må være en av %(kinds)s, ikke %(kind)s", kinds=", ".join(ENTRY_KINDS),
                              kind=kind))
    if not title.strip():
        raise Refused(400, _l("Skriv hva du gjorde"))
    if done_on > settings.day(utcnow()):
        raise Refused(400, _l("Datoen kan ikke være fram i tid"))
    objective = _objective(programme(conn, row.programme_code, row.programme_version), objective_id)
    fitting = [a for a in objective["activities"] if a["kind"] == kind
               and (kind == "supervision" or activity_code in (None, "", a["code"]))]
    if not fitting:
        raise Refused(400, _l("Veiledningssamtaler teller ikke for læringsmål %(objective)s", objective=objective_id)
                      if kind == "supervision" else
                      _l("Prosedyren %(code)s teller ikke for læringsmål %(objective)s", code=activity_code,
                         objective=objective_id) if activity_code else
                      _l("Prosedyrer teller ikke for læringsmål %(objective)s", objective=objective_id))
    entry_id = str(uuid.uuid4())
    conn.execute(programme_entries.insert().values(
        id=entry_id, enrolment_id=enrolment_id, employee_id=row.employee_id, objective_id=objective_id, kind=kind,
        activity_code=fitting[0].get("code") if kind == "procedure" else None, title=title.strip(), done_on=done_on,
        state="pending", logged=utcnow()))
    return entry_id


def decide_entry(conn, settings, entry_id: str, who: Principal, confirm: bool) -> dict:
    """The supervisor confirms (an xAPI statement, with the supervisor as instructor) or rejects a logged entry."""
    entry = conn.execute(select(programme_entries).where(programme_entries.c.id == entry_id)).first()
    if entry is None:
        raise Refused(404, _l("Fant ingen registrering med id %(id)s", id=entry_id))
    row = visible(conn, who, entry.enrolment_id)
    if who.employee_id == row.employee_id:
        raise Refused(403, _l("Ingen kan bekrefte sine egne registreringer"))
    if who.employee_id != row.supervisor_id and not leads(conn, who, row):
        raise Refused(403, _l("Bare deltakerens veileder kan bekrefte registreringene"))
    if entry.state != "pending":
        raise Refused(409, _l("Registreringen er allerede bekreftet") if entry.state == "confirmed"
                      else _l("Registreringen er allerede avvist"))
    statement_id = None
    if confirm:
        prog = programme(conn, row.programme_code, row.programme_version)
        objective = _objective(prog, entry.objective_id)
        statement_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{VOCABULARY}/programme-entry/{entry.id}"))
        what = entry.activity_code or "supervision"
        _store(conn, {
            "id": statement_id, "actor": agent_for(row.employee_id, settings.identity_homepage),
            "verb": ATTENDED if entry.kind == "supervision" else PERFORMED,
            "object": {"objectType": "Activity",
                       "id": f"{VOCABULARY}/programmes/{prog['code']}/{entry.kind}/{what}",
                       "definition": {"name": {"nb-NO": entry.title}}},
            "context": _context(settings, prog, row, who) | {"contextActivities": {
                "parent": [_programme_activity(prog)], "grouping": [_objective_activity(prog, objective)]}},
            "timestamp": datetime.combine(entry.done_on, time(12), tzinfo=settings.zone).isoformat(),
        })
    conn.execute(update(programme_entries).where(programme_entries.c.id == entry_id).values(
        state="confirmed" if confirm else "rejected", decided_by=who.user_id, decided=utcnow(),
        statement_id=statement_id))
    return {"id": entry_id, "state": "confirmed" if confirm else "rejected", "statement_id": statement_id}


# ------------------------------------------------------------------------------------------------ sign-off

def signoffs(conn, enrolment_id: str, live_only: bool = True) -> list:
    query = select(programme_signoffs).where(programme_signoffs.c.enrolment_id == enrolment_id)
    if live_only:
        query = query.where(programme_signoffs.c.voided.is_(None))
    return conn.execute(query.order_by(programme_signoffs.c.signed)).all()


def sign(conn, settings, enrolment_id: str, objective_id: str, kind: str, who: Principal,
         signer_name: str = "") -> dict:
    """Assess ("vurdert som oppnådd") or approve ("godkjent") an objective: an xAPI statement about the
    participant with the signer. An approval is pushed to the competence portal (the outbox)."""
    if kind not in SIGNOFFS:
        raise Refused(400, _l("Typen må være en av %(kinds)s, ikke %(kind)s", kinds=", ".join(SIGNOFFS),
                              kind=kind))
    row = visible(conn, who, enrolment_id)
    if who.employee_id == row.employee_id:
        raise Refused(403, _l("Ingen kan vurdere eller godkjenne sine egne læringsmål"))
    prog = programme(conn, row.programme_code, row.programme_version)
    objective = _objective(prog, objective_id)
    if objective["assessment"] == "automatic":
        raise Refused(409, _l("%(objective)s oppnås automatisk når aktivitetene er gjennomført, og skal ikke signeres",
                              objective=objective_id))
    live = {s.kind: s for s in signoffs(conn, enrolment_id) if s.objective_id == objective_id}
    if kind in live:
        raise Refused(409, _l("%(objective)s er allerede vurdert som oppnådd", objective=objective_id)
                      if kind == "assessed" else _l("%(objective)s er allerede godkjent", objective=objective_id))
    if kind == "assessed":
        if objective["assessment"] == "supervisor" and who.employee_id != row.supervisor_id \
                and not who.has("admin"):
            raise Refused(403, _l("Bare deltakerens veileder kan vurdere dette læringsmålet"))
        if objective["assessment"] == "committee" and not leads(conn, who, row):
            raise Refused(403, _l("Dette læringsmålet vurderes av leder eller utdanningsutvalget"))
        state = objective_progress(conn, settings, row, prog, objective)
        if not state["evidence_complete"]:
            raise Refused(409, _l("Aktivitetene i %(objective)s er ikke fullført ennå", objective=objective_id))
    else:
        if "assessed" not in live:
            raise Refused(409, _l("%(objective)s må vurderes som oppnådd før det kan godkjennes",
                                  objective=objective_id))
        if not leads(conn, who, row):
            raise Refused(403, _l("Bare deltakerens leder eller utdanningsutvalget kan godkjenne"))
        if live["assessed"].signed_by == who.user_id:
            raise Refused(403, _l("Ingen kan godkjenne sin egen vurdering"))
    now = utcnow()
    signoff_id = str(uuid.uuid4())
    statement_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{VOCABULARY}/programme-signoff/{signoff_id}"))
    _store(conn, {
        "id": statement_id, "actor": agent_for(row.employee_id, settings.identity_homepage),
        "verb": ASSESSED if kind == "assessed" else APPROVED, "object": _objective_activity(prog, objective),
        "result": {"success": True, "completion": True}, "context": _context(settings, prog, row, who),
        "timestamp": now.isoformat()})
    conn.execute(programme_signoffs.insert().values(
        id=signoff_id, enrolment_id=enrolment_id, employee_id=row.employee_id, objective_id=objective_id, kind=kind,
        signed_by=who.user_id, signer_employee_id=who.employee_id, signer_name=signer_name or None, signed=now,
        statement_id=statement_id))
    if kind == "approved":
        _announce(settings, conn, row, objective_id, "fulfilled", None, settings.day(now), (statement_id,))
    return {"id": signoff_id, "kind": kind, "objective_id": objective_id, "statement_id": statement_id}


def void(conn, settings, signoff_id: str, who: Principal) -> list[str]:
    """Void a sign-off (its statement is voided): the objective opens again. Voiding an assessment voids the
    approval on it too. The signer, the participant's leader or an admin may void. Returns the voided ids."""
    signoff = conn.execute(select(programme_signoffs).where(programme_signoffs.c.id == signoff_id)).first()
    if signoff is None:
        raise Refused(404, _l("Fant ingen signatur med id %(id)s", id=signoff_id))
    row = visible(conn, who, signoff.enrolment_id)
    if signoff.signed_by != who.user_id and not leads(conn, who, row):
        raise Refused(403, _l("Bare den som signerte eller deltakerens leder kan annullere signaturen"))
    if signoff.voided is not None:
        raise Refused(409, _l("Signaturen er allerede annullert"))
    going = [signoff]
    if signoff.kind == "assessed":
        going = [s for s in signoffs(conn, row.id) if s.objective_id == signoff.objective_id
                 and s.kind == "approved"] + going
    now = utcnow()
    for s in going:
        voiding_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{VOCABULARY}/programme-signoff/{s.id}/voided"))
        _store(conn, {"id": voiding_id, "actor": agent_for(row.employee_id, settings.identity_homepage),
                      "verb": {"id": verbs.VOIDED, "display": {"en-US": "voided"}},
                      "object": {"objectType": "StatementRef", "id": s.statement_id}, "timestamp": now.isoformat()})
        conn.execute(update(programme_signoffs).where(programme_signoffs.c.id == s.id).values(
            voided=now, voided_by=who.user_id, voiding_statement_id=voiding_id))
        if s.kind == "approved":
            _announce(settings, conn, row, s.objective_id, "missing", "fulfilled", None, ())
    return [s.id for s in going]


def _announce(settings, conn, row, objective_id: str, status: str, previous: str | None, fulfilled_on, evidence):
    """An approved (or reopened) objective as a status change, for the portal through the outbox."""
    changes.emit(settings.app, conn, [changes.StatusChange(
        event_id=str(uuid.uuid4()), employee_id=row.employee_id,
        competence_code=f"{row.programme_code}:{objective_id}"[:64], status=status, previous_status=previous,
        fulfilled_on=fulfilled_on, valid_until=None, evidence_statement_ids=tuple(evidence), changed_at=utcnow())])


# ------------------------------------------------------------------------------------------------ progress

def _statements_of(conn, employee_id: str, verb_ids) -> list[dict]:
    """The participant's statements (as actor, not voided) with these verbs (None: any verb)."""
    ifis = ifis_of(conn, employee_id)
    if not ifis:
        return []
    query = (select(statements.c.body).join(statement_agent, statement_agent.c.seq == statements.c.seq)
             .where(iri_match(conn.dialect.name, statement_agent.c.ifi, ifis), statement_agent.c.is_actor,
                    ~statements.c.voided, ~statements.c.is_voiding))
    if verb_ids is not None:
        query = query.where(statements.c.verb_id.in_(sorted(verb_ids)))
    return [orjson.loads(b) for b in conn.execute(query.distinct()).scalars()]


class _Evidence:
    """What counts for one participant, read once: their statements for the programme's rules, their plan's
    statuses, their confirmed entries."""

    def __init__(self, conn, settings, row, prog):
        self.settings = settings
        self.rules = {}
        verb_ids, any_verb = set(), False
        for objective in definition.objectives(prog):
            for i, activity in enumerate(objective["activities"]):
                rule = definition.activity_rule(prog["code"], objective["id"], i, activity)
                if rule:
                    self.rules[(objective["id"], i)] = rule
                    for part in parts_of(rule):
                        verb_ids |= part.verbs
                        any_verb |= not part.verbs
        self.statements = _statements_of(conn, row.employee_id, None if any_verb else verb_ids) if self.rules else []
        codes = {a["competence"] for o in definition.objectives(prog) for a in o["activities"]
                 if a["kind"] == "competence"}
        # The participant's whole plan in one query (a plan holds tens of items), not a query per competence.
        self.plan = {r.competence_code: r.status for r in competence.items_of(conn, [row.employee_id])
                     if r.competence_code in codes}
        self.entries = conn.execute(select(programme_entries).where(programme_entries.c.enrolment_id == row.id)
                                    .order_by(programme_entries.c.done_on)).all()

    def activity(self, objective_id: str, index: int, activity: dict) -> dict:
        kind = activity["kind"]
        if kind in ENTRY_KINDS:
            confirmed = [e for e in self.entries if e.objective_id == objective_id and e.kind == kind
                         and e.state == "confirmed" and (kind == "supervision" or e.activity_code == activity["code"])]
            pending = [e for e in self.entries if e.objective_id == objective_id and e.kind == kind
                       and e.state == "pending" and (kind == "supervision" or e.activity_code == activity["code"])]
            return {"done": min(len(confirmed), activity["count"]), "needed": activity["count"],
                    "met": len(confirmed) >= activity["count"], "pending": len(pending)}
        if kind == "competence":
            status = self.plan.get(activity["competence"])
            return {"done": int(status in HELD), "needed": 1, "met": status in HELD, "pending": 0, "status": status}
        rule = self.rules[(objective_id, index)]
        found = []
        for stmt in self.statements:
            for part in parts_of(rule):
                if part.matches(stmt):
                    day = self.settings.day(parse_timestamp(stmt.get("timestamp") or stmt["stored"]))
                    found.append((part.index, stmt["id"], day))
        best = best_achievement(rule, found, None)
        needed = rule["count"] if rule["kind"] == "count" else len(rule["parts"])
        done = needed if best else min(len({f[1] for f in found} if rule["kind"] == "count"
                                           else {f[0] for f in found}), needed)
        return {"done": done, "needed": needed, "met": best is not None, "pending": 0,
                "statements": list(best.statement_ids) if best else []}


def objective_progress(conn, settings, row, prog, objective, evidence: _Evidence | None = None,
                       live_signoffs: list | None = None) -> dict:
    evidence = evidence or _Evidence(conn, settings, row, prog)
    activities = [{**a, **evidence.activity(objective["id"], i, a)} for i, a in enumerate(objective["activities"])]
    complete = all(a["met"] for a in activities)
    live = {s.kind: s for s in (live_signoffs if live_signoffs is not None else signoffs(conn, row.id))
            if s.objective_id == objective["id"]}
    if objective["assessment"] == "automatic":
        state = "approved" if complete else None
    elif "approved" in live:
        state = "approved"
    elif "assessed" in live:
        state = "assessed"  # awaits approval
    else:
        state = "ready" if complete else None  # ready: awaits assessment
    if state is None:
        state = "in_progress" if any(a["done"] or a["pending"] for a in activities) else "not_started"
    due_on = row.started_on + relativedelta(months=objective["due_month"]) if objective["due_month"] is not None \
        else None
    return {"id": objective["id"], "name_nb": objective["name_nb"], "name_en": objective["name_en"],
            "assessment": objective["assessment"], "due_on": due_on, "activities": activities,
            "evidence_complete": complete, "state": state,
            "signoffs": {k: {"id": s.id, "signed_by": s.signed_by, "signer_name": s.signer_name,
                             "signed": s.signed, "statement_id": s.statement_id} for k, s in live.items()}}


def pace(row, objectives: list[dict], today: date) -> dict:
    """Approved objectives against the planned pace: those due by today (their due_month), or, for objectives
    without one, an even share of the planned time. Behind when fewer are approved than are due."""
    total = len(objectives)
    approved = sum(o["state"] == "approved" for o in objectives)
    span = (row.planned_end - row.started_on).days or 1
    elapsed = min(max((today - row.started_on).days, 0), span)
    dated = [o for o in objectives if o["due_on"] is not None]
    undated = total - len(dated)
    expected = sum(o["due_on"] <= today for o in dated) + (undated * elapsed) // span
    overdue = [o["id"] for o in dated if o["due_on"] <= today and o["state"] != "approved"]
    return {"total": total, "approved": approved, "expected": expected, "behind": approved < expected,
            "overdue": overdue, "share_of_time": round(elapsed / span, 2)}


def progress(conn, settings, row, today: date, people: dict | None = None, prog: dict | None = None) -> dict:
    """A participant's programme: each objective by topic with its activities and sign-offs, and the pace.
    `people` (names by employee id) and `prog` (the enrolment's programme version): when the caller has read them
    for many enrolments at once."""
    prog = prog or programme(conn, row.programme_code, row.programme_version)
    evidence = _Evidence(conn, settings, row, prog)
    live = signoffs(conn, row.id)
    topics = [{"code": t["code"], "name_nb": t["name_nb"], "name_en": t["name_en"],
               "objectives": [objective_progress(conn, settings, row, prog, o, evidence, live)
                              for o in t["objectives"]]} for t in prog["topics"]]
    flat = [o for t in topics for o in t["objectives"]]
    if people is None:
        people = names_of(conn, [row.employee_id, row.supervisor_id, row.leader_id])
    return {"enrolment": enrolment_dict(row, people), "programme": {
                "code": prog["code"], "version": prog["version"], "title_nb": prog["title_nb"],
                "title_en": prog["title_en"], "supervisor_competence": prog.get("supervisor_competence")},
            "topics": topics, "pace": pace(row, flat, today),
            "entries": [dict(e._mapping) for e in evidence.entries]}


def names_of(conn, ids) -> dict[str, str]:
    ids = [i for i in ids if i]
    return dict(conn.execute(select(employees.c.id, employees.c.name).where(employees.c.id.in_(ids))).all()) \
        if ids else {}


def enrolment_dict(row, people: dict) -> dict:
    return {"id": row.id, "employee_id": row.employee_id, "name": people.get(row.employee_id),
            "programme_code": row.programme_code, "programme_version": row.programme_version,
            "unit_id": row.unit_id, "supervisor_id": row.supervisor_id,
            "supervisor_name": people.get(row.supervisor_id), "leader_id": row.leader_id,
            "leader_name": people.get(row.leader_id), "started_on": row.started_on,
            "planned_end": row.planned_end, "state": row.state}


def enrolments_of(conn, employee_id: str) -> list:
    return conn.execute(select(programme_enrolments).where(programme_enrolments.c.employee_id == employee_id)
                        .order_by(programme_enrolments.c.started_on)).all()
