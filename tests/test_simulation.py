"""Team-training sessions logged through every way in (JSON API, CLI, CSV, web form) reach the LRS as xAPI;
corrections void and resend, deletions void; bad input is refused whole; sessions count for competence."""
import re

import pytest
import requests
from flask import g
from flask.testing import FlaskCliRunner

from lrs.competence import imports
from lrs.principal import Principal
from lrs.store.db import write_transaction
from simulation import cli as sim_cli
from simulation.sessions import SESSION_TYPE, rating_ext
from tests.competence_support import process
from tests.helpers import password_hash
from tests.server_support import Server

pytestmark = pytest.mark.usefixtures("trust")
INSTRUCTOR = Principal("u-l1", "L1", frozenset({"employee", "leader", "instructor"}), frozenset({"med"}))
ADL = "http://adlnet.gov/expapi/verbs/"


def session(**changes):
    raw = {"scenario": "sepsis-akutt", "start": "2026-11-20T09:00:00+01:00", "place": "in_situ",
           "location": "Akuttmottaket, rom 3", "facilitators": ["L1"],
           "participants": [
               {"employee_id": "E1", "profession": "sykepleier", "role": "teamleder",
                "ratings": {"ottawa": {"leadership": 6, "overall": 6}}},
               {"employee_id": "E2", "profession": "lis", "role": "lege"}],
           "team_ratings": {"team": {"communication": 3, "global": 8}},
           "debrief": {"held": True, "minutes": 25, "learning_points": "Si høyt hva du gjør", "shareable": False}}
    raw.update(changes)
    return raw


@pytest.fixture
def instructor(app):
    @app.before_request
    def _signed_in():
        g.principal = INSTRUCTOR
    return app.test_client()


def stored(xapi, **query):
    r = xapi.get("/xapi/statements", query_string={"limit": 500, **query})
    assert r.status_code == 200
    return r.get_json()["statements"]


def test_logging_sends_each_participants_statements(app, instructor, xapi):
    r = instructor.post("/api/simulation/sessions", json=session())
    assert r.status_code == 201, r.get_json()
    done = r.get_json()
    assert done["statements"] == 2 * 2 + 2  # attended + completed per participant, one per team rating
    stmts = stored(xapi)
    by_verb = {}
    for s in stmts:
        by_verb.setdefault(s["verb"]["id"], []).append(s)
    assert len(by_verb[ADL + "attended"]) == 2 and len(by_verb[ADL + "completed"]) == 2
    kari = next(s for s in by_verb[ADL + "completed"] if s["actor"]["account"]["name"] == "E1")
    assert kari["object"]["definition"]["type"] == SESSION_TYPE
    assert kari["context"]["instructor"]["account"]["name"] == "L1"
    assert {m["account"]["name"] for m in kari["context"]["team"]["member"]} == {"E1", "E2"}
    assert kari["result"]["extensions"][rating_ext("ottawa", "overall")] == 6
    assert kari["result"]["score"] == {"raw": 6, "min": 1, "max": 7, "scaled": 0.8333}
    ext = "https://kompetanse.helse.example.no/xapi/simulation/extensions/"
    assert kari["context"]["extensions"][ext + "role"] == "teamleder"
    assert ext + "learning-points" not in kari["context"]["extensions"]  # not shareable: kept out
    team = by_verb[ADL + "scored"]
    assert {s["context"]["extensions"][ext + "item"] for s in team} == {"communication", "global"}
    assert all(s["actor"]["objectType"] == "Group" for s in team)
    assert len({s["context"]["registration"] for s in stmts}) == 1
    assert [s["scenario"] for s in instructor.get("/api/simulation/sessions").get_json()] == ["sepsis-akutt"]


