"""The competence engine through its public doors: statements in over xAPI, plans out over the JSON API."""
from datetime import date, timedelta

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from lrs import scheduler
from lrs.competence import changes, imports
from lrs.competence.tables import status_changes
from lrs.store.db import write_transaction
from tests.competence_support import (ADMIN, COMPLETED, EMPLOYEE_E1, EMPLOYEE_E3, HLR, LEADER_MED, PASSED, SIM_TYPE,
                                      days_ago, load_trust, passed_hlr, process, send, statement)

pytestmark = pytest.mark.usefixtures("trust")


def plan_of(app, employee_id):
    r = app.test_client().get(f"/api/competence/employees/{employee_id}/plan")
    assert r.status_code == 200, r.get_json()
    return {i["competence"]["code"]: i for i in r.get_json()["items"]}


@pytest.fixture
def admin(app, sign_in):
    sign_in(ADMIN)
    return lambda employee_id: plan_of(app, employee_id)


def today(app):
    return app.extensions["competence.settings"].day(days_ago(0))


# ------------------------------------------------------------------------------------------------ statuses

def test_a_new_plan_has_every_requirement_of_the_role_and_unit(admin):
    e1 = admin("E1")  # nurse in akutt: HLR, LMH, and TEAM (only within akutt)
    assert set(e1) == {"HLR", "LMH", "TEAM"}
    assert {i["status"] for i in e1.values()} <= {"missing", "not_yet_due"}
    assert set(admin("E2")) == {"HLR", "LMH"}  # nurse and physician elsewhere: no TEAM
    assert set(admin("E3")) == {"BRANN"}


def test_new_requirement_for_an_existing_employee_is_due_after_its_days(app, admin):
    e1 = admin("E1")
    assert e1["HLR"]["status"] == "not_yet_due"
    assert e1["HLR"]["due_on"] == (today(app) + timedelta(days=30)).isoformat()
    assert e1["TEAM"]["due_on"] == (today(app) + timedelta(days=180)).isoformat()


def test_passing_the_course_fulfils_it_valid_from_when_it_happened(app, xapi, admin):
    taken = days_ago(100)
    send(xapi, passed_hlr("E1", taken))
    process(app)
    hlr = admin("E1")["HLR"]
    learned = app.extensions["competence.settings"].day(taken)
    assert hlr["status"] == "fulfilled"
    assert hlr["fulfilled_on"] == learned.isoformat()
    assert hlr["valid_until"] == (learned + relativedelta(months=12)).isoformat()
    assert len(hlr["evidence"]) == 1


def test_score_below_the_minimum_or_without_success_proves_nothing(app, xapi, admin):
    send(xapi, passed_hlr("E1", days_ago(5), scaled=0.7),
         statement("E1", PASSED, HLR, days_ago(4), {"success": False, "score": {"scaled": 0.95}}))
    process(app)
    assert admin("E1")["HLR"]["status"] == "not_yet_due"


def test_backfilled_old_history_gives_the_right_expiry(app, xapi, admin):
    send(xapi, passed_hlr("E1", days_ago(330)))  # eleven months ago: within the 60-day renewal window
    send(xapi, passed_hlr("E3", days_ago(400)))  # not required for a porter: stays out of the plan
    process(app)
    assert admin("E1")["HLR"]["status"] == "expiring"
    assert "HLR" not in admin("E3")


def test_expired_when_the_only_evidence_is_too_old(app, xapi, admin):
    send(xapi, passed_hlr("E2", days_ago(500)))
    process(app)
    assert admin("E2")["HLR"]["status"] == "expired"


def test_the_newest_evidence_counts(app, xapi, admin):
    send(xapi, passed_hlr("E1", days_ago(500)), passed_hlr("E1", days_ago(10)))
    process(app)
    assert admin("E1")["HLR"]["status"] == "fulfilled"


