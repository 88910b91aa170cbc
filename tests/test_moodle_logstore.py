"""The Moodle bridge's log-store path: Moodle's standard log (in PostgreSQL or MariaDB, with Moodle's own table
shapes) read from a checkpoint, translated as logstore_xapi translates it, sent to a real LRS over its xAPI API
(SQLite and PostgreSQL), and read back through that API."""
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from plugins.moodle_bridge import cli, sync, websync
from plugins.moodle_bridge.logstore import Moodle
from plugins.moodle_bridge.lrs import CHECKPOINT_PROFILE, LRS, Checkpoint, CheckpointMoved, Refused, remote
from plugins.moodle_bridge.webservice import WebService
from plugins.moodle_bridge.xapi import course_completion_id, module_completion_id, statement_id, timestamp
from tests.moodle_server import TOKEN, Moodle as WSMoodle, running as running_ws
from tests.moodle_support import SITE, T0, MoodleSite, all_statements, in_process_lrs, moodle_database, settings
from tests.server_support import database, running

ADL = "http://adlnet.gov/expapi/verbs/"
VIEWED = "http://id.tincanapi.com/verb/viewed"
SCORED = "https://w3id.org/xapi/tla/verbs/scored"
INFO = "http://lrs.learninglocker.net/define/extensions/info"
KARI = {"objectType": "Agent", "name": "Kari Nordmann",
        "account": {"homePage": SITE, "name": "kari.nordmann"}}


@pytest.fixture(params=["postgresql", "mariadb"])
def moodle_kind(request):
    return request.param


@pytest.fixture
def moodle(moodle_kind, worker_id):
    with moodle_database(moodle_kind, f"log_{worker_id}") as url:
        site = MoodleSite(url).build()
        yield site
        site.dispose()


@pytest.fixture
def lrs(app):
    return in_process_lrs(app)


def run(moodle: MoodleSite, lrs: LRS, **over) -> sync.Summary:
    s = settings(moodle.url, **over)
    reader = Moodle(s.log_db_url, s.table_prefix)
    try:
        return sync.run(s, reader, lrs)
    finally:
        reader.engine.dispose()


def by_event(statements, event_id, n=0):
    return by_id(statements, statement_id(SITE, "log", event_id, n))


def by_id(statements, wanted):
    found = [s for s in statements if s["id"] == wanted]
    assert len(found) == 1, f"no statement {wanted}"
    return found[0]


def course(cid, name, lang="en"):
    return {"objectType": "Activity", "id": f"{SITE}/course/view.php?id={cid}",
            "definition": {"type": "https://w3id.org/xapi/cmi5/activitytype/course", "name": {lang: name}}}


def section(site: MoodleSite, cid, course_name, lang="en"):
    return {"objectType": "Activity", "id": f"{SITE}/course/section.php?id={site.sections[cid]}",
            "definition": {"type": "http://id.tincanapi.com/activitytype/section",
                           "name": {lang: f"{course_name} Section 1"}}}


SITE_ACTIVITY = {"objectType": "Activity", "id": SITE,
                 "definition": {"type": "http://id.tincanapi.com/activitytype/lms",
                                "name": {"en": "Læringsportalen Helse Sør-Øst"}}}


# ------------------------------------------------------------------------------------- each event kind


