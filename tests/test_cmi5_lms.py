"""The LMS side of cmi5 through the JSON API, the fetch URL and the xAPI resources, as an AU uses them."""
import pytest

from lrs.cmi5 import competence_map, vocab
from lrs.store.db import read_transaction
from tests.cmi5_support import AU, BAD_PACKAGES, COURSE_ID, Admin, au_xml, course_xml, zip_package
from tests.conftest import XAPIClient


@pytest.fixture
def admin(app):
    return Admin(app)


@pytest.fixture
def course(admin):
    r = admin.import_()
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def verbs(xapi, registration):
    r = xapi.get("/xapi/statements", query_string={"registration": registration, "ascending": "true"})
    return [(vocab.name(s["verb"]["id"]), s["object"]["id"]) for s in r.get_json()["statements"]]


def launched(app, admin, course, au=0, **extra):
    r = admin.launch(course["id"], au=au, **extra)
    assert r.status_code == 201, r.get_json()
    return AU(app, r.get_json()["url"])


# ------------------------------------------------------------------------------------------------ import

def test_import_keeps_structure_and_makes_lms_ids(course):
    assert course["version"] == 1 and course["competences"] == ["HH-01"]
    aus = course["aus"]
    assert [a["publisher_id"] for a in aus] == [f"{COURSE_ID}/au/{n}" for n in (1, 2, 3)]
    assert [a["move_on"] for a in aus] == ["CompletedAndPassed", "Completed", "NotApplicable"]
    assert aus[0]["mastery_score"] == 0.8
    # cmi5 8.1.5 / 9.4: the LMS's ids differ from the publisher's
    assert all(a["activity_id"] != a["publisher_id"] for a in aus) and course["activity_id"] != COURSE_ID
    block = course["structure"]["children"][0]["block"]
    assert block["publisher_id"] == f"{COURSE_ID}/block/1" and block["id"] != block["publisher_id"]
    assert [c for c in block["children"]] == [{"au": 0}, {"au": 1}]


def test_reimport_same_package_is_idempotent_and_a_new_one_is_a_version(admin, course):
    again = admin.import_()
    assert again.status_code == 200 and again.get_json()["id"] == course["id"]
    newer = admin.import_(zip_package(course_xml(competences=("HH-01", "HH-02"))))
    assert newer.status_code == 201 and newer.get_json()["version"] == 2
    assert len(admin.open("GET", "/cmi5/api/courses").get_json()["courses"]) == 2


@pytest.mark.parametrize("data, message", [
    (b"not xml", "not well-formed"),
    (course_xml().replace(b"<description>", b"<summary>", 1).replace(b"</description>", b"</summary>", 1),
     "course structure schema"),
    (course_xml().replace(b'moveOn="Completed"', b'moveOn="Sometimes"'), "course structure schema"),
    (course_xml(), "relative"),  # cmi5.xml alone must use absolute URLs (14.2)
    (zip_package(files={"other.html": b""}), "names no file in the package"),
])
def test_import_rejects_bad_packages_with_a_reason(admin, data, message):
    r = admin.import_(data)
    assert r.status_code == 400 and message in r.get_json()["error"]["message"]


@pytest.mark.parametrize("name", BAD_PACKAGES)
def test_import_refuses_what_the_xsd_cannot_say_naming_the_element(admin, name):
    data, message = BAD_PACKAGES[name]
    r = admin.import_(data)
    assert r.status_code == 400, r.get_json()
    assert message in r.get_json()["error"]["message"]
    assert admin.open("GET", "/cmi5/api/courses").get_json()["courses"] == []  # nothing stored


def test_import_takes_objectives_query_strings_and_escaped_names(admin):
    body = (f'<objectives><objective id="{COURSE_ID}/m"><title><langstring lang="nb">M</langstring></title>'
            '<description><langstring lang="nb">d</langstring></description></objective></objectives>'
            + au_xml(1, url="au1/my%20page.html?lang=nb&amp;mode=").replace(
                "<url>", f'<objectives><objective idref="{COURSE_ID}/m"/></objectives><url>'))
    r = admin.import_(zip_package(course_xml(body), files={"au1/my page.html": b"<!doctype html>"}))
    assert r.status_code == 201, r.get_json()


def test_api_needs_the_cmi5_scope(app, admin, course):
    other = Admin(app, scopes=("statements/write",))
    assert other.open("GET", "/cmi5/api/courses").status_code == 403
    assert app.test_client().get("/cmi5/api/courses").status_code == 401
    assert Admin(app, scopes=("all",)).open("GET", "/cmi5/api/courses").status_code == 200