def test_correction_voids_and_resends_deletion_voids_all(app, instructor, xapi):
    session_id = instructor.post("/api/simulation/sessions", json=session()).get_json()["id"]
    fixed = session(participants=[{"employee_id": "E1", "profession": "sykepleier", "role": "teamleder"}])
    r = instructor.put(f"/api/simulation/sessions/{session_id}", json=fixed)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["voided"] == 6 and r.get_json()["statements"] == 4
    live = stored(xapi)
    people = {s["actor"].get("account", {}).get("name") for s in live if s["verb"]["id"] == ADL + "completed"}
    assert people == {"E1"}
    r = instructor.delete(f"/api/simulation/sessions/{session_id}")
    assert r.status_code == 200 and r.get_json()["voided"] == 4
    assert [s for s in stored(xapi) if s["verb"]["id"] != ADL + "voided"] == []
    assert instructor.get(f"/api/simulation/sessions/{session_id}").status_code == 404


def test_a_correction_on_another_instance_voids_what_this_one_logged(app, instructor, xapi):
    """Each instance keeps its own simulation credential (in its instance folder); voiding is limited to a
    credential's own statements unless it holds statements/void/any, which simulation's credential does."""
    import os
    session_id = instructor.post("/api/simulation/sessions", json=session()).get_json()["id"]
    for name in os.listdir(app.instance_path):  # another instance: no kept credential yet
        if name.startswith("simulation-credential-"):
            os.remove(os.path.join(app.instance_path, name))
    app.extensions.pop("simulation.credential", None)
    r = instructor.delete(f"/api/simulation/sessions/{session_id}")
    assert r.status_code == 200 and r.get_json()["voided"] == 6, r.get_json()
    assert [s for s in stored(xapi) if s["verb"]["id"] != ADL + "voided"] == []


@pytest.mark.parametrize("change, message", [
    ({"participants": [{"employee_id": "E99", "profession": "lis", "role": "lege"}]}, "no employee with id «E99»"),
    ({"team_ratings": {"team": {"global": 11}}}, "is rated 11, outside 1–10"),
    ({"team_ratings": {"ants": {"team-working": 3}}}, "does not use the rating scale «ants»"),
    ({"scenario": "nope"}, "unknown scenario «nope»"),
    ({"start": "i går"}, "start: Not a valid datetime."),
])
def test_bad_input_is_refused_with_a_reason_and_nothing_is_sent(app, instructor, xapi, change, message):
    r = instructor.post("/api/simulation/sessions", json=session(**change))
    assert r.status_code == 400 and message in r.get_json()["error"]["message"], r.get_json()
    assert stored(xapi) == []


def test_duplicate_session_is_refused_and_a_retry_sends_nothing_twice(app, instructor, xapi):
    assert instructor.post("/api/simulation/sessions", json=session()).status_code == 201
    r = instructor.post("/api/simulation/sessions", json=session())
    assert r.status_code == 409 and "already logged" in r.get_json()["error"]["message"]
    assert len(stored(xapi)) == 6


def test_an_lrs_that_does_not_answer_is_a_502_saying_so(app, instructor, xapi):
    app.config.update(SIMULATION_LRS_URL="http://127.0.0.1:9/xapi", SIMULATION_LRS_KEY="k", SIMULATION_LRS_SECRET="s")
    r = instructor.post("/api/simulation/sessions", json=session())
    assert r.status_code == 502 and "the LRS at http://127.0.0.1:9/xapi did not answer" in r.get_json()["error"]["message"]
    assert stored(xapi) == []


def test_only_instructors_log_sessions(app):
    client = app.test_client()
    assert client.post("/api/simulation/sessions", json=session()).status_code == 401