def test_all_modules_rule_needs_every_module(app, xapi, admin):
    lmh = "https://kurs.helse.example.no/lmh/"
    send(xapi, statement("E1", COMPLETED, lmh + "1", days_ago(20)), statement("E1", COMPLETED, lmh + "2", days_ago(10)))
    process(app)
    assert admin("E1")["LMH"]["status"] == "not_yet_due"
    send(xapi, statement("E1", COMPLETED, lmh + "3", days_ago(1)))
    process(app)
    item = admin("E1")["LMH"]
    assert item["status"] == "fulfilled" and item["valid_until"] is None  # medication handling never expires
    assert item["fulfilled_on"] == today(app).isoformat() or item["fulfilled_on"] == (
        today(app) - timedelta(days=1)).isoformat()
    assert len(item["evidence"]) == 3


def test_count_rule_needs_n_sessions_within_the_window(app, xapi, admin):
    def session(days):
        return statement("E1", COMPLETED, f"https://sim.helse.example.no/okt/{days}", days_ago(days),
                         activity_type=SIM_TYPE)
    send(xapi, session(400), session(30))  # 370 days apart: not within 12 months of each other
    process(app)
    assert admin("E1")["TEAM"]["status"] == "not_yet_due"
    send(xapi, session(200))
    process(app)
    item = admin("E1")["TEAM"]
    assert item["status"] == "fulfilled"
    assert len(item["evidence"]) == 2
    # Valid until the older of the two sessions leaves the 12-month window.
    older = app.extensions["competence.settings"].day(days_ago(200))
    assert item["valid_until"] == (older + relativedelta(months=12)).isoformat()


def test_statements_of_unknown_people_are_ignored(app, xapi, admin):
    send(xapi, passed_hlr("NOBODY", days_ago(3)))
    process(app)
    assert admin("E1")["HLR"]["status"] == "not_yet_due"