def test_each_event_kind_becomes_the_statement_logstore_xapi_makes(moodle, lrs):
    m = moodle
    hlr, smitte = course(2, "HLR for helsepersonell"), course(3, "Smittevern", "nb")
    viewed = m.log("\\core\\event\\course_viewed", userid=m.kari, courseid=2)
    quiz_viewed = m.log("\\mod_quiz\\event\\course_module_viewed", userid=m.kari, courseid=2, cmid=m.quiz_cm,
                        objecttable="quiz", objectid=m.quiz)
    attempt = m.add("quiz_attempts", quiz=m.quiz, userid=m.kari, attempt=1, uniqueid=7, layout="1,2,0",
                    state="finished", timestart=m.now, timefinish=m.now + 754, sumgrades=8.5)
    submitted = m.log("\\mod_quiz\\event\\attempt_submitted", userid=m.kari, relateduserid=m.kari, courseid=2,
                      cmid=m.quiz_cm, objecttable="quiz_attempts", objectid=attempt,
                      other={"submitterid": m.kari, "quizid": m.quiz})
    grade = m.add("grade_grades", itemid=m.quiz_item, userid=m.kari, rawgrade=85, finalgrade=85)
    graded = m.log("\\core\\event\\user_graded", userid=m.kari, relateduserid=m.kari, courseid=2,
                   objecttable="grade_grades", objectid=grade,
                   other={"itemid": m.quiz_item, "overridden": False, "finalgrade": 85.0})
    scorm_attempt = m.add("scorm_attempt", userid=m.kari, scormid=m.scorm, attempt=1)
    for element, value in (("cmi.core.score.min", "0"), ("cmi.core.score.max", "50"),
                           ("cmi.core.lesson_status", "passed")):
        el = m.add("scorm_element", element=element)
        m.add("scorm_scoes_value", scoid=1, attemptid=scorm_attempt, elementid=el, value=value, timemodified=m.now)
    scorm_score = m.log("\\mod_scorm\\event\\scoreraw_submitted", userid=m.kari, courseid=2, cmid=m.scorm_cm,
                        objecttable="scorm_scoes_value", objectid=1,
                        other={"attemptid": 1, "cmielement": "cmi.core.score.raw", "cmivalue": "45"})
    scorm_status = m.log("\\mod_scorm\\event\\status_submitted", userid=m.kari, courseid=2, cmid=m.scorm_cm,
                         objecttable="scorm_scoes_value", objectid=2,
                         other={"attemptid": 1, "cmielement": "cmi.core.lesson_status", "cmivalue": "passed"})
    m.log("\\core\\event\\course_module_completion_updated", userid=m.kari, relateduserid=m.kari,
          courseid=2, cmid=m.quiz_cm, objecttable="course_modules_completion", objectid=1,
          other={"relateduserid": m.kari, "overrideby": None, "completionstate": 2})
    module_done_at = m.now
    # Course completion: cron marks it complete as of the last criterion met, and logs it later.
    completion = m.add("course_completions", userid=m.kari, course=2, timecompleted=module_done_at)
    m.log("\\core\\event\\course_completed", userid=m.kari, relateduserid=m.kari, courseid=2,
          objecttable="course_completions", objectid=completion, other={"relateduserid": m.kari})
    h5p = m.log("\\mod_h5pactivity\\event\\statement_received", userid=m.kari, courseid=3, cmid=m.h5p_cm,
                objecttable="h5pactivity", objectid=m.h5p,
                other={"verb": {"id": ADL + "answered"},
                       "object": {"id": f"{SITE}/xapi/activity/123", "objectType": "Activity"},
                       "result": {"score": {"min": 0, "max": 4, "raw": 3, "scaled": 0.75},
                                  "completion": True, "success": True, "duration": "PT2M5S"}})
    page_viewed = m.log("\\mod_page\\event\\course_module_viewed", userid=m.kari, courseid=3, cmid=m.page_cm,
                        objecttable="page", objectid=m.page)

    summary = run(m, lrs)
    assert (summary.events, summary.statements, dict(summary.skipped)) == (10, 10, {})
    got = all_statements(lrs, agent='{"account": {"homePage": "%s", "name": "kari.nordmann"}}' % SITE)
    assert len(got) == 10

    s = by_event(got, viewed)
    assert s["actor"] == KARI
    assert s["verb"] == {"id": VIEWED, "display": {"en": "Viewed"}}
    assert s["object"] == hlr
    assert s["timestamp"] == "2025-01-01T02:54:20.000Z"  # T0 + 60 s, as Moodle's timecreated
    assert s["context"]["platform"] == "Moodle" and s["context"]["language"] == "en"
    assert s["context"]["contextActivities"] == {"category": [SITE_ACTIVITY]}
    info = s["context"]["extensions"][INFO]
    assert info["event_name"] == "\\core\\event\\course_viewed" and info["event_function"] == "core\\course_viewed"
    assert info["http://moodle.org"] == "4.5.1 (Build: 20241209)"

    quiz = {"objectType": "Activity", "id": f"{SITE}/mod/quiz/view.php?id={m.quiz_cm}",
            "definition": {"type": "http://adlnet.gov/expapi/activities/assessment", "name": {"en": "HLR-test"}}}
    s = by_event(got, quiz_viewed)
    assert s["verb"]["id"] == VIEWED and s["object"] == quiz
    assert s["context"]["contextActivities"]["parent"] == [section(m, 2, "HLR for helsepersonell"), hlr]

    s = by_event(got, submitted)
    assert s["verb"] == {"id": ADL + "completed", "display": {"en": "Completed"}}
    assert s["object"] == {"objectType": "Activity",
                           "id": f"{SITE}/mod/quiz/attempt.php?attempt={attempt}&cmid={m.quiz_cm}",
                           "definition": {"type": "http://adlnet.gov/expapi/activities/attempt",
                                          "name": {"en": f"HLR-test Attempt {attempt}"}}}
    # 8.5 of 10 marks = 85 of 100 points; logstore_xapi scales min..max onto -1..1.
    assert s["result"] == {"score": {"raw": 85.0, "min": 0.0, "max": 100.0, "scaled": 0.85}, "success": True,
                           "completion": True, "duration": "PT754S"}
    assert s["context"]["contextActivities"]["parent"] == [quiz, section(m, 2, "HLR for helsepersonell"), hlr]

    s = by_event(got, graded)
    assert s["verb"] == {"id": SCORED, "display": {"en": "Scored"}} and s["object"] == quiz
    assert s["result"] == {"score": {"raw": 85.0, "min": 0.0, "max": 100.0, "scaled": 0.85}, "success": True}
    assert "instructor" not in s["context"]  # graded by the quiz itself

    sco = {"objectType": "Activity", "id": f"{SITE}/mod/scorm/view.php?id={m.scorm_cm}#sco",
           "definition": {"type": "https://xapi.edlm/profiles/edlm-lms/concepts/activity-types/scorm-content-object",
                          "name": {"en": "HLR e-læring Content"}}}
    s = by_event(got, scorm_score)
    assert s["verb"]["id"] == ADL + "passed" and s["object"] == sco
    assert s["result"] == {"score": {"raw": 45.0, "min": 0.0, "max": 50.0, "scaled": 0.9}}
    assert s["context"]["contextActivities"]["parent"][0]["id"] == f"{SITE}/mod/scorm/view.php?id={m.scorm_cm}"
    s = by_event(got, scorm_status)
    assert s["verb"] == {"id": ADL + "passed", "display": {"en": "Passed"}} and "result" not in s

    # Completions have the id of the Moodle fact (user, module or course, time, state), as web services give it.
    s = by_id(got, module_completion_id(SITE, m.quiz_cm, m.kari, module_done_at, 2))
    assert s["verb"]["id"] == ADL + "completed" and s["object"] == quiz
    assert s["result"] == {"completion": True, "success": True}

    s = by_id(got, course_completion_id(SITE, 2, m.kari, module_done_at))
    assert s["verb"]["id"] == ADL + "completed" and s["object"] == hlr
    assert s["context"]["extensions"][INFO]["event_function"] == "core\\course_completed"
    assert s["timestamp"] == timestamp(module_done_at)  # when completed, not when cron logged it

    s = by_event(got, h5p)
    assert s["verb"]["id"] == ADL + "passed"
    assert s["object"] == {"objectType": "Activity", "id": f"{SITE}/mod/h5pactivity/view.php?id={m.h5p_cm}",
                           "definition": {"type": "http://adlnet.gov/expapi/activities/media",
                                          "name": {"nb": "Håndhygiene"}}}
    assert s["result"] == {"completion": True, "success": True, "duration": "PT2M5S",
                           "score": {"raw": 3.0, "min": 0.0, "max": 4.0, "scaled": 0.75}}
    assert s["context"]["language"] == "nb"  # the course forces Norwegian
    assert s["context"]["contextActivities"]["parent"] == [section(m, 3, "Smittevern", "nb"), smitte]

    s = by_event(got, page_viewed)
    assert s["object"]["definition"]["type"] == "https://w3id.org/xapi/acrossx/activities/page"

    # The LRS knows the activities by their Moodle URLs, with the names the statements gave.
    assert lrs.statements(activity=f"{SITE}/course/view.php?id=2", related_activities="true")["statements"]


