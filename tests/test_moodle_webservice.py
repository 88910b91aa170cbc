"""The Moodle bridge's web-services path against a Moodle-shaped REST server on loopback (tests/moodle_server.py):
Moodle's refusals as clear errors, paging, retries and the request cap, the incremental sync into the LRS, and
course completions that fulfil competence requirements through the course -> competence mapping (its rules API
too), the bridge as a job in the LRS app (both ways in), and the CLI against a running LRS."""
import os
import time

import pytest
import requests
import yaml
from click.testing import CliRunner
from flask import g

import xapi_client
from plugins.moodle_bridge import cli, config, job, lrs, mapping, websync
from plugins.moodle_bridge import xapi as xapi_ids
from plugins.moodle_bridge.webservice import (FUNCTIONS, MoodleRefused, MoodleUnreachable, WebService,
                                              php_array_form)
from tests.competence_support import ADMIN, process
from tests.conftest import XAPIClient, basic, make_credential
from tests.moodle_server import TOKEN, Moodle, role_in_docs, running


def small_moodle() -> Moodle:
    moodle = Moodle()
    moodle.add_course(2, "HLR for voksne", "HLR", idnumber="HLR-2024")
    moodle.add_course(3, "Smittevern", "SMITTE", idnumber="SMV")
    moodle.add_course(4, "Uten fullføring", "FRI", enablecompletion=False)
    for uid, name in ((10, "Emma Hansen"), (11, "Ola Nordmann"), (12, "Kari Berg")):
        moodle.add_user(uid, name.split()[0].lower(), name, f"{name.split()[0].lower()}@helse.example.no")
    moodle.enrol(2, 10, 11, 12)
    moodle.enrol(3, 10)
    moodle.add_activity(2, 21, "scorm", "HLR e-læring")
    moodle.add_activity(2, 22, "quiz", "HLR test", graded=True)
    moodle.add_activity(3, 31, "page", "Håndhygiene")
    return moodle


@pytest.fixture
def moodle():
    moodle = small_moodle()
    with running(moodle):
        yield moodle


def client(moodle, token=TOKEN, **kw) -> WebService:
    kw.setdefault("per_second", 0)
    kw.setdefault("backoff", 0)
    return WebService(moodle.site, token, **kw)


# ------------------------------------------------------------------------------------------- the REST client

def test_parameters_go_in_moodles_php_array_form():
    assert php_array_form({"courseid": 2, "options": [{"name": "limitfrom", "value": 0}], "flag": True,
                           "nested": {"ids": [4, 5]}, "gone": None}) == [
        ("courseid", "2"), ("options[0][name]", "limitfrom"), ("options[0][value]", "0"), ("flag", "1"),
        ("nested[ids][0]", "4"), ("nested[ids][1]", "5")]


def test_site_info_and_courses(moodle):
    ws = client(moodle)
    info = ws.site_info()
    assert info["siteurl"] == moodle.site and set(FUNCTIONS) <= {f["name"] for f in info["functions"]}
    assert [c["id"] for c in ws.courses()] == [2, 3, 4]  # not the front page
    assert [c["fullname"] for c in ws.courses([3])] == ["Smittevern"]
    assert [c["id"] for c in ws.courses_by_field("idnumber", "HLR-2024")] == [2]
    assert ws.courses_by_field("idnumber", "NOPE") == []


def test_a_bad_token_is_a_clear_message(moodle):
    with pytest.raises(MoodleRefused) as refused:
        client(moodle, token="wrong").site_info()
    assert refused.value.errorcode == "invalidtoken" and refused.value.fatal
    assert "Invalid token" in str(refused.value) and "make a new one" in str(refused.value)


def test_a_function_missing_from_the_service_is_a_clear_message(moodle):
    moodle.tokens[TOKEN].discard("gradereport_user_get_grade_items")
    with pytest.raises(MoodleRefused) as refused:
        client(moodle).grades(2)
    assert refused.value.errorcode == "accessexception" and refused.value.fatal
    assert "gradereport_user_get_grade_items" in str(refused.value) and "external service" in str(refused.value)


