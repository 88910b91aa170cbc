"""The web-services way in: Moodle's REST functions instead of its database, for sites that give the bridge a
token but no database access. One run reads every course, its enrolled users, their activity and course
completion, and the course's grades, and sends what is new as xAPI statements built like the log path's
(plugins/moodle_bridge/xapi.py), so a competence rule matches both alike.

Web services have no "changed since", so what was sent is remembered: a checkpoint per course, kept in the LRS
(an activity profile document of the course's activity, written with If-Match like the log path's). Per enrolled
user it holds the course completion sent, and the newest activity completion and grade sent (with the ids at
that time). A statement's id comes from the site and a natural key (course completion: course, user, time
completed), so a run that crashes before its checkpoint is written re-sends the same statements, which the LRS
takes as the repeats they are. Nothing is sent twice by runs that finish.

A user whose course completion is sent and who has not been in the course since (lastcourseaccess unchanged) is
not asked about again: on a big site that is most enrolments, and two calls each."""
import dataclasses
import json
import logging
import re
from collections import Counter

from plugins.moodle_bridge import xapi
from plugins.moodle_bridge.lrs import LRS, CheckpointMoved, Refused
from plugins.moodle_bridge.sync import _send
from plugins.moodle_bridge.webservice import MoodleRefused, WebService

log = logging.getLogger(__name__)

CHECKPOINT_PROFILE = "urn:kompetanse-lrs:moodle-bridge:webservice"
COMPLETE_STATES = (1, 2, 3)  # COMPLETION_COMPLETE, _PASS, _FAIL (0 incomplete)
FUNCTION = "webservice\\"  # the info extension's event_function: which path and what made the statement


@dataclasses.dataclass
class Summary:
    courses: int = 0
    enrolments: int = 0
    asked: int = 0  # enrolments whose completion was asked for this run
    statements: int = 0
    kept_earlier: int = 0
    sent: Counter = dataclasses.field(default_factory=Counter)  # statements by kind
    skipped: Counter = dataclasses.field(default_factory=Counter)  # reason -> count
    # What Moodle left out that the bridge needs, each with the capability to add: said loudly, never skipped over.
    problems: list = dataclasses.field(default_factory=list)

    def line(self) -> str:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.sent.items()) if n) or "nothing new"
        warned = f"; {len(self.problems)} warnings: Moodle left out what the bridge needs" if self.problems else ""
        return (f"{self.courses} courses, {self.enrolments} enrolments ({self.asked} asked about): "
                f"{self.statements} statements sent ({kinds}){warned}")

    def problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)
            log.warning("%s", message)


# The capability that makes Moodle give a participant's field in core_enrol_get_enrolled_users (user_get_user_details).
USER_FIELD_CAPABILITY = {
    "username": "moodle/user:viewalldetails",
    "idnumber": "moodle/site:viewuseridentity (and idnumber in Show user identity, showuseridentity)",
}


def web_service(settings) -> WebService:
    return WebService(settings.site_url, settings.ws_token, per_second=settings.ws_per_second,
                      timeout=settings.lrs_timeout)


def run(settings, ws: WebService, lrs: LRS) -> Summary:
    """One sync of every course. Refusals that concern one course (the bridge may not see it) skip that course;
    refusals that concern the token or the service stop the run with Moodle's message."""
    info = ws.site_info()  # first, so a bad token or URL is said before anything else is tried
    if info.get("siteurl") and info["siteurl"].rstrip("/") != settings.site_url:
        log.warning("site_url is %s but the token's Moodle calls itself %s: statements use site_url",
                    settings.site_url, info["siteurl"])
    summary = Summary()
    courses = ws.courses()
    # enablecompletion and lang from core_course_get_courses_by_field: core_course_get_courses gives them only to
    # a role with moodle/course:update, which the bridge should not have.
    details = ws.details([1, *(c["id"] for c in courses)])
    site = _Site(settings, info, details.get(1, {}))
    for course in courses:
        course = {**course, **details.get(course["id"], {})}
        summary.courses += 1
        try:
            _sync_course(site, ws, lrs, course, summary)
        except MoodleRefused as e:
            if e.fatal:
                raise
            log.warning("course %s skipped: %s", course["id"], e)
            summary.skipped[f"course skipped: {e.errorcode}"] += 1
    return summary


def status(settings, ws: WebService, lrs: LRS) -> dict:
    """What the checkpoints say per course: participants remembered, course completions sent."""
    info = ws.site_info()
    courses = []
    for course in ws.courses():
        url = xapi.course_activity(settings.site_url, course["id"], None, "en")["id"]
        users = CourseCheckpoint(lrs, url).load()
        courses.append({"id": course["id"], "shortname": course.get("shortname"), "participants": len(users),
                        "course_completions_sent": sum(1 for u in users.values() if "c" in u)})
    return {"site": settings.site_url, "moodle": info.get("release", ""), "courses": courses}


