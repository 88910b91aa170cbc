"""The Moodle bridge's web-services path against a Moodle-shaped REST server on loopback (tests/moodle_server.py):
Moodle's refusals as clear errors, paging, retries and the request cap, the incremental sync into the LRS, and
course completions that fulfil competence requirements through the course -> competence mapping."""
import time

import pytest

from plugins.moodle_bridge.webservice import (FUNCTIONS, MoodleRefused, MoodleUnreachable, WebService,
                                              php_array_form)
from tests.moodle_server import TOKEN, Moodle, running


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
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.04