def completion(m: MoodleSite, user: int, cmid: int, course: int, state: int, at: int, by: int | None = None) -> int:
    """course_module_completion_updated as Moodle logs it (by the learner, or a teacher overriding it)."""
    return m.log("\\core\\event\\course_module_completion_updated", userid=by or user, relateduserid=user,
                 courseid=course, cmid=cmid, objecttable="course_modules_completion", objectid=1, at=at,
                 other={"relateduserid": user, "overrideby": by, "completionstate": state})


UNCOMPLETED = "https://xapi.edlm/profiles/edlm-lms/concepts/verbs/uncompleted"
STATE_0_SKIP = "completion state 0 that takes back no recorded completion"


def test_moodle_5_1s_incomplete_before_each_completion_on_view_takes_nothing_back(moodle, lrs):
    """Moodle 5.1 logs "incomplete" (state 0) right before "complete" (state 1), at the same second, whenever an
    activity completes on view. Only a completion recorded earlier can be taken back."""
    m = moodle
    t1, t2, t3 = T0 + 1000, T0 + 5000, T0 + 9000
    completion(m, m.kari, m.page_cm, 3, 0, t1)  # Kari opens the page: 5.1's pair …
    completion(m, m.kari, m.page_cm, 3, 1, t1)
    m.log("\\mod_page\\event\\course_module_viewed", userid=m.kari, courseid=3, cmid=m.page_cm, at=t1)
    completion(m, m.ola, m.page_cm, 3, 0, t1)  # … Ola's "incomplete" with nothing recorded before (a reset)
    summary = run(m, lrs, batch_size=1)  # one event a batch: the pair split across batches
    got = all_statements(lrs)
    assert [(s["verb"]["id"], s["timestamp"]) for s in got if s["verb"]["id"] != VIEWED] == [
        (ADL + "completed", timestamp(t1))]
    assert summary.skipped == {STATE_0_SKIP: 2}

    # Later a teacher takes Kari's completion back (a real revocation, in a later run), and she completes the page
    # on view again: 5.1's pair again, which is the completion only.
    completion(m, m.kari, m.page_cm, 3, 0, t2, by=m.admin)
    completion(m, m.kari, m.page_cm, 3, 0, t3)
    completion(m, m.kari, m.page_cm, 3, 1, t3)
    summary = run(m, lrs)
    assert summary.skipped == {STATE_0_SKIP: 1}
    got = all_statements(lrs, verb=UNCOMPLETED)
    assert [s["id"] for s in got] == [module_completion_id(SITE, m.page_cm, m.kari, t2, 0)]
    assert got[0]["actor"] == KARI and got[0]["timestamp"] == timestamp(t2)
    assert [s["timestamp"] for s in all_statements(lrs, verb=ADL + "completed")] == [timestamp(t1), timestamp(t3)]