class _Site:
    """What every statement of this site needs."""

    def __init__(self, settings, info: dict, front_page: dict):
        self.settings, self.url = settings, settings.site_url
        self.release = info.get("release", "")
        # The site as the log path names it (the front page's name and language), so a completion is the same
        # statement whichever way in read it.
        self.site = xapi.site_activity(self.url, info.get("sitename"),
                                       xapi.course_lang(front_page.get("lang"), settings.lang))

    def lang(self, course) -> str:
        return xapi.course_lang(course.get("lang"), self.settings.lang)

    def actor(self, user: dict) -> dict | None:
        name = user.get(self.settings.actor_id)
        if not name:
            return None
        return xapi.actor(self.settings.actor_home_page or self.url, str(name),
                          user.get("fullname") if self.settings.send_name else None)

    def context(self, course, event_name: str, made_by: str, parents=None) -> dict:
        return xapi.context(self.lang(course), event_name, FUNCTION + made_by, self.site, parents, self.release)


def _sync_course(site: _Site, ws: WebService, lrs: LRS, course: dict, summary: Summary):
    checkpoint = CourseCheckpoint(lrs, xapi.course_activity(site.url, course["id"], None, "en")["id"])
    state = checkpoint.load()
    course_activity = xapi.course_activity(site.url, course["id"], course.get("fullname"), site.lang(course))
    if "enablecompletion" not in course:
        summary.problem(f"Moodle left out whether course {course['id']} tracks completion (enablecompletion, "
                        "core_course_get_courses_by_field): give the bridge's role moodle/course:view "
                        "(docs/moodle.md); its completions are asked for anyway")
    tracked = bool(course.get("enablecompletion", True))
    modules = _modules(site, ws, course, course_activity) if tracked else {}
    users, statements = {}, []
    asking = {"course completion": tracked}
    for user in ws.enrolled_users(course["id"]):  # also whom the course's grades are of
        summary.enrolments += 1
        users[user["id"]] = user
        field = site.settings.actor_id
        if field not in user:
            summary.problem(f"Moodle left out the participants' {field} (core_enrol_get_enrolled_users), which "
                            f"names them (actor_id): give the bridge's role {USER_FIELD_CAPABILITY[field]}")
        if tracked:
            statements += _completions(site, ws, course, user, modules, course_activity,
                                       state.setdefault(str(user["id"]), {}), asking, summary)
    statements += _grades(site, ws, course, course_activity, users, state, summary)
    kept, refused = _send(lrs, statements, site.settings.batch_size)  # the log path's: 409 and 400 one by one
    summary.kept_earlier += kept
    summary.skipped.update(refused)
    summary.statements += len(statements) - sum(refused.values())
    checkpoint.save(state)


def _completions(site, ws, course, user, modules, course_activity, mine, asking, summary) -> list[dict]:
    """One participant's new activity and course completions; `mine` is their part of the checkpoint."""
    if "c" in mine and mine.get("seen") == user.get("lastcourseaccess"):
        return []  # completed, and not back in the course since
    who = site.actor(user)
    if who is None:
        summary.skipped[f"user without {site.settings.actor_id}"] += 1
        return []
    summary.asked += 1
    found = _activity_completions(site, ws, course, user, who, modules, mine, summary)
    if asking["course completion"]:
        try:
            found += _course_completion(site, ws, course, user, who, course_activity, modules, mine, summary)
        except MoodleRefused as e:
            if e.errorcode not in ("nocriteriaset", "nottracked"):
                raise
            # A course without completion criteria: no need to ask about anyone else.
            asking["course completion"] = e.errorcode != "nocriteriaset"
    mine["seen"] = user.get("lastcourseaccess")
    return found


def _modules(site, ws, course, course_activity) -> dict:
    """cmid -> (activity, parents) for the course's modules, as the log path types and nests them."""
    lang = site.lang(course)
    found = {}
    for section in ws.contents(course["id"]):
        section_activity = xapi.section_activity(site.url, section["id"], section["section"], course.get("fullname"),
                                                 lang)
        for m in section.get("modules", ()):
            found[m["id"]] = (xapi.module_activity(site.url, m["modname"], m["id"], m.get("name"), lang),
                              [section_activity, course_activity])
    return found


def _activity_completions(site, ws, course, user, who, modules, mine, summary) -> list[dict]:
    newest, at_newest = mine.get("a", (0, []))
    out = []
    for status in ws.activities_completion(course["id"], user["id"]):
        done = status.get("timecompleted") or 0
        if status.get("state") not in COMPLETE_STATES or not done:
            continue
        if done < newest or (done == newest and status["cmid"] in at_newest):
            continue  # sent before
        if status["cmid"] not in modules:
            summary.skipped["completion of a module the course does not list"] += 1
            continue
        activity, parents = modules[status["cmid"]]
        out.append(xapi.module_completion(site.url, user["id"], who, status["cmid"], activity, parents,
                                          site.lang(course), site.site, site.release, done, status["state"]))
        newest, at_newest = (done, [*at_newest, status["cmid"]]) if done == newest else (done, [status["cmid"]])
    if out:
        mine["a"] = [newest, sorted(at_newest)]
        summary.sent["activity completions"] += len(out)
    return out