def test_package_files_are_served(app, course):
    r = app.test_client().get(f"/cmi5/content/{course['id']}/au1/index.html")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert app.test_client().get(f"/cmi5/content/{course['id']}/nope.html").status_code == 404


def test_competence_map_for_the_engine(app, admin, course):
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        mapping = competence_map(conn)
    assert mapping[course["activity_id"]] == ["HH-01"] and mapping[COURSE_ID] == ["HH-01"]
    assert all(mapping[a["activity_id"]] == ["HH-01"] for a in course["aus"])
    r = admin.open("PUT", f"/cmi5/api/courses/{course['id']}/competences", json={"competences": ["X-9"]})
    assert r.status_code == 200
    with read_transaction(app.extensions["lrs.engine"]) as conn:
        assert competence_map(conn)[course["activity_id"]] == ["X-9"]


# ------------------------------------------------------------------------------------------------ launch

def test_launch_url_launch_data_and_launched_statement(app, admin, course, xapi):
    r = admin.launch(course["id"], au=0, return_url="https://plan.example.no/")
    body = r.get_json()
    au = AU(app, body["url"])
    assert body["url"].startswith(f"http://localhost/cmi5/content/{course['id']}/au1/index.html?")
    assert au.endpoint == "http://localhost/xapi" and au.activity_id == course["aus"][0]["activity_id"]
    assert au.actor == {"objectType": "Agent", "account": {"homePage": app.config["IDENTITY_HOMEPAGE"], "name": "e1001"}}
    au.start()
    data = au.launch_data
    assert data["launchMode"] == "Normal" and data["moveOn"] == "CompletedAndPassed" and data["masteryScore"] == 0.8
    assert data["returnURL"] == "https://plan.example.no/"
    assert data["contextTemplate"]["contextActivities"]["grouping"] == [{"id": f"{COURSE_ID}/au/1"}]
    assert au.session_id == body["session_id"]
    stmts = xapi.get("/xapi/statements", query_string={"registration": au.registration,
                                                       "verb": vocab.LAUNCHED}).get_json()["statements"]
    [launch] = stmts
    ext = launch["context"]["extensions"]
    assert ext[vocab.SESSION_ID] == au.session_id and ext[vocab.LAUNCH_MODE] == "Normal"
    assert ext[vocab.MOVE_ON] == "CompletedAndPassed" and ext[vocab.MASTERY_SCORE] == 0.8
    assert ext[vocab.LAUNCH_URL] == f"http://localhost/cmi5/content/{course['id']}/au1/index.html"
    assert {"id": vocab.CATEGORY} in launch["context"]["contextActivities"]["category"]


def test_launched_statement_keeps_the_au_urls_own_query(app, admin, xapi):
    body = au_xml(1, url="au1/index.html?lang=nb&amp;chapter=2")
    course = admin.import_(zip_package(course_xml(body), files={"au1/index.html": b"<!doctype html>"})).get_json()
    url = admin.launch(course["id"]).get_json()["url"]
    au_url = f"http://localhost/cmi5/content/{course['id']}/au1/index.html?lang=nb&chapter=2"
    assert url.startswith(au_url + "&endpoint=")
    au = AU(app, url)
    [launch] = xapi.get("/xapi/statements", query_string={"registration": au.registration, "verb": vocab.LAUNCHED}
                        ).get_json()["statements"]
    assert launch["context"]["extensions"][vocab.LAUNCH_URL] == au_url


@pytest.mark.parametrize("path", ["/xapi/statements", "/xapi/statements/", "/xapi//statements", "/xapi//statements/"])
def test_xapi_paths_answer_without_redirects_for_cross_origin_content(app, admin, course, path):
    """Content on another origin appends /statements to the launch endpoint (with or without a slash of its own):
    each form is answered directly, CORS included, because a browser follows no redirect on a preflight."""
    au = launched(app, admin, course).start()
    origin = {"Origin": "https://innhold.example.no"}
    pre = au.client.options(path, headers={**origin, "Access-Control-Request-Method": "POST",
                                           "Access-Control-Request-Headers": "authorization,content-type"})
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Origin"] == origin["Origin"]
    assert "Authorization" in pre.headers["Access-Control-Allow-Headers"]
    r = au.xapi.post(path, json=[au.initialized()], headers=origin)
    assert r.status_code == 200, (r.status_code, r.headers.get("Location"))
    assert r.headers["Access-Control-Allow-Origin"] == origin["Origin"]
    got = au.xapi.get(path, query_string={"registration": au.registration}, headers=origin)
    assert got.status_code == 200 and got.get_json()["statements"]


