"""Every cmi5 rule the LMS enforces on statements for a cmi5 registration (cmi5 6.3, 9.x): a statement that
breaks one is refused with a message naming the rule, and nothing of its batch is stored."""
import pytest

from lrs.cmi5 import vocab
from tests.cmi5_support import AU, Admin
from tests.helpers import statement


@pytest.fixture
def admin(app):
    return Admin(app)


@pytest.fixture
def course(admin):
    return admin.import_().get_json()


@pytest.fixture
def au(app, admin, course):
    """A launched AU (the first: moveOn CompletedAndPassed, masteryScore 0.8) with its token, initialized."""
    a = AU(app, admin.launch(course["id"], au=0).get_json()["url"]).start()
    assert a.send(a.initialized()).status_code == 200
    return a


def refused(au, *stmts, status=403, says=""):
    r = au.send(*stmts)
    assert r.status_code == status, r.get_json()
    assert says in r.get_json()["error"]["message"]
    return r


def count(xapi, registration):
    return len(xapi.get("/xapi/statements", query_string={"registration": registration}).get_json()["statements"])


def test_first_statement_must_be_initialized(app, admin, course):
    a = AU(app, admin.launch(course["id"]).get_json()["url"]).start()
    refused(a, a.completed(), says="first statement of a session must be initialized")
    refused(a, a.statement("https://example.org/verbs/read", defined=False), says="must be initialized")


def test_batch_lands_whole_or_not_at_all(au, xapi):
    before = count(xapi, au.registration)
    refused(au, au.completed(), au.initialized(), says="only once per session")
    assert count(xapi, au.registration) == before


def test_retried_batch_is_accepted(au):
    batch = [au.passed(), au.completed()]
    assert au.send(*batch).status_code == 200
    assert au.send(*batch).status_code == 200  # the same statements again: stored once, not a rule break


def test_defined_verbs_once_per_session_and_one_of_passed_failed(au):
    refused(au, au.initialized(), says="only once per session")
    assert au.send(au.failed()).status_code == 200
    refused(au, au.passed(), says="only one of passed and failed")


@pytest.mark.parametrize("verb", [vocab.LAUNCHED, vocab.SATISFIED, vocab.ABANDONED, vocab.WAIVED])
def test_lms_verbs_are_the_lms_own(au, verb):
    refused(au, au.statement(verb), status=403, says="only the LMS")


def test_no_voiding_from_the_au(au):
    stmt = au.statement(vocab.VOIDED, defined=False, object={"objectType": "StatementRef", "id": au.session_id})
    refused(au, stmt, status=403, says="may not void")


def test_other_verb_with_cmi5_category_is_refused(au):
    refused(au, au.statement("https://example.org/verbs/read"), says="must use a cmi5 verb")


def test_cmi5_allowed_statement_is_accepted(au):
    assert au.send(au.statement("http://adlnet.gov/expapi/verbs/answered", defined=False)).status_code == 200


def test_actor_registration_session_object_grouping(au):
    s = au.passed()
    s["actor"] = {"objectType": "Agent", "account": {"homePage": "https://other.example", "name": "x"}}
    refused(au, s, says="actor must be the learner")
    s = au.passed()
    s["context"]["registration"] = "6e6a4a5b-4d4e-4b7e-9d7c-000000000000"
    refused(au, s, says="context.registration must be the launch registration")
    s = au.passed()
    s["context"]["extensions"][vocab.SESSION_ID] = "other"
    refused(au, s, says="session id")
    s = au.passed()
    s["object"]["id"] = "https://example.org/other"
    refused(au, s, says="object must be the AU's activityId")
    s = au.passed()
    s["context"]["contextActivities"]["grouping"] = []
    refused(au, s, says="publisher id")