def test_voiding_removes_the_evidence(app, xapi, admin):
    stmt = passed_hlr("E1", days_ago(3))
    send(xapi, stmt)
    process(app)
    assert admin("E1")["HLR"]["status"] == "fulfilled"
    send(xapi, {"actor": {"mbox": "mailto:admin@helse.example.no"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                "object": {"objectType": "StatementRef", "id": stmt["id"]}})
    process(app)
    assert admin("E1")["HLR"]["status"] == "not_yet_due"
    assert admin("E1")["HLR"]["evidence"] == []


def test_rule_change_is_versioned_and_recomputes(app, xapi, admin):
    send(xapi, passed_hlr("E1", days_ago(3), scaled=0.85))
    process(app)
    assert admin("E1")["HLR"]["status"] == "fulfilled"
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    stricter = {"id": "hlr-kurs", "competence": "HLR", "kind": "any",
                "parts": [{"verbs": [PASSED], "activities": [HLR], "min_scaled": 0.9, "success": True}]}
    with write_transaction(engine) as conn:  # the preview rolls back its savepoint only, not what came before
        imports.import_catalog(conn, settings, "r.yaml", "job_roles:\n  - {code: jordmor, nb: Jordmor, en: Midwife}\n")
        preview = imports.save_rule(conn, settings, stricter, dry_run=True)
    assert [(c.employee_id, c.competence_code, c.previous_status, c.status) for c in preview] == [
        ("E1", "HLR", "fulfilled", "not_yet_due")]
    assert admin("E1")["HLR"]["status"] == "fulfilled"  # a preview keeps nothing
    with write_transaction(engine) as conn:
        assert len(imports.save_rule(conn, settings, stricter)) == 1
        assert imports.save_rule(conn, settings, stricter) is None  # same again: no new version
    assert admin("E1")["HLR"]["status"] == "not_yet_due"
    with engine.connect() as conn:
        from lrs.competence.tables import job_roles, rules
        versions = conn.execute(select(rules.c.version).where(rules.c.rule_id == "hlr-kurs")).scalars().all()
        assert "jordmor" in conn.execute(select(job_roles.c.code)).scalars().all()
    assert sorted(versions) == [1, 2]


def test_expiry_over_time_moves_fulfilled_to_expiring_to_expired(app, xapi, admin):
    taken = days_ago(10)
    send(xapi, passed_hlr("E1", taken))
    process(app)
    valid_until = date.fromisoformat(admin("E1")["HLR"]["valid_until"])
    assert admin("E1")["HLR"]["status"] == "fulfilled"
    with time_machine.travel(days_ago(0) + (valid_until - today(app)) - timedelta(days=59), tick=False):
        assert scheduler.run(app, "competence.expiry")
        assert admin("E1")["HLR"]["status"] == "expiring"
    with time_machine.travel(days_ago(0) + (valid_until - today(app)) + timedelta(days=1), tick=False):
        assert scheduler.run(app, "competence.expiry")
        assert admin("E1")["HLR"]["status"] == "expired"
        assert admin("E1")["LMH"]["status"] == "missing"  # its 90 days for new requirements have passed too


def test_expiry_job_runs_once_per_day(app):
    moment = days_ago(0)
    assert scheduler.run(app, "competence.expiry", moment) is True
    assert scheduler.run(app, "competence.expiry", moment) is False


def test_role_change_leaves_history_and_starts_new_deadlines(app, xapi, admin):
    send(xapi, passed_hlr("E3", days_ago(5)))
    process(app)
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    moved = "employee_id,name,email,unit_id,roles,started_on,left_on\nE3,Per Olsen,,akutt,sykepleier,2018-08-15,\n"
    with write_transaction(engine) as conn:
        report = imports.import_hr(conn, settings, "hr.csv", moved)
    assert report.updated == {"employees": 1, "role assignments": 1}
    e3 = admin("E3")
    assert e3["BRANN"]["status"] == "not_required"
    assert e3["HLR"]["status"] == "fulfilled"  # the earlier course now counts
    assert e3["LMH"]["status"] == "not_yet_due"
    assert e3["LMH"]["due_on"] == (today(app) + timedelta(days=90)).isoformat()


def test_leaving_the_trust_closes_the_plan(app, admin):
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    everyone_but_e2 = "\n".join(line for line in (
        "employee_id,name,email,unit_id,roles,started_on,left_on",
        "E1,Kari Nordmann,kari.nordmann@helse.example.no,akutt,sykepleier,2020-01-06,",
        "E3,Per Olsen,,drift,portor,2018-08-15,",
        "L1,Lise Leder,lise.leder@helse.example.no,med,sykepleier,2015-01-01,")) + "\n"
    with write_transaction(engine) as conn:
        report = imports.import_hr(conn, settings, "hr.csv", everyone_but_e2, full=True)
    assert report.updated == {"employees who left": 1}
    assert {i["status"] for i in admin("E2").values()} == {"closed"}


def test_an_agent_linked_later_brings_its_earlier_statements(app, xapi, admin):
    send(xapi, statement("E3", PASSED, HLR, days_ago(2), {"success": True, "score": {"scaled": 1}})
         | {"actor": {"mbox": "mailto:per.olsen@helse.example.no"}})
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    with write_transaction(engine) as conn:
        imports.import_hr(conn, settings, "hr.csv", "employee_id,name,email,unit_id,roles,started_on,left_on\n"
                          "E3,Per Olsen,per.olsen@helse.example.no,akutt,sykepleier,2018-08-15,\n")
    process(app)
    assert admin("E3")["HLR"]["status"] == "fulfilled"


def test_each_change_is_recorded_and_announced_in_its_transaction(app, xapi):
    with changes.collected() as heard:
        send(xapi, passed_hlr("E1", days_ago(3)))
        process(app)
    assert [(c.employee_id, c.competence_code, c.previous_status, c.status) for c in heard] == [
        ("E1", "HLR", "not_yet_due", "fulfilled")]
    with app.extensions["lrs.engine"].connect() as conn:
        rows = conn.execute(select(status_changes).where(status_changes.c.employee_id == "E1")
                            .order_by(status_changes.c.seq)).all()
    assert [r.status for r in rows if r.competence_code == "HLR"] == ["not_yet_due", "fulfilled"]
    assert rows[-1].event_id == heard[0].event_id


def test_import_is_idempotent_and_reports_what_changed(app):
    again = load_trust(app)
    assert again.lines()[0] == "no changes"
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    with pytest.raises(imports.ImportProblem, match="employees.csv:2: unknown unit nowhere"):
        with write_transaction(engine) as conn:
            imports.import_hr(conn, settings, "employees.csv", "employee_id,name,email,unit_id,roles,started_on\n"
                              "E9,Ny Person,,nowhere,sykepleier,2024-01-01\n")
    with pytest.raises(imports.ImportProblem, match="unknown competence NOPE"), write_transaction(engine) as conn:
        imports.import_catalog(conn, settings, "r.yaml", "rules:\n - {id: x, competence: NOPE, parts: "
                                                         "[{verbs: [http://adlnet.gov/expapi/verbs/passed]}]}\n")


# ------------------------------------------------------------------------------------------------ access

def test_employee_sees_only_their_own_plan(app, sign_in):
    client = app.test_client()
    assert client.get("/api/competence/me/plan").status_code == 401
    sign_in(EMPLOYEE_E1)
    assert client.get("/api/competence/me/plan").get_json()["employee"]["id"] == "E1"
    r = client.get("/api/competence/employees/E2/plan")
    assert r.status_code == 403 and r.get_json() == {
        "error": {"code": 403, "message": "you may not see the plan of employee E2"}}
    assert client.get("/api/competence/units/med/matrix").status_code == 403


def test_leader_sees_their_subtree_only(app, sign_in):
    client = app.test_client()
    sign_in(LEADER_MED)
    assert client.get("/api/competence/employees/E1/plan").status_code == 200  # akutt is under med
    assert client.get("/api/competence/employees/E3/plan").status_code == 403  # drift is not
    assert client.get("/api/competence/units/akutt/matrix").status_code == 200
    assert client.get("/api/competence/units/drift/matrix").status_code == 403
    assert client.get("/api/competence/units/hf/forecast").status_code == 403


def test_matrix_counts_and_forecast(app, xapi, sign_in):
    send(xapi, passed_hlr("E1", days_ago(340)), passed_hlr("E2", days_ago(40)))
    process(app)
    sign_in(LEADER_MED)
    client = app.test_client()
    matrix = client.get("/api/competence/units/med/matrix").get_json()
    rows = {r["employee_id"]: r for r in matrix["employees"]}
    assert set(rows) == {"E1", "E2", "L1"}
    assert rows["E1"]["cells"]["HLR"]["status"] == "expiring"
    assert {c["code"] for c in matrix["competences"]} == {"HLR", "LMH", "TEAM"}
    only = client.get("/api/competence/units/med/matrix?status=expiring").get_json()
    assert [r["employee_id"] for r in only["employees"]] == ["E1"]
    assert client.get("/api/competence/units/med/matrix?status=bogus").status_code == 400
    counts = client.get("/api/competence/units/med/expiring").get_json()
    assert counts["within_days"] == {"30": 1, "60": 1, "90": 1}
    forecast = client.get("/api/competence/units/med/forecast").get_json()
    hlr = next(f for f in forecast["forecast"] if f["competence"]["code"] == "HLR")
    assert len(hlr["months"]) == 12
    assert hlr["months"][0]["required"] == 3
    assert [m["covered"] for m in hlr["months"]][-1] == 0  # both run out within the year
    dropped = [e for m in hlr["months"] for e in m["dropping_out"]]
    assert sorted(dropped) == ["E1", "E2"]


def test_openapi_document_describes_the_api(app):
    doc = app.test_client().get("/api/competence/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/competence/employees/{employee_id}/plan" in doc["paths"]
    assert "Plan" in doc["components"]["schemas"]
    plan_item = doc["components"]["schemas"]["PlanItem"]["properties"]
    assert plan_item["status"]["enum"][0] == "fulfilled"


# ------------------------------------------------------------------------------------------------ manual evidence

def test_registered_evidence_waits_for_attestation_then_counts(app, xapi, sign_in):
    client = app.test_client()
    sign_in(EMPLOYEE_E1)
    r = client.post("/api/competence/me/evidence", json={"competence": "HLR", "title": "HLR-kurs, Røde Kors",
                                                         "completed_on": (today(app) - timedelta(days=7)).isoformat()})
    assert r.status_code == 201, r.get_json()
    evidence_id = r.get_json()["id"]
    assert client.get("/api/competence/me/plan").get_json()["items"][0]["status"] == "awaiting_attestation"
    # The employee cannot attest it, nor can a leader of another subtree.
    assert client.post(f"/api/competence/evidence/{evidence_id}/decision", json={"attest": True}).status_code == 403
    sign_in(LEADER_MED)
    queue = client.get("/api/competence/attestations").get_json()
    assert [q["id"] for q in queue] == [evidence_id]
    r = client.post(f"/api/competence/evidence/{evidence_id}/decision", json={"attest": True})
    assert r.status_code == 200, r.get_json()
    statement_id = r.get_json()["statement_id"]
    assert client.post(f"/api/competence/evidence/{evidence_id}/decision", json={"attest": True}).status_code == 409
    sign_in(EMPLOYEE_E1)
    hlr = {i["competence"]["code"]: i for i in client.get("/api/competence/me/plan").get_json()["items"]}["HLR"]
    assert hlr["status"] == "fulfilled" and hlr["evidence"] == [statement_id]
    # The attestation is an xAPI statement: the employee completed it, the leader as instructor.
    stored = xapi.get(f"/xapi/statements?statementId={statement_id}").get_json()
    assert stored["actor"]["account"]["name"] == "E1"
    assert stored["context"]["instructor"]["account"]["name"] == "L1"
    # Voiding the attestation takes the evidence away.
    send(xapi, {"actor": {"mbox": "mailto:admin@helse.example.no"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                "object": {"objectType": "StatementRef", "id": statement_id}})
    process(app)
    hlr = {i["competence"]["code"]: i for i in client.get("/api/competence/me/plan").get_json()["items"]}["HLR"]
    assert hlr["status"] == "not_yet_due"


def test_bad_evidence_is_refused_with_a_reason(app, sign_in):
    client = app.test_client()
    sign_in(EMPLOYEE_E1)
    future = (today(app) + timedelta(days=3)).isoformat()
    r = client.post("/api/competence/me/evidence", json={"competence": "HLR", "title": "x", "completed_on": future})
    assert r.status_code == 400 and "future" in r.get_json()["error"]["message"]
    r = client.post("/api/competence/me/evidence", json={"competence": "NOPE", "title": "x",
                                                         "completed_on": "2025-01-01"})
    assert r.status_code == 400 and "NOPE" in r.get_json()["error"]["message"]
    r = client.post("/api/competence/me/evidence", json={"title": "x"})
    assert r.status_code == 400 and "competence" in r.get_json()["error"]["message"]
    sign_in(EMPLOYEE_E3)
    assert client.post("/api/competence/evidence/nope/decision", json={"attest": True}).status_code == 403


def test_within_rule_counts_a_course_or_scenario_through_context_activities(app, xapi, admin):
    """"A published course's activities": any statement whose object or context activities include the course."""
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    course = "https://kurs.helse.example.no/kurs/brannvern-2026"
    with write_transaction(engine) as conn:
        imports.save_rule(conn, settings, {"id": "brann-kurs", "competence": "BRANN", "kind": "any", "parts": [
            {"verbs": [PASSED], "within": [course]}]})
    module = statement("E3", PASSED, "https://kurs.helse.example.no/kurs/brannvern-2026/modul-2", days_ago(2),
                       {"success": True})
    send(xapi, module)  # no course in context: does not count
    process(app)
    assert admin("E3")["BRANN"]["status"] == "not_yet_due"
    module = statement("E3", PASSED, "https://kurs.helse.example.no/kurs/brannvern-2026/modul-2", days_ago(1),
                       {"success": True})
    module["context"] = {"contextActivities": {"grouping": [{"id": course}]}}
    send(xapi, module)
    process(app)
    assert admin("E3")["BRANN"]["status"] == "fulfilled"