def test_not_applicable_au_is_satisfied_at_registration(app, admin, course, xapi):
    au = launched(app, admin, course)
    prog = admin.open("GET", f"/cmi5/api/registrations/{au.registration}").get_json()
    assert [a["satisfied"] for a in prog["aus"]] == [False, False, True]
    assert ("satisfied", course["activity_id"]) not in verbs(xapi, au.registration)


def test_fetch_url_gives_the_token_once(app, admin, course):
    au = launched(app, admin, course)
    first = au.fetch()
    assert set(first) == {"auth-token"}
    again = au.fetch()
    assert again["error-code"] == "1"
    assert app.test_client().post("/cmi5/fetch/unknown").get_json()["error-code"] == "2"
    assert app.test_client().get(au.fetch_url).status_code == 405


def test_full_session_passes_and_satisfies_block_and_course(app, admin, course, xapi):
    reg = None
    for index in (0, 1):
        au = launched(app, admin, course, au=index, **({"registration": reg} if reg else {})).start()
        reg = au.registration
        sent = [au.initialized()] + ([au.passed()] if index == 0 else []) + [au.completed(), au.terminated()]
        r = au.send(*sent)
        assert r.status_code == 200, r.get_json()
    got = verbs(xapi, reg)
    block_id = course["structure"]["children"][0]["block"]["id"]
    a1, a2 = (a["activity_id"] for a in course["aus"][:2])
    # satisfied follows the batch that earned it
    assert got == [("launched", a1), ("initialized", a1), ("passed", a1), ("completed", a1), ("terminated", a1),
                   ("launched", a2), ("initialized", a2), ("completed", a2), ("terminated", a2),
                   ("satisfied", block_id), ("satisfied", course["activity_id"])]
    prog = admin.open("GET", f"/cmi5/api/registrations/{reg}").get_json()
    assert prog["satisfied"] and prog["blocks_satisfied"] == [block_id]
    assert prog["aus"][0]["passed"] and prog["aus"][0]["score"] == 0.9
    # the satisfied statements carry the session id of the launch that earned them (9.3.9)
    sat = xapi.get("/xapi/statements", query_string={"registration": reg, "verb": vocab.SATISFIED}).get_json()
    assert {s["context"]["extensions"][vocab.SESSION_ID] for s in sat["statements"]} == {au.session_id}
    assert {s["object"]["definition"]["type"] for s in sat["statements"]} == {vocab.BLOCK_TYPE, vocab.COURSE_TYPE}


def test_relaunch_abandons_the_open_session(app, admin, course, xapi):
    first = launched(app, admin, course).start()
    assert first.send(first.initialized()).status_code == 200
    second = launched(app, admin, course, registration=first.registration)
    abandoned = xapi.get("/xapi/statements", query_string={"registration": first.registration,
                                                           "verb": vocab.ABANDONED}).get_json()["statements"]
    assert [s["context"]["extensions"][vocab.SESSION_ID] for s in abandoned] == [first.session_id]
    assert "duration" in abandoned[0]["result"]
    # The abandoned session's token no longer works (credential revoked)
    assert first.send(first.completed()).status_code == 401
    second.start()
    assert second.send(second.initialized()).status_code == 200


@pytest.mark.parametrize("end", ["terminated", "abandoned"])
def test_a_session_token_ends_at_once_on_every_instance(db_url, tmp_path, end):
    """Two app instances on one database, each remembering good credentials for a minute: the session ends
    through one, and the other refuses its token on the next request, not when its cache expires."""
    from lrs import create_app
    one, two = (create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test",
                            "CREDENTIAL_CACHE_SECONDS": 60}) for _ in range(2))
    try:
        admin = Admin(one)
        course = admin.import_().get_json()
        au = launched(one, admin, course).start()
        on_two = XAPIClient(two.test_client(), au.xapi.auth)
        assert au.send(au.initialized()).status_code == 200
        query = {"registration": au.registration}
        assert on_two.get("/xapi/statements", query_string=query).status_code == 200  # two now knows the token
        if end == "terminated":
            assert au.send(au.terminated()).status_code == 200
        else:
            assert admin.open("POST", f"/cmi5/api/sessions/{au.session_id}/abandon").status_code == 204
        assert on_two.get("/xapi/statements", query_string=query).status_code == 401
        assert on_two.post("/xapi/statements", json=[au.statement("http://adlnet.gov/expapi/verbs/experienced",
                                                                 defined=False)]).status_code == 401
    finally:
        for a in (one, two):
            a.extensions["lrs.engine"].dispose()


