"""Edge cases of the competence engine seen on a real trust: timestamps in the future, requirements of every role,
what a rule change does to whom, and plans as they stood on a past day."""
import threading
from datetime import timedelta

import pytest
import yaml
from dateutil.relativedelta import relativedelta

from lrs import registry, scheduler
from lrs.competence import imports
from lrs.store.db import write_transaction
from tests.competence_support import (ADMIN, COMPLETED, DATA, EMPLOYEE_E1, HLR, LEADER_MED, PASSED,
                                      compliant_on_first_of_march, load_trust, now, passed_hlr, process, send,
                                      statement)
from tests.helpers import create_people
from tests.helpers import sign_in as web_sign_in


@pytest.fixture
def admin(app, sign_in):
    sign_in(ADMIN)
    return app.test_client()


def plan_of(client, employee_id, **query):
    r = client.get(f"/api/competence/employees/{employee_id}/plan", query_string=query)
    assert r.status_code == 200, r.get_json()
    return {i["competence"]["code"]: i for i in r.get_json()["items"]}


def today(app):
    return app.extensions["competence.settings"].day(now())


def import_catalog(app, **change):
    """The test catalog with some of its sections changed, imported."""
    catalog = yaml.safe_load((DATA / "catalog.yaml").read_text())
    for section, extend in change.items():
        catalog[section] = catalog[section] + extend
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    with write_transaction(engine) as conn:
        return imports.import_catalog(conn, settings, "catalog.yaml", yaml.safe_dump(catalog))


# ------------------------------------------------------------------------------------- timestamps in the future

def test_a_timestamp_in_the_future_counts_from_when_it_was_stored_and_says_so(app, xapi, admin, sign_in):
    load_trust(app)
    send(xapi, passed_hlr("E1", now() + timedelta(days=180)),  # a clock far ahead: not credited from then
         passed_hlr("E2", now() + timedelta(minutes=2)))  # a clock a little ahead: within the skew allowed
    process(app)
    day = today(app)
    kari, ola = plan_of(admin, "E1")["HLR"], plan_of(admin, "E2")["HLR"]
    assert (kari["status"], kari["fulfilled_on"]) == ("fulfilled", day.isoformat())
    assert kari["valid_until"] == (day + relativedelta(months=12)).isoformat()  # 12 months, not 18
    assert kari["evidence_notes"] == [{"statement_id": kari["evidence"][0], "reason": "future_timestamp"}]
    assert (ola["fulfilled_on"], ola["evidence_notes"]) == (day.isoformat(), [])
    sign_in(None)  # the web page, as Kari signs in to it
    create_people(app.extensions["lrs.engine"])
    web = app.test_client()
    web_sign_in(web, "kari")
    assert "tidsstempel fram i tid" in web.get("/plan").get_data(as_text=True)


@pytest.fixture
def hour_of_skew(monkeypatch):
    monkeypatch.setenv("LRS_COMPETENCE_CLOCK_SKEW_SECONDS", "3600")


def test_the_clock_skew_allowed_is_a_setting(hour_of_skew, app, xapi, admin):
    load_trust(app)
    send(xapi, passed_hlr("E1", now() + timedelta(minutes=30)))
    process(app)
    assert plan_of(admin, "E1")["HLR"]["evidence_notes"] == []


# ------------------------------------------------------------------------------------------ every role

def test_a_requirement_of_every_role_reaches_everyone_with_a_role_also_roles_added_later(app, admin):
    load_trust(app)
    report = import_catalog(app, requirements=[{"role": "*", "competence": "BRANN", "new_employee_days": 60}])
    assert report.created == {"requirements": 1}
    assert all("BRANN" in plan_of(admin, e) for e in ("E1", "E2", "E3", "L1"))
    assert plan_of(admin, "E3")["BRANN"]["due_on"] is not None  # the porter's own requirement still holds
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    with write_transaction(engine) as conn:
        imports.import_catalog(conn, settings, "roles.yaml",
                               "job_roles:\n  - {code: jordmor, nb: Jordmor, en: Midwife}\n")
        imports.import_hr(conn, settings, "hr.csv", "employee_id,name,email,unit_id,roles,started_on,left_on\n"
                          "E9,Nina Ny,,akutt,jordmor,2026-11-01,\n")
    nina = plan_of(admin, "E9")
    assert set(nina) == {"BRANN"} and nina["BRANN"]["status"] == "not_yet_due"
    assert import_catalog(app).removed == {"requirements": 1}  # the list without it: taken away again
    assert plan_of(admin, "E9")["BRANN"]["status"] == "not_required"