def test_invalid_parameters_say_what_moodle_said(moodle):
    with pytest.raises(MoodleRefused) as refused:
        client(moodle).call("core_enrol_get_enrolled_users", courseid="two")
    assert refused.value.errorcode == "invalidparameter" and not refused.value.fatal
    assert "the server was expecting \"int\" type" in str(refused.value)
    with pytest.raises(MoodleRefused) as refused:
        client(moodle).call("core_course_get_courses_by_field", field="colour", value="blue")
    assert refused.value.errorcode == "invalidparameter"
    with pytest.raises(MoodleRefused, match="nocriteriaset"):
        client(moodle).course_completion(4, 10)


def test_enrolled_users_come_a_page_at_a_time(moodle):
    for uid in range(100, 125):
        moodle.add_user(uid, f"u{uid}", f"User {uid}", f"u{uid}@helse.example.no")
    moodle.enrol(2, *range(100, 125))
    ws = client(moodle, page_size=10)
    users = list(ws.enrolled_users(2))
    assert [u["id"] for u in users] == [10, 11, 12, *range(100, 125)]
    pages = [p for _t, f, p in moodle.calls if f == "core_enrol_get_enrolled_users"]
    assert [p["options"] for p in pages] == [
        [{"name": "limitfrom", "value": str(start)}, {"name": "limitnumber", "value": "10"}]
        for start in (0, 10, 20)]


def test_transient_failures_are_retried(moodle):
    moodle.fail_next[:] = [503, 502]
    assert client(moodle).site_info()["sitename"] == "Helse Test Moodle"
    moodle.fail_next[:] = [503] * 10
    with pytest.raises(MoodleUnreachable, match="HTTP 503"):
        client(moodle, retries=2).site_info()


def test_moodle_that_does_not_answer_is_a_clear_message():
    with pytest.raises(MoodleUnreachable, match="did not answer"):
        WebService("http://127.0.0.1:9", TOKEN, retries=0, timeout=2).site_info()


def test_not_the_rest_server_is_a_clear_message(moodle):
    ws = client(moodle)
    ws.url = moodle.site + "/login/index.php"
    moodle.fail_next[:] = []
    with pytest.raises(MoodleUnreachable, match="HTTP 404"):
        ws.site_info()


def test_calls_are_capped_per_second(moodle):
    ws = client(moodle, per_second=20)
    started = time.monotonic()
    for _ in range(11):
        ws.site_info()
    assert time.monotonic() - started >= 0.5  # 11 calls at 20/s: at least 10 intervals of 50 ms
    times = [t for t, f, _p in moodle.calls if f == "core_webservice_get_site_info"]
    assert times[-1] - times[0] >= 0.4  # as Moodle sees them (a call may arrive a little late, none early)


# ------------------------------------------------------------------------------------- sync into the LRS

HOME = "https://id.helse.example.no"  # the trust's identity provider (IDENTITY_HOMEPAGE)
DAY = 86400


def ago(days: float) -> int:
    return int(time.time() - days * DAY)


def hospital_moodle() -> Moodle:
    """Users whose idnumber is their employee id (as HR feeds Moodle), in HLR (completion by two activities)."""
    moodle = small_moodle()
    for uid, employee in ((10, "E1"), (11, "E2"), (12, "E3")):
        moodle.users[uid]["idnumber"] = employee
    return moodle


def settings_for(moodle, **extra):
    return config.from_mapping({
        "lrs_url": "http://lrs.invalid/xapi", "lrs_key": "unused", "lrs_secret": "unused",
        "site_url": moodle.site, "source": "webservice", "ws_token": TOKEN, "ws_per_second": 0,
        "actor_id": "idnumber", "actor_home_page": HOME, **extra})


def bridge_lrs(app, scopes=job.SCOPES):
    """The LRS as the bridge sees it (its HTTP API, in-process), with a credential of these scopes."""
    cred = make_credential(app, scopes, name="moodle bridge")
    return xapi_client.in_process(app, cred["key"], cred["secret"])


def stored(xapi, **query) -> list[dict]:
    r = xapi.get("/xapi/statements", query_string={"limit": 500, **query})
    assert r.status_code == 200
    return r.get_json()["statements"]


@pytest.fixture
def hospital():
    moodle = hospital_moodle()
    with running(moodle):
        yield moodle