def test_abandon_through_the_api(app, admin, course):
    au = launched(app, admin, course).start()
    r = admin.open("POST", f"/cmi5/api/sessions/{au.session_id}/abandon")
    assert r.status_code == 204
    assert admin.open("POST", f"/cmi5/api/sessions/{au.session_id}/abandon").status_code == 409


def test_waive_once_with_reason_satisfies(app, admin, course, xapi):
    au = launched(app, admin, course)
    reg = au.registration
    url = f"/cmi5/api/registrations/{reg}/waive"
    assert admin.open("POST", url, json={"au": 0}).status_code == 400  # a reason is required
    for n in (0, 1):
        r = admin.open("POST", url, json={"au": n, "reason": "Administrative"})
        assert r.status_code == 200, r.get_json()
    assert r.get_json()["satisfied"] is True
    assert admin.open("POST", url, json={"au": 0, "reason": "Tested Out"}).status_code == 409
    waived = xapi.get("/xapi/statements", query_string={"registration": reg, "verb": vocab.WAIVED}).get_json()
    [w, _] = waived["statements"]
    assert w["result"]["success"] is True and w["result"]["completion"] is True
    assert w["result"]["extensions"][vocab.REASON] == "Administrative"
    assert {"id": vocab.MOVEON_CATEGORY} in w["context"]["contextActivities"]["category"]
    assert w["context"]["extensions"][vocab.SESSION_ID] != r.get_json()["sessions"][0]["id"]


def test_launch_errors(admin, course):
    assert admin.launch(course["id"], au=9).status_code == 404
    assert admin.launch(9999).status_code == 404
    assert admin.open("POST", f"/cmi5/api/courses/{course['id']}/launch", json={"au": 0}).status_code == 400
    assert admin.launch(course["id"], launch_mode="Fast").status_code == 400
    r = admin.launch(course["id"])
    other = admin.launch(course["id"], employee="e2002", registration=r.get_json()["registration"])
    assert other.status_code == 409


def test_course_numbers_for_authors(app, admin, course):
    q = "http://adlnet.gov/expapi/verbs/answered"
    for scaled, right in ((0.9, True), (0.5, False)):
        au = launched(app, admin, course).start()
        answer = au.statement(q, defined=False, result={"success": right, "response": "a"},
                              object={"objectType": "Activity", "id": au.activity_id + "/test/quiz/question/q1",
                                      "definition": {"name": {"nb": "Spørsmål 1"}}})
        end = au.passed(scaled) if right else au.failed(scaled)
        assert au.send(au.initialized(), answer, end, au.terminated()).status_code == 200
    r = admin.open("GET", f"/cmi5/api/courses/{course['id']}/stats")
    numbers = r.get_json()
    assert numbers["launches"] == 2 and numbers["passed"] == 1 and numbers["pass_rate"] == 0.5
    assert numbers["completions"] == 0 and numbers["average_seconds"] is not None
    assert numbers["hardest_questions"] == [{"id": au.activity_id + "/test/quiz/question/q1", "text": "Spørsmål 1",
                                             "answers": 2, "wrong": 1, "wrong_rate": 0.5}]
    assert admin.open("GET", "/cmi5/api/courses/999/stats").status_code == 404


def test_plan_helpers_find_and_resume_the_module(app, admin, course):
    from lrs.cmi5 import courses_for_competence, launch_for_employee
    engine = app.extensions["lrs.engine"]
    with read_transaction(engine) as conn:
        assert [c["id"] for c in courses_for_competence(conn, "HH-01")] == [course["id"]]
        assert courses_for_competence(conn, "NOPE") == []
    with app.test_request_context():
        first = launch_for_employee(app, "e7", COURSE_ID, "http://localhost/", return_url="http://localhost/plan")
        a = AU(app, first["url"]).start()
        assert a.activity_id == course["aus"][0]["activity_id"]
        assert a.send(a.initialized(), a.passed(), a.completed(), a.terminated()).status_code == 200
        # AU 1 met: the plan resumes the same registration at the next unmet AU (AU 2; AU 3 is NotApplicable)
        second = launch_for_employee(app, "e7", COURSE_ID, "http://localhost/")
        assert second["registration"] == first["registration"]
        assert second["activity_id"] == course["aus"][1]["activity_id"]
        b = AU(app, second["url"]).start()
        assert b.send(b.initialized(), b.completed(), b.terminated()).status_code == 200
        # satisfied: a new launch starts a new registration
        third = launch_for_employee(app, "e7", COURSE_ID, "http://localhost/")
        assert third["registration"] != first["registration"]
    from lrs.cmi5.lms import NotFound
    with pytest.raises(NotFound):
        launch_for_employee(app, "e7", "https://example.org/none", "http://localhost/")