def test_every_role_within_a_unit_and_from_a_csv_file(app, admin):
    load_trust(app)
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    reqs = yaml.safe_load((DATA / "catalog.yaml").read_text())["requirements"]
    csv = "role,competence,mandatory,new_employee_days,unit\n" + "".join(
        f"{r['role']},{r['competence']},{r['mandatory']},{r['new_employee_days']},{r.get('unit') or ''}\n"
        for r in reqs) + "*,BRANN,true,30,akutt\n"
    with write_transaction(engine) as conn:
        imports.import_catalog(conn, settings, "requirements.csv", csv)
    assert "BRANN" in plan_of(admin, "E1") and "BRANN" not in plan_of(admin, "E2")


def test_star_is_not_a_job_role_code(app):
    load_trust(app)
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    with pytest.raises(imports.ImportProblem, match=r"\* means every role"), write_transaction(engine) as conn:
        imports.import_catalog(conn, settings, "roles.yaml", "job_roles:\n  - {code: '*', nb: Alle, en: All}\n")


# ------------------------------------------------------------------------------------ rule change preview

STRICTER = {"competence": "HLR", "kind": "any",
            "parts": [{"verbs": [PASSED], "activities": [HLR], "min_scaled": 0.9, "success": True}]}


def test_the_rules_api_preview_says_who_and_what_changes(app, xapi, client_for):
    load_trust(app)
    send(xapi, passed_hlr("E1", now() - timedelta(days=3), scaled=0.85),
         passed_hlr("E2", now() - timedelta(days=3), scaled=0.95))
    process(app)
    rules = client_for("competence/rules")
    r = rules.put("/api/competence/rules/hlr-kurs?dry_run=true", json=STRICTER)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status_changes"] == 1
    assert r.get_json()["changes"] == [{"employee_id": "E1", "name": "Kari Nordmann", "competence": "HLR",
                                        "previous_status": "fulfilled", "status": "not_yet_due",
                                        "valid_until": None}]
    saved = rules.put("/api/competence/rules/hlr-kurs", json=STRICTER).get_json()
    assert [(c["employee_id"], c["status"]) for c in saved["changes"]] == [("E1", "not_yet_due")]