def test_sync_sends_completions_and_grades_as_the_log_path_builds_them(app, xapi, hospital):
    two_days_ago = ago(2)
    hospital.activity_done[(2, 10, 21)] = ago(3)
    hospital.activity_done[(2, 10, 22)] = two_days_ago
    hospital.course_done[(2, 10)] = two_days_ago
    hospital.grades[(2, 10, 2200)] = (85.0, two_days_ago)
    settings = settings_for(hospital)
    summary = websync.run(settings, client(hospital), bridge_lrs(app))
    assert summary.sent == {"activity completions": 2, "course completions": 1, "grades": 1}
    assert summary.statements == 4 and summary.courses == 3 and summary.enrolments == 4
    got = {s["id"]: s for s in stored(xapi)}
    course_url = f"{hospital.site}/course/view.php?id=2"
    completion = got[xapi_ids.course_completion_id(hospital.site, 2, 10, two_days_ago)]
    assert completion["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
    assert completion["object"]["id"] == course_url
    assert completion["actor"]["account"] == {"homePage": HOME, "name": "E1"}
    assert completion["context"]["extensions"][xapi_ids.INFO_EXTENSION]["event_name"] == \
        "\\core\\event\\course_completed"
    quiz = got[xapi_ids.module_completion_id(hospital.site, 22, 10, two_days_ago, 1)]
    assert quiz["object"]["id"] == f"{hospital.site}/mod/quiz/view.php?id=22"
    assert quiz["object"]["definition"]["type"] == xapi_ids.MODULE_TYPES["quiz"]
    assert [p["id"] for p in quiz["context"]["contextActivities"]["parent"]] == [
        f"{hospital.site}/course/section.php?id=201", course_url]
    [grade] = [s for s in got.values() if s["verb"]["id"] == xapi_ids.SCORED["id"]]
    assert grade["result"]["score"] == {"raw": 85.0, "min": 0.0, "max": 100.0, "scaled": 0.85}


def test_grades_of_a_course_without_completion_name_users_as_configured(app, xapi, hospital):
    hospital.enrol(4, 11)
    hospital.add_activity(4, 41, "assign", "Refleksjonsnotat", graded=True)
    hospital.grades[(4, 11, 4100)] = (7.0, ago(1))
    summary = websync.run(settings_for(hospital, actor_id="username", actor_home_page=""), client(hospital),
                          bridge_lrs(app))
    assert summary.sent == {"grades": 1}
    [grade] = stored(xapi)
    assert grade["actor"] == {"objectType": "Agent", "name": "Ola Nordmann",
                              "account": {"homePage": hospital.site, "name": "ola"}}
    assert grade["object"]["id"] == f"{hospital.site}/mod/assign/view.php?id=41"
    assert not [f for _t, f, _p in hospital.calls if f.startswith("core_completion") and _p["courseid"] == "4"]


def test_rerun_sends_nothing_twice_and_then_only_what_is_new(app, xapi, hospital):
    hospital.activity_done[(2, 10, 21)] = ago(3)
    hospital.activity_done[(2, 10, 22)] = ago(2)
    hospital.course_done[(2, 10)] = ago(2)
    hospital.grades[(2, 10, 2200)] = (85.0, ago(2))
    settings, bridge = settings_for(hospital), bridge_lrs(app)
    assert websync.run(settings, client(hospital), bridge).statements == 4
    hospital.calls.clear()
    again = websync.run(settings, client(hospital), bridge)
    assert again.statements == 0 and len(stored(xapi)) == 4
    # Emma completed the course and has not been back: she is not asked about again.
    asked = {(p["courseid"], p["userid"]) for _t, f, p in hospital.calls
             if f == "core_completion_get_course_completion_status"}
    assert ("2", "10") not in asked and ("2", "11") in asked and again.asked == 3
    # New in Moodle: Ola completes the e-learning, Emma's quiz is graded again, Kari completes hand hygiene.
    hospital.activity_done[(2, 11, 21)] = ago(0.5)
    hospital.grades[(2, 10, 2200)] = (95.0, ago(0.4))
    hospital.enrol(3, 12)
    hospital.activity_done[(3, 12, 31)] = ago(0.3)
    hospital.course_done[(3, 12)] = ago(0.3)
    third = websync.run(settings, client(hospital), bridge)
    assert third.sent == {"activity completions": 2, "grades": 1, "course completions": 1}
    assert len(stored(xapi)) == 8
    assert websync.run(settings, client(hospital), bridge).statements == 0


def test_a_run_that_dies_before_its_checkpoint_resends_the_same_statements(app, xapi, hospital):
    hospital.activity_done[(2, 10, 21)] = ago(3)
    settings, bridge = settings_for(hospital), bridge_lrs(app)
    put = bridge.put_document
    bridge.put_document = lambda *a, **k: (_ for _ in ()).throw(lrs.Unreachable("the LRS went away"))
    with pytest.raises(lrs.Unreachable):
        websync.run(settings, client(hospital), bridge)
    assert len(stored(xapi)) == 1  # sent, but not remembered
    bridge.put_document = put
    assert websync.run(settings, client(hospital), bridge).statements == 1  # the same statement again …
    assert len(stored(xapi)) == 1  # … which the LRS knows
    assert websync.run(settings, client(hospital), bridge).statements == 0


def test_a_bad_token_stops_the_sync_with_moodles_message(app, xapi, hospital):
    settings = settings_for(hospital, ws_token="expired")
    with pytest.raises(MoodleRefused, match="invalidtoken"):
        websync.run(settings, websync.web_service(settings), bridge_lrs(app))
    assert stored(xapi) == []


def test_a_course_the_bridge_may_not_see_is_skipped_and_the_rest_synced(app, xapi, hospital):
    hospital.forbidden.add(2)
    hospital.activity_done[(3, 10, 31)] = ago(1)
    summary = websync.run(settings_for(hospital), client(hospital), bridge_lrs(app))
    assert summary.skipped == {"course skipped: requireloginerror": 1}
    assert [s["object"]["id"].rsplit("=", 1)[1] for s in stored(xapi)] == ["31"]


def test_the_cli_says_what_is_wrong_with_the_token(hospital, tmp_path):
    path = tmp_path / "bridge.yaml"
    path.write_text(yaml.safe_dump({"lrs_url": "http://127.0.0.1:9/xapi", "lrs_key": "k", "lrs_secret": "s",
                                    "site_url": hospital.site, "ws_token": "nope", "ws_per_second": 0}))
    result = CliRunner().invoke(cli.main, ["--config", str(path), "sync", "--source", "webservice"])
    assert result.exit_code == 1
    assert "Moodle refused core_webservice_get_site_info: Invalid token" in result.output
    result = CliRunner().invoke(cli.main, ["--config", str(path), "sync"])  # the log way needs its database
    assert result.exit_code == 1 and "log_db_url" in result.output
    path.write_text(path.read_text() + "source: webservice\n")
    result = CliRunner().invoke(cli.main, ["--config", str(path), "backfill"])
    assert result.exit_code == 1 and "the first `sync` is the backfill" in result.output


# ------------------------------------------------------------------------------ course -> competence mapping

def plan_of(app, employee_id) -> dict:
    """An employee's plan as an admin reads it from the competence JSON API."""
    r = app.test_client().get(f"/api/competence/employees/{employee_id}/plan")
    assert r.status_code == 200, r.get_json()
    return {i["competence"]["code"]: i for i in r.get_json()["items"]}


def as_admin(app):
    """Requests to this app are an admin's (the web sign-in does this for real)."""
    app.before_request(lambda: setattr(g, "principal", ADMIN))


def test_a_moodle_course_completion_fulfils_the_requirement_through_the_mapping(trust, sign_in, xapi, hospital):
    app = trust
    settings = settings_for(hospital, competence_map={"HLR-2024": ["HLR"], 3: "BRANN"})
    bridge = rules = bridge_lrs(app)
    answers = mapping.apply(settings, rules, client(hospital))
    host = hospital.site.split("//")[1]
    assert [(a["id"], a["changed"], a["version"]) for a in answers] == [
        (f"moodle:{host}:BRANN", True, 1), (f"moodle:{host}:HLR", True, 1)]
    rule = rules.rule(f"moodle:{host}:HLR")
    assert rule["parts"][0]["activities"] == [f"{hospital.site}/course/view.php?id=2"]
    assert mapping.apply(settings, rules, client(hospital))[1]["changed"] is False  # the same map: no new version

    sign_in(ADMIN)
    assert plan_of(app, "E1")["HLR"]["status"] in ("missing", "not_yet_due")
    completed = ago(2)
    hospital.activity_done[(2, 10, 21)] = hospital.activity_done[(2, 10, 22)] = completed
    hospital.course_done[(2, 10)] = completed
    websync.run(settings, client(hospital), bridge)
    process(app)
    hlr = plan_of(app, "E1")["HLR"]
    assert hlr["status"] == "fulfilled"
    assert hlr["evidence"] == [xapi_ids.course_completion_id(hospital.site, 2, 10, completed)]
    assert plan_of(app, "E2")["HLR"]["status"] in ("missing", "not_yet_due")  # Ola has not completed it

    # A competence dropped from the map: its rule is withdrawn, and what it proved is no longer proof.
    answers = mapping.apply(settings_for(hospital, competence_map={3: ["BRANN"]}), rules, client(hospital))
    assert {a["id"]: a["changed"] for a in answers} == {f"moodle:{host}:BRANN": False, f"moodle:{host}:HLR": True}
    assert [r["id"] for r in rules.rules("moodle:")] == [f"moodle:{host}:BRANN"]
    assert plan_of(app, "E1")["HLR"]["status"] != "fulfilled"


def test_the_mapping_needs_web_services_for_idnumbers_and_says_which_is_unknown(hospital):
    with pytest.raises(mapping.MappingError, match="needs web services"):
        mapping.course_urls(settings_for(hospital, competence_map={"HLR-2024": ["HLR"]}))
    with pytest.raises(mapping.MappingError, match="no Moodle course has the idnumber NOPE"):
        mapping.course_urls(settings_for(hospital, competence_map={"NOPE": ["HLR"]}), client(hospital))
    with pytest.raises(mapping.MappingError, match="list of competence codes"):
        mapping.course_urls(settings_for(hospital, competence_map={2: [3]}), client(hospital))


def test_the_rules_api_checks_who_is_asking_and_what_is_sent(trust, client_for):
    app = trust
    rule = {"competence": "HLR", "parts": [{"verbs": ["http://adlnet.gov/expapi/verbs/completed"],
                                            "activities": ["https://moodle.helse.example.no/course/view.php?id=2"]}]}
    anonymous = app.test_client().put("/api/competence/rules/moodle-hlr", json=rule)
    assert anonymous.status_code == 401
    writer = client_for("statements/write")
    r = writer.put("/api/competence/rules/moodle-hlr", json=rule)
    assert r.status_code == 403 and "competence/rules" in r.get_json()["error"]["message"]
    assert writer.get("/api/competence/rules").status_code == 403
    admin = client_for("competence/rules")
    for body, problem in (({**rule, "competence": "NOPE"}, "unknown competence NOPE"),
                          ({**rule, "id": "other"}, "is not the id in the URL"),
                          ({**rule, "kind": "sometimes"}, "invalid rule"),
                          ({"competence": "HLR", "parts": []}, "invalid rule")):
        r = admin.put("/api/competence/rules/moodle-hlr", json=body)
        assert r.status_code == 400 and problem in r.get_json()["error"]["message"], r.get_json()
    r = admin.put("/api/competence/rules/moodle-hlr", data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.get_json()["error"]["message"]
    assert admin.get("/api/competence/rules/nope").status_code == 404
    r = admin.put("/api/competence/rules/moodle-hlr?dry_run=true", json=rule)
    assert r.status_code == 200 and r.get_json()["changed"] and r.get_json()["version"] is None  # nothing kept
    r = admin.put("/api/competence/rules/moodle-hlr", json=rule)
    assert r.get_json() == {"id": "moodle-hlr", "changed": True, "dry_run": False, "version": 1,
                            "status_changes": 0, "changes": []}
    got = admin.get("/api/competence/rules/moodle-hlr").get_json()
    assert got["competence"] == "HLR" and got["kind"] == "any" and got["active"] and got["version"] == 1
    assert {"id": "moodle-hlr", "competence": "HLR", "version": 1} in admin.get(
        "/api/competence/rules").get_json()["rules"]


# --------------------------------------------------------------------------------------------- in the app

def test_the_app_runs_the_bridge_as_a_job_once_per_slot(db_url, tmp_path, hospital):
    from lrs import create_app, scheduler
    from lrs.store.types import utcnow
    from tests.competence_support import load_trust
    path = tmp_path / "bridge.yaml"
    path.write_text(yaml.safe_dump({
        "site_url": hospital.site, "source": "webservice", "ws_token": TOKEN, "ws_per_second": 0,
        "actor_id": "idnumber", "actor_home_page": HOME, "competence_map": {"HLR-2024": ["HLR"]},
        # Whatever the file says of the LRS, the job sends to the app it runs in.
        "lrs_url": "http://127.0.0.1:9/xapi", "lrs_key": "k", "lrs_secret": "s"}))
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test", "CREDENTIAL_CACHE_SECONDS": 0,
                      "MOODLE_BRIDGE_CONFIG": str(path)})
    app.instance_path = str(tmp_path / "instance")
    as_admin(app)
    try:
        load_trust(app)
        completed = ago(1)
        hospital.activity_done[(2, 10, 21)] = hospital.activity_done[(2, 10, 22)] = completed
        hospital.course_done[(2, 10)] = completed
        # One moment for both turns: two clock readings could fall either side of a slot's boundary
        moment = utcnow()
        assert scheduler.run(app, job.JOB_ID, moment)
        assert not scheduler.run(app, job.JOB_ID, moment)  # another instance's turn is the same slot: it skips
        with app.app_context():
            from sqlalchemy import select
            with app.extensions["lrs.engine"].connect() as conn:
                run = conn.execute(select(scheduler.job_runs).where(scheduler.job_runs.c.job_id == job.JOB_ID)).one()
        assert run.status == "ok", run.error
        process(app)
        assert plan_of(app, "E1")["HLR"]["status"] == "fulfilled"
    finally:
        app.extensions["lrs.engine"].dispose()