def test_sessions_fulfil_a_competence_requirement(app, instructor, xapi):
    """TEAM needs 2 completed sessions within 12 months (tests/data/catalog.yaml); a rule can also ask for a rating."""
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    with write_transaction(engine) as conn:
        imports.save_rule(conn, settings, {
            "id": "team-sim", "competence": "TEAM", "kind": "count", "count": 2, "within_months": 12,
            "parts": [{"verbs": [ADL + "completed"], "activity_types": [SESSION_TYPE],
                       "min_extensions": {rating_ext("ottawa", "overall"): 5}}]})
    instructor.post("/api/simulation/sessions", json=session())
    process(app)
    plan = {i["competence"]["code"]: i for i in instructor.get("/api/competence/employees/E1/plan").get_json()["items"]}
    assert plan["TEAM"]["status"] == "not_yet_due"
    instructor.post("/api/simulation/sessions", json=session(start="2026-11-22T13:00:00+01:00"))
    process(app)
    plan = {i["competence"]["code"]: i for i in instructor.get("/api/competence/employees/E1/plan").get_json()["items"]}
    assert plan["TEAM"]["status"] == "fulfilled" and len(plan["TEAM"]["evidence"]) == 2


def test_cli_logs_through_a_live_lrs_and_csv_imports_a_day(app, db_url, tmp_path, xapi):
    if db_url.startswith("postgresql"):
        pytest.skip("one live-server run is enough (SQLite)")
    server = Server(db_url, workers=1, threads=2, env={"LRS_SECRET_KEY": "t"}).start(timeout=60)
    try:
        key, secret = server.credential("statements/write", "statements/read", "profile", "competence/directory")
        app.config.update(SIMULATION_LRS_URL=server.url + "/xapi", SIMULATION_LRS_KEY=key,
                          SIMULATION_LRS_SECRET=secret)
        runner = FlaskCliRunner(app)
        (tmp_path / "okt.yaml").write_text(
            "scenario: hjertestans-sengepost\nstart: 2026-11-21T10:00:00+01:00\nplace: in_situ\n"
            "facilitators: [L1]\nparticipants:\n  - {employee_id: E1, profession: sykepleier, role: teamleder}\n"
            "team_ratings: {team: {global: 7}}\n")
        out = runner.invoke(sim_cli.log_command, [str(tmp_path / "okt.yaml")])
        assert out.exit_code == 0 and "logged session" in out.output, out.output
        (tmp_path / "dag.csv").write_text(
            "session,scenario,start,place,location,facilitators,employee_id,profession,role,attended,team:team:global\n"
            "1,sepsis-akutt,2026-11-24T09:00+01:00,sim_centre,Simsenteret,L1,E1,sykepleier,teamleder,yes,6\n"
            "1,,,,,,E2,lis,lege,yes,\n"
            "2,traume-mottak,2026-11-24T13:00+01:00,sim_centre,Simsenteret,L1,E2,lis,traumeleder,yes,\n"
            "2,,,,,,E99,lis,lege,yes,\n")
        out = runner.invoke(sim_cli.import_command, [str(tmp_path / "dag.csv")])
        assert out.exit_code != 0 and "1 of 2 sessions not logged" in out.output
        assert "no employee with id «E99»" in out.output
        live = requests.get(server.url + "/xapi/statements", params={"limit": 100}, auth=(key, secret),
                            headers={"X-Experience-API-Version": "1.0.3"}, timeout=10).json()["statements"]
    finally:
        server.stop()
    names = sorted(s["object"]["definition"]["name"]["nb-NO"] for s in live if s["verb"]["id"] == ADL + "completed")
    assert names == ["Hjertestans på sengepost", "Sepsis i akuttmottaket", "Sepsis i akuttmottaket"]