def test_a_preview_hears_only_its_own_changes(app, xapi, client_for, db_url):
    """A plan that changes in another request while a preview runs is not in the preview."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: nothing else changes while a preview's transaction is open")
    load_trust(app)
    send(xapi, passed_hlr("E1", now() - timedelta(days=3), scaled=0.85))
    process(app)
    send(xapi, statement("E3", COMPLETED, "https://kurs.helse.example.no/brann", now() - timedelta(days=1)))
    ran = []

    def meanwhile(_app, *, conn, changes):  # while the preview's transaction is open, the engine job runs elsewhere
        if changes[0].employee_id == "E1" and not ran:
            other = threading.Thread(target=lambda: ran.append(scheduler.run(app, "competence.process")))
            other.start()
            other.join(timeout=60)

    with registry.status_changed.connected_to(meanwhile, sender=app):
        r = client_for("competence/rules").put("/api/competence/rules/hlr-kurs?dry_run=true", json=STRICTER)
    assert ran == [True]
    assert [c["employee_id"] for c in r.get_json()["changes"]] == ["E1"]  # not Per's fire safety course


# ------------------------------------------------------------------------------------------ as of a past day

def test_a_unit_compliant_on_1_march_and_not_now(app, xapi, sign_in):
    march = compliant_on_first_of_march(app, xapi)
    client = app.test_client()
    sign_in(LEADER_MED)  # leads med, and so akutt below it
    then = client.get("/api/competence/units/akutt/matrix", query_string={"as_of": march.isoformat()}).get_json()
    assert then["as_of"] == march.isoformat() and then["compliant"] is True
    assert {c: v["status"] for c, v in then["employees"][0]["cells"].items()} == {
        "HLR": "fulfilled", "LMH": "not_yet_due", "TEAM": "not_yet_due"}
    current = client.get("/api/competence/units/akutt/matrix").get_json()
    assert current["compliant"] is False and current["as_of"] is None
    assert current["employees"][0]["cells"]["HLR"]["status"] == "expired"
    # In May, before the expiry job had ever recorded it: HLR had run out and LMH's deadline had passed.
    may = client.get("/api/competence/units/akutt/matrix",
                     query_string={"as_of": march.replace(month=5, day=10).isoformat()}).get_json()
    assert {c: v["status"] for c, v in may["employees"][0]["cells"].items()} == {
        "HLR": "expired", "LMH": "missing", "TEAM": "not_yet_due"}
    assert may["compliant"] is False
    expiring = client.get("/api/competence/units/akutt/expiring", query_string={"as_of": march.isoformat()})
    assert expiring.get_json()["today"] == march.isoformat() and expiring.get_json()["expired"] == 0


def test_a_plan_as_of_a_day_has_the_statuses_and_history_of_then(app, xapi, sign_in):
    march = compliant_on_first_of_march(app, xapi)
    client = app.test_client()
    sign_in(EMPLOYEE_E1)
    then = client.get("/api/competence/me/plan", query_string={"as_of": march.isoformat()}).get_json()
    assert {i["competence"]["code"]: i["status"] for i in then["items"]} == {
        "HLR": "fulfilled", "LMH": "not_yet_due", "TEAM": "not_yet_due"}
    assert all(h["changed"] < march.isoformat() for h in then["history"])
    hlr = next(i for i in then["items"] if i["competence"]["code"] == "HLR")
    assert hlr["valid_until"] == plan_of(client, "E1")["HLR"]["valid_until"]
    before = client.get("/api/competence/me/plan", query_string={"as_of": (march - timedelta(days=60)).isoformat()})
    assert before.get_json()["items"] == []  # the plan did not exist yet


def test_as_of_is_checked_as_the_current_plan_is(app, xapi, sign_in):
    load_trust(app)
    client = app.test_client()
    sign_in(EMPLOYEE_E1)
    for bad in ("2026-02-30", "1. mars", "2026-3-1x"):
        r = client.get("/api/competence/me/plan", query_string={"as_of": bad})
        assert r.status_code == 400 and "as_of" in r.get_json()["error"]["message"], r.get_json()
    future = (today(app) + timedelta(days=1)).isoformat()
    r = client.get("/api/competence/me/plan", query_string={"as_of": future})
    assert r.status_code == 400 and "in the future" in r.get_json()["error"]["message"]
    yesterday = (today(app) - timedelta(days=1)).isoformat()
    assert client.get("/api/competence/employees/E2/plan", query_string={"as_of": yesterday}).status_code == 403
    assert client.get("/api/competence/units/akutt/matrix", query_string={"as_of": yesterday}).status_code == 403
    sign_in(LEADER_MED)
    assert client.get("/api/competence/units/drift/matrix", query_string={"as_of": yesterday}).status_code == 403
    assert client.get("/api/competence/units/hjerte/matrix", query_string={"as_of": yesterday}).status_code == 200
    sign_in(None)
    assert client.get("/api/competence/units/akutt/matrix", query_string={"as_of": yesterday}).status_code == 401


def test_the_openapi_document_has_as_of_and_evidence_notes(app):
    spec = app.test_client().get("/api/competence/openapi.json").get_json()
    plan_params = spec["paths"]["/api/competence/employees/{employee_id}/plan"]["get"]["parameters"]
    assert any(p["name"] == "as_of" and p["in"] == "query" for p in plan_params)
    matrix_params = spec["paths"]["/api/competence/units/{unit_id}/matrix"]["get"]["parameters"]
    assert {"as_of", "role", "status"} <= {p["name"] for p in matrix_params}
    assert "evidence_notes" in spec["components"]["schemas"]["PlanItem"]["properties"]
    assert "compliant" in spec["components"]["schemas"]["Matrix"]["properties"]