# ------------------------------------------------------------------------------ the CLI against a live LRS

def test_map_and_sync_from_the_cli_against_a_running_lrs(hospital, tmp_path, worker_id, monkeypatch):
    from lrs import create_app
    from tests.competence_support import load_trust
    from tests.server_support import database, running as running_lrs
    for name in list(os.environ):
        if name.startswith("MOODLE_BRIDGE_"):
            monkeypatch.delenv(name)
    completed = ago(1)
    hospital.activity_done[(2, 10, 21)] = hospital.activity_done[(2, 10, 22)] = completed
    hospital.course_done[(2, 10)] = completed
    with database("sqlite", tmp_path, worker_id, "_ws_cli") as url, running_lrs(url, workers=1) as server:
        trust = create_app({"DATABASE_URL": url, "SECRET_KEY": "test"})
        load_trust(trust)
        key, secret = server.credential("statements/write", "statements/read", "profile", "competence/rules")
        path = tmp_path / "bridge.yaml"
        path.write_text(yaml.safe_dump({
            "lrs_url": server.url + "/xapi", "site_url": hospital.site, "source": "webservice",
            "actor_id": "idnumber", "actor_home_page": HOME, "ws_per_second": 0,
            "competence_map": {"HLR-2024": ["HLR"]}}))
        env = {"MOODLE_BRIDGE_LRS_KEY": key, "MOODLE_BRIDGE_LRS_SECRET": secret, "MOODLE_BRIDGE_WS_TOKEN": TOKEN}
        runner = CliRunner()
        host = hospital.site.split("//")[1]
        result = runner.invoke(cli.main, ["--config", str(path), "map", "--dry-run"], env=env)
        assert result.exit_code == 0, result.output
        assert f"moodle:{host}:HLR: would change (version None)" in result.output
        result = runner.invoke(cli.main, ["--config", str(path), "map"], env=env)
        assert f"moodle:{host}:HLR: saved (version 1)" in result.output, result.output
        result = runner.invoke(cli.main, ["--config", str(path), "sync"], env=env)
        assert result.exit_code == 0, result.output
        assert "3 statements sent (2 activity completions, 1 course completions)" in result.output
        result = runner.invoke(cli.main, ["--config", str(path), "sync"], env=env)
        assert "0 statements sent (nothing new)" in result.output, result.output
        result = runner.invoke(cli.main, ["--config", str(path), "status"], env=env)
        assert "course 2 HLR: 3 participants followed, 1 course completions sent" in result.output, result.output
        r = requests.get(server.url + "/xapi/statements", auth=(key, secret),
                         headers={"X-Experience-API-Version": "1.0.3"}, timeout=10)
        assert len(r.json()["statements"]) == 3
        result = runner.invoke(cli.main, ["--config", str(path), "map"],
                               env={**env, "MOODLE_BRIDGE_LRS_SECRET": "wrong"})
        assert result.exit_code == 1 and "401" in result.output
        trust.extensions["lrs.engine"].dispose()