def test_uncompleted_module_and_a_quiz_attempt_not_yet_graded(moodle, lrs):
    m = moodle
    completion(m, m.kari, m.quiz_cm, 2, 1, T0)
    undone = completion(m, m.kari, m.quiz_cm, 2, 0, T0 + 60, by=m.admin)
    attempt = m.add("quiz_attempts", quiz=m.quiz, userid=m.kari, attempt=2, uniqueid=8, layout="1,0",
                    state="finished", timestart=m.now, timefinish=m.now + 60, sumgrades=None)
    submitted = m.log("\\mod_quiz\\event\\attempt_submitted", userid=m.kari, relateduserid=m.kari, courseid=2,
                      cmid=m.quiz_cm, objecttable="quiz_attempts", objectid=attempt)
    failed_module = completion(m, m.kari, m.quiz_cm, 2, 3, T0 + 300)
    run(m, lrs)
    got = all_statements(lrs)
    s = by_id(got, module_completion_id(SITE, m.quiz_cm, m.kari, T0 + 60, 0))
    assert undone and s["verb"] == {"id": UNCOMPLETED, "display": {"en": "Uncompleted"}}
    assert "result" not in s and s["actor"] == KARI  # the learner, not the teacher who changed it
    # Essay questions wait for a teacher: no score yet (rather than a false fail).
    assert by_event(got, submitted)["result"] == {"completion": True, "duration": "PT60S"}
    assert failed_module and by_id(got, module_completion_id(SITE, m.quiz_cm, m.kari, T0 + 300, 3))["result"] == {
        "completion": True, "success": False}

    # The teacher grades the essay (Moodle 4.4+ logs attempt_graded): the attempt is scored.
    m.update("quiz_attempts", attempt, sumgrades=9)
    graded = m.log("\\mod_quiz\\event\\attempt_graded", userid=m.admin, relateduserid=m.kari, courseid=2,
                   cmid=m.quiz_cm, objecttable="quiz_attempts", objectid=attempt)
    run(m, lrs)
    s = by_event(all_statements(lrs), graded)
    assert s["verb"] == {"id": SCORED, "display": {"en": "Scored"}}
    assert s["object"]["id"] == f"{SITE}/mod/quiz/attempt.php?attempt={attempt}&cmid={m.quiz_cm}"
    assert s["result"] == {"score": {"raw": 90.0, "min": 0.0, "max": 100.0, "scaled": 0.9}, "success": True,
                           "completion": True, "duration": "PT60S"}


def test_old_sites_php_serialized_other_gives_the_same_statements(moodle, lrs):
    m = moodle
    as_json = m.log("\\core\\event\\course_module_completion_updated", userid=m.kari, relateduserid=m.kari,
                    courseid=2, cmid=m.quiz_cm, other={"relateduserid": m.kari, "completionstate": 1}, at=T0)
    as_php = m.log("\\core\\event\\course_module_completion_updated", userid=m.kari, relateduserid=m.kari,
                   courseid=2, cmid=m.quiz_cm, other={"relateduserid": m.kari, "completionstate": 1}, php=True,
                   at=T0)
    graded = m.log("\\core\\event\\user_graded", userid=m.admin, relateduserid=m.kari, courseid=2,
                   objecttable="grade_grades", objectid=1, php=True,
                   other={"itemid": m.quiz_item, "overridden": True, "finalgrade": 60.0})
    summary = run(m, lrs)
    assert summary.statements == 3 and not summary.skipped
    # The same fact both ways: the same statement, so the LRS holds it once (another content would be a 409).
    assert as_json and as_php and summary.kept_earlier == 0
    got = all_statements(lrs)
    assert len(got) == 2 and by_id(got, module_completion_id(SITE, m.quiz_cm, m.kari, T0, 1))
    s = by_event(got, graded)
    assert s["result"] == {"score": {"raw": 60.0, "min": 0.0, "max": 100.0, "scaled": 0.6}, "success": False}
    assert s["context"]["instructor"]["account"] == {"homePage": SITE, "name": "admin"}


def test_scorm_results_of_a_site_before_moodle_4_3(moodle, lrs):
    m = moodle
    for name in ("scorm_scoes_value", "scorm_element", "scorm_attempt"):  # 4.3's tables are not there yet
        m.t[name].drop(m.engine)
    for element, value in (("cmi.core.score.min", "0"), ("cmi.core.score.max", "20"),
                           ("cmi.core.lesson_status", "failed")):
        m.add("scorm_scoes_track", userid=m.kari, scormid=m.scorm, scoid=1, attempt=2, element=element, value=value,
              timemodified=m.now)
    scored = m.log("\\mod_scorm\\event\\scoreraw_submitted", userid=m.kari, courseid=2, cmid=m.scorm_cm, php=True,
                   objecttable="scorm_scoes_track", objectid=1,
                   other={"attemptid": 2, "cmielement": "cmi.core.score.raw", "cmivalue": "9"})
    summary = run(m, lrs)
    assert summary.statements == 1, summary.skipped
    s = by_event(all_statements(lrs), scored)
    assert s["verb"]["id"] == ADL + "failed"
    assert s["result"] == {"score": {"raw": 9.0, "min": 0.0, "max": 20.0, "scaled": 0.45}}