def _course_completion(site, ws, course, user, who, course_activity, modules, mine, summary) -> list[dict]:
    status = ws.course_completion(course["id"], user["id"])
    for criterion in status.get("completions", ()):
        # An activity criterion links its module; one the contents left out is one the role may not see.
        link = re.search(r"/mod/(\w+)/view\.php\?id=(\d+)", str((criterion.get("details") or {}).get("criteria")))
        if link and int(link[2]) not in modules:
            summary.problem(f"Moodle left out {link[1]} module {link[2]} of course {course['id']} (its completions "
                            f"and grades): give the bridge's role mod/{link[1]}:view (docs/moodle.md)")
    if not status.get("completed"):
        return []
    # Moodle's web service gives no course completion time; the time of the last criterion met is that time.
    done = max((c.get("timecompleted") or 0 for c in status.get("completions", ())), default=0)
    if not done:
        summary.skipped["course completed without a time"] += 1
        return []
    if mine.get("c") == done:
        return []
    mine["c"] = done
    summary.sent["course completions"] += 1
    return [xapi.course_completion(site.url, user["id"], who, course["id"], course_activity, site.lang(course),
                                   site.site, site.release, done)]


def _grades(site, ws, course, course_activity, users, state, summary) -> list[dict]:
    """Module grades of every user, from one call. Moodle's grade report gives no pass grade, so these statements
    carry the score but no success (the log path has it)."""
    out = []
    lang = site.lang(course)
    for report in ws.grades(course["id"]):
        user = users.get(report["userid"]) or {"id": report["userid"], "fullname": report.get("userfullname"),
                                                "idnumber": report.get("useridnumber")}
        mine = state.setdefault(str(report["userid"]), {})
        newest, at_newest = mine.get("g", (0, []))
        fresh = []
        for item in report.get("gradeitems", ()):
            graded = item.get("gradedategraded") or 0
            if item.get("itemtype") != "mod" or item.get("graderaw") is None or not graded or not item.get("cmid"):
                continue
            if graded < newest or (graded == newest and item["id"] in at_newest):
                continue
            who = site.actor(user)
            if who is None:
                summary.skipped[f"user without {site.settings.actor_id}"] += 1
                continue
            activity = xapi.module_activity(site.url, item["itemmodule"], item["cmid"], item.get("itemname"), lang)
            score = xapi.score(float(item["graderaw"]), float(item.get("grademin") or 0),
                               float(item.get("grademax") or 0))
            fresh.append((graded, item["id"], xapi.statement(
                xapi.statement_id(site.url, "ws", "graded", item["id"], report["userid"], graded), who, xapi.SCORED,
                activity, site.context(course, "\\core\\event\\user_graded", "grade_items", [course_activity]),
                xapi.timestamp(graded), {"score": score})))
        for graded, item_id, stmt in sorted(fresh, key=lambda f: (f[0], f[1])):
            newest, at_newest = (graded, [*at_newest, item_id]) if graded == newest else (graded, [item_id])
            out.append(stmt)
        if fresh:
            mine["g"] = [newest, sorted(at_newest)]
    summary.sent["grades"] += len(out)
    return out


class CourseCheckpoint:
    """What was sent for one course: {user id: {"c": course completion time, "a": [newest activity completion
    time, [cmids at it]], "g": [newest grade time, [grade item ids at it]], "seen": lastcourseaccess}}."""

    def __init__(self, lrs: LRS, course_url: str):
        self.lrs, self.course_url = lrs, course_url
        self._etag, self._loaded = None, None

    def load(self) -> dict:
        doc, self._etag = self.lrs.get_document("activities/profile", activityId=self.course_url,
                                                profileId=CHECKPOINT_PROFILE)
        users = (doc or {}).get("users", {})
        self._loaded = json.dumps(users, sort_keys=True)
        return users

    def save(self, users: dict) -> None:
        if self._etag and json.dumps(users, sort_keys=True) == self._loaded:
            return  # nothing new: no write
        try:
            self._etag = self.lrs.put_document("activities/profile", {"users": users}, self._etag,
                                               create_only=self._etag is None, activityId=self.course_url,
                                               profileId=CHECKPOINT_PROFILE)
        except Refused as e:
            if e.status == 412:
                raise CheckpointMoved(f"another bridge moved the checkpoint of {self.course_url} since it was "
                                      "read: only one bridge may sync a Moodle site at a time") from e
            raise