def test_a_wrong_mapping_fails_the_job_run_but_the_records_still_arrive(db_url, tmp_path, hospital):
    from lrs import create_app, scheduler
    from tests.competence_support import load_trust
    path = tmp_path / "bridge.yaml"
    path.write_text(yaml.safe_dump({"site_url": hospital.site, "source": "webservice", "ws_token": TOKEN,
                                    "ws_per_second": 0, "competence_map": {"HLR-2024": ["NO-SUCH"]}}))
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test", "CREDENTIAL_CACHE_SECONDS": 0,
                      "MOODLE_BRIDGE_CONFIG": str(path)})
    app.instance_path = str(tmp_path / "instance")
    try:
        load_trust(app)
        hospital.activity_done[(2, 10, 21)] = ago(1)
        assert scheduler.run(app, job.JOB_ID)
        with app.extensions["lrs.engine"].connect() as conn:
            from sqlalchemy import select
            run = conn.execute(select(scheduler.job_runs).where(scheduler.job_runs.c.job_id == job.JOB_ID)).one()
        assert run.status == "failed" and "unknown competence NO-SUCH" in run.error
        cred = make_credential(app, ("statements/read",), name="reader")
        reader = XAPIClient(app.test_client(), basic(cred["key"], cred["secret"]))
        assert len(stored(reader)) == 1
    finally:
        app.extensions["lrs.engine"].dispose()