def test_events_that_make_no_statement_are_skipped_and_counted(moodle, lrs):
    m = moodle
    m.log("\\core\\event\\user_loggedin", userid=m.kari, other={"username": "kari.nordmann"})
    m.log("\\core\\event\\user_loggedin", userid=m.ola, other={"username": "ola.hansen"})
    m.log("\\core\\event\\course_module_created", userid=m.admin, courseid=2, cmid=m.quiz_cm,
          other={"modulename": "quiz", "instanceid": m.quiz, "name": "HLR-test"})
    m.log("\\core\\event\\course_viewed", userid=m.gone, courseid=2)  # a deleted user
    m.log("\\core\\event\\course_viewed", userid=m.kari, courseid=99)  # a deleted course
    m.log("\\mod_quiz\\event\\course_module_viewed", userid=m.kari, courseid=2, cmid=9999)  # a deleted module
    m.log("\\core\\event\\user_graded", userid=m.admin, relateduserid=m.kari, courseid=2,
          other={"itemid": m.course_item, "overridden": False, "finalgrade": 90.0})  # the course total
    m.log("\\mod_scorm\\event\\status_submitted", userid=m.kari, courseid=2, cmid=m.scorm_cm,
          other={"attemptid": 1, "cmielement": "cmi.core.lesson_status", "cmivalue": "incomplete"})
    m.log("\\mod_h5pactivity\\event\\statement_received", userid=m.kari, courseid=3, cmid=m.h5p_cm,
          other={"verb": {"id": ADL + "answered"},
                 "object": {"id": f"{SITE}/xapi/activity/123?subContentId=ab12"}, "result": {"success": True}})
    kept = m.log("\\core\\event\\course_viewed", userid=m.ola, courseid=3)
    # A row cut short (an old site's PHP-serialized `other`): skipped where the translation needs `other` …
    cut = m.log("\\core\\event\\course_module_completion_updated", userid=m.kari, relateduserid=m.kari,
                courseid=2, cmid=m.quiz_cm)
    # … and translated where it does not.
    cut_view = m.log("\\core\\event\\course_viewed", userid=m.kari, courseid=2)
    m.update("logstore_standard_log", cut, other='a:2:{s:15:"completionstate";i:1;s:13:"rel')
    m.update("logstore_standard_log", cut_view, other='a:1:{s:3:"x')
    last = m.log("\\core\\event\\user_loggedout", userid=m.ola)

    summary = run(m, lrs)
    assert summary.events == 13 and summary.statements == 2 and summary.last_log_id == last
    assert summary.skipped == {
        "not translated: \\core\\event\\user_loggedin": 2,
        "not translated: \\core\\event\\course_module_created": 1,
        "not translated: \\core\\event\\user_loggedout": 1,
        "user deleted or unknown": 1,
        "course deleted or unknown": 1,
        "course module deleted or unknown": 1,
        "grade of a course total or a manual item": 1,
        "SCORM status that is no result: incomplete": 1,
        "H5P statement about a part of the content": 1,
        "unreadable 'other' column": 1,
    }
    got = all_statements(lrs)
    assert [s["id"] for s in got] == [statement_id(SITE, "log", e, 0) for e in (kept, cut_view)]
    assert got[0]["actor"]["account"]["name"] == "ola.hansen"
    # The checkpoint moved past the skipped events, and keeps the counts.
    s = settings(m.url)
    reader = Moodle(s.log_db_url)
    found = sync.status(s, reader, lrs)
    reader.engine.dispose()
    assert found["last_log_id_sent"] == last and found["events_waiting"] == 0
    assert found["skipped"]["user deleted or unknown"] == 1 and found["statements_sent"] == 2


def test_the_bridge_reads_moodle_read_only(moodle):
    reader = Moodle(settings(moodle.url).log_db_url)
    try:
        with pytest.raises(DBAPIError, match="(?i)read.only"):
            with reader.engine.begin() as conn:
                conn.execute(text("DELETE FROM mdl_logstore_standard_log"))
    finally:
        reader.engine.dispose()


def test_accounts_by_idnumber(moodle, lrs):
    m = moodle
    kari = m.log("\\core\\event\\course_viewed", userid=m.kari, courseid=2)
    m.log("\\core\\event\\course_viewed", userid=m.ola, courseid=2)  # no employee number in Moodle
    summary = run(m, lrs, actor_id="idnumber", send_name="false")
    assert summary.statements == 1 and summary.skipped == {"user without idnumber": 1}
    (s,) = all_statements(lrs)
    assert s["id"] == statement_id(SITE, "log", kari, 0)
    assert s["actor"] == {"objectType": "Agent", "account": {"homePage": SITE, "name": "E10234"}}


# ---------------------------------------------------------------------------- incremental and restarts


def test_incremental_runs_send_only_what_is_new(moodle, lrs):
    m = moodle
    first = [m.log("\\core\\event\\course_viewed", userid=m.kari, courseid=2) for _ in range(7)]
    summary = run(m, lrs, batch_size=3)
    assert (summary.events, summary.statements, summary.last_log_id) == (7, 7, first[-1])
    again = run(m, lrs, batch_size=3)
    assert (again.events, again.statements, again.first_log_id) == (0, 0, first[-1])
    later = [m.log("\\core\\event\\course_viewed", userid=m.ola, courseid=3) for _ in range(4)]
    summary = run(m, lrs, batch_size=3)
    assert (summary.first_log_id, summary.events, summary.statements) == (first[-1], 4, 4)
    got = all_statements(lrs)
    assert sorted(s["id"] for s in got) == sorted(statement_id(SITE, "log", i, 0) for i in first + later)
    doc, _etag = lrs.get_document("activities/profile", activityId=SITE, profileId=CHECKPOINT_PROFILE)
    assert doc == {"site": SITE, "last_log_id": later[-1], "events": 11, "statements": 11, "skipped": {}}