def test_web_form_logs_a_session_and_the_page_summarises(app, instructor, xapi):
    page = instructor.get("/sim/new?scenario=sepsis-akutt").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    r = instructor.post("/sim/new?scenario=sepsis-akutt", data={
        "csrf_token": token, "start": "2026-11-23T08:30", "place": "in_situ", "location": "Akutten",
        "facilitators": "", "participants": "E1; sykepleier; teamleder\nE2; lis; lege",
        "team:team:global": "9", "team:ottawa:overall": "6", "debrief_held": "yes", "debrief_minutes": "20",
        "learning_points": "", "shareable": "no"})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert len(stored(xapi)) == 2 * 2 + 2
    overview = instructor.get("/sim/").get_data(as_text=True)
    assert "Sepsis i akuttmottaket" in overview and "1 økter, 2 deltakelser." in overview
    bad = instructor.post("/sim/new?scenario=sepsis-akutt", data={
        "csrf_token": token, "start": "2026-11-23T10:30", "place": "in_situ", "participants": "E77; lis; lege"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Ukjent person: ingen ansatt har nummer «E77»." in text
    assert 'value="2026-11-23T10:30"' in text


OUTSIDER = Principal("u-instr", None, frozenset({"instructor"}), username="instruktor")


@pytest.fixture
def outsider(app):
    """An instructor from the simulation centre: an account, no employee."""
    @app.before_request
    def _signed_in():
        g.principal = OUTSIDER
    return app.test_client()


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def test_an_instructor_who_is_no_employee_logs_a_session_and_sees_it(app, outsider, xapi):
    page = outsider.get("/sim/new?scenario=hjertestans-sengepost").get_data(as_text=True)
    assert "deg selv (user:instruktor)" in page
    r = outsider.post("/sim/new?scenario=hjertestans-sengepost", data={
        "csrf_token": token_of(page), "rows": "4", "start": "2026-11-24T08:30", "place": "in_situ",
        "location": "Sengepost 3", "facilitators": "", "p0_id": "E1", "p0_profession": "sykepleier",
        "p0_role": "teamleder", "p0:ants:task-management": "3", "p0:ants:decision-making": "4",
        "p1_id": "E2", "p1_profession": "lis", "p1_role": "lege", "p1:ants:team-working": "2",
        "team:team:global": "7", "debrief_held": "yes", "debrief_minutes": "15", "action": "log"})
    assert r.status_code == 302, r.get_data(as_text=True)
    completed = {s["actor"]["account"]["name"]: s for s in stored(xapi, verb=ADL + "completed")}
    assert completed["E1"]["result"]["extensions"] == {rating_ext("ants", "task-management"): 3,
                                                      rating_ext("ants", "decision-making"): 4}
    assert completed["E2"]["result"]["extensions"] == {rating_ext("ants", "team-working"): 2}
    assert completed["E1"]["context"]["instructor"]["account"]["name"] == "instruktor"
    overview = outsider.get("/sim/").get_data(as_text=True)
    assert "Du har logget 1 økter" in overview and "Hjertestans på sengepost" in overview
    assert [s["scenario"] for s in outsider.get("/api/simulation/sessions").get_json()] == ["hjertestans-sengepost"]
    browsed = outsider.get("/statements").get_data(as_text=True)  # the statements of the sessions they led
    assert browsed.count('<a href="/statements/') == 2 * 2 + 1


def test_the_form_says_what_is_wrong_in_words_and_keeps_what_was_typed(app, outsider, xapi):
    page = outsider.get("/sim/new?scenario=traume-mottak").get_data(as_text=True)
    assert "Vurdering: ANTS" in page and "Vurdering: Ottawa Global Rating Scale" in page  # every participant scale
    r = outsider.post("/sim/new?scenario=traume-mottak", data={
        "csrf_token": token_of(page), "rows": "4", "start": "2026-11-24T08:30", "place": "sim_centre",
        "location": "Simsenteret", "p0_id": "E1", "p0_profession": "sykepleier", "p0_role": "",
        "p0:ottawa:overall": "9", "learning_points": "Rollefordeling tidlig", "action": "log"})
    text = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Deltaker 1 (E1): skriv både yrke og rolle i scenarioet." in text
    assert "«Samlet vurdering av CRM-ferdigheter» (Ottawa Global Rating Scale) må være et tall fra 1 til 7." in text
    assert 'value="Simsenteret"' in text and ">Rollefordeling tidlig</textarea>" in text and 'value="9"' in text
    assert stored(xapi) == []
    more = outsider.post("/sim/new?scenario=traume-mottak", data={
        "csrf_token": token_of(page), "rows": "4", "p0_id": "E1", "action": "more"}).get_data(as_text=True)
    assert 'id="p5_id"' in more and 'name="p0_id" value="E1"' in more
    outsider.get("/lang/en")
    english = outsider.get("/sim/new?scenario=traume-mottak").get_data(as_text=True)
    assert "Log a simulation session" in english and "Participant 1" in english


def test_scenario_rules_from_the_catalog_count_its_sessions(app, instructor):
    from simulation.catalog import competence_rules
    engine, settings = app.extensions["lrs.engine"], app.extensions["competence.settings"]
    rules = {r["id"]: r for r in competence_rules()}
    assert {r["competence"] for r in rules.values()} >= {"TEAM", "TRAUME", "HLR-V"}
    # Replaces the trust's count rule for TEAM: one completed sepsis session is enough.
    with write_transaction(engine) as conn:
        imports.save_rule(conn, settings, {**rules["sim-sepsis-akutt-team"], "id": "team-sim"})
    instructor.post("/api/simulation/sessions", json=session())
    process(app)
    plan = {i["competence"]["code"]: i for i in instructor.get("/api/competence/employees/E2/plan").get_json()["items"]}
    assert "TEAM" not in plan  # E2 is not in akutt: not required
    plan = {i["competence"]["code"]: i for i in instructor.get("/api/competence/employees/E1/plan").get_json()["items"]}
    assert plan["TEAM"]["status"] == "fulfilled"


@pytest.mark.xdist_group("server")
def test_json_api_of_a_live_server_logs_corrects_and_deletes(tmp_path):
    """The JSON API as an instructor's tablet uses it: signed in over HTTP to a running server; the statements are
    read back from that server's xAPI resource."""
    from lrs import create_app
    from lrs.store.migrate import upgrade
    from lrs.web import accounts
    from tests.competence_support import load_trust
    from tests.conftest import fresh_database
    with fresh_database("sqlite", tmp_path, "simlive") as url:
        setup = create_app({"DATABASE_URL": url, "SECRET_KEY": "t"})
        upgrade(setup.extensions["lrs.engine"])
        load_trust(setup)
        with write_transaction(setup.extensions["lrs.engine"]) as conn:
            accounts.create(conn, "lise", "Lise", ["employee", "instructor"],
                            password_hash(), employee_id="L1")
        setup.extensions["lrs.engine"].dispose()
        server = Server(url, workers=1, threads=4, env={"LRS_SECRET_KEY": "t"}).start(timeout=60)
        try:
            key, secret = server.credential("statements/read")
            tablet = requests.Session()
            page = tablet.get(server.url + "/login", timeout=10).text
            token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
            tablet.post(server.url + "/login", data={"username": "lise", "password": "et langt passord 123",
                                                     "csrf_token": token}, timeout=10)
            made = tablet.post(server.url + "/api/simulation/sessions", json=session(), timeout=30)
            assert made.status_code == 201, made.text
            session_id = made.json()["id"]

            def live():
                r = requests.get(server.url + "/xapi/statements", params={"limit": 100}, auth=(key, secret),
                                 headers={"X-Experience-API-Version": "1.0.3"}, timeout=10).json()["statements"]
                return [s for s in r if s["verb"]["id"] != ADL + "voided"]
            assert len(live()) == 6
            fixed = session(participants=[{"employee_id": "E1", "profession": "sykepleier", "role": "teamleder"}])
            assert tablet.put(f"{server.url}/api/simulation/sessions/{session_id}", json=fixed, timeout=30).ok
            assert {s["actor"].get("account", {}).get("name") for s in live()
                    if s["verb"]["id"] == ADL + "completed"} == {"E1"}
            assert tablet.delete(f"{server.url}/api/simulation/sessions/{session_id}", timeout=30).ok
            assert live() == []
        finally:
            server.stop()