def test_the_in_app_job_on_the_log_path_with_the_mapping(db_url, tmp_path, worker_id):
    """The other way in, in the app: Moodle's log read from its database, the course mapped by id (no web
    services), and Kari's course completion in the log fulfils her requirement."""
    from lrs import create_app, scheduler
    from tests.competence_support import load_trust
    from tests.moodle_support import SITE, MoodleSite, moodle_database
    with moodle_database("postgresql", f"job_{worker_id}") as moodle_url:
        site = MoodleSite(moodle_url).build()
        site.update("user", site.kari, idnumber="E1")
        site.log("\\core\\event\\course_completed", userid=site.kari, courseid=site.hlr, relateduserid=site.kari,
                 objecttable="course_completions", objectid=1, at=ago(3))
        path = tmp_path / "bridge.yaml"
        path.write_text(yaml.safe_dump({"site_url": SITE, "log_db_url": moodle_url, "actor_id": "idnumber",
                                        "actor_home_page": HOME, "competence_map": {site.hlr: ["HLR"]}}))
        app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test",
                          "CREDENTIAL_CACHE_SECONDS": 0, "MOODLE_BRIDGE_CONFIG": str(path)})
        app.instance_path = str(tmp_path / "instance")
        as_admin(app)
        try:
            load_trust(app)
            assert scheduler.run(app, job.JOB_ID)
            with app.extensions["lrs.engine"].connect() as conn:
                from sqlalchemy import select
                run = conn.execute(select(scheduler.job_runs).where(scheduler.job_runs.c.job_id == job.JOB_ID)).one()
            assert run.status == "ok", run.error
            process(app)
            assert plan_of(app, "E1")["HLR"]["status"] == "fulfilled"
        finally:
            app.extensions["lrs.engine"].dispose()
            site.dispose()