class CrashAfterPost(Exception):
    pass


def crashing(lrs: LRS, after_posts: int) -> LRS:
    """The same LRS, but the bridge dies right after its n-th POST of statements (before the checkpoint moves)."""
    posts = 0

    def send(method, path, body, headers):
        nonlocal posts
        answer = lrs._send(method, path, body, headers)
        if method == "POST" and path == "/xapi/statements" and answer[0] == 200:
            posts += 1
            if posts == after_posts:
                raise CrashAfterPost()
        return answer
    return LRS(send)


def test_a_crash_after_a_post_before_the_checkpoint_moves_loses_and_doubles_nothing(moodle, lrs):
    m = moodle
    events = [m.log("\\core\\event\\course_viewed", userid=(m.kari, m.ola)[i % 2], courseid=2 + i % 2)
              for i in range(10)]
    with pytest.raises(CrashAfterPost):
        run(m, crashing(lrs, after_posts=2), batch_size=4, concurrency=1)
    assert len(all_statements(lrs)) == 8  # two batches stored, the checkpoint only after the first
    assert lrs.get_document("activities/profile", activityId=SITE, profileId=CHECKPOINT_PROFILE)[0]["last_log_id"] == events[3]

    summary = run(m, lrs, batch_size=4)  # the second batch again (the same statements), then the rest
    assert (summary.first_log_id, summary.events, summary.statements, summary.kept_earlier) == (events[3], 6, 6, 0)
    got = all_statements(lrs)
    assert sorted(s["id"] for s in got) == sorted(statement_id(SITE, "log", e, 0) for e in events)


def test_a_crash_with_batches_in_flight_loses_and_doubles_nothing(moodle, lrs):
    """Three batches sent at once; the third POST fails: the checkpoint stays below every batch not known stored."""
    m = moodle
    events = [m.log("\\core\\event\\course_viewed", userid=m.kari, courseid=2) for _ in range(20)]
    with pytest.raises(CrashAfterPost):
        run(m, crashing(lrs, after_posts=3), batch_size=2, concurrency=3)
    doc, _ = lrs.get_document("activities/profile", activityId=SITE, profileId=CHECKPOINT_PROFILE)
    stored = {s["id"] for s in all_statements(lrs)}
    below = [e for e in events if e <= (doc or {}).get("last_log_id", 0)]
    assert {statement_id(SITE, "log", e, 0) for e in below} <= stored  # all below the checkpoint are in
    summary = run(m, lrs, batch_size=2, concurrency=3)
    assert summary.events == len(events) - len(below)
    got = all_statements(lrs)
    assert sorted(s["id"] for s in got) == sorted(statement_id(SITE, "log", e, 0) for e in events)


def test_after_a_crash_a_record_changed_in_moodle_keeps_what_was_sent(moodle, lrs):
    """The re-sent batch now reads differently (the course was renamed): the LRS refuses other content under a
    sent id (409), so the bridge sends that batch one by one and keeps the statements the LRS has."""
    m = moodle
    events = [m.log("\\core\\event\\course_viewed", userid=m.kari, courseid=2) for _ in range(4)]
    with pytest.raises(CrashAfterPost):
        run(m, crashing(lrs, after_posts=1), batch_size=2, concurrency=1)
    m.update("course", 2, fullname="HLR for helsepersonell (2025)")
    extra = m.log("\\core\\event\\course_viewed", userid=m.kari, courseid=2)
    summary = run(m, lrs, batch_size=2)
    assert summary.kept_earlier == 2 and summary.statements == 5
    got = {s["id"]: s for s in all_statements(lrs)}
    assert len(got) == 5
    names = [got[statement_id(SITE, "log", e, 0)]["object"]["definition"]["name"]["en"] for e in events + [extra]]
    assert names == ["HLR for helsepersonell"] * 2 + ["HLR for helsepersonell (2025)"] * 3


def test_a_statement_the_lrs_refuses_is_counted_and_the_rest_land(moodle, lrs):
    """H5P content puts what it likes in its own statement: a duration that is no ISO 8601 duration makes a
    statement the LRS refuses (400). The batch's other statements land; the refused one is counted."""
    m = moodle

    def h5p(duration):
        return m.log("\\mod_h5pactivity\\event\\statement_received", userid=m.kari, courseid=3, cmid=m.h5p_cm,
                     other={"object": {"id": f"{SITE}/xapi/activity/1"},
                            "result": {"completion": True, "duration": duration}})
    bad, good = h5p("2 minutes"), h5p("PT2M")
    viewed = m.log("\\core\\event\\course_viewed", userid=m.kari, courseid=3)
    summary = run(m, lrs, batch_size=3)
    assert summary.events == 3 and summary.statements == 2 and summary.last_log_id == viewed
    (reason,) = summary.skipped
    assert reason.startswith("refused by the LRS: ") and "duration" in reason
    assert sorted(s["id"] for s in all_statements(lrs)) == sorted(
        statement_id(SITE, "log", e, 0) for e in (good, viewed))
    assert statement_id(SITE, "log", bad, 0) not in {s["id"] for s in all_statements(lrs)}

    # A batch the LRS refuses whole, one by one too, is no odd row: the sync stops there, and says why.
    h5p("soon"), h5p("later")
    with pytest.raises(Refused, match="the LRS refused every statement of a batch"):
        run(m, lrs, batch_size=3)
    assert lrs.get_document("activities/profile", activityId=SITE, profileId=CHECKPOINT_PROFILE)[0]["last_log_id"] == viewed


