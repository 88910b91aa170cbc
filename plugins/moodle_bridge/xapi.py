"""xAPI statements as Moodle's own logstore_xapi plugin makes them (its src/transformer): the same verbs, activity
types, ids, context and extensions, so a competence rule reads records from the plugin, from the log-store path and
from the web-services path alike.

Small builders, each taking plain values (not database rows), so both paths use them. Nothing here reads the clock:
a statement built twice from the same Moodle data is the same statement, byte for byte."""
import re
import uuid
from datetime import datetime, timezone

# --------------------------------------------------------------------------------------------- verbs

ADL = "http://adlnet.gov/expapi/verbs/"
COMPLETED = {"id": ADL + "completed", "display": {"en": "Completed"}}
PASSED = {"id": ADL + "passed", "display": {"en": "Passed"}}
FAILED = {"id": ADL + "failed", "display": {"en": "Failed"}}
UNCOMPLETED = {"id": "https://xapi.edlm/profiles/edlm-lms/concepts/verbs/uncompleted", "display": {"en": "Uncompleted"}}
VIEWED = {"id": "http://id.tincanapi.com/verb/viewed", "display": {"en": "Viewed"}}
SCORED = {"id": "https://w3id.org/xapi/tla/verbs/scored", "display": {"en": "Scored"}}

# ------------------------------------------------------------------------------------ activity types

COURSE_TYPE = "https://w3id.org/xapi/cmi5/activitytype/course"
SITE_TYPE = "http://id.tincanapi.com/activitytype/lms"
SECTION_TYPE = "http://id.tincanapi.com/activitytype/section"
ATTEMPT_TYPE = "http://adlnet.gov/expapi/activities/attempt"
SCO_TYPE = "https://xapi.edlm/profiles/edlm-lms/concepts/activity-types/scorm-content-object"
OTHER_MODULE_TYPE = "http://id.tincanapi.com/activitytype/lms/module"
MODULE_TYPES = {
    "assign": "https://xapi.edlm/profiles/edlm-lms/concepts/activity-types/assignment",
    "bigbluebuttonbn": "http://adlnet.gov/expapi/activities/meeting",
    "book": "http://id.tincanapi.com/activitytype/book",
    "chat": "http://id.tincanapi.com/activitytype/chat-channel",
    "choice": "http://adlnet.gov/expapi/activities/cmi.interaction",
    "data": "http://xapi.org.au/contentprofile/activitytype/database",
    "facetoface": "https://w3id.org/xapi/acrossx/activities/face-to-face-discussion",
    "feedback": "https://xapi.edlm/profiles/edlm-lms/concepts/activity-types/feedback",
    "folder": "http://activitystrea.ms/collection",
    "forum": "https://xapi.edlm/profiles/edlm-lms/concepts/activity-types/forum",
    "glossary": "https://xapi.edlm/profiles/edlm-lms/concepts/activity-types/glossary",
    "h5pactivity": "http://adlnet.gov/expapi/activities/media",
    "imscp": COURSE_TYPE,
    "label": "https://w3id.org/xapi/acrossx/activities/webpage",
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "lti": "http://adlnet.gov/expapi/activities/media",
    "page": "https://w3id.org/xapi/acrossx/activities/page",
    "quiz": "http://adlnet.gov/expapi/activities/assessment",
    "resource": "http://id.tincanapi.com/activitytype/resource",
    "scorm": "http://adlnet.gov/expapi/activities/module",
    "url": "http://adlnet.gov/expapi/activities/link",
    "wiki": "https://xapi.edlm/profiles/edlm-lms/concepts/activity-types/wiki",
    "workshop": "https://xapi.edlm/profiles/edlm-lms/concepts/activity-types/workshop",
    "questionnaire": "http://id.tincanapi.com/activitytype/survey",
    "survey": "http://id.tincanapi.com/activitytype/survey",
}