# ------------------------------------------------------ what Moodle 5.1 leaves out, and web services switched off

def test_with_the_role_the_docs_list_completions_are_found(app, xapi, hospital):
    """Moodle gives a course's enablecompletion in core_course_get_courses only to a role with
    moodle/course:update, which the docs' role has not: the bridge reads it from core_course_get_courses_by_field."""
    assert hospital.capabilities == role_in_docs() and "moodle/course:update" not in hospital.capabilities
    assert "enablecompletion" not in client(hospital).courses()[0]
    hospital.activity_done[(2, 10, 21)] = hospital.activity_done[(2, 10, 22)] = ago(2)
    hospital.course_done[(2, 10)] = ago(2)
    summary = websync.run(settings_for(hospital), client(hospital), bridge_lrs(app))
    assert +summary.sent == {"activity completions": 2, "course completions": 1}
    assert summary.asked == 4 and summary.problems == []
    assert "core_course_get_courses_by_field" in {f for _t, f, _p in hospital.calls}


def test_what_moodle_leaves_out_is_said_loudly_with_the_capability_to_add(app, hospital, tmp_path, caplog,
                                                                          monkeypatch):
    hospital.capabilities.discard("mod/quiz:view")
    hospital.forbidden.add(3)
    hospital.activity_done[(2, 10, 21)] = hospital.activity_done[(2, 10, 22)] = ago(2)
    hospital.course_done[(2, 10)] = ago(2)
    hospital.grades[(2, 10, 2200)] = (85.0, ago(2))
    path = tmp_path / "bridge.yaml"
    path.write_text(yaml.safe_dump({"lrs_url": "http://lrs.invalid/xapi", "lrs_key": "k", "lrs_secret": "s",
                                    "site_url": hospital.site, "source": "webservice", "ws_token": TOKEN,
                                    "ws_per_second": 0, "actor_id": "idnumber", "actor_home_page": HOME}))
    settings = config.load(str(path), {})
    bridge = bridge_lrs(app)
    monkeypatch.setattr(cli, "remote", lambda *_a: bridge)  # the CLI's LRS: the app's HTTP API, in-process
    summary = websync.run(settings, client(hospital), bridge)
    assert summary.problems == [
        "Moodle left out quiz module 22 of course 2 (its completions and grades): give the bridge's role "
        "mod/quiz:view (docs/moodle.md)",
        "Moodle left out whether course 3 tracks completion (enablecompletion, core_course_get_courses_by_field): "
        "give the bridge's role moodle/course:view (docs/moodle.md); its completions are asked for anyway"]
    assert +summary.sent == {"activity completions": 1, "course completions": 1}  # not the quiz, nor its grade
    assert "2 warnings" in summary.line()
    assert all(p in caplog.text for p in summary.problems)  # in the log too
    # The CLI says it on lines of their own (Moodle is asked again: the course completion of course 2 is sent,
    # but Ola and Kari have not completed it).
    result = CliRunner().invoke(cli.main, ["--config", str(path), "sync"])
    assert result.exit_code == 0 and "\nWARNING: Moodle left out quiz module 22" in result.output, result.output

    hospital.capabilities.discard("moodle/site:viewuseridentity")
    summary = websync.run(settings, client(hospital), bridge)
    assert any(p.startswith("Moodle left out the participants' idnumber (core_enrol_get_enrolled_users), which "
                            "names them (actor_id): give the bridge's role moodle/site:viewuseridentity")
               for p in summary.problems), summary.problems


def test_web_services_or_rest_switched_off_is_a_hint_where_to_switch_them_on(hospital, tmp_path):
    for switch in ("web_services", "rest"):
        setattr(hospital, switch, False)
        with pytest.raises(MoodleUnreachable) as off:
            client(hospital).site_info()
        setattr(hospital, switch, True)
        message = str(off.value)
        assert "HTTP 403" in message and "web services or the REST protocol is switched off" in message
        assert "Site administration > General > Advanced features > Enable web services" in message
        assert "Site administration > Server > Web services > Manage protocols > REST protocol" in message
    hospital.rest = False
    path = tmp_path / "bridge.yaml"
    path.write_text(yaml.safe_dump({"lrs_url": "http://127.0.0.1:9/xapi", "lrs_key": "k", "lrs_secret": "s",
                                    "site_url": hospital.site, "ws_token": TOKEN, "ws_per_second": 0}))
    result = CliRunner().invoke(cli.main, ["--config", str(path), "sync", "--source", "webservice"])
    assert result.exit_code == 1 and "Manage protocols > REST protocol" in result.output