def test_two_bridges_cannot_both_advance_the_checkpoint(moodle, lrs):
    one, two = Checkpoint(lrs, SITE), Checkpoint(lrs, SITE)
    assert one.load() == 0 and two.load() == 0
    one.advance(10, 10, 10, {})
    with pytest.raises(CheckpointMoved):
        two.advance(12, 12, 12, {})
    assert two.load() == 10
    two.advance(12, 2, 2, {})
    assert lrs.get_document("activities/profile", activityId=SITE, profileId=CHECKPOINT_PROFILE)[0]["events"] == 12


def test_throttle_caps_rows_per_second(moodle, lrs):
    m = moodle
    for _ in range(6):
        m.log("\\core\\event\\course_viewed", userid=m.kari, courseid=2)
    started = time.monotonic()
    summary = run(m, lrs, batch_size=2, max_rows_per_second=10)
    # 6 rows at 10 rows/s: the last batch may start at 0.4 s.
    assert summary.events == 6 and time.monotonic() - started >= 0.4


# ------------------------------------------------------------------------------------------------ the CLI


def _env(site: MoodleSite, base: str, key: str, secret: str, **over) -> dict:
    env = {"MOODLE_BRIDGE_LRS_URL": base + "/xapi", "MOODLE_BRIDGE_LRS_KEY": key, "MOODLE_BRIDGE_LRS_SECRET": secret,
           "MOODLE_BRIDGE_SITE_URL": SITE, "MOODLE_BRIDGE_LOG_DB_URL": site.url}
    env.update({"MOODLE_BRIDGE_" + k.upper(): str(v) for k, v in over.items()})
    return env