# logstore_xapi's context extension: where the statement came from and which translation made it.
INFO_EXTENSION = "http://lrs.learninglocker.net/define/extensions/info"
MOODLE_URL = "http://moodle.org"
BRIDGE_URL = "urn:kompetanse-lrs:moodle-bridge"
BRIDGE_VERSION = "0.1.0"
PLATFORM = "Moodle"


def statement_id(site_url: str, *key) -> str:
    """The id of the statement a Moodle record makes: the same record always gives the same id, so a re-send is
    a repeat the LRS recognises. Log path: statement_id(site, "log", event_id, n) for the n-th of an event."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, site_url + "#" + "/".join(str(k) for k in key)))


def module_completion_id(site_url: str, cmid: int, user_id: int, when: int, state: int) -> str:
    """The id of "user reached completion state `state` (0 incomplete, 1 complete, 2 passed, 3 failed) of course
    module cmid at `when`": the same whichever way in (log or web services) read the fact, so reading it both ways
    stores it once."""
    return statement_id(site_url, "module_completion", cmid, user_id, when, state)


def course_completion_id(site_url: str, course_id: int, user_id: int, when: int) -> str:
    """The id of "user completed the course at `when`" (course_completions.timecompleted), whichever way in."""
    return statement_id(site_url, "course_completion", course_id, user_id, when)


def timestamp(epoch_seconds: int) -> str:
    """Moodle's timecreated as logstore_xapi writes it (UTC, milliseconds)."""
    return datetime.fromtimestamp(int(epoch_seconds), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def course_lang(lang: str | None, default: str = "en") -> str:
    """A course's forced language as a language tag (nb_no -> nb-no); the default when none or not a tag."""
    tag = (lang or "").replace("_", "-")
    return tag if re.fullmatch(r"[a-zA-Z]{2}(-[a-zA-Z]{2})?", tag) else default


# --------------------------------------------------------------------------------------------- parts

def actor(site_url: str, account_name: str, full_name: str | None = None) -> dict:
    """A Moodle user as an xAPI account on the site (name: the username or idnumber, as the bridge is set up)."""
    agent = {"objectType": "Agent"}
    if full_name:
        agent["name"] = full_name
    agent["account"] = {"homePage": site_url, "name": account_name}
    return agent


def site_activity(site_url: str, site_name: str | None, lang: str) -> dict:
    return {"objectType": "Activity", "id": site_url,
            "definition": {"type": SITE_TYPE, "name": {lang: site_name or "Moodle LMS"}}}


def course_activity(site_url: str, course_id: int, fullname: str | None, lang: str) -> dict:
    return {"objectType": "Activity", "id": f"{site_url}/course/view.php?id={course_id}",
            "definition": {"type": COURSE_TYPE, "name": {lang: fullname or "A Moodle course"}}}


def section_activity(site_url: str, section_id: int, section_number: int, course_fullname: str | None,
                     lang: str) -> dict:
    return {"objectType": "Activity", "id": f"{site_url}/course/section.php?id={section_id}",
            "definition": {"type": SECTION_TYPE, "name": {lang: f"{course_fullname} Section {section_number}"}}}


def module_url(site_url: str, module_name: str, cmid: int) -> str:
    return f"{site_url}/mod/{module_name}/view.php?id={cmid}"


def module_activity(site_url: str, module_name: str, cmid: int, instance_name: str | None, lang: str) -> dict:
    """A course module (quiz, scorm, h5pactivity …) by its course-module id, typed as logstore_xapi types it."""
    return {"objectType": "Activity", "id": module_url(site_url, module_name, cmid),
            "definition": {"type": MODULE_TYPES.get(module_name, OTHER_MODULE_TYPE),
                           "name": {lang: instance_name or module_name}}}


def sco_activity(site_url: str, cmid: int, instance_name: str | None, lang: str) -> dict:
    """The content of a SCORM package (logstore_xapi's scorm_content_object)."""
    return {"objectType": "Activity", "id": module_url(site_url, "scorm", cmid) + "#sco",
            "definition": {"type": SCO_TYPE, "name": {lang: f"{instance_name or 'scorm'} Content"}}}


def quiz_attempt_activity(site_url: str, attempt_id: int, cmid: int, quiz_name: str, lang: str) -> dict:
    return {"objectType": "Activity", "id": f"{site_url}/mod/quiz/attempt.php?attempt={attempt_id}&cmid={cmid}",
            "definition": {"type": ATTEMPT_TYPE, "name": {lang: f"{quiz_name} Attempt {attempt_id}"}}}


def context(lang: str, event_name: str, translation: str, site: dict, parents: list[dict] | None = None,
            moodle_release: str = "", instructor: dict | None = None) -> dict:
    """logstore_xapi's context: language, the info extension, parents (module, section, course), the site as
    category, and the platform."""
    ctx = {"platform": PLATFORM, "language": lang,
           "extensions": {INFO_EXTENSION: {MOODLE_URL: moodle_release, BRIDGE_URL: BRIDGE_VERSION,
                                           "event_name": event_name, "event_function": translation}}}
    if instructor:
        ctx["instructor"] = instructor
    ctx["contextActivities"] = {**({"parent": parents} if parents else {}), "category": [site]}
    return ctx


def statement(sid: str, who: dict, verb: dict, obj: dict, ctx: dict, when: str, result: dict | None = None) -> dict:
    stmt = {"id": sid, "actor": who, "verb": verb, "object": obj}
    if result:
        stmt["result"] = result
    stmt["context"] = ctx
    stmt["timestamp"] = when
    return stmt


# ------------------------------------------------- completions: one statement per Moodle fact, either way in

MODULE_COMPLETION_EVENT = "\\core\\event\\course_module_completion_updated"
COURSE_COMPLETED_EVENT = "\\core\\event\\course_completed"


def module_completion(site_url: str, user_id: int, who: dict, cmid: int, activity: dict, parents: list[dict],
                      lang: str, site: dict, release: str, when: int, state: int) -> dict:
    """A course module's completion state (1 complete, 2 passed, 3 failed; 0 taken back) at `when`, built alike by
    the log path (from the event) and the web-services path (from the completion status), so the same fact is the
    same statement, id and content, and reading it both ways stores it once."""
    verb, result = UNCOMPLETED, None
    if state:
        verb, result = COMPLETED, {"completion": True}
        if state > 1:
            result["success"] = state == 2
    return statement(module_completion_id(site_url, cmid, user_id, when, state), who, verb, activity,
                     context(lang, MODULE_COMPLETION_EVENT, "core\\course_module_completion_updated", site, parents,
                             release), timestamp(when), result)


def course_completion(site_url: str, user_id: int, who: dict, course_id: int, activity: dict, lang: str,
                      site: dict, release: str, when: int) -> dict:
    """A course completed at `when` (its completion time), built alike by both ways in."""
    return statement(course_completion_id(site_url, course_id, user_id, when), who, COMPLETED, activity,
                     context(lang, COURSE_COMPLETED_EVENT, "core\\course_completed", site, None, release),
                     timestamp(when))


# -------------------------------------------------------------------------------------------- results

def scaled_score(raw: float, low: float, high: float) -> float:
    """logstore_xapi's scaling: a score of 0 or more over the maximum (80 of 100 is 0.8), a negative one over the
    minimum's size, kept within -1..1. The same as the plugin's, so a rule's min_scaled means the same for
    statements from the plugin and from the bridge."""
    if raw >= 0:
        scaled = raw / high if high else 0.0
    else:
        scaled = raw / abs(low) if low else -1.0
    return max(-1.0, min(1.0, scaled))


def score(raw: float, low: float, high: float) -> dict:
    capped = max(min(raw, high), low)
    return {"raw": float(capped), "min": float(low), "max": float(high),
            "scaled": float(round(scaled_score(capped, low, high), 6))}


def duration(seconds: int | None) -> str | None:
    return f"PT{int(seconds)}S" if seconds and seconds > 0 else None