def test_result_rules(au):
    s = au.passed()
    s["result"]["success"] = False
    refused(au, s, says="result.success")
    s = au.completed()
    s["result"]["completion"] = False
    refused(au, s, says="result.completion")
    s = au.completed()
    s["result"]["score"] = {"scaled": 1}
    refused(au, s, says="only passed and failed may carry a score")
    s = au.passed()
    s["context"]["contextActivities"]["category"] = [{"id": vocab.CATEGORY}]
    refused(au, s, says="moveOn category")
    s = au.terminated()
    s["context"]["contextActivities"]["category"].append({"id": vocab.MOVEON_CATEGORY})
    refused(au, s, says="moveOn category")
    s = au.completed()
    del s["result"]["duration"]
    refused(au, s, says="duration is required")
    s = au.terminated()
    del s["result"]
    refused(au, s, says="duration is required")


def test_mastery_score(au):
    refused(au, au.passed(scaled=0.7), says="below the masteryScore")
    refused(au, au.failed(scaled=0.8), says="reaches the masteryScore")
    s = au.passed()
    del s["context"]["extensions"][vocab.MASTERY_SCORE]
    refused(au, s, says="must carry the masteryScore")
    s = au.passed()
    s["context"]["extensions"][vocab.MASTERY_SCORE] = 0.5
    refused(au, s, says="must carry the masteryScore 0.8")
    assert au.send(au.passed(scaled=0.8)).status_code == 200


@pytest.mark.parametrize("verb", ["passed", "failed"])
def test_verdict_without_a_score_needs_no_mastery_score(au, verb):
    """cmi5 9.6.3.2: the masteryScore extension belongs in a passed or failed decided by a score; one decided
    otherwise (no score) is accepted without it."""
    s = getattr(au, verb)()
    del s["result"]["score"]
    del s["context"]["extensions"][vocab.MASTERY_SCORE]
    assert au.send(s).status_code == 200


def test_rule_breaking_statements_are_forbidden_and_malformed_ones_bad(au):
    """A well-formed statement that breaks a cmi5 rule is 403 Forbidden (what cmi5 content and test tools expect);
    a statement that is not valid xAPI stays 400."""
    refused(au, au.completed(), au.completed(), status=403, says="only once per session")
    s = au.completed()
    s["verb"]["id"] = "not an iri"
    assert au.send(s).status_code == 400


def test_registration_rules_across_sessions(app, admin, course, au):
    assert au.send(au.passed(), au.completed(), au.terminated()).status_code == 200
    again = AU(app, admin.launch(course["id"], au=0, registration=au.registration).get_json()["url"]).start()
    assert again.send(again.initialized()).status_code == 200
    refused(again, again.completed(), says="already completed in this registration")
    refused(again, again.passed(), says="already passed in this registration")
    refused(again, again.failed(), says="failed may not follow passed")


def test_nothing_after_terminated(au):
    assert au.send(au.terminated()).status_code == 200
    r = au.send(au.statement("http://adlnet.gov/expapi/verbs/answered", defined=False))
    assert r.status_code == 401  # the session's token ends with the session (8.2.1)


def test_nothing_after_terminated_in_one_batch(au):
    refused(au, au.terminated(), au.completed(), says="has terminated")


def test_browse_mode_sends_only_initialized_and_terminated(app, admin, course):
    a = AU(app, admin.launch(course["id"], launch_mode="Browse").get_json()["url"]).start()
    assert a.launch_data["launchMode"] == "Browse"
    assert a.send(a.initialized()).status_code == 200
    refused(a, a.completed(), says="launchMode Browse")
    assert a.send(a.terminated()).status_code == 200


def test_other_credentials_may_not_write_into_a_cmi5_registration(au, xapi):
    stmt = statement(context={"registration": au.registration})
    r = xapi.post("/xapi/statements", json=stmt)
    assert r.status_code == 403 and "cmi5 registration" in r.get_json()["error"]["message"]
    assert xapi.post("/xapi/statements", json=statement(context={"registration": au.session_id})).status_code == 200


def test_abandoned_session_is_closed(app, admin, au):
    assert admin.open("POST", f"/cmi5/api/sessions/{au.session_id}/abandon").status_code == 204
    assert au.send(au.completed()).status_code == 401