@pytest.mark.parametrize("moodle_kind", ["postgresql"])
def test_bad_configuration_is_a_clear_error(moodle, tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("MOODLE_BRIDGE_"):
            monkeypatch.delenv(name)
    runner = CliRunner()
    good = _env(moodle, "http://127.0.0.1:9", "key", "secret")

    def fails(env, *args):
        result = runner.invoke(cli.main, [*args, "sync"], env=env)
        assert result.exit_code == 1, result.output
        return result.output

    assert "missing setting(s): lrs_key (or MOODLE_BRIDGE_LRS_KEY)" in fails(
        {k: v for k, v in good.items() if k != "MOODLE_BRIDGE_LRS_KEY"})
    assert "actor_id must be 'username' or 'idnumber', not 'email'" in fails(
        {**good, "MOODLE_BRIDGE_ACTOR_ID": "email"})
    assert "site_url must be an http(s) URL" in fails({**good, "MOODLE_BRIDGE_SITE_URL": "moodle.example.no"})
    assert "log_db_url must be postgresql+psycopg://… or mysql+pymysql://…" in fails(
        {**good, "MOODLE_BRIDGE_LOG_DB_URL": "sqlite:///moodle.db"})
    assert "batch_size must be 1 to 1000" in fails({**good, "MOODLE_BRIDGE_BATCH_SIZE": "5000"})
    assert "batch_size must be int, not 'many'" in fails({**good, "MOODLE_BRIDGE_BATCH_SIZE": "many"})
    bad_file = tmp_path / "bridge.yaml"
    bad_file.write_text("lrs_url: [unclosed\n")
    assert "is not valid YAML" in fails(good, "--config", str(bad_file))
    bad_file.write_text("lrs_ulr: http://x\n")
    assert "unknown setting(s) in" in fails(good, "--config", str(bad_file))
    assert "cannot read the settings file" in fails(good, "--config", str(tmp_path / "nowhere.yaml"))
    assert "the LRS at http://127.0.0.1:9/xapi did not answer" in fails(good)


def test_cli_against_a_real_server_wrong_prefix_credential_and_status(moodle, tmp_path, worker_id):
    m = moodle
    events = [m.log("\\core\\event\\course_viewed", userid=m.kari, courseid=2) for _ in range(5)]
    runner = CliRunner()
    with database("sqlite", tmp_path, worker_id, "_cli") as url, running(url, workers=1) as server:
        key, secret = server.credential("statements/write", "statements/read", "profile")
        env = _env(m, server.url, key, secret)
        result = runner.invoke(cli.main, ["sync"], env={**env, "MOODLE_BRIDGE_LRS_SECRET": "wrong"})
        assert result.exit_code == 1 and "the LRS answered 401" in result.output
        result = runner.invoke(cli.main, ["sync"], env={**env, "MOODLE_BRIDGE_TABLE_PREFIX": "moodle_"})
        assert result.exit_code == 1 and "does not look like Moodle with table prefix 'moodle_'" in result.output
        config_file = tmp_path / "bridge.yaml"
        config_file.write_text(f"batch_size: 2\nsite_url: {SITE}\n")
        result = runner.invoke(cli.main, ["--config", str(config_file), "status"], env=env)
        assert result.exit_code == 0, result.output
        assert f"sent up to log id 0 of {events[-1]}, 5 events waiting" in result.output
        result = runner.invoke(cli.main, ["--config", str(config_file), "sync"], env=env)
        assert result.exit_code == 0, result.output
        assert f"5 events after log id 0 up to {events[-1]}: 5 statements sent, 0 events skipped" in result.output
        result = runner.invoke(cli.main, ["status", "--json"], env=env)
        assert '"events_waiting": 0' in result.output and '"statements_sent": 5' in result.output
        reader = remote(server.url + "/xapi", key, secret)
        assert len(all_statements(reader)) == 5


def _bulk_log(m: MoodleSite, n: int) -> list[int]:
    rows = []
    for i in range(n):
        rows.append(dict(eventname="\\core\\event\\course_viewed", component="core", action="viewed", target="course",
                         crud="r", edulevel=2, contextid=50, contextlevel=50, contextinstanceid=2 + i % 2,
                         userid=(m.kari, m.ola)[i % 2], courseid=2 + i % 2, other="null", timecreated=T0 + i))
    m.log_many(rows)
    reader = Moodle(m.url)
    last = reader.last_log_id()
    reader.engine.dispose()
    return list(range(last - n + 1, last + 1))


def test_killing_the_bridge_mid_backfill_then_resuming_loses_and_doubles_nothing(moodle, tmp_path, worker_id):
    m = moodle
    events = _bulk_log(m, 1200)
    with database("sqlite", tmp_path, worker_id, "_kill") as url, running(url, workers=2) as server:
        key, secret = server.credential("statements/write", "statements/read", "profile")
        env = {**os.environ, **_env(m, server.url, key, secret, batch_size=100, pause_seconds=0.02)}
        reader = remote(server.url + "/xapi", key, secret)
        bridge = subprocess.Popen([sys.executable, "-m", "plugins.moodle_bridge.cli", "backfill"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            doc, _ = reader.get_document("activities/profile", activityId=SITE, profileId=CHECKPOINT_PROFILE)
            if doc and doc["last_log_id"] >= events[300]:
                break
            time.sleep(0.05)
        os.killpg(bridge.pid, signal.SIGKILL)  # mid-backfill, wherever it is
        bridge.wait()
        stopped_at = reader.get_document("activities/profile", activityId=SITE, profileId=CHECKPOINT_PROFILE)[0]["last_log_id"]
        assert events[300] <= stopped_at < events[-1]

        done = subprocess.run([sys.executable, "-m", "plugins.moodle_bridge.cli", "sync"], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        got = all_statements(reader)
        assert len(got) == 1200
        assert sorted(s["id"] for s in got) == sorted(statement_id(SITE, "log", e, 0) for e in events)
        assert reader.get_document("activities/profile", activityId=SITE, profileId=CHECKPOINT_PROFILE)[0]["last_log_id"] == events[-1]


# ----------------------------------------------------------------- one statement per Moodle fact, either way in


def test_a_completion_read_both_ways_is_stored_once(moodle, lrs):
    """The same site read through web services and then through its log (a site switching ways, or running both):
    each completion is one statement, with the same id and content, so the LRS holds it once and refuses none."""
    m = moodle
    done = T0 + 3600
    completion(m, m.kari, m.quiz_cm, 2, 1, done)
    row = m.add("course_completions", userid=m.kari, course=2, timecompleted=done)
    m.log("\\core\\event\\course_completed", userid=m.kari, relateduserid=m.kari, courseid=2,
          objecttable="course_completions", objectid=row, other={"relateduserid": m.kari}, at=done + 900)  # cron
    # The same Moodle as its web services show it.
    ws = WSMoodle(sitename="Læringsportalen Helse Sør-Øst", release="4.5.1 (Build: 20241209)")
    ws.add_course(2, "HLR for helsepersonell", "HLR", idnumber="K-HLR")
    ws.sections[2] = (m.sections[2], 1)
    ws.add_user(m.kari, "kari.nordmann", "Kari Nordmann", "kari.nordmann@sykehus.example.no", idnumber="E10234")
    ws.enrol(2, m.kari)
    ws.add_activity(2, m.quiz_cm, "quiz", "HLR-test")
    ws.activity_done[(2, m.kari, m.quiz_cm)] = done
    ws.course_done[(2, m.kari)] = done
    with running_ws(ws) as url:
        by_ws = websync.run(settings(m.url, source="webservice", ws_token=TOKEN, ws_per_second=0),
                            WebService(url, TOKEN, per_second=0), lrs)
    assert +by_ws.sent == {"activity completions": 1, "course completions": 1}
    by_log = run(m, lrs)
    assert by_log.statements == 2 and by_log.kept_earlier == 0  # the same statements again: no 409
    got = all_statements(lrs)
    assert sorted(s["id"] for s in got) == sorted([module_completion_id(SITE, m.quiz_cm, m.kari, done, 1),
                                                   course_completion_id(SITE, 2, m.kari, done)])
    assert {s["timestamp"] for s in got} == {timestamp(done)}
